#!/usr/bin/env python3
"""The real tagwarden-worker on its fd 3 contract (tagwarden-worker.8).

This script plays the supervisor with its own frame code (struct + json,
independent of common/proto.c): refused starts give the documented ERROR
sentence and exit status; a valid JOB against the AWS emulator gives HELLO
first, ACCOUNT_DONE last and exit 0 with the sandbox on (the collectors
really run inside it). Runs under TAGWARDEN_WRAPPER (valgrind) too.
"""
import json
import os
import shlex
import socket
import struct
import subprocess
import sys

SRC = os.environ["TAGWARDEN_SRC"]
BUILD = os.environ["TAGWARDEN_BUILD"]
WRAPPER = shlex.split(os.environ.get("TAGWARDEN_WRAPPER", ""))
WORKER = os.path.join(BUILD, "worker", "tagwarden-worker")
sys.path.insert(0, os.path.join(SRC, "tests", "emulator"))
import emulib  # noqa: E402

PROTO_VERSION = emulib.proto_constant("PROTO_VERSION")
# Type numbers from DESIGN.md section 2 / proto.h.
JOB, CREDENTIALS = 100, 101
HELLO, PROGRESS, BATCH, REGION_DONE, CREDS_REQ, LOG = 200, 201, 202, 203, \
    204, 205
ACCOUNT_DONE, ERROR = 206, 207
WORKER_TYPES = {HELLO, PROGRESS, BATCH, REGION_DONE, CREDS_REQ, LOG,
                ACCOUNT_DONE, ERROR}

failures = []
checks = 0


def frame(mtype, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return struct.pack(">II", mtype, len(data)) + data


def read_frames(sock):
    """Every frame until EOF, as (type, decoded body)."""
    buf = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            # The worker left with our bytes unread; its frames came first.
            break
        if not chunk:
            break
        buf += chunk
    frames = []
    while len(buf) >= 8:
        mtype, n = struct.unpack(">II", buf[:8])
        frames.append((mtype, json.loads(buf[8:8 + n])))
        buf = buf[8 + n:]
    if buf:
        frames.append(("partial", buf))
    return frames


def run_worker(send, env=None, argv_extra=(), fd3=True, timeout=120,
               hang_up=True):
    """Start the worker with a socketpair on fd 3, send bytes, collect.
    hang_up: close our sending side after the bytes (a supervisor that
    goes away), which a scanning worker takes as a cancel."""
    parent, child = socket.socketpair()
    env = {"TZ": "UTC", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           **(env or {})}

    def place_fd3():
        # Python's own fds are close-on-exec (PEP 446): only 0-2 and this
        # new fd 3 survive the exec.
        if fd3:
            os.dup2(child.fileno(), 3)

    proc = subprocess.Popen(WRAPPER + [WORKER, *argv_extra], env=env,
                            preexec_fn=place_fd3, close_fds=False,
                            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    child.close()
    try:
        parent.sendall(send)
        if hang_up:
            parent.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    frames = read_frames(parent)
    _, err = proc.communicate(timeout=timeout)
    parent.close()
    return proc.returncode, frames, err.decode(errors="replace"), proc.pid


def check(name, ok, detail=""):
    global checks
    checks += 1
    if ok:
        print("ok   " + name)
    else:
        failures.append(name)
        print("FAIL %s %s" % (name, detail))


def job(**over):
    body = {"proto": PROTO_VERSION, "job_id": "t1",
            "account_id": "111111111111",
            "home_region": "us-east-1", "regions": ["us-east-1"],
            "resource_types": ["ec2:instance"],
            "policy": open(os.path.join(SRC, "policies",
                                        "tagging_policy.json")).read(),
            "max_batch": 100, "refresh_margin_s": 300}
    body.update(over)
    return body


CREDS = {"access_key_id": "AKIAEMULATORMGMT0001",
         "secret_access_key": "mgmt/Secret/Key/For/The/Emulator/Tests00",
         "session_token": None, "expiration": 0}


def refused(name, send, want_msg, want_rc=2, env=None):
    rc, frames, err, _ = run_worker(send, env=env)
    msg = frames[-1][1].get("message") if frames and \
        frames[-1][0] == ERROR else None
    check(name, rc == want_rc and msg == want_msg and len(frames) == 1,
          "rc=%s frames=%r stderr=%s" % (rc, frames, err[-500:]))


def main():
    if not os.access(WORKER, os.X_OK):
        print("skip: %s not built" % WORKER)
        return 77
    rc, frames, err, _ = run_worker(b"", fd3=False)
    check("no fd 3", rc == 2 and "fd 3 is not a socket" in err and
          not frames, "rc=%s err=%s" % (rc, err))
    rc, frames, err, _ = run_worker(b"", argv_extra=["--scan"])
    check("extra argument", rc == 2 and "usage: tagwarden-worker" in err,
          "rc=%s err=%s" % (rc, err))
    refused("credentials first", frame(CREDENTIALS, CREDS),
            "expected JOB, got CREDENTIALS")
    refused("eof before JOB", b"",
            "waiting for JOB: channel closed by the peer")
    refused("eof before CREDENTIALS", frame(JOB, job()),
            "waiting for CREDENTIALS: channel closed by the peer")
    refused("oversize header", struct.pack(">II", JOB, 5000000),
            "waiting for JOB: frame of 5000000 bytes exceeds 4194304")
    refused("bad account id", frame(JOB, job(account_id="1234")) +
            frame(CREDENTIALS, CREDS), "JOB: account_id: expected 12 digits")
    refused("unknown JOB key", frame(JOB, {**job(), "x": 1}) +
            frame(CREDENTIALS, CREDS), "JOB: x: unknown key")
    refused("proto mismatch", frame(JOB, job(proto=PROTO_VERSION + 1)) +
            frame(CREDENTIALS, CREDS), "JOB: proto %d does not match this "
            "worker's %d; install matching tagwarden and tagwarden-worker" %
            (PROTO_VERSION + 1, PROTO_VERSION))
    refused("bad region", frame(JOB, job(regions=["us-east-1", "US_EAST"])) +
            frame(CREDENTIALS, CREDS), "JOB: regions[1]: expected a region "
            "name such as eu-west-1")
    refused("bad type", frame(JOB, job(resource_types=["instance"])) +
            frame(CREDENTIALS, CREDS), "JOB: resource_types[0]: expected "
            "service:type in lower case, e.g. ec2:instance")
    rc, frames, err, _ = run_worker(frame(JOB, job(policy="{\"x\": 1}")) +
                                    frame(CREDENTIALS, CREDS))
    msg = frames[0][1]["message"] if frames else ""
    check("bad policy", rc == 2 and msg.startswith("JOB: policy: "),
          "rc=%s frames=%r" % (rc, frames))
    refused("unreadable CA bundle", frame(JOB, job()) +
            frame(CREDENTIALS, CREDS), "AWS_CA_BUNDLE=/nonexistent/ca.pem: "
            "No such file or directory; point it at a readable PEM file",
            want_rc=3, env={"AWS_CA_BUNDLE": "/nonexistent/ca.pem"})
    scan_against_emulator()
    print("%d checks, %d failed" % (checks, len(failures)))
    return 1 if failures else 0


def scan_against_emulator():
    emu = emulib.Emulator()
    rc, frames, err, pid = run_worker(
        frame(JOB, job()) + frame(CREDENTIALS, CREDS),
        env={"AWS_ENDPOINT_URL": emu.url, "LOG_LEVEL": "INFO"},
        hang_up=False)
    types = [t for t, _ in frames]
    hello = frames[0][1] if frames and frames[0][0] == HELLO else {}
    sandboxed = "--disable-sandbox" not in hello.get("sandbox", "") and \
        os.environ.get("TAGWARDEN_TEST_MODE") != "valgrind"
    check("scan: HELLO first", hello.get("proto") == PROTO_VERSION and
          hello.get("pid") == pid, "frames=%r" % frames[:2])
    check("scan: sandbox described", hello.get("sandbox", "").startswith(
        "seccomp") if sandboxed else "none" in hello.get("sandbox", ""),
        "sandbox=%r" % hello.get("sandbox"))
    check("scan: ACCOUNT_DONE last, exit 0", rc == 0 and types and
          types[-1] == ACCOUNT_DONE and types.count(ACCOUNT_DONE) == 1,
          "rc=%s types=%s last=%r stderr=%s" % (rc, types, frames[-1:],
                                                 err[-2000:]))
    check("scan: only worker frames", set(types) <= WORKER_TYPES,
          "types=%s" % types)
    sent = sum(len(b["resources"]) for t, b in frames if t == BATCH)
    done = frames[-1][1] if types and types[-1] == ACCOUNT_DONE else {}
    check("scan: ACCOUNT_DONE counts what was streamed",
          done.get("resources") == sent and sent > 0,
          "done=%r streamed=%d" % (done, sent))
    check("scan: no secret on stderr",
          CREDS["secret_access_key"] not in err, "")


if __name__ == "__main__":
    sys.exit(main())

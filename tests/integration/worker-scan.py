#!/usr/bin/python3
"""The real tagwarden-worker against the AWS emulator, checked against the
independent oracle (tests/oracle/oracle.py) over tests/fixtures/worker.json.

For each case it starts the emulator, starts the worker with one end of a
socketpair as fd 3 and a minimal environment, writes JOB and CREDENTIALS
frames ({uint32 type, uint32 len} big-endian, then JSON), answers any
CREDENTIALS_REQUEST, reads every frame back, and compares per region the
status, AWS code, reported ARNs, tags (or the AWS code in tags_error when
unknown), compliance and the violations (ARN, tag name, type), and the
ACCOUNT_DONE totals, with what the oracle computes. The protocol order is
checked too (HELLO first, one REGION_DONE per region, bounded batches,
ACCOUNT_DONE or ERROR last), and from the emulator's counts that no
per-resource tag read (ListTags, GetBucketTagging) was made.

Environment: TAGWARDEN_SRC, TAGWARDEN_BUILD, PYTHON, TAGWARDEN_WRAPPER
(a prefix such as valgrind for the worker).
"""

import json
import os
import re
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "emulator"))
import emulib  # noqa: E402

SRC = os.environ.get("TAGWARDEN_SRC", os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("TAGWARDEN_BUILD", SRC)
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
WRAPPER = os.environ.get("TAGWARDEN_WRAPPER", "").split()
FIXTURE = os.path.join(SRC, "tests", "fixtures", "worker.json")
POLICY = os.path.join(SRC, "policies", "tagging_policy.json")
ALL_TYPES = ["ec2:instance", "ec2:volume", "s3:bucket", "rds:db",
             "lambda:function", "ecs:cluster"]
TIMEOUT = 300 if WRAPPER else 60

PROTO_VERSION = emulib.proto_constant("PROTO_VERSION")
PROTO_INFLIGHT = emulib.proto_constant("PROTO_INFLIGHT")
MSG = {"JOB": 100, "CREDENTIALS": 101, "CREDENTIALS_REFRESHED": 102,
       "LIMITS": 104,
       "HELLO": 200, "PROGRESS": 201, "RESOURCE_BATCH": 202,
       "REGION_DONE": 203, "CREDENTIALS_REQUEST": 204, "LOG": 205,
       "ACCOUNT_DONE": 206, "ERROR": 207}
NAME = {v: k for k, v in MSG.items()}

KEYS = {
    "123456789012": ("AKIAWORKERTESTA00001",
                     "workerA/Secret/Key/For/Emulator00"),
    "210987654321": ("AKIAWORKERTESTB00001",
                     "workerB/Secret/Key/For/Emulator00"),
    "333344445555": ("AKIAWORKERTESTC00001",
                     "workerC/Secret/Key/For/Emulator00"),
}

# account, regions (None: all), types, max_batch, credential expiry (s from
# now, 0: none), expected CREDENTIALS_REQUEST count, and optionally the
# LIMITS max_inflight sent after CREDENTIALS and again before the
# CREDENTIALS_REFRESHED answer.
CASES = [
    ("all regions and types, expired token once", "123456789012", None,
     ALL_TYPES, 100, 0, 1),
    ("some regions, skipped ones, small batches, credentials near expiry",
     "123456789012", ["eu-west-1", "af-south-1", "xx-nowhere-1",
                      "eu-west-1", "us-west-2"],
     ["ec2:instance", "s3:bucket"], 7, 30, 1),
    # eu-west-1 refuses GetResources: its functions' and buckets' tags
    # are unknown, but the region is scanned, unless the job also wants a
    # type only GetResources lists (dynamodb:table): then it fails.
    ("GetResources refused with a type only it lists", "123456789012",
     ["eu-west-1", "us-east-1"], ["ec2:instance", "lambda:function",
                                  "dynamodb:table"], 100, 0, 1),
    ("a refused and a malformed listing fail their regions only",
     "210987654321", None, ALL_TYPES, 100, 0, 0),
    ("every scanned region failed", "210987654321", ["eu-west-1"],
     ALL_TYPES, 100, 0, 0),
    ("DescribeRegions refused", "333344445555", None, ALL_TYPES, 100, 0, 0),
    # Their listings carry the tags: GetResources (and its expired-token
    # fault in us-east-1) is never met.
    ("EC2 and RDS only: no GetResources", "123456789012",
     ["us-east-1", "us-west-2"], ["ec2:instance", "rds:db"], 100, 0, 0),
    # Every request takes half a second (2.5 under valgrind), so the worker
    # has as many in flight as it may: its 4 regions x 6 listings are more than 20. Two
    # refreshes: the credentials near expiry, then us-east-1's ExpiredToken.
    ("LIMITS of 20, also while a refresh is awaited", "123456789012", None,
     ALL_TYPES, 100, 30, 2, 20),
]

# Types whose own listing carries their tags (docs: tagwarden-worker(8)).
LISTING_TAGS = {"ec2:instance", "ec2:volume", "rds:db", "ecs:cluster"}


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def start_emulator(log):
    emu = subprocess.Popen(
        [os.path.join(BUILD, "tests", "emulator", "aws-emulator"),
         "--fixture", FIXTURE, "--listen", "127.0.0.1:0", "--verbose"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    line = emu.stdout.readline().split()
    if len(line) < 3 or line[0] != "listening":
        emu.kill()
        raise Failure("the emulator did not start")
    # Drain its stdout so it never blocks on a full pipe.
    threading.Thread(target=lambda: emu.stdout.read(), daemon=True).start()
    return emu, line[2]


def frame(mtype, body):
    data = json.dumps(body).encode()
    return struct.pack(">II", mtype, len(data)) + data


def creds_body(account, expires_in):
    key, secret = KEYS[account]
    exp = int(time.time()) + expires_in if expires_in else 0
    return {"access_key_id": key, "secret_access_key": secret,
            "session_token": None, "expiration": exp}


def read_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.time()
        check(left > 0, "timed out waiting for the worker")
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def run_worker(url, account, regions, types, max_batch, expires_in, limit):
    parent, child = socket.socketpair()
    env = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": url,
           "LOG_LEVEL": "INFO"}
    # Not ASAN_OPTIONS: scripts/test's detect_leaks=1 would override the
    # worker's own detect_leaks=0, and LeakSanitizer's ptrace at exit is
    # (rightly) killed by the sandbox. Leaks are the valgrind run's job.
    if "UBSAN_OPTIONS" in os.environ:
        env["UBSAN_OPTIONS"] = os.environ["UBSAN_OPTIONS"]
    worker = os.path.join(BUILD, "worker", "tagwarden-worker")
    proc = subprocess.Popen(
        WRAPPER + [worker], env=env, pass_fds=(child.fileno(), 3),
        preexec_fn=lambda: os.dup2(child.fileno(), 3))
    child.close()
    with open(POLICY) as f:
        policy = f.read()
    job = {"proto": PROTO_VERSION, "job_id": "worker-scan",
           "account_id": account,
           "home_region": "us-east-1", "regions": regions,
           "resource_types": types, "policy": policy,
           "max_batch": max_batch, "refresh_margin_s": 60}
    limits = frame(MSG["LIMITS"], {"max_inflight": limit}) if limit else b""
    parent.sendall(frame(MSG["JOB"], job) +
                   frame(MSG["CREDENTIALS"], creds_body(account, expires_in)) +
                   limits)
    frames = []
    deadline = time.time() + TIMEOUT
    while True:
        hdr = read_exact(parent, 8, deadline)
        if hdr is None:
            break
        mtype, n = struct.unpack(">II", hdr)
        body = json.loads(read_exact(parent, n, deadline) or b"null")
        frames.append((NAME.get(mtype, str(mtype)), body))
        if mtype == MSG["CREDENTIALS_REQUEST"]:
            parent.sendall(limits + frame(MSG["CREDENTIALS_REFRESHED"],
                                          creds_body(account, 3600)))
    parent.close()
    try:
        rc = proc.wait(timeout=max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Failure("the worker did not exit")
    return frames, rc


def oracle(account, regions, types):
    cmd = [PYTHON, os.path.join(SRC, "tests", "oracle", "oracle.py"),
           "--fixture", FIXTURE, "--policy", POLICY, "--account", account,
           "--types", ",".join(types)]
    if regions is not None:
        cmd += ["--regions", ",".join(regions)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                     text=True).stdout)


def check_order(frames, max_batch, creds_requests):
    names = [n for n, _ in frames]
    check(names and names[0] == "HELLO", "HELLO is not the first frame")
    # scripts/test builds the sandbox in, except for valgrind.
    if os.environ.get("TAGWARDEN_TEST_MODE") in ("plain", "asan"):
        check("seccomp" in frames[0][1]["sandbox"], "the worker ran without "
              "its sandbox: %s" % frames[0][1]["sandbox"])
    check(names[-1] in ("ACCOUNT_DONE", "ERROR"),
          "the last frame is %s" % (names[-1] if names else "missing"))
    check(names.count("ACCOUNT_DONE") + names.count("ERROR") == 1,
          "more than one ACCOUNT_DONE or ERROR")
    check(names.count("CREDENTIALS_REQUEST") == creds_requests,
          "%d CREDENTIALS_REQUEST frames, expected %d" % (
              names.count("CREDENTIALS_REQUEST"), creds_requests))
    for name, body in frames:
        if name == "RESOURCE_BATCH":
            check(1 <= len(body["resources"]) <= max_batch,
                  "a batch of %d resources (max_batch %d)" % (
                      len(body["resources"]), max_batch))
    done = [b["regions_done"] for n, b in frames if n == "PROGRESS"]
    check(done == sorted(done), "PROGRESS regions_done goes backwards")


# A RESOURCE_BATCH resource and its violations are rows: values in this
# order (common/proto.h, tagwarden-worker(8)).
RESOURCE_ROW = ("resource_arn", "resource_id", "resource_type", "region",
                "tags", "tags_error", "created_at", "state", "in_scope",
                "compliant", "violations")
VIOLATION_ROW = ("tag_name", "violation_type", "severity", "current_value",
                 "allowed_values", "message")


def named(row, names):
    check(isinstance(row, list) and len(row) == len(names),
          "not a row of %d values: %.200r" % (len(names), row))
    return dict(zip(names, row))


def as_resource(row):
    r = named(row, RESOURCE_ROW)
    r["violations"] = [named(v, VIOLATION_ROW) for v in r["violations"]]
    return r


def got_regions(frames):
    regions, resources = {}, {}
    for name, body in frames:
        if name == "REGION_DONE":
            check(body["region"] not in regions,
                  "two REGION_DONE for %s" % body["region"])
            regions[body["region"]] = body
        elif name == "RESOURCE_BATCH":
            for r in map(as_resource, body["resources"]):
                check(r["region"] not in regions,
                      "%s reported after its REGION_DONE" % r["resource_arn"])
                lst = resources.setdefault(r["region"], [])
                lst.append(r)
    return regions, resources


def compare_region(name, want, done, got):
    check(done is not None, "no REGION_DONE for %s" % name)
    check(done["status"] == want["status"], "%s: status %s, expected %s" % (
        name, done["status"], want["status"]))
    if want["status"] == "failed":
        check(done["aws_code"] == want["aws_code"],
              "%s: aws_code %s, expected %s" % (name, done["aws_code"],
                                                 want["aws_code"]))
        check(done["error"], "%s: failed without an error" % name)
    if want["status"] != "ok":
        check(not got, "%s: resources reported for a %s region" % (
            name, want["status"]))
        return 0
    byarn = {}
    for r in got:
        check(r["resource_arn"] not in byarn, "%s reported twice" %
              r["resource_arn"])
        byarn[r["resource_arn"]] = r
    wanted = {r["arn"]: r for r in want["resources"]}
    check(set(byarn) == set(wanted), "%s: ARNs differ: missing %s, extra "
          "%s" % (name, sorted(set(wanted) - set(byarn))[:5],
                  sorted(set(byarn) - set(wanted))[:5]))
    check(done["resources"] == want["sent"], "%s: REGION_DONE resources %d,"
          " expected %d" % (name, done["resources"], want["sent"]))
    for arn, w in wanted.items():
        g = byarn[arn]
        viol = sorted([v["tag_name"], v["violation_type"]]
                      for v in g["violations"])
        check((g["tags"] is not None) == w["tags_known"],
              "%s: tags known %s, expected %s" % (arn, g["tags"] is not None,
                                                  w["tags_known"]))
        check(g["tags"] == w["tags"], "%s: tags %s, expected %s" % (
            arn, g["tags"], w["tags"]))
        check(g["tags"] is not None or (
            g["tags_error"] and w["tags_error_code"] in g["tags_error"]),
            "%s: tags_error %r does not name %s" % (
                arn, g["tags_error"], w["tags_error_code"]))
        check(g["in_scope"] == w["in_scope"], "%s: in_scope" % arn)
        check(g["compliant"] == w["compliant"], "%s: compliant %s, expected "
              "%s" % (arn, g["compliant"], w["compliant"]))
        check(viol == w["violations"], "%s: violations %s, expected %s" % (
            arn, viol, w["violations"]))
    return len(wanted)


def compare(frames, rc, want):
    last_name, last = frames[-1]
    if want["status"] == "error":
        check(last_name == "ERROR", "ended with %s, expected ERROR" %
              last_name)
        check(rc == 1, "exit status %d after ERROR, expected 1" % rc)
        if want.get("error_code"):
            check(want["error_code"] in last["message"],
                  "ERROR does not name %s: %s" % (want["error_code"],
                                                  last["message"]))
    else:
        check(last_name == "ACCOUNT_DONE", "ended with %s: %s" % (
            last_name, json.dumps(last)[:300]))
        check(rc == 0, "exit status %d after ACCOUNT_DONE" % rc)
        t = want["totals"]
        for k, g in (("counted", "resources"), ("compliant", "compliant"),
                     ("violations", "violations")):
            check(last[g] == t[k], "ACCOUNT_DONE %s %d, expected %d" % (
                g, last[g], t[k]))
        check(last["account_alias"] == want["alias"], "alias %r, expected "
              "%r" % (last["account_alias"], want["alias"]))
        check(last["requests"] > 0, "no requests counted")
    regions, resources = got_regions(frames)
    check(set(regions) == set(want["regions"]), "regions %s, expected %s" % (
        sorted(regions), sorted(want["regions"])))
    n = 0
    for name, w in want["regions"].items():
        n += compare_region(name, w, regions.get(name),
                            resources.pop(name, []))
    check(not resources, "resources for regions never finished: %s" %
          sorted(resources))
    progress = [b for nm, b in frames if nm == "PROGRESS"]
    if progress:
        check(progress[-1]["regions_done"] == progress[-1]["regions_total"]
              == len(want["regions"]), "final PROGRESS %s" % progress[-1])
    return n


def emulator_stats(url):
    with urllib.request.urlopen(url + "/_emulator/stats", timeout=10) as r:
        return json.load(r)


def check_stats(stats, frames, want, limit):
    """The emulator's own count of what it was asked."""
    last_name, last = frames[-1]
    if last_name == "ACCOUNT_DONE":
        check(last["requests"] == stats["requests"], "ACCOUNT_DONE requests "
              "%d, the emulator served %d" % (last["requests"],
                                             stats["requests"]))
    cap = limit or PROTO_INFLIGHT
    check(stats["max_inflight_requests"] <= cap, "%d requests in flight at "
          "once, more than %d" % (stats["max_inflight_requests"], cap))
    if limit:
        check(stats["max_inflight_requests"] > PROTO_INFLIGHT,
              "LIMITS %d: still at most %d requests in flight (%d)" % (
                  limit, PROTO_INFLIGHT, stats["max_inflight_requests"]))
    ops = stats["operations"]
    # Tags of functions and buckets come from GetResources alone.
    for op in ("lambda:ListTags", "s3:GetBucketTagging"):
        check(ops.get(op, 0) == 0, "%d %s calls, expected none" % (
            ops.get(op, 0), op))
    scanned = [n for n, r in want["regions"].items() if r["status"] == "ok"]
    if len(scanned) > 1:
        check(stats["max_inflight_requests"] > 1,
              "requests never overlapped")
    # us-west-2 holds 1050 instances and 230 functions: DescribeInstances
    # pages hold 1000, and the 220 functions ever tagged need at least 3
    # GetResources pages of 100. The enumerators list them all anyway, so
    # only these counts show that both listings were followed to the end.
    calls = ops.get("tagging:GetResources", 0)
    if "us-west-2" in scanned and "ec2:instance" in want["types"]:
        check(ops.get("ec2:DescribeInstances", 0) > len(scanned),
              "DescribeInstances was not followed to a second page")
    if "us-west-2" in scanned and "lambda:function" in want["types"]:
        check(calls >= len(scanned) + 2,
              "GetResources was not followed to the end (%d calls)" % calls)
    if set(want["types"]) <= LISTING_TAGS:
        check(calls == 0, "%d GetResources calls for types whose listings "
              "carry their tags" % calls)


# The emulator's --verbose line of one request: operation, region, how
# long it took and when it started (tests/emulator/dispatch.c).
VERBOSE = re.compile(r" (\w+:\w+) account=\S+ region=(\S+) \d{3} \S+ "
                     r"([\d.]+)ms started=([\d.]+)")


def add_fault(url, rule):
    req = urllib.request.Request(url + "/_emulator/faults",
                                 data=json.dumps(rule).encode(),
                                 method="POST")
    with urllib.request.urlopen(req, timeout=10):
        pass


def hold_describe_regions(url, account):
    """DescribeRegions takes a second: long enough, even under valgrind,
    for the calls started beside it to reach the emulator first."""
    add_fault(url, {"account": account, "service": "ec2",
                    "operation": "DescribeRegions", "kind": "latency_ms",
                    "ms": 1000})


def slow_everything(url, ms):
    add_fault(url, {"kind": "latency_ms", "ms": ms})


def check_home_overlap(log_path, home):
    """The home region's calls start while DescribeRegions is answered."""
    with open(log_path) as f:
        calls = [(m.group(1), m.group(2), float(m.group(4)),
                  float(m.group(4)) + float(m.group(3)) / 1000)
                 for m in map(VERBOSE.search, f) if m]
    regions = [c for c in calls if c[0] == "ec2:DescribeRegions"]
    check(len(regions) == 1, "%d DescribeRegions calls" % len(regions))
    ends = regions[0][3]
    early = [c for c in calls if c[1] == home and c[2] < ends and
             not c[0].startswith(("ec2:DescribeRegions", "sts:"))]
    check(early, "no %s call started before DescribeRegions was "
          "answered" % home)


def main():
    total = 0
    for n, case in enumerate(CASES):
        what, account, regions, types, batch, expiry, creq = case[:7]
        limit = case[7] if len(case) > 7 else None
        log = tempfile.NamedTemporaryFile("w+", prefix="worker-scan-",
                                          suffix=".log")
        emu, url = start_emulator(log)
        try:
            if n == 0:
                hold_describe_regions(url, account)
            if limit:
                slow_everything(url, 2500 if WRAPPER else 500)
            frames, rc = run_worker(url, account, regions, types, batch,
                                    expiry, limit)
            check(frames, "%s: no frames (exit status %d)" % (what, rc))
            check_order(frames, batch, creq)
            want = oracle(account, regions, types)
            total += compare(frames, rc, want)
            want["types"] = types
            check_stats(emulator_stats(url), frames, want, limit)
            if n == 0:
                check_home_overlap(log.name, "us-east-1")
        except Failure as e:
            print("worker-scan: FAIL: %s: %s" % (what, e))
            return 1
        finally:
            emu.terminate()
            emu.wait()
            log.close()
    print("worker-scan: PASS (%d cases, %d resources checked against the "
          "oracle)" % (len(CASES), total))
    return 0


if __name__ == "__main__":
    sys.exit(main())

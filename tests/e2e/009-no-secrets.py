#!/usr/bin/python3
"""No credential bytes where they must not be: in the argv or environment
of live workers (/proc/PID/cmdline and environ of each worker, read while
the scan runs; every account's calls are slowed down so each worker lives
long enough to be seen), in tagwarden's log at LOG_LEVEL=DEBUG (workers'
logs included), or anywhere in the SQLite history (the database, its -wal
and -shm, copied during the scan and read after it). Only the variables
supervisor/spawn.c allows may be in a worker's environment.

The secrets looked for: every secret access key of the fixture (the base
credentials tagwarden runs with included) and every access key id, secret
and session token the emulator issued. The last are known because STS is
reached through lib.StsRecorder (AWS_ENDPOINT_URL_STS), a loopback proxy
that passes requests and answers through unchanged and keeps the
credentials of each AssumeRole answer. Any ASIA session key id counts too.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

ASIA = re.compile(rb"ASIA[A-Z0-9]{16}")
# What spawn.c lets a worker see (a row ending in _ is a prefix).
ALLOWED_ENV = ("LOG_LEVEL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_",
               "AWS_CA_BUNDLE", "TAGWARDEN_SANDBOX_DEBUG", "TZ")


def env_allowed(name):
    return any(name == a or (a.endswith("_") and name.startswith(a))
               for a in ALLOWED_ENV)


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces.
        if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
            out.append(int(d))
    return out


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


class Watch:
    def __init__(self, t):
        self.t = t
        self.workers = {}        # pid -> (cmdline, environ or None)
        self.db_bytes = []
        self.seen = set()

    def poll(self, pid):
        for c in children(pid):
            if c in self.workers:
                continue
            cmd = read("/proc/%d/cmdline" % c)
            comm = (read("/proc/%d/comm" % c) or b"").strip()
            if cmd is None or not comm.startswith(b"tagwarden-work"):
                continue
            self.workers[c] = (cmd, read("/proc/%d/environ" % c))
        for suffix in ("", "-wal", "-shm"):
            b = read(self.t.db + suffix)
            if b and (suffix, b) not in self.seen:
                self.seen.add((suffix, b))
                self.db_bytes.append((suffix or "db", b))


def find(blob, secrets):
    return [name for name, s in secrets if s in blob]


def body(t):
    fx = lib.load_json(lib.DEMO)
    mgmt, base = lib.base_keys(fx)
    slow = lib.slow_accounts(lib.DEMO)
    others = [a for a in lib.ok_accounts(lib.DEMO) if a not in slow]
    accts = slow + others[:3]
    emu = t.emulator()
    # Every worker lives for a second or more, long enough to be seen.
    emu.add_faults([{"kind": "latency_ms", "account": a, "ms": 400}
                    for a in others[:3]])
    sts = lib.StsRecorder(emu.port)
    try:
        env = t.env(emu, accts, LOG_LEVEL="DEBUG",
                    AWS_ENDPOINT_URL_STS=sts.url)
        w = Watch(t)
        p = t.tagwarden_bg(["scan", "--json"], env)
        while p.poll() is None:
            w.poll(p.pid)
            time.sleep(0.05)
        run = t.finish_bg(p, rc=0)
    finally:
        sts.close()
    w.poll(-1)      # the database after the run
    res = run.json()
    check(sorted(res["account_metadata"]["successful_accounts"]) ==
          sorted(accts), "not every account was scanned: %s" %
          res["account_metadata"])

    secrets = [("base secret", base["secret_access_key"].encode())]
    secrets += [("fixture secret %d" % i, s.encode())
                for i, s in enumerate(lib.fixture_secrets(lib.DEMO))]
    issued = [(kind, v.encode()) for kind, v in sts.issued]
    check(sum(1 for k, _ in issued if k == "SessionToken") >=
          len(accts) - 1, "the STS recorder saw %d issued session tokens "
          "for %d member accounts" % (
              sum(1 for k, _ in issued if k == "SessionToken"),
              len(accts) - 1))
    secrets += issued
    st = emu.stats()
    check(lib.operation_calls(st, "sts:AssumeRole") ==
          sum(1 for k, _ in issued if k == "SessionToken"),
          "the emulator answered %d AssumeRole calls, the recorder saw %d "
          "session tokens" % (lib.operation_calls(st, "sts:AssumeRole"),
                              sum(1 for k, _ in issued
                                  if k == "SessionToken")))
    check(all(len(v) >= 40 for k, v in issued if k != "AccessKeyId"),
          "the recorder kept something that is not a secret")

    check(len(w.workers) == len(accts), "%d live workers seen in /proc "
          "during the scan of %d accounts" % (len(w.workers), len(accts)))
    environ_read = 0
    for pid, (cmd, envb) in w.workers.items():
        hits = find(cmd, secrets) + (["an ASIA key id"] if ASIA.search(cmd)
                                     else [])
        check(not hits, "worker %d's cmdline holds %s" % (pid, hits))
        if envb is None:
            continue
        environ_read += 1
        check(b"AWS_ENDPOINT_URL=" + emu.url.encode() in envb,
              "worker %d's environment lacks AWS_ENDPOINT_URL: this test "
              "does not read what it thinks it reads" % pid)
        hits = find(envb, secrets) + (["an ASIA key id"]
                                      if ASIA.search(envb) else [])
        check(not hits, "worker %d's environment holds %s" % (pid, hits))
        names = [e.split(b"=", 1)[0].decode() for e in envb.split(b"\0")
                 if e]
        bad = [n for n in names if not env_allowed(n)]
        check(not bad, "worker %d's environment has %s" % (pid, bad))

    log = run.err.encode()
    check(b"DEBUG" in log and log.count(b"\n") > 20,
          "the DEBUG log is too short to mean anything")
    hits = find(log, secrets)
    check(not hits, "the DEBUG log holds %s" % hits)
    # Request headers are logged at DEBUG, these two only as [redacted].
    shown = re.search(rb"(X-Amz-Security-Token|Authorization): *"
                      rb"(?!\[redacted\])\S", log, re.I)
    check(shown is None, "the DEBUG log shows a %s header's value" % (
        shown.group(1).decode() if shown else ""))
    for marker in (b"Signature=", b"Credential="):
        check(marker not in log, "the DEBUG log shows %r" % marker)

    check(w.db_bytes, "no history database was written")
    dbsecrets = secrets + [("base access key id",
                            base["access_key_id"].encode())]
    for what, blob in w.db_bytes:
        hits = find(blob, dbsecrets) + (["an ASIA key id"]
                                        if ASIA.search(blob) else [])
        check(not hits, "the history %s holds %s" % (what, hits))
    return ("%d workers' cmdline (%d environ) clean, DEBUG log (%d lines) "
            "clean, %d database snapshots clean; %d issued credentials and "
            "%d fixture secrets looked for" % (
                len(w.workers), environ_read, log.count(b"\n"),
                len(w.db_bytes), len(issued), len(secrets) - len(issued)))


lib.main("009 no credentials in argv, environ, logs or history", body)

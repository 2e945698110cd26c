#!/usr/bin/python3
"""A worker that sends bytes that are not a frame is killed, and its
account fails with an error that names the protocol violation; the
supervisor carries on and the other accounts are scanned normally. The
worker is tests/unit/fake-worker in its garbage mode (it writes "hello
world!" where a frame header belongs, then waits to be killed) behind
lib.py's worker proxy; the other accounts get the real tagwarden-worker.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402


def body(t):
    check(os.access(lib.FAKE_WORKER, os.X_OK), "%s is not built (make "
          "check TESTS=)" % lib.FAKE_WORKER)
    mgmt, _ = lib.base_keys(lib.load_json(lib.DEMO))
    members = [a for a in lib.ok_accounts(lib.DEMO) if a != mgmt and
               a not in lib.slow_accounts(lib.DEMO)]
    bad, good = members[1], [mgmt, members[0], members[2]]
    exp = lib.expect(lib.DEMO, good)
    emu = t.emulator()
    env = t.env(emu, [bad] + good,
                TAGWARDEN_WORKER=t.worker_proxy("garbage", bad))
    run = t.tagwarden(["scan", "--json"], env, timeout=60, rc=1)
    res = run.json()
    md = res["account_metadata"]
    check(md["failed_accounts"] == [bad], "failed_accounts %s, expected "
          "[%s]" % (md["failed_accounts"], bad))
    err = res["account_errors"].get(bad, "")
    check(err.startswith("worker broke the protocol: ") and
          len(err) > len("worker broke the protocol: "),
          "the garbage worker's account error is %r" % err)
    check(sorted(md["successful_accounts"]) == sorted(good),
          "successful_accounts %s" % md["successful_accounts"])
    lib.check_result(res, exp)
    return "%s: %r; %d other accounts ok = oracle" % (bad, err, len(good))


lib.main("010 a worker sending garbage is killed and named", body)

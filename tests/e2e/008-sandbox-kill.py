#!/usr/bin/python3
"""A worker that makes a forbidden system call is killed by its seccomp
filter, and its account fails saying so, while the other accounts are
scanned normally. TAGWARDEN_WORKER points at lib.py's worker proxy: for the
chosen account it runs tests/unit/fake-worker in its sandbox-execve mode
(enter the real worker/sandbox.c sandbox, say HELLO, call execve), for the
others the real tagwarden-worker, in both cases exec'd in the process the
supervisor started. Skipped in the --disable-sandbox (valgrind) build.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402


def body(t):
    if lib.MODE == "valgrind" or not lib.sandbox_built():
        raise lib.Skip("built with --disable-sandbox (valgrind): no seccomp "
                       "filter to kill the worker")
    check(os.access(lib.FAKE_WORKER, os.X_OK), "%s is not built (make "
          "check TESTS=)" % lib.FAKE_WORKER)
    mgmt, _ = lib.base_keys(lib.load_json(lib.DEMO))
    members = [a for a in lib.ok_accounts(lib.DEMO) if a != mgmt and
               a not in lib.slow_accounts(lib.DEMO)]
    victim, good = members[0], [mgmt] + members[1:3]
    exp = lib.expect(lib.DEMO, good)
    emu = t.emulator()
    env = t.env(emu, good + [victim],
                TAGWARDEN_WORKER=t.worker_proxy("sandbox-execve", victim))
    res = t.tagwarden(["scan", "--json"], env, rc=1).json()
    md = res["account_metadata"]
    check(md["failed_accounts"] == [victim], "failed_accounts %s, expected "
          "[%s]" % (md["failed_accounts"], victim))
    err = res["account_errors"].get(victim, "")
    check("killed by the sandbox (forbidden syscall)" in err,
          "the killed worker's account error is %r" % err)
    check(sorted(md["successful_accounts"]) == sorted(good),
          "successful_accounts %s" % md["successful_accounts"])
    lib.check_result(res, exp)
    return "%s: %r; %d other accounts ok = oracle" % (victim, err, len(good))


lib.main("008 sandbox kills a forbidden syscall", body)

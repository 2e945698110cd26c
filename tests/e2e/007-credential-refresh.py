#!/usr/bin/python3
"""UAT-7: credentials that expire in the middle of an account's scan are
renewed and the scan completes. The emulator issues sessions that live
LIFETIME_S seconds (--credential-lifetime); the demo's slow account (every
call answered after 1.2-1.5 s) takes a few lifetimes to scan, but each call
is sent within a lifetime of the credentials it is signed with.

The worker refreshes credentials ahead of expiry at most once per 30 s
(worker/collect.c), so in a scan this short the credentials do run out: the
emulator must have answered at least one expired-credential error (the
proof that they expired mid-scan), the worker must have refreshed and
retried (its log line), the supervisor must have logged "refreshing
credentials for account ..." and assumed the role again, and the scan must
end ok with the oracle's numbers: a call that stayed failed would have
failed its region and changed them.
"""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

LIFETIME_S = 2
EXPIRED_CODES = ("ExpiredToken", "ExpiredTokenException", "RequestExpired")


def body(t):
    slow = lib.slow_accounts(lib.DEMO)
    check(slow, "the demo fixture has no slow account")
    acct = slow[0]
    exp = lib.expect(lib.DEMO, [acct])
    emu = t.emulator(args=["--credential-lifetime", str(LIFETIME_S)])
    env = t.env(emu, [acct], LOG_LEVEL="DEBUG")
    run = t.tagwarden(["scan", "--json"], env, rc=0)
    res = run.json()
    lib.check_result(res, exp)

    db = sqlite3.connect(t.db)
    (ms,) = db.execute("SELECT duration_ms FROM account_results WHERE "
                       "account_id = ?", (acct,)).fetchone()
    db.close()
    check(ms > LIFETIME_S * 1000, "the scan of %s took %d ms, less than "
          "its credentials' %d s lifetime" % (acct, ms, LIFETIME_S))
    st = emu.stats()
    assumed = lib.operation_calls(st, "sts:AssumeRole")
    check(assumed >= 2, "the role was assumed %d time(s): no refresh" %
          assumed)
    check("refreshing credentials for account %s" % acct in run.err,
          "no \"refreshing credentials\" log line")
    expired = sum(st["errors"].get(c, 0) for c in EXPIRED_CODES)
    check(expired >= 1, "the emulator answered no expired-credential error: "
          "the credentials did not run out mid-scan (%s)" % st["errors"])
    check("credentials expired" in run.err, "the emulator answered %d "
          "expired-credential errors but the worker logged no refresh and "
          "retry" % expired)
    return ("%s scanned in %.1f s with %d s credentials: assumed %d times, "
            "%d expired answers all recovered, numbers = oracle" % (
                acct, ms / 1000.0, LIFETIME_S, assumed, expired))


lib.main("007 credential refresh mid-scan", body)

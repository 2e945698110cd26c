#!/usr/bin/python3
"""UAT-4: with ACCOUNT_SCAN_TIMEOUT_SECONDS=30 (the least allowed) and one
account whose every call hangs (an emulator `hang` fault), that account's
worker is killed at 30 s and the account fails with `scan timed out after
30 s`; the other accounts complete with the oracle's numbers, and the whole
scan ends soon after the timeout (not before it, and within a margin).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

TIMEOUT_S = 30
# Start-up, STS and the other accounts overlap the timeout; this covers a
# loaded CI machine (and valgrind's slower supervisor).
MARGIN_S = 20 * min(lib.SLOW, 3)


def body(t):
    good = [a for a in lib.ok_accounts(lib.DEMO)
            if a not in lib.slow_accounts(lib.DEMO)]
    hung, good = good[1], good[:1] + good[2:4]
    exp = lib.expect(lib.DEMO, good)
    emu = t.emulator()
    emu.add_faults({"kind": "hang", "account": hung})
    env = t.env(emu, good + [hung],
                ACCOUNT_SCAN_TIMEOUT_SECONDS=TIMEOUT_S)
    run = t.tagwarden(["scan", "--json"], env, timeout=TIMEOUT_S + 120,
                      rc=1)
    res = run.json()
    md = res["account_metadata"]
    check(md["failed_accounts"] == [hung], "failed_accounts %s, expected "
          "[%s]" % (md["failed_accounts"], hung))
    err = res["account_errors"].get(hung)
    check(err == "scan timed out after %d s" % TIMEOUT_S,
          "the hung account's error is %r" % err)
    check(sorted(md["successful_accounts"]) == sorted(good),
          "successful_accounts %s, expected %s" % (
              md["successful_accounts"], sorted(good)))
    lib.check_result(res, exp)
    dq = [(a["account_id"], a["status"]) for a in
          res["data_quality"]["accounts_not_scanned"]]
    check(dq == [(hung, "timeout")], "accounts_not_scanned %s" % dq)
    check(run.secs >= TIMEOUT_S - 1, "the scan ended after %.1f s, before "
          "the %d s timeout" % (run.secs, TIMEOUT_S))
    check(run.secs < TIMEOUT_S + MARGIN_S, "the scan took %.1f s, more "
          "than the timeout plus %d s" % (run.secs, MARGIN_S))
    st = emu.stats()
    check(st["faults"].get("hang", 0) >= 1, "no request of %s hung" % hung)
    return ("%s timed out after %d s, %d others ok = oracle, wall time "
            "%.1f s" % (hung, TIMEOUT_S, len(good), run.secs))


lib.main("004 per-account timeout", body)

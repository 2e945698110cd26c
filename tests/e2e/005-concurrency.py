#!/usr/bin/python3
"""UAT-5: MAX_CONCURRENT_ACCOUNTS=2 with 5 member accounts whose calls are
slowed down (emulator latency faults): the emulator never sees more than 2
accounts scanning at once (its max_inflight_scanning_accounts: accounts
with a request other than STS in flight, since the supervisor fetches the
next accounts' credentials ahead with the management account's
AssumeRole), it does see 2 (the cap is used), and all 5 accounts complete
with the oracle's numbers, with one AssumeRole each (fetching ahead adds
none). The control run with MAX_CONCURRENT_ACCOUNTS=5 shows more than 2 at
once, so the measurement can see a cap being exceeded.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

LATENCY_MS = 300


def scan(t, accts, cap, exp):
    emu = t.emulator()
    slow = lib.slow_accounts(lib.DEMO)
    emu.add_faults([{"kind": "latency_ms", "account": a, "ms": LATENCY_MS}
                    for a in accts if a not in slow])
    env = t.env(emu, accts, MAX_CONCURRENT_ACCOUNTS=cap)
    res = t.tagwarden(["scan", "--json", "--force-refresh"], env,
                      rc=0).json()
    check(sorted(res["account_metadata"]["successful_accounts"]) ==
          sorted(accts), "MAX_CONCURRENT_ACCOUNTS=%d: successful %s" % (
              cap, res["account_metadata"]["successful_accounts"]))
    lib.check_result(res, exp)
    st = emu.stats()
    for a in accts:
        check(lib.account_calls(st, a) > 0, "no call from %s" % a)
    assumed = st["operations"].get("sts:AssumeRole", 0)
    check(assumed == len(accts), "%d AssumeRole calls for %d accounts" % (
        assumed, len(accts)))
    return st["max_inflight_scanning_accounts"]


def body(t):
    mgmt, _ = lib.base_keys(lib.load_json(lib.DEMO))
    accts = [a for a in lib.ok_accounts(lib.DEMO) if a != mgmt][:5]
    check(len(accts) == 5, "the demo fixture has %d member accounts "
          "tagwarden can reach, 5 needed" % len(accts))
    exp = lib.expect(lib.DEMO, accts)
    peak = scan(t, accts, 2, exp)
    check(peak <= 2, "MAX_CONCURRENT_ACCOUNTS=2, but the emulator saw %d "
          "accounts in flight at once" % peak)
    check(peak == 2, "the emulator saw at most %d account in flight: the "
          "scan did not run 2 accounts at once" % peak)
    control = scan(t, accts, 5, exp)
    check(control > 2, "control: MAX_CONCURRENT_ACCOUNTS=5 gave at most %d "
          "accounts in flight, so the measurement proves nothing" % control)
    return ("cap 2: at most %d accounts in flight, all 5 ok = oracle "
            "(control, cap 5: %d)" % (peak, control))


lib.main("005 concurrency cap", body)

#!/usr/bin/python3
"""The scan's requests in flight are MAX_CONCURRENT_ACCOUNTS x
PROTO_INFLIGHT (common/proto.h). Once no account waits for a slot, the
workers still running share the slots that free up (LIMITS frames), so the
last account does not finish alone on its own share.

Two demo accounts at MAX_CONCURRENT_ACCOUNTS=2, both started at once: the
one with the fewest regions and no latency, done in a moment, and the one
with the most regions, each of its requests held for a second (lib.SLOW
seconds under sanitizers and valgrind) by a latency rule. When the small
one ends, the large one is still waiting for DescribeRegions; it then
starts its regions' listings (more than PROTO_INFLIGHT of them) with the
whole budget. The emulator must see more than PROTO_INFLIGHT requests of
that account in flight at once (its per-account max_inflight), the small
one never more than its share, the scan never more than the budget, and
both accounts' numbers must equal the oracle's. The control run
scans the same two accounts at MAX_CONCURRENT_ACCOUNTS=1: a budget of
PROTO_INFLIGHT, which the large account must use whole and never exceed,
so the measurement can tell a share from a worker that ignores its limit.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

sys.path.insert(0, os.path.join(lib.SRC, "tests", "emulator"))
import emulib  # noqa: E402

PROTO_INFLIGHT = emulib.proto_constant("PROTO_INFLIGHT")
# Long enough, even under valgrind, for the small account to end first.
LATENCY_MS = 1000 * lib.SLOW


def enabled_regions(fx, account):
    acct = next(a for a in fx["accounts"] if a["id"] == account)
    return [r for r, s in acct.get("regions", {}).items()
            if s != "not-opted-in"]


def scan(t, accts, large, cap):
    emu = t.emulator()
    emu.add_faults([{"kind": "latency_ms", "account": large,
                     "ms": LATENCY_MS}])
    env = t.env(emu, accts, MAX_CONCURRENT_ACCOUNTS=cap)
    res = t.tagwarden(["scan", "--json", "--force-refresh"], env,
                      rc=0).json()
    check(sorted(res["account_metadata"]["successful_accounts"]) ==
          sorted(accts), "successful %s, expected %s" % (
              res["account_metadata"]["successful_accounts"], accts))
    lib.check_result(res, lib.expect(lib.DEMO, accts))
    st = emu.stats()
    check(st["max_inflight_requests"] <= cap * PROTO_INFLIGHT,
          "%d requests in flight at once, more than %d x %d" % (
              st["max_inflight_requests"], cap, PROTO_INFLIGHT))
    for a in accts:
        if a != large:
            check(st["accounts"][a]["max_inflight"] <= PROTO_INFLIGHT,
                  "%s had %d requests in flight while the large account "
                  "ran" % (a, st["accounts"][a]["max_inflight"]))
    return st["accounts"][large]["max_inflight"]


def body(t):
    fx = lib.load_json(lib.DEMO)
    mgmt, _ = lib.base_keys(fx)
    slow = lib.slow_accounts(lib.DEMO)
    members = [a for a in lib.ok_accounts(lib.DEMO)
               if a != mgmt and a not in slow]
    by_size = sorted(members, key=lambda a: len(enabled_regions(fx, a)))
    small, large = by_size[0], by_size[-1]
    # Six listings a region, beside DescribeRegions only in the home one.
    check(6 * (len(enabled_regions(fx, large)) - 1) > PROTO_INFLIGHT,
          "no demo account has enough regions to need more than %d "
          "requests at once" % PROTO_INFLIGHT)
    accts = [small, large]
    shared = scan(t, accts, large, 2)
    check(shared > PROTO_INFLIGHT, "the last account running had at most "
          "%d requests in flight, its own share: the freed slots were not "
          "shared" % shared)
    alone = scan(t, accts, large, 1)
    check(alone == PROTO_INFLIGHT, "control: MAX_CONCURRENT_ACCOUNTS=1 gave "
          "the large account %d requests in flight at most, expected its "
          "whole budget of %d" % (alone, PROTO_INFLIGHT))
    return ("MAX_CONCURRENT_ACCOUNTS=2: the last account running had %d "
            "requests in flight (own share %d, budget %d); alone at 1: %d" %
            (shared, PROTO_INFLIGHT, 2 * PROTO_INFLIGHT, alone))


lib.main("016 request share", body)

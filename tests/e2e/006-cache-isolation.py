#!/usr/bin/python3
"""UAT-6: the result cache is per account. The emulator cannot add a
resource while it runs (its control endpoints are stats and faults only),
so "add an untagged resource to account B" is a second fixture: the demo
fixture plus one never-tagged instance in B, served by a second emulator
that replaces the first (the cache key is the account, regions, types and
policy, never the endpoint). With CACHE_TTL_SECONDS=3600:
1. scan A (first emulator): the oracle's numbers for A;
2. scan A again (second emulator): the same numbers, marked cached, and A
   made no call at all;
3. scan B: B's numbers from the second fixture, with the new violations;
4. scan A and B together: both cached, A still exactly as in step 1 (no
   resource or violation of B in it), B as in step 3, no new calls.
"""
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

NEW_ID = "i-0feedfacecafe0001"


def second_fixture(t, b):
    fx = copy.deepcopy(lib.load_json(lib.DEMO))
    acct = next(a for a in fx["accounts"] if a["id"] == b)
    acct.setdefault("resources", {}).setdefault("us-east-1", []).append(
        {"type": "ec2:instance", "id": NEW_ID, "state": "running"})
    path = os.path.join(t.tmp, "demo-plus-one.json")
    with open(path, "w") as f:
        json.dump(fx, f)
    return path


def scan(t, env, accts):
    return t.tagwarden(["scan", "--json", "--accounts", ",".join(accts)],
                       env, rc=0).json()


def cached(res):
    return sorted(c["account_id"] for c in
                  res["data_quality"]["cached_accounts"])


def body(t):
    mgmt, _ = lib.base_keys(lib.load_json(lib.DEMO))
    members = [x for x in lib.ok_accounts(lib.DEMO) if x != mgmt and
               x not in lib.slow_accounts(lib.DEMO)]
    a, b = members[0], members[1]
    f2 = second_fixture(t, b)
    exp_a = lib.expect(lib.DEMO, [a])
    exp_b1 = lib.expect(lib.DEMO, [b])[b]["totals"]
    exp_b = lib.expect(f2, [b])
    check(exp_b[b]["totals"]["counted"] == exp_b1["counted"] + 1 and
          exp_b[b]["totals"]["violations"] == exp_b1["violations"] + 3,
          "the oracle does not see the added instance: %s vs %s" % (
              exp_b[b]["totals"], exp_b1))

    emu1 = t.emulator()
    env = t.env(emu1, [a, b], CACHE_TTL_SECONDS=3600)
    first = scan(t, env, [a])
    lib.check_result(first, exp_a)
    check(cached(first) == [], "the first scan of %s came from the cache" %
          a)
    check(lib.account_calls(emu1.stats(), a) > 0, "%s made no call" % a)
    check(emu1.stop() == 0, "the first emulator did not exit cleanly")

    emu2 = t.emulator(f2)
    env = t.env(emu2, [a, b], CACHE_TTL_SECONDS=3600)
    again = scan(t, env, [a])
    lib.check_result(again, exp_a)
    check(cached(again) == [a], "the second scan of %s: cached accounts "
          "%s" % (a, cached(again)))
    st = emu2.stats()
    check(a not in st["accounts"] and
          lib.operation_calls(st, "sts:AssumeRole") == 0,
          "the cached account %s still called AWS: %s" % (a, st["accounts"]))

    res_b = scan(t, env, [b])
    lib.check_result(res_b, exp_b)
    check(cached(res_b) == [], "%s came from the cache" % b)
    new = [v for v in res_b["violations"] if v["resource_id"] == NEW_ID]
    check(len(new) == 3 and all(v["account_id"] == b and
                                v["violation_type"] == "missing_required_tag"
                                for v in new),
          "the new instance's violations: %s" % new)
    calls_b = lib.account_calls(emu2.stats(), b)

    both = scan(t, env, [a, b])
    exp_both = dict(exp_a)
    exp_both.update(exp_b)
    lib.check_result(both, exp_both)
    check(cached(both) == sorted([a, b]), "cached accounts %s" %
          cached(both))
    st = emu2.stats()
    check(a not in st["accounts"] and lib.account_calls(st, b) == calls_b,
          "cached accounts called AWS again: %s" % st["accounts"])
    check(not [v for v in both["violations"] if v["account_id"] == a and
               v["resource_id"] == NEW_ID],
          "B's new instance shows up under A")
    return ("%s cached with %d resources and no calls; %s shows the new "
            "instance (%d resources, %d violations); A unchanged" % (
                a, exp_a[a]["totals"]["counted"], b,
                exp_b[b]["totals"]["counted"],
                exp_b[b]["totals"]["violations"]))


lib.main("006 cache isolation", body)

#!/usr/bin/python3
"""COST_EXPLORER_ACCOUNT_ID (docs/cost.md "Who calls Cost Explorer"), on
tests/fixtures/cost.json: with the management account as the payer, one
resource-level query covers every scanned account, signed by the payer
alone; its pages and every account's figures are what
tests/oracle/cost_oracle.py computes for a payer query (the emulator
applies the payer's resource-level setting and faults, so the member whose
own calls are refused, and the one without resource-level data, are
answered through the payer on the resource method).
"""
import json
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

sys.path.insert(0, os.path.join(lib.SRC, "tests", "oracle"))
import cost_oracle  # noqa: E402  (path set just above)

FIXTURE = os.path.join(lib.SRC, "tests", "fixtures", "cost.json")
FIELDS = ("method", "bound", "gap", "violating_cost", "unreadable_cost",
          "total_cost", "unattributed_cost")


def ce_calls_by(stats, account):
    ops = stats["accounts"].get(account, {}).get("operations", {})
    return sum(n for op, n in ops.items() if op.startswith("ce:"))


def body(t):
    fx = cost_oracle.load_fixture(FIXTURE)
    accts = lib.ok_accounts(FIXTURE)
    payer, _ = lib.base_keys(lib.load_json(FIXTURE))
    day = cost_oracle.utc_today()
    exp = cost_oracle.expected(fx, lib.load_json(lib.POLICY), accts, day,
                               payer=payer)
    emu = t.emulator(FIXTURE)
    run = t.tagwarden(["scan", "--json"], t.env(
        emu, accts, COST_EXPLORER_ACCOUNT_ID=payer))
    check(run.rc in (0, 1), "%s; stderr: %s" % (run.describe(),
                                                run.err[-2000:]))
    ca = json.loads(run.out, parse_float=Decimal)["cost_attribution"]
    st = emu.stats()
    check(ca["caller"] == payer, "caller %r, not %s" % (ca["caller"], payer))
    check(ca["ce_requests"] == exp["ce_requests"] == ce_calls_by(st, payer),
          "ce_requests %d; the oracle's one payer query takes %d pages; "
          "the emulator saw %d signed by %s" % (
              ca["ce_requests"], exp["ce_requests"], ce_calls_by(st, payer),
              payer))
    others = {a: ce_calls_by(st, a) for a in accts if a != payer}
    check(not any(others.values()), "members asked Cost Explorer "
          "themselves: %s" % others)
    got = {a["account_id"]: a for a in ca["accounts"]}
    check(set(got) == set(exp["accounts"]), "accounts %s, the oracle %s" % (
        sorted(got), sorted(exp["accounts"])))
    for a, want in exp["accounts"].items():
        for f in FIELDS:
            g, w = got[a].get(f), want.get(f)
            check(g == w or (g is not None and w is not None and
                             Decimal(str(g)) == Decimal(str(w))),
                  "%s.%s: %r, the oracle says %r" % (a, f, g, w))
    return "payer %s: one query of %d requests for %d accounts, every gap " \
        "= the cost oracle's (total %s)" % (
            payer, ca["ce_requests"], len(got), exp["cost_attribution_gap"])


lib.main("015 cost from the payer account", body)

#!/usr/bin/python3
"""UAT-2: without --accounts and with MULTI_ACCOUNT_ENABLED=false,
`tagwarden scan --json` scans the local account (found with
GetCallerIdentity) with its base credentials: a plain ComplianceResult with
the DESIGN.md section 6 fields and none of the multi-account ones, totals
and violations as the oracle computes them for that account, and the
emulator saw no AssumeRole call and no call from any other account. The same
account asked for by ID (multi-account mode) gives the same fields plus
exactly the multi-account ones.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

DESIGN_FIELDS = {"compliance_score", "total_resources", "compliant_resources",
                 "violations", "cost_attribution_gap", "scan_timestamp"}
MULTI_FIELDS = {"account_metadata", "account_breakdown", "account_errors"}


def body(t):
    mgmt, _ = lib.base_keys(lib.load_json(lib.DEMO))
    exp = lib.expect(lib.DEMO, [mgmt])
    emu = t.emulator()
    env = t.env(emu, MULTI_ACCOUNT_ENABLED="false", AWS_ACCOUNT_IDS=None)
    res = t.tagwarden(["scan", "--json"], env, rc=0).json()
    keys = set(res)
    check(DESIGN_FIELDS <= keys, "ComplianceResult lacks %s" %
          sorted(DESIGN_FIELDS - keys))
    check(not keys & MULTI_FIELDS, "a single-account result with "
          "multi-account fields %s" % sorted(keys & MULTI_FIELDS))
    tot = lib.check_result(res, exp, multi=False)
    check({v["account_id"] for v in res["violations"]} <= {mgmt},
          "violations of other accounts than the local one")

    st = emu.stats()
    check(lib.operation_calls(st, "sts:AssumeRole") == 0,
          "the emulator saw %d AssumeRole calls" %
          lib.operation_calls(st, "sts:AssumeRole"))
    check(lib.operation_calls(st, "sts:GetCallerIdentity") >= 1,
          "the local account was not found with GetCallerIdentity")
    check(set(st["accounts"]) == {mgmt}, "calls from accounts %s, only %s "
          "expected" % (sorted(st["accounts"]), mgmt))

    # The same account by ID: the same fields plus the multi-account ones.
    env = t.env(emu, [mgmt])
    multi = t.tagwarden(["scan", "--json", "--accounts", mgmt], env,
                        rc=0).json()
    check(set(multi) == keys | MULTI_FIELDS, "multi-account fields %s, "
          "expected the single-account ones plus %s" % (
              sorted(multi), sorted(MULTI_FIELDS)))
    check(multi["total_resources"] == res["total_resources"],
          "the account by ID counts %d resources, %d without" % (
              multi["total_resources"], res["total_resources"]))
    check(lib.operation_calls(emu.stats(), "sts:AssumeRole") == 0,
          "the local account by ID was scanned through AssumeRole")
    return ("local account %s: ComplianceResult with %d resources, %d "
            "compliant, %d violations as the oracle computes; 0 AssumeRole"
            % (mgmt, tot["counted"], tot["compliant"], tot["violations"]))


lib.main("002 single-account backward compatibility", body)

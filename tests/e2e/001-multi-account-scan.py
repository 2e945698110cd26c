#!/usr/bin/python3
"""UAT-1, UAT-9, UAT-10: a multi-account scan of every account of the demo
organization that tagwarden can reach (the management account with its base
credentials, the members through FinOpsTagComplianceReadOnly) gives a
MultiAccountComplianceResult whose account_metadata lists them all as
successful, whose account_breakdown has each account's alias, counts and
score, and whose totals, score, violations (each with account_id and
region) and skipped regions are what tests/oracle/oracle.py computes from
the fixture and the policy.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402


def body(t):
    accts = lib.ok_accounts(lib.DEMO, exclude=[])
    check(len(accts) >= 5, "the demo fixture has only %d reachable "
          "accounts" % len(accts))
    exp = lib.expect(lib.DEMO, accts)
    for a, r in exp.items():
        check(r["status"] == "ok", "the oracle expects %s to fail; this "
              "test needs a healthy fixture" % a)
    emu = t.emulator()
    res = t.tagwarden(["scan", "--json"], t.env(emu, accts), rc=0).json()

    md = res.get("account_metadata")
    check(md is not None and "account_breakdown" in res,
          "not a MultiAccountComplianceResult: keys %s" % sorted(res))
    check(md["total_accounts"] == len(accts), "total_accounts %r, "
          "expected %d" % (md["total_accounts"], len(accts)))
    check(sorted(md["successful_accounts"]) == sorted(accts),
          "successful_accounts %s, expected %s" % (
              md["successful_accounts"], sorted(accts)))
    check(md["failed_accounts"] == [] and md["skipped_accounts"] == [],
          "failed %s, skipped %s" % (md["failed_accounts"],
                                     md["skipped_accounts"]))
    check(sorted(res["account_breakdown"]) == sorted(accts),
          "account_breakdown covers %s" % sorted(res["account_breakdown"]))
    tot = lib.check_result(res, exp)
    check(res["data_quality"]["complete"] is True,
          "data_quality.complete is %r: %s" % (
              res["data_quality"]["complete"], res["data_quality"]["notes"]))
    check(res["data_quality"]["accounts_not_scanned"] == [],
          "accounts_not_scanned: %s" %
          res["data_quality"]["accounts_not_scanned"])
    return ("%d accounts, %d resources, %d compliant, %d violations, %d "
            "skipped regions, as the oracle computes" % (
                len(accts), tot["counted"], tot["compliant"],
                tot["violations"], len(lib.expected_skipped(exp))))


lib.main("001 multi-account scan", body)

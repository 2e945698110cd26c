#!/usr/bin/python3
"""UAT-3: an account whose role does not trust the management account
fails alone. It is in account_metadata.failed_accounts with
`AssumeRole failed for <role ARN>: AccessDenied: <AWS message>` (in
account_errors and data_quality), the other accounts are successful, the
totals and the score come from them only and equal the oracle's, the exit
status is 1, and the readable summary says the same (the failed row, the
"N of M accounts" total, INCOMPLETE). One account at a time, the refused
AssumeRole is made ahead, while an earlier account scans: the account
fails with the same error and no second AssumeRole when its turn comes.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402


def ahead(t, accts, bad, err):
    emu = t.emulator()
    env = t.env(emu, accts, MAX_CONCURRENT_ACCOUNTS=1)
    res = t.tagwarden(["scan", "--json", "--force-refresh"], env,
                      rc=1).json()
    again = res.get("account_errors", {}).get(bad, "")
    check(again == err, "one at a time, the refused account's error is %r, "
          "not %r" % (again, err))
    mgmt, _ = lib.base_keys(lib.load_json(lib.DEMO))
    assumed = emu.stats()["operations"].get("sts:AssumeRole", 0)
    want = len([a for a in accts if a != mgmt])
    check(assumed == want, "one at a time: %d AssumeRole calls for %d "
          "member accounts" % (assumed, want))


def body(t):
    fx = lib.load_json(lib.DEMO)
    reachable = lib.ok_accounts(lib.DEMO)
    refusing = [a["id"] for a in fx["accounts"] if a["id"] not in reachable]
    check(refusing, "the demo fixture has no account that refuses "
          "AssumeRole")
    bad = refusing[0]
    good = [a for a in reachable if a not in lib.slow_accounts(lib.DEMO)]
    accts = good[:2] + [bad] + good[2:]
    exp = lib.expect(lib.DEMO, good)
    arn = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly" % bad

    emu = t.emulator()
    env = t.env(emu, accts)
    res = t.tagwarden(["scan", "--json"], env, rc=1).json()
    md = res["account_metadata"]
    check(md["failed_accounts"] == [bad], "failed_accounts %s, expected "
          "[%s]" % (md["failed_accounts"], bad))
    check(sorted(md["successful_accounts"]) == sorted(good),
          "successful_accounts %s, expected %s" % (
              md["successful_accounts"], sorted(good)))
    check(md["total_accounts"] == len(accts), "total_accounts %r" %
          md["total_accounts"])
    err = res.get("account_errors", {}).get(bad, "")
    check(re.fullmatch(r"AssumeRole failed for %s: AccessDenied: .*"
                       r"not authorized to perform: sts:AssumeRole.*" %
                       re.escape(arn), err),
          "the failed account's error is %r" % err)
    check(bad not in res["account_breakdown"], "the failed account has an "
          "account_breakdown entry")
    tot = lib.check_result(res, exp)
    dq = res["data_quality"]
    check(dq["complete"] is False, "data_quality.complete with a failed "
          "account")
    check([(a["account_id"], a["status"], a["error"]) for a in
           dq["accounts_not_scanned"]] == [(bad, "failed", err)],
          "accounts_not_scanned: %s" % dq["accounts_not_scanned"])
    st = emu.stats()
    check(bad not in st["accounts"], "the refused account made %d calls" %
          lib.account_calls(st, bad))
    check(st["errors"].get("AccessDenied", 0) >= 1,
          "the emulator refused no AssumeRole")

    # The readable summary of the same scan (members come from the cache).
    out = t.tagwarden(["scan"], env, rc=1).out
    row = [ln for ln in out.splitlines() if ln.startswith(bad)]
    check(len(row) == 1 and " failed " in row[0] and
          "AssumeRole failed for %s: AccessDenied" % arn in row[0],
          "the summary's row for %s: %r" % (bad, row))
    check("total: %d of %d accounts scanned, %d resources, %d compliant" % (
        len(good), len(accts), tot["counted"], tot["compliant"]) in out,
        "the summary's total line is wrong:\n%s" % out)
    check("INCOMPLETE" in out, "the summary does not say the result is "
          "incomplete")
    ahead(t, accts, bad, err)
    return ("%s failed with AssumeRole AccessDenied; %d others ok, score "
            "%.4f from them = oracle" % (bad, len(good),
                                         res["compliance_score"]))


lib.main("003 partial failure", body)

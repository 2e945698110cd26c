#!/usr/bin/python3
"""The five MCP tools of a real tagwarden against the AWS emulator
(tests/fixtures/mcp.json, policy tests/fixtures/mcp-policy.json), over the
raw wire. Every expected number comes from tests/oracle/oracle.py or from
the fixture and the policy read here, never from tagwarden's own output:
single- and multi-account check_tag_compliance with the severity filter,
the bounded violation list, region and tag filters; find_untagged_resources
with ages; validate_resource_tags per ARN; get_violation_history over rows
written into the history database by this test, with hand-computed
expectations.
"""

import datetime
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcplib  # noqa: E402
from mcplib import (DEV, LOCKED, MGMT, PROD, Failure, Server,  # noqa: E402
                    check)

EMU = None


def start(multi=True, extra=None, tmp=None):
    tmp = tmp or mcplib.tempdir()
    s = Server(mcplib.server_env(tmp, EMU, multi=multi, extra=extra))
    s.initialize()
    return s


def oracle_violations(res):
    """(arn, tag, type, severity) of an ok oracle account."""
    out = set()
    for arn, r in mcplib.oracle_resources(res).items():
        for name, vtype in r["violations"]:
            out.add((arn, name, vtype, mcplib.severity_of(name)))
    return out


def listed(result):
    return {(v["resource_arn"], v["tag_name"], v["violation_type"],
             v["severity"]) for v in result["violations"]}


def check_totals(got, want, what):
    t = want["totals"]
    check(got["total_resources"] == t["counted"], "%s: total %d, oracle %d"
          % (what, got["total_resources"], t["counted"]))
    check(got["compliant_resources"] == t["compliant"], "%s: compliant %d, "
          "oracle %d" % (what, got["compliant_resources"], t["compliant"]))
    score = t["compliant"] / t["counted"] if t["counted"] else 1.0
    check(abs(got["compliance_score"] - score) < 1e-9, "%s: score %r, "
          "oracle %r" % (what, got["compliance_score"], score))


def case_single_account():
    s = start(multi=False)
    want = mcplib.oracle(MGMT)
    check(want["status"] == "ok", "oracle: %r" % want)
    allv = oracle_violations(want)
    r = s.tool_ok("check_tag_compliance", {"resource_types": mcplib.TYPES})
    check("account_metadata" not in r and "account_breakdown" not in r,
          "single-account answer has multi-account fields")
    check_totals(r, want, "single")
    check(r["violation_count_total"] == len(allv) ==
          want["totals"]["violations"], "violation count %d, oracle %d" % (
              r["violation_count_total"], len(allv)))
    check(listed(r) == allv, "violations differ from the oracle: %r" %
          (listed(r) ^ allv))
    check(r["violations_truncated"] is False and
          r["violations_limit"] == mcplib.LIST_LIMIT, "bounds")
    check(isinstance(r["scan_id"], int) and r["scan_id"] > 0, "scan_id")
    for v in r["violations"]:
        check(v["account_id"] == MGMT, "violation account")
        # Tag values are data: a message never quotes the value.
        if v["current_value"]:
            check(v["current_value"] not in v["message"],
                  "message quotes the tag value: %r" % v)
    for sev, keep in (("errors_only", "error"), ("warnings_only",
                                                  "warning")):
        f = s.tool_ok("check_tag_compliance", {
            "resource_types": mcplib.TYPES, "severity": sev})
        sel = {v for v in allv if v[3] == keep}
        check(listed(f) == sel, "%s: %r" % (sev, listed(f) ^ sel))
        check(f["violation_count_filtered"] == len(sel) and
              f["violation_count_total"] == len(allv) and
              f["severity_filter"] == sev, "%s counts" % sev)
        check_totals(f, want, sev)
    check(any(v[3] == "warning" for v in allv) and
          any(v[3] == "error" for v in allv), "fixture lacks a severity")
    mcplib.expect_exit_ok(s, "single account")


def case_multi_account():
    tmp = mcplib.tempdir()
    s = start(tmp=tmp)
    accounts = [MGMT, PROD, DEV, LOCKED]
    r = s.tool_ok("check_tag_compliance", {
        "resource_types": mcplib.TYPES, "account_ids": accounts},
        progress="multi")
    meta = r["account_metadata"]
    check(meta["total_accounts"] == 4, "total_accounts %r" % meta)
    check(sorted(meta["successful_accounts"]) == [MGMT, PROD, DEV],
          "successful %r" % meta)
    check(meta["failed_accounts"] == [LOCKED], "failed %r" % meta)
    check("not authorized" in r["account_errors"][LOCKED] or "AccessDenied"
          in r["account_errors"][LOCKED], "locked account error %r" %
          r["account_errors"])
    total = compliant = violations = 0
    allv = set()
    for a in (MGMT, PROD, DEV):
        want = mcplib.oracle(a)
        b = r["account_breakdown"][a]
        check_totals(b, want, "account %s" % a)
        check(b["violation_count"] == want["totals"]["violations"],
              "account %s violations" % a)
        total += want["totals"]["counted"]
        compliant += want["totals"]["compliant"]
        violations += want["totals"]["violations"]
        allv |= oracle_violations(want)
    check(r["total_resources"] == total and
          r["compliant_resources"] == compliant, "sums")
    check(r["violation_count_total"] == violations == len(allv),
          "violation sum")
    # More violations than one answer lists: bounded, flagged, full count.
    check(violations > mcplib.LIST_LIMIT, "fixture too small to truncate")
    check(len(r["violations"]) == mcplib.LIST_LIMIT and
          r["violations_truncated"] is True and
          r["violation_count_filtered"] == violations, "truncation")
    check(listed(r) <= allv, "listed violations not in the oracle")
    prog = [n["params"] for n in s.notes
            if n["method"] == "notifications/progress" and
            n["params"]["progressToken"] == "multi"]
    check(prog and prog[-1]["progress"] == 4 and prog[-1]["total"] == 4,
          "progress %r" % prog)
    check(all(a["progress"] < b["progress"] for a, b in zip(prog,
                                                            prog[1:])),
          "progress does not increase")
    # The full list stays in the history.
    db = sqlite3.connect(os.path.join(tmp, "history.db"))
    n = db.execute("SELECT count(*) FROM violations WHERE scan_id = ?",
                   (r["scan_id"],)).fetchone()[0]
    db.close()
    check(n == violations, "history holds %d violations, oracle %d" % (
        n, violations))
    mcplib.expect_exit_ok(s, "multi account")


def case_filters():
    s = start(multi=False)
    want = mcplib.oracle(MGMT, regions=["us-west-2"])
    r = s.tool_ok("check_tag_compliance", {
        "resource_types": mcplib.TYPES, "filters": {"regions":
                                                    ["us-west-2"]}})
    check_totals(r, want, "region filter")
    check(listed(r) == oracle_violations(want), "region filter violations")
    # Tag filter: the resources whose Environment is exactly production.
    tags = mcplib.fixture_tags()
    full = mcplib.oracle(MGMT)
    sel = {arn: x for arn, x in mcplib.oracle_resources(full).items()
           if tags[arn]["tags"].get("Environment") in ("production",
                                                      "staging")}
    r = s.tool_ok("check_tag_compliance", {
        "resource_types": mcplib.TYPES, "filters": {"tags": [
            {"key": "Environment", "values": ["production", "staging"]}]}})
    counted = [x for x in sel.values() if x["counted"]]
    check(r["total_resources"] == len(counted) and
          r["compliant_resources"] == sum(x["compliant"] for x in counted),
          "tag filter totals %d/%d, expected %d/%d" % (
              r["compliant_resources"], r["total_resources"],
              sum(x["compliant"] for x in counted), len(counted)))
    check({v["resource_arn"] for v in r["violations"]} ==
          {a for a, x in sel.items() if x["violations"]},
          "tag filter violations")
    check(r["tag_filter"][0]["key"] == "Environment", "tag_filter echo")
    # A key alone matches any value; exact case.
    r = s.tool_ok("check_tag_compliance", {
        "resource_types": mcplib.TYPES, "filters": {"tags": [
            {"key": "Owner"}]}})
    n = sum(1 for arn, x in mcplib.oracle_resources(full).items()
            if "Owner" in tags[arn]["tags"] and x["counted"])
    check(r["total_resources"] == n, "key-only filter %d, expected %d" % (
        r["total_resources"], n))
    mcplib.expect_exit_ok(s, "filters")


def case_cache_and_snapshot():
    tmp = mcplib.tempdir()
    s = start(multi=False, tmp=tmp)
    a = s.tool_ok("check_tag_compliance", {"resource_types": mcplib.TYPES})
    b = s.tool_ok("check_tag_compliance", {"resource_types": mcplib.TYPES})
    check(b["data_quality"]["cached_accounts"] and
          b["total_resources"] == a["total_resources"], "second call "
          "should reuse the cached result")
    c = s.tool_ok("check_tag_compliance", {"resource_types": mcplib.TYPES,
                                           "force_refresh": True})
    check(not c["data_quality"]["cached_accounts"], "force_refresh cached")
    d = s.tool_ok("check_tag_compliance", {"resource_types": mcplib.TYPES,
                                           "store_snapshot": False,
                                           "force_refresh": True})
    check(d["scan_id"] is None, "store_snapshot false recorded %r" %
          d["scan_id"])
    mcplib.expect_exit_ok(s, "cache")
    db = sqlite3.connect(os.path.join(tmp, "history.db"))
    n = db.execute("SELECT count(*) FROM scans").fetchone()[0]
    db.close()
    check(n == 3, "scans recorded: %d, expected 3" % n)


def case_find_untagged():
    s = start()
    for accounts, args in (([MGMT], {"resource_types": mcplib.TYPES}),
                           ([MGMT, PROD], {"resource_types": mcplib.TYPES,
                                           "account_ids": [MGMT, PROD]})):
        want = mcplib.expected_untagged(accounts)
        r = s.tool_ok("find_untagged_resources", args)
        got = {u["resource_arn"]: u["age_days"]
               for u in r["untagged_resources"]}
        check(r["untagged_count"] == len(want), "untagged %d, expected %d"
              % (r["untagged_count"], len(want)))
        check(r["truncated"] == (len(want) > mcplib.LIST_LIMIT), "truncated")
        check(set(got) <= set(want), "not untagged: %r" % (set(got) -
                                                           set(want)))
        for arn, age in got.items():
            # The day may turn between the scan and this check.
            check(age == want[arn] if want[arn] is None else
                  age in (want[arn], want[arn] - 1), "%s: age %r, expected "
                  "%r" % (arn, age, want[arn]))
        ages = [u["age_days"] for u in r["untagged_resources"]]
        known = [a for a in ages if a is not None]
        check(known == sorted(known, reverse=True) and
              ages == known + [None] * (len(ages) - len(known)),
              "not oldest first, unknown ages last: %r" % ages)
        for u in r["untagged_resources"]:
            check(set(u["missing_required_tags"]) <= set(
                mcplib.required_names(u["resource_type"])), "missing tags")
        check(r["scanned_resources"] == sum(
            mcplib.oracle(a)["totals"]["counted"] for a in accounts),
            "scanned_resources")
    mcplib.expect_exit_ok(s, "find untagged")


def arn(account, region, kind, rid):
    return "arn:aws:ec2:%s:%s:%s/%s" % (region, account, kind, rid)


def case_validate():
    s = start()
    full = {a: mcplib.oracle_resources(mcplib.oracle(a))
            for a in (MGMT, PROD)}
    good = arn(MGMT, "us-east-1", "instance", "i-0a10000000000001")
    bad = arn(MGMT, "us-east-1", "instance", "i-0a10000000000003")
    west = arn(MGMT, "us-west-2", "volume", "vol-0a20000000000001")
    other = arn(PROD, "us-east-1", "instance", "i-0b1000000000000000")
    gone = arn(MGMT, "us-east-1", "instance", "i-0a10000000000005")
    missing = arn(MGMT, "eu-west-1", "instance", "i-0fffffffffffffff")
    locked = arn(LOCKED, "us-east-1", "instance", "i-0d10000000000001")
    sqs = "arn:aws:sqs:us-east-1:111111111111:queue1"
    rds = "arn:aws:rds:us-east-1:111111111111:db:billing-db"
    fn = "arn:aws:lambda:us-east-1:111111111111:function:report-gen"
    ecs = "arn:aws:ecs:us-west-2:111111111111:cluster/batch-west"
    arns = [good, bad, west, other, gone, missing, locked, sqs, rds, fn,
            ecs]
    r = s.tool_ok("validate_resource_tags", {"resource_arns": arns})
    res = {e["resource_arn"]: e for e in r["results"]}
    check([e["resource_arn"] for e in r["results"]] == arns, "order")
    for a in (good, bad, west, other, rds, fn, ecs):
        o = full[a.split(":")[4]][a]
        e = res[a]
        check(e["status"] == ("compliant" if o["compliant"] else
                              "noncompliant"), "%s: %r" % (a, e["status"]))
        got = sorted([v["tag_name"], v["violation_type"]]
                     for v in e["violations"])
        check(got == o["violations"], "%s: violations %r, oracle %r" % (
            a, got, o["violations"]))
        check(e["tags"] == mcplib.fixture_tags()[a]["tags"], "tags of " + a)
    check(res[gone]["status"] == "not_found", "terminated: %r" % res[gone])
    check(res[missing]["status"] == "not_found", "missing: %r" %
          res[missing])
    check(res[locked]["status"] == "error" and "not authorized" in
          res[locked]["error"], "locked: %r" % res[locked])
    check(res[sqs]["status"] == "error" and "unsupported" in
          res[sqs]["error"] and res[sqs]["resource_type"] is None, "sqs")
    check(r["total"] == 11 and r["not_found"] == 2 and r["errors"] == 2,
          "summary %r" % {k: r[k] for k in ("total", "compliant",
                                            "noncompliant", "not_found",
                                            "errors")})
    # Another account's ARN with MULTI_ACCOUNT_ENABLED=false.
    mcplib.expect_exit_ok(s, "validate")
    s = start(multi=False)
    r = s.tool_ok("validate_resource_tags", {"resource_arns": [good, other]})
    check(r["results"][0]["status"] == "compliant", "local ARN single mode")
    check(r["results"][1]["status"] == "error" and "MULTI_ACCOUNT_ENABLED"
          in r["results"][1]["error"], "other account single mode: %r" %
          r["results"][1])
    mcplib.expect_exit_ok(s, "validate single")


def iso(days_ago, hour=12):
    t = datetime.datetime.now(datetime.timezone.utc).replace(
        hour=hour, minute=0, second=0, microsecond=0) - \
        datetime.timedelta(days=days_ago)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ"), t.date()


def case_history():
    tmp = mcplib.tempdir()
    s = start(tmp=tmp)      # creates and migrates the database
    mcplib.expect_exit_ok(s, "history setup")
    db = sqlite3.connect(os.path.join(tmp, "history.db"))
    # (days ago, hour, account, total, compliant, violations)
    rows = [(40, 9, MGMT, 100, 10, 200),
            (10, 9, MGMT, 100, 50, 60), (10, 9, PROD, 100, 30, 90),
            (5, 9, MGMT, 100, 55, 50), (5, 15, MGMT, 100, 70, 40),
            (5, 10, PROD, 100, 40, 70),
            (1, 9, MGMT, 100, 80, 20), (1, 9, PROD, 100, 60, 50)]
    for i, (ago, hour, acct, total, comp, viol) in enumerate(rows):
        when, _ = iso(ago, hour)
        db.execute("INSERT INTO scans (id, started_at, finished_at, status,"
                   " multi_account, requested_accounts, requested_types, "
                   "policy_hash) VALUES (?, ?, ?, 'complete', 1, '[]', '[]',"
                   " 'x')", (i + 1, when, when))
        db.execute("INSERT INTO account_results (scan_id, account_id, "
                   "status, started_at, finished_at, total_resources, "
                   "compliant_resources, violation_count, cache_key) VALUES "
                   "(?, ?, 'ok', ?, ?, ?, ?, ?, 'k')",
                   (i + 1, acct, when, when, total, comp, viol))
    db.commit()
    db.close()
    s = start(tmp=tmp)
    h = s.tool_ok("get_violation_history", {"days_back": 30})
    # Day -10: 80/200; day -5: last MGMT (70) + PROD 40 = 110/200;
    # day -1: 140/200. Day -40 is outside 30 days.
    got = [(p["period_start"], p["accounts"], p["total_resources"],
            p["compliant_resources"], p["violation_count"])
           for p in h["periods"]]
    want = [(str(iso(10)[1]), 2, 200, 80, 150),
            (str(iso(5)[1]), 2, 200, 110, 110),
            (str(iso(1)[1]), 2, 200, 140, 70)]
    check(got == want, "daily periods %r, expected %r" % (got, want))
    t = h["trend"]
    check(t["direction"] == "improving" and abs(t["first_score"] - 0.4) <
          1e-9 and abs(t["last_score"] - 0.7) < 1e-9 and
          abs(t["change"] - 0.3) < 1e-9, "trend %r" % t)
    h = s.tool_ok("get_violation_history", {"days_back": 7,
                                            "account_id": PROD})
    got = [(p["period_start"], p["compliant_resources"])
           for p in h["periods"]]
    check(got == [(str(iso(5)[1]), 40), (str(iso(1)[1]), 60)],
          "account filter %r" % got)
    check(h["account_id"] == PROD, "account echo")
    h = s.tool_ok("get_violation_history", {"days_back": 90,
                                            "group_by": "month"})
    months = {}
    for ago, hour, acct, total, comp, viol in rows:
        when, day = iso(ago, hour)
        key = day.strftime("%Y-%m-01")
        months.setdefault(key, {})
        prev = months[key].get(acct)
        if prev is None or prev[0] < when:
            months[key][acct] = (when, total, comp)
    want = [(k, sum(v[1] for v in m.values()), sum(v[2] for v in
                                                    m.values()))
            for k, m in sorted(months.items())]
    got = [(p["period_start"], p["total_resources"],
            p["compliant_resources"]) for p in h["periods"]]
    check(got == want, "months %r, expected %r" % (got, want))
    h = s.tool_ok("get_violation_history", {"days_back": 90,
                                            "group_by": "week"})
    for p in h["periods"]:
        d = datetime.date.fromisoformat(p["period_start"])
        check(d.weekday() == 0, "week does not start on Monday: %s" % d)
    # Worsening, from the 40-day-old row to today's of one account.
    db = sqlite3.connect(os.path.join(tmp, "history.db"))
    when, _ = iso(0, 0)
    db.execute("INSERT INTO scans (id, started_at, finished_at, status, "
               "multi_account, requested_accounts, requested_types, "
               "policy_hash) VALUES (100, ?, ?, 'complete', 1, '[]', '[]', "
               "'x')", (when, when))
    db.execute("INSERT INTO account_results (scan_id, account_id, status, "
               "started_at, finished_at, total_resources, "
               "compliant_resources, violation_count, cache_key) VALUES "
               "(100, ?, 'ok', ?, ?, 100, 5, 300, 'k')", (DEV, when, when))
    db.commit()
    db.close()
    h = s.tool_ok("get_violation_history", {"days_back": 3,
                                            "account_id": DEV})
    check(h["trend"]["direction"] == "stable" and
          h["trend"]["periods_compared"] == 1, "one period: %r" % h["trend"])
    h = s.tool_ok("get_violation_history", {"days_back": 3})
    check(h["trend"]["direction"] == "worsening", "worsening: %r" %
          h["trend"])
    mcplib.expect_exit_ok(s, "history")


def main():
    global EMU
    EMU = mcplib.Emulator()
    try:
        return mcplib.run([
            ("single account vs oracle, severity filter", case_single_account),
            ("multi-account vs oracle, bounded list", case_multi_account),
            ("region and tag filters", case_filters),
            ("cache, force_refresh, store_snapshot", case_cache_and_snapshot),
            ("find_untagged_resources", case_find_untagged),
            ("validate_resource_tags", case_validate),
            ("get_violation_history", case_history),
        ])
    finally:
        EMU.stop()


if __name__ == "__main__":
    sys.exit(main())

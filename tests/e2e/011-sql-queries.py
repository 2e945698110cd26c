#!/usr/bin/python3
"""The example queries in sql/queries/*.sql, run with the sqlite3 shell on
the history of two scans, give the oracle's numbers:
scan 1: four accounts and the one whose role refuses AssumeRole;
scan 2: one account again (answered from the cache), one new, the refusing
one again. Then:
- latest-scores.sql: each account ever scanned ok, with alias, counts and
  score, worst first;
- failed-last-scan.sql: the refusing account, with scan 2's error;
- account-violations.sql (:account_id): the cached account's violations
  (region, ARN, tag, type, severity, current value);
- trend-30-days.sql: today's row sums the latest result of every account;
- worst-types.sql: scan 2's resource types by non-compliance.
Every .sql file in sql/queries must be one of these (a new query needs a
check here).
"""
import collections
import datetime
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
import oracle  # noqa: E402
from lib import check  # noqa: E402

QUERIES = os.path.join(lib.SRC, "sql", "queries")
KNOWN = {"latest-scores.sql", "failed-last-scan.sql",
         "account-violations.sql", "trend-30-days.sql", "worst-types.sql"}


def q(name):
    return os.path.join(QUERIES, name)


def fmt(x):
    return "%.4f" % x


def current_values(account):
    """(region, arn, tag) -> the value the policy judged, from the fixture."""
    fx = lib.load_json(lib.DEMO)
    pol = oracle.Policy(lib.load_json(lib.POLICY))
    acct = next(a for a in fx["accounts"] if a["id"] == account)
    out = {}
    for region, rs in acct.get("resources", {}).items():
        for r in rs:
            tags = oracle.tags_of(r)
            for rule in pol.required + pol.optional:
                out[(region, oracle.arn_of(account, region, r),
                     rule["name"])] = pol._find(rule["name"], tags)
    return out


def check_latest(t, exp_all):
    rows = t.sqlite(q("latest-scores.sql"))
    want = []
    for a, r in exp_all.items():
        tot = r["totals"]
        want.append([a, r["alias"] or "-", str(tot["counted"]),
                     str(tot["compliant"]), str(tot["violations"]),
                     fmt(lib.score(tot["compliant"], tot["counted"]))])
    want.sort(key=lambda w: (float(w[5]), w[0]))
    got = [row[:6] for row in rows]
    check(got == want, "latest-scores.sql:\n%s\nexpected:\n%s" % (got, want))
    for row in rows:
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[6]),
              "latest-scores.sql: finished_at %r" % row[6])


def check_failed(t, bad, arn):
    rows = t.sqlite(q("failed-last-scan.sql"))
    check(len(rows) == 1 and rows[0][:2] == [bad, "failed"] and
          rows[0][2].startswith("AssumeRole failed for %s: AccessDenied: " %
                                arn),
          "failed-last-scan.sql: %s" % rows)


def check_violations(t, acct, exp):
    rows = t.sqlite(q("account-violations.sql"), {":account_id": acct})
    sev = lib.severities()
    cur = current_values(acct)
    want = collections.Counter()
    for (a, region, arn, _, tag, vtype), n in \
            lib.expected_violations(exp).items():
        v = cur.get((region, arn, tag))
        want[(region, arn, tag, vtype, sev.get(tag, "warning"),
              "-" if v is None else v)] += n
    got = collections.Counter(tuple(r) for r in rows)
    check(got == want, "account-violations.sql for %s: %s" % (
        acct, lib.counter_diff(got, want)))
    check([r[:3] for r in rows] == sorted(r[:3] for r in rows),
          "account-violations.sql is not ordered by region, ARN, tag")
    return len(rows)


def check_trend(t, exp_all):
    rows = t.sqlite(q("trend-30-days.sql"))
    tot = lib.expected_totals(exp_all)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    want = [today, str(len(exp_all)), str(tot["counted"]),
            str(tot["compliant"]), str(tot["violations"]),
            fmt(lib.score(tot["compliant"], tot["counted"]))]
    check(rows == [want], "trend-30-days.sql: %s, expected [%s]" % (
        rows, want))


def check_worst(t, exp):
    per = {}
    for r in exp.values():
        for reg in r["regions"].values():
            for res in reg.get("resources", []):
                if not res["counted"]:
                    continue
                p = per.setdefault(res["type"], [0, 0, 0])
                p[0] += 1
                p[1] += 0 if res["compliant"] else 1
                p[2] += len(res["violations"])
    want = sorted(([ty, str(n), str(bad), fmt(bad / n), str(v)]
                   for ty, (n, bad, v) in per.items()),
                  key=lambda w: (-int(w[2]), -float(w[3]), w[0]))
    rows = t.sqlite(q("worst-types.sql"))
    check(rows == want, "worst-types.sql:\n%s\nexpected:\n%s" % (rows, want))


def body(t):
    found = {os.path.basename(f) for f in glob.glob(q("*.sql"))}
    # The cost-*.sql queries are run against hand-worked rows by
    # tests/unit/test-costdb.c (test_costdb_queries_with_shell).
    found = {f for f in found if not f.startswith("cost-")}
    check(found == KNOWN, "sql/queries has %s; this test checks %s" % (
        sorted(found), sorted(KNOWN)))
    fx = lib.load_json(lib.DEMO)
    mgmt, _ = lib.base_keys(fx)
    reach = [a for a in lib.ok_accounts(lib.DEMO)
             if a not in lib.slow_accounts(lib.DEMO)]
    bad = next(a["id"] for a in fx["accounts"]
               if a["id"] not in lib.ok_accounts(lib.DEMO))
    arn = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly" % bad
    first, again, new = reach[:4], reach[1], reach[4]
    check(mgmt in first and new not in first, "unexpected demo accounts")
    exp_all = lib.expect(lib.DEMO, first + [new])
    day = datetime.datetime.now(datetime.timezone.utc).date()

    emu = t.emulator()
    env = t.env(emu, first + [bad], CACHE_TTL_SECONDS=3600)
    t.tagwarden(["scan", "--json"], env, rc=1)
    res = t.tagwarden(["scan", "--json", "--accounts", ",".join(
        [again, new, bad])], env, rc=1).json()
    check([c["account_id"] for c in res["data_quality"]["cached_accounts"]]
          == [again], "scan 2 did not reuse %s from the cache" % again)

    check_latest(t, exp_all)
    check_failed(t, bad, arn)
    nviol = check_violations(t, again, {again: exp_all[again]})
    if datetime.datetime.now(datetime.timezone.utc).date() == day:
        check_trend(t, exp_all)
        trend = "trend"
    else:
        trend = "trend skipped (the scans straddled midnight UTC)"
    check_worst(t, {a: exp_all[a] for a in (again, new)})
    return ("5 queries = oracle: %d latest scores, %s failed, %d violations "
            "of cached %s, %s, worst types" % (len(exp_all), bad, nviol,
                                               again, trend))


lib.main("011 sql/queries after two scans", body)

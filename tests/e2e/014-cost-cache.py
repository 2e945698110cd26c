#!/usr/bin/python3
"""Cost Explorer requests and their cache (docs/cost.md "Cost and cache"),
on tests/fixtures/cost.json:

1. cold cache: cost_attribution.ce_requests equals the emulator's count of
   ce:GetCostAndUsage + ce:GetCostAndUsageWithResources requests and the
   number tests/oracle/cost_oracle.py computes from the emulator's paging
   (20 items a page, the fixture's short and empty pages, the refused
   resource-level request of the tag-method account, one request of the
   account Cost Explorer refuses); ce_request_cost_usd is $0.01 each;
2. the history database holds today's answers: cost_fetches rows with
   day = today (UTC), the right method and tag keys, the requests each
   query made; cost_lines of the resource-level fetch are the oracle's
   RESOURCE_ID sums to the nano-dollar; no row for the refused account
   (errors are not cached);
3. a second scan the same day (same HISTORY_DB_PATH), and one with
   --force-refresh, ask Cost Explorer only for the refused account (one
   request each time), every other account from_cache, the same gaps;
4. --cost-metric AmortizedCost is another cache key: the oracle's count of
   requests again, the same dollars (the emulator knows no amortization);
5. COST_EXPLORER_ENABLED=false, and --no-cost: no request, gap null.
"""
import os
import sqlite3
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

sys.path.insert(0, os.path.join(lib.SRC, "tests", "oracle"))
import cost_oracle  # noqa: E402  (path set just above)

FIXTURE = os.path.join(lib.SRC, "tests", "fixtures", "cost.json")
CE_OPS = ("ce:GetCostAndUsage", "ce:GetCostAndUsageWithResources")


def ce_calls(emu):
    st = emu.stats()
    return sum(lib.operation_calls(st, op) for op in CE_OPS)


def scan(t, emu, accts, args=(), **env):
    run = t.tagwarden(["scan", "--json"] + list(args),
                      t.env(emu, accts, **env))
    check(run.rc in (0, 1), "%s; stderr: %s" % (run.describe(),
                                                run.err[-2000:]))
    return lib.json.loads(run.out, parse_float=Decimal)


def gaps(res):
    return {a["account_id"]: a.get("gap")
            for a in res["cost_attribution"]["accounts"]}


def want_gaps(exp):
    return {a: c["gap"] for a, c in exp["accounts"].items()}


def same_gaps(got, want):
    return set(got) == set(want) and all(
        (got[a] is None) == (want[a] is None) and
        (want[a] is None or float(got[a]) == float(want[a])) for a in want)


def check_round(res, emu, before, want_requests, exp, what):
    ca = res.get("cost_attribution")
    check(ca is not None, "%s: no cost_attribution; keys %s" % (
        what, sorted(res)))
    made = ce_calls(emu) - before
    check(ca["ce_requests"] == made == want_requests, "%s: ce_requests %r, "
          "the emulator counted %d Cost Explorer requests, the oracle "
          "expects %d" % (what, ca["ce_requests"], made, want_requests))
    check(Decimal(ca["ce_request_cost_usd"]) == Decimal(made) / 100 or
          float(ca["ce_request_cost_usd"]) == made / 100,
          "%s: ce_request_cost_usd %r for %d requests at $0.01" % (
              what, ca["ce_request_cost_usd"], made))
    check(same_gaps(gaps(res), want_gaps(exp)), "%s: gaps %s, the oracle "
          "says %s" % (what, gaps(res), {a: str(g) for a, g in
                                         want_gaps(exp).items()}))
    return made


def check_db(t, exp, day, cold_requests, refused):
    db = sqlite3.connect(t.db)
    try:
        rows = db.execute("SELECT id, day, caller_account, account_id, "
                          "method, tag_key, period_start, period_end, "
                          "status, requests FROM cost_fetches "
                          "WHERE metric = 'UnblendedCost'").fetchall()
        want = set()
        for a, c in exp["accounts"].items():
            if a in refused:
                continue
            if c["method"] == "resource":
                want.add((a, "resource", None, c["window"]["start"],
                          c["window"]["end"], "ok"))
                continue
            w = c["window"]
            want.add((a, "resource", None, None, None, "unavailable"))
            for k in c["tag_keys"]:
                want.add((a, "tag", k, w["start"], w["end"], "ok"))
        got = set()
        for r in rows:
            check(r[1] == day, "cost_fetches row %s: day %r, today is %s" %
                  (r, r[1], day))
            check(r[2] == r[3], "cost_fetches row %s: caller %s for "
                  "account %s (each account asks for itself)" % (
                      r, r[2], r[3]))
            key = (r[3], r[4], r[5], r[6], r[7], r[8])
            if r[8] == "unavailable":
                key = (r[3], r[4], r[5], None, None, r[8])
            got.add(key)
        check(got == want and len(rows) == len(want), "cost_fetches rows "
              "%s, expected %s" % (sorted(map(str, got)),
                                   sorted(map(str, want))))
        stored = sum(r[9] for r in rows)
        check(stored + sum(exp["accounts"][a]["requests"] for a in refused)
              == cold_requests, "cost_fetches.requests sum to %d, plus the "
              "refused accounts' requests is not the %d made" % (
                  stored, cold_requests))
        for a, c in exp["accounts"].items():
            if c.get("method") != "resource" or a in refused:
                continue
            lines = dict(db.execute(
                "SELECT l.key, l.amount_nanos FROM cost_lines l JOIN "
                "cost_fetches f ON f.id = l.fetch_id WHERE f.account_id = ? "
                "AND f.method = 'resource' AND f.metric = 'UnblendedCost'",
                (a,)).fetchall())
            check(lines == c["nanos"]["lines"], "cost_lines of %s differ "
                  "from the oracle's RESOURCE_ID sums: only stored %s; "
                  "only oracle %s" % (
                      a, sorted(set(lines.items()) -
                                set(c["nanos"]["lines"].items())),
                      sorted(set(c["nanos"]["lines"].items()) -
                             set(lines.items()))))
        return len(rows)
    finally:
        db.close()


def body(t):
    fx = cost_oracle.load_fixture(FIXTURE)
    accts = lib.ok_accounts(FIXTURE)
    refused = [a for a in accts if cost_oracle.ce_refused(fx, a)]
    day = cost_oracle.utc_today()
    exp = cost_oracle.expected(fx, lib.load_json(lib.POLICY), accts, day)
    again = sum(exp["accounts"][a]["requests"] for a in refused)
    emu = t.emulator(FIXTURE)

    cold = check_round(scan(t, emu, accts), emu, 0, exp["ce_requests"],
                       exp, "cold cache")
    nrows = check_db(t, exp, day.isoformat(), cold, refused)
    for what, args in (("second scan", []),
                       ("--force-refresh", ["--force-refresh"])):
        before = ce_calls(emu)
        res = scan(t, emu, accts, args)
        check_round(res, emu, before, again, exp, what)
        for a in res["cost_attribution"]["accounts"]:
            check(a["account_id"] in refused or a.get("from_cache") is True,
                  "%s: %s is not from_cache" % (what, a["account_id"]))
    # The promise in its plainest form: the same day, the accounts
    # Cost Explorer answered cost nothing more.
    answered = [a for a in accts if a not in refused]
    before = ce_calls(emu)
    res = scan(t, emu, answered)
    check(ce_calls(emu) == before and
          res["cost_attribution"]["ce_requests"] == 0,
          "same-day scan of the answered accounts: %d Cost Explorer "
          "requests, ce_requests %r" % (ce_calls(emu) - before,
                                         res["cost_attribution"]
                                         ["ce_requests"]))
    check(all(a.get("from_cache") is True and a.get("gap") is not None
              for a in res["cost_attribution"]["accounts"]),
          "same-day scan: not every account's gap came from the cache")
    before = ce_calls(emu)
    res = scan(t, emu, accts, ["--cost-metric", "AmortizedCost"])
    check(res["cost_attribution"]["metric"] == "AmortizedCost",
          "metric %r" % res["cost_attribution"]["metric"])
    check_round(res, emu, before, exp["ce_requests"], exp, "AmortizedCost")
    for what, args, env in (("COST_EXPLORER_ENABLED=false", [],
                             {"COST_EXPLORER_ENABLED": "false"}),
                            ("--no-cost", ["--no-cost"], {})):
        before = ce_calls(emu)
        res = scan(t, emu, accts, args, **env)
        check(ce_calls(emu) == before, "%s: %d Cost Explorer requests" % (
            what, ce_calls(emu) - before))
        check(res.get("cost_attribution_gap") is None, "%s: "
              "cost_attribution_gap %r" % (what,
                                           res.get("cost_attribution_gap")))
    if cost_oracle.utc_today() != day:
        raise lib.Skip("the UTC day turned during the test")
    return ("cold cache %d CE requests = emulator = oracle, %d cached "
            "fetches with the oracle's lines; warm scans %d request(s) "
            "(the refused account only), 0 without it; AmortizedCost %d; "
            "disabled 0" % (
                cold, nrows, again, exp["ce_requests"]))


lib.main("014 cost cache", body)

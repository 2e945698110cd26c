#!/usr/bin/python3
"""The cost tools of a real tagwarden over MCP stdio (docs/cost.md,
docs/mcp.md), against the AWS emulator serving tests/fixtures/cost.json
with policies/tagging_policy.json. Every expected number comes from
tests/oracle/cost_oracle.py (the fixture and the policy alone), never from
tagwarden's output:

- get_cost_attribution_gap, default period, group_by account, region,
  resource_type and tag_key: total_gap, the groups (resource-method
  accounts' rounded map entries summed per key, a tag-method account under
  "unknown" for region and resource_type and its tag_keys[k].gap under
  tag_key; sorted by gap descending, then key), period, metric, each
  account's gap and method, ce_requests (the oracle's count on a cold
  cache, then only the refused account's request) and its cost;
- metric AmortizedCost: another cache key, the same dollars;
- time_period inside the 14-day window: bound exact, scale 1; a period
  wholly before the window: the tag method for every account, with no
  resource-level request; an end after today: a tool error;
- find_untagged_resources with include_costs: each untagged resource's cost
  over the period (its window cost scaled; null for the tag-method and the
  refused account), untagged_cost, the cost_attribution block; with
  min_cost_threshold only those costing at least that much, most expensive
  first.
"""
import datetime
import os
import sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import lib  # noqa: E402  (tests/e2e/lib.py: verdict, emulator)
import mcplib  # noqa: E402
from lib import check  # noqa: E402

sys.path.insert(0, os.path.join(lib.SRC, "tests", "oracle"))
import cost_oracle  # noqa: E402  (path set just above)
import oracle  # noqa: E402

FIXTURE = os.path.join(lib.SRC, "tests", "fixtures", "cost.json")
GROUPS = ("account", "region", "resource_type", "tag_key")


def same(got, want):
    """A dollar figure equals the oracle's cents (as JSON readers see it)."""
    if got is None or want is None:
        return got is None and want is None
    return not isinstance(got, bool) and float(got) == float(want)


def want_groups(exp, group_by):
    g = cost_oracle.group_gaps(exp, group_by)
    return [[k, cost_oracle.dollars(c)] for k, c in
            sorted(g.items(), key=lambda kv: (-kv[1], kv[0]))]


def check_answer(r, exp, group_by, requests, what):
    check(same(r["total_gap"], exp["cost_attribution_gap"]), "%s: "
          "total_gap %r, the oracle says %s" % (what, r["total_gap"],
                                                exp["cost_attribution_gap"]))
    got = [[g["key"], g["gap"]] for g in r["groups"]]
    want = want_groups(exp, group_by)
    check(r["group_by"] == group_by and len(got) == len(want) and all(
        g[0] == w[0] and same(g[1], w[1]) for g, w in zip(got, want)),
        "%s: groups %s, the oracle says %s" % (
            what, got, [[k, str(v)] for k, v in want]))
    check(r["period"] == exp["period"], "%s: period %r, the oracle says %r"
          % (what, r["period"], exp["period"]))
    check(r["ce_requests"] == requests and same(
        r["ce_request_cost_usd"], Decimal(requests) / 100),
        "%s: ce_requests %r ($%r), expected %d" % (
            what, r["ce_requests"], r["ce_request_cost_usd"], requests))
    accts = {a["account_id"]: a for a in r["accounts"]}
    check(sorted(accts) == sorted(exp["accounts"]), "%s: accounts %s" % (
        what, sorted(accts)))
    for a, c in exp["accounts"].items():
        check(same(accts[a].get("gap"), c["gap"]), "%s: %s gap %r, the "
              "oracle says %s" % (what, a, accts[a].get("gap"), c["gap"]))
        if c["gap"] is not None:
            for k in ("method", "bound", "window"):
                check(accts[a].get(k) == c[k], "%s: %s.%s %r, the oracle "
                      "says %r" % (what, a, k, accts[a].get(k), c[k]))
    check(isinstance(r["scan_id"], int) and r["scan_timestamp"],
          "%s: scan_id %r" % (what, r["scan_id"]))
    refused = [a for a, c in exp["accounts"].items() if c["gap"] is None]
    check(r["data_quality"].get("cost_data_collected") is (not refused),
          "%s: cost_data_collected %r" % (
              what, r["data_quality"].get("cost_data_collected")))


def refused_requests(exp):
    return sum(c["requests"] for c in exp["accounts"].values()
               if c["gap"] is None)


def case_gap(s, ctx):
    exp = ctx["exp"]
    for i, gb in enumerate(GROUPS):
        r = s.tool_ok("get_cost_attribution_gap", {
            "account_ids": ctx["accounts"], "group_by": gb}, timeout=180)
        check_answer(r, exp, gb, exp["ce_requests"] if i == 0 else
                     refused_requests(exp), "group_by " + gb)
    r = s.tool_ok("get_cost_attribution_gap", {
        "account_ids": ctx["accounts"], "metric": "AmortizedCost"},
        timeout=180)
    check(r["metric"] == "AmortizedCost", "metric %r" % r["metric"])
    check_answer(r, exp, "account", exp["ce_requests"], "AmortizedCost")
    return "4 groupings + AmortizedCost"


def period_case(s, ctx, start, end, what):
    exp = cost_oracle.expected(ctx["fx"], ctx["policy"], ctx["accounts"],
                               ctx["today"], (start, end))
    r = s.tool_ok("get_cost_attribution_gap", {
        "account_ids": ctx["accounts"], "group_by": "tag_key",
        "time_period": {"start": start.isoformat(),
                        "end": end.isoformat()}}, timeout=180)
    check_answer(r, exp, "tag_key", exp["ce_requests"], what)
    return exp


def case_periods(s, ctx):
    d = ctx["today"]
    day = datetime.timedelta(days=1)
    exp = period_case(s, ctx, d - 10 * day, d - 3 * day, "inside window")
    check(any(c.get("bound") == "exact" for c in exp["accounts"].values()),
          "the oracle sees no exact bound inside the window")
    exp = period_case(s, ctx, d - 30 * day, d - 20 * day, "before window")
    check(all(c.get("method", "tag") == "tag"
              for c in exp["accounts"].values()),
          "the oracle does not use the tag method before the window")
    msg = s.tool_error("get_cost_attribution_gap", {
        "account_ids": ctx["accounts"], "time_period": {
            "start": (d - day).isoformat(), "end": (d + day).isoformat()}})
    check("end" in msg, "an end after today: %r" % msg)
    return "window, before window, future end"


def expected_untagged(ctx):
    """(account, arn) -> cost (Decimal or None) of the untagged resources:
    tags readable, and none of the tags the policy requires of the type
    (keys without case, as case_sensitivity false says) or no tags."""
    fx, pol = ctx["fx"], oracle.Policy(ctx["policy"])
    tags = {}
    for a in fx["accounts"]:
        for region, rs in a.get("resources", {}).items():
            for r in rs:
                tags[oracle.arn_of(a["id"], region, r)] = oracle.tags_of(r)
    out = {}
    for a, c in ctx["exp"]["accounts"].items():
        for r in c["resources"]:
            if not r["tags_known"]:
                continue
            t = {k.lower() for k in tags[r["arn"]]}
            need = [x["name"].lower() for x in pol.required
                    if pol._applies(x["applies_to"], r["type"])]
            if not t or not any(n in t for n in need):
                rc = c.get("resource_costs") or {}
                out[(a, r["arn"])] = rc.get(r["arn"])
    return out


def case_untagged(s, ctx):
    want = expected_untagged(ctx)
    check(any(v is None for v in want.values()) and
          any(v for v in want.values()), "the fixture needs untagged "
          "resources with and without a cost: %s" % want)
    r = s.tool_ok("find_untagged_resources", {
        "account_ids": ctx["accounts"], "include_costs": True},
        timeout=180)
    got = {(u["account_id"], u["resource_arn"]): u.get("cost", "absent")
           for u in r["untagged_resources"]}
    check(sorted(got) == sorted(want), "untagged %s, expected %s" % (
        sorted(got), sorted(want)))
    for k, v in want.items():
        check(same(got[k], v), "%s: cost %r, the oracle says %s" % (
            k[1], got[k], v))
    total = sum(v for v in want.values() if v is not None)
    check(same(r.get("untagged_cost"), total), "untagged_cost %r, the "
          "oracle says %s" % (r.get("untagged_cost"), total))
    check("cost_attribution" in r and same(
        r.get("cost_attribution", {}).get("ce_request_cost_usd"),
        Decimal(r["cost_attribution"]["ce_requests"]) / 100),
        "no cost_attribution block with include_costs")
    costs = sorted({v for v in want.values() if v}, reverse=True)
    threshold = costs[1] if len(costs) > 1 else costs[0]
    r = s.tool_ok("find_untagged_resources", {
        "account_ids": ctx["accounts"],
        "min_cost_threshold": float(threshold)}, timeout=180)
    keep = {k: v for k, v in want.items() if v is not None and
            v >= threshold}
    got = [(u["account_id"], u["resource_arn"], u.get("cost"))
           for u in r["untagged_resources"]]
    check(sorted(g[:2] for g in got) == sorted(keep), "min_cost_threshold "
          "%s keeps %s, expected %s" % (threshold, [g[:2] for g in got],
                                        sorted(keep)))
    check([g[2] for g in got] == sorted((g[2] for g in got), reverse=True),
          "min_cost_threshold: not most expensive first: %s" % got)
    check(same(r.get("untagged_cost"), sum(keep.values())),
          "min_cost_threshold: untagged_cost %r, the oracle says %s" % (
              r.get("untagged_cost"), sum(keep.values())))
    return "%d untagged, threshold %s keeps %d" % (len(want), threshold,
                                                   len(keep))


def body(t):
    fx = cost_oracle.load_fixture(FIXTURE)
    accts = lib.ok_accounts(FIXTURE)
    today = cost_oracle.utc_today()
    pol = lib.load_json(lib.POLICY)
    ctx = {"fx": fx, "policy": pol, "accounts": accts, "today": today,
           "exp": cost_oracle.expected(fx, pol, accts, today)}
    emu = t.emulator(FIXTURE)
    _, creds = lib.base_keys(fx)
    env = mcplib.server_env(t.tmp, emu, multi=True, extra={
        "AWS_ACCESS_KEY_ID": creds["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": creds["secret_access_key"],
        "AWS_ACCOUNT_IDS": ",".join(accts), "POLICY_PATH": lib.POLICY,
        "AWS_REGION": "us-east-1", "TZ": "UTC"})
    s = mcplib.Server(env)
    done = []
    try:
        s.initialize()
        for name, fn in (("gap", case_gap), ("periods", case_periods),
                         ("untagged", case_untagged)):
            done.append("%s: %s" % (name, fn(s, ctx)))
        rc = s.close()
        check(rc == 0, "tagwarden exited %d; stderr:\n%s" % (
            rc, s.stderr_tail()))
    except mcplib.Failure as e:
        raise lib.Failure("%s; stderr tail:\n%s" % (e, s.stderr_tail(1500)))
    finally:
        s.kill()
    if cost_oracle.utc_today() != today:
        raise lib.Skip("the UTC day turned during the test")
    return "; ".join(done) + " (all = the cost oracle)"


if __name__ == "__main__":
    lib.main("206 mcp cost", body)

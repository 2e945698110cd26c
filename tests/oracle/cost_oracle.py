#!/usr/bin/python3
"""What tagwarden's cost attribution must report, computed from the
emulator fixture and the policy file alone, for comparison with its output.

It never runs or imports tagwarden code. The rules come from docs/cost.md
(the period, the 14-day window, the resource and tag methods, the rounding,
the output fields); the AWS side comes from the emulator's documented Cost
Explorer (tests/emulator/README.md, "costs[]", "daily_cost",
"cost_resource_data", "### Cost Explorer"); what a scan reports of each
account (resources, their tags, unreadable tags, violations) comes from
oracle.py, imported, so the compliance model is the same one every other
end-to-end test trusts.

- Cost lines: a costs[] row is its amount on its one day (an integer day is
  relative to today); a resource with daily_cost > 0 costs that much every
  day from its created day through today. RESOURCE_ID is the id for ec2:*
  and s3:bucket, the ARN otherwise, "NoResourceId" without one. Amounts are
  held as integer micro-dollars (the emulator's unit), sums as nanos.
- Period: default today - 30 .. today (end exclusive). Window: the period
  clipped to today - 14 .. today.
- Resource method (cost_resource_data true, window not empty): the
  account's lines in the window by RESOURCE_ID, joined with the scan's
  resources (violating = an error-severity violation; unreadable = in
  scope with tags unknown), scaled by period_days / window_days.
- Tag method: per required error-severity key K, the account's lines over
  the whole period by the value of K (CE compares tag keys exactly):
  absent or empty = untagged, a value the policy's rule for K rejects =
  mis_tagged. The account's gap is the largest per-key gap; scale 1.
- Rounding: round_half_up(nanos x period_days / window_days / 1e7) cents,
  once per figure; the scan's gap is the sum of the account gaps' cents.
- Requests (cold cache, each account asked with its own credentials):
  pages of the emulator's paging (20 items, an item being a group in a
  MONTHLY period, or a period without groups; the fixture's short and
  empty pages). Resource method: one WithResources query. Tag method: the
  refused WithResources request, then one GetCostAndUsage query per key.
  An account Cost Explorer refuses (a fault rule on service ce): no gap;
  one request, or one per key when the period is before the window.

Usage: cost_oracle.py --fixture F --policy P --accounts A,B [--today D]
       [--period START..END]    prints the expected result as JSON.
"""

import argparse
import datetime
import json
import os
import sys
from decimal import ROUND_HALF_UP, Decimal, localcontext

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402  (the compliance model)

ALL_TYPES = ["ec2:instance", "ec2:volume", "s3:bucket", "rds:db",
             "lambda:function", "ecs:cluster"]
WINDOW_DAYS = 14          # resource-level data AWS keeps
PERIOD_DAYS = 30          # the default period
CE_PAGE = 20              # items per Cost Explorer page (the emulator's)
REQUEST_PRICE = Decimal("0.01")
NO_RESOURCE = "NoResourceId"
EPOCH = datetime.date(1970, 1, 1)


class Unsupported(Exception):
    pass


# ---- dates as day numbers ----

def day_num(d):
    if isinstance(d, str):
        d = datetime.date.fromisoformat(d[:10])
    return (d - EPOCH).days


def day_text(n):
    return (EPOCH + datetime.timedelta(days=n)).isoformat()


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def rng(start, end):
    return {"start": day_text(start), "end": day_text(end),
            "days": end - start}


def month_buckets(start, end):
    """MONTHLY periods: calendar months clipped to start..end."""
    out, d = [], start
    while d < end:
        cur = EPOCH + datetime.timedelta(days=d)
        nxt = datetime.date(cur.year + cur.month // 12, cur.month % 12 + 1,
                            1)
        out.append((d, min(day_num(nxt), end)))
        d = day_num(nxt)
    return out


# ---- the fixture's cost lines ----

def load_fixture(path):
    """Numbers as Decimal, so amounts stay exact."""
    with open(path) as f:
        return json.load(f, parse_float=Decimal)


def micros(amount):
    a = Decimal(str(amount))
    m = a * 1000000
    if m != m.to_integral_value():
        raise Unsupported("amount %s has more than six decimals (the "
                          "emulator rounds it through a double)" % a)
    return int(m)


def ce_resource_id(rtype, rid, arn):
    if rtype.startswith("ec2:") or rtype == "s3:bucket":
        return rid
    return arn


def cost_tags(obj):
    """Cost allocation tags; an empty value groups as no tag."""
    return {k: v for k, v in oracle.tags_of(obj).items() if v != ""}


def cost_lines(fx, today):
    """[{account, key, region, tags, first, last, micros}], key the
    RESOURCE_ID; first..last inclusive day numbers."""
    out = []
    for c in fx.get("costs", []):
        d = c["day"]
        day = today + int(d) if not isinstance(d, str) else day_num(d)
        out.append({"account": c["account"],
                    "key": c.get("resource_id", NO_RESOURCE),
                    "region": c.get("region", "global"),
                    "tags": cost_tags(c), "first": day, "last": day,
                    "micros": micros(c["amount"])})
    for a in fx["accounts"]:
        for region, rs in a.get("resources", {}).items():
            for r in rs:
                if Decimal(str(r.get("daily_cost", 0))) <= 0:
                    continue
                arn = oracle.arn_of(a["id"], region, r)
                out.append({
                    "account": a["id"],
                    "key": ce_resource_id(r["type"], r["id"], arn),
                    "region": region, "tags": cost_tags(r),
                    "first": day_num(r.get("created",
                                           "2024-01-01T00:00:00Z")),
                    "last": today, "micros": micros(r["daily_cost"])})
    return out


def grouped(lines, account, start, end, keyfn):
    """Per MONTHLY period of start..end: {group key: micros} of the
    account's lines (only groups some line falls in, as the emulator)."""
    out = []
    for b0, b1 in month_buckets(start, end):
        g = {}
        for ln in lines:
            if ln["account"] != account:
                continue
            n = min(ln["last"] + 1, b1) - max(ln["first"], b0)
            if n > 0:
                k = keyfn(ln)
                g[k] = g.get(k, 0) + ln["micros"] * n
        out.append(g)
    return out


def page_count(items, short_every, empty_every):
    """Requests to read `items` page items, with the emulator's paging:
    page n > 0 is empty when n % empty == empty - 1, else half when
    n % short == short - 1; the last page is the one reaching the end."""
    taken, n = 0, 0
    while True:
        limit = CE_PAGE
        if n > 0 and empty_every and n % empty_every == empty_every - 1:
            limit = 0
        elif n > 0 and short_every and n % short_every == short_every - 1:
            limit = (CE_PAGE + 1) // 2
        taken = min(items, taken + limit)
        n += 1
        if taken >= items:
            return n


def query_requests(fx, buckets):
    pg = fx.get("pagination", {})
    items = sum(max(1, len(b)) for b in buckets)
    return page_count(items, pg.get("short_page_every", 5),
                      pg.get("empty_page_every", 7))


def summed(buckets):
    """{key: nanos} over all periods."""
    out = {}
    for b in buckets:
        for k, m in b.items():
            out[k] = out.get(k, 0) + m * 1000
    return out


# ---- rounding (docs/cost.md) ----

def cents(nanos, num=1, den=1):
    """round_half_up(nanos x num / den / 1e7), half away from zero."""
    with localcontext() as ctx:
        ctx.prec = 60
        x = Decimal(nanos) * num / den / Decimal(10) ** 7
        return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def dollars(c):
    return Decimal(c).scaleb(-2)


# ---- per account ----

def ce_refused(fx, account):
    """A fault rule that refuses the account's Cost Explorer calls."""
    for f in fx.get("faults", []):
        if f.get("account", "*") not in ("*", account) or \
                f.get("service", "*") != "ce":
            continue
        if f["kind"] == "access_denied" and "count" not in f:
            return "AccessDeniedException"
        raise Unsupported("a %s rule on ce" % f["kind"])
    return None


def error_keys(policy):
    return [r["name"] for r in policy.required if r["severity"] == "error"]


def scanned(fx, policy, account, home, types):
    """oracle.py's scan, each reported resource with its CE id."""
    res = oracle.scan(fx, policy, account, home, None, types)
    if res["status"] != "ok":
        return res, []
    acct = next(a for a in fx["accounts"] if a["id"] == account)
    ids = {}
    for region, rs in acct.get("resources", {}).items():
        for r in rs:
            arn = oracle.arn_of(account, region, r)
            ids[arn] = ce_resource_id(r["type"], r["id"], arn)
    sev = {r["name"]: r["severity"] for r in policy.required}
    out = []
    for region, reg in res["regions"].items():
        if reg["status"] != "ok":
            continue
        for r in reg["resources"]:
            keys = sorted({n for n, _ in r["violations"]
                           if sev.get(n) == "error"})
            out.append(dict(r, region=region, ce_id=ids[r["arn"]],
                            unreadable=r["in_scope"] and
                            not r["tags_known"],
                            violating=r["counted"] and not r["compliant"],
                            error_keys=keys))
    return res, out


def add(d, k, n):
    d[k] = d.get(k, 0) + n


def resource_method(fx, lines, account, resources, window, scale):
    num, den = scale
    buckets = grouped(lines, account, window[0], window[1],
                      lambda ln: ln["key"])
    by_key = summed(buckets)
    total = sum(by_key.values())
    nano = {"violating": 0, "unreadable": 0, "matched": 0, "total": total}
    maps = {"by_region": {}, "by_resource_type": {}, "by_tag_key": {}}
    seen = set()
    costs = {}
    for r in resources:
        n = by_key.get(r["ce_id"])
        costs[r["arn"]] = dollars(cents(n or 0, num, den))
        if n is None:
            continue
        if r["ce_id"] not in seen:
            seen.add(r["ce_id"])
            nano["matched"] += n
        if r["violating"] or r["unreadable"]:
            nano["violating" if r["violating"] else "unreadable"] += n
            add(maps["by_region"], r["region"], n)
            add(maps["by_resource_type"], r["type"], n)
        for k in r["error_keys"]:
            add(maps["by_tag_key"], k, n)
    gap = nano["violating"] + nano["unreadable"]
    out = {"gap": dollars(cents(gap, num, den)),
           "violating_cost": dollars(cents(nano["violating"], num, den)),
           "unreadable_cost": dollars(cents(nano["unreadable"], num, den)),
           "total_cost": dollars(cents(total, num, den)),
           "unattributed_cost": dollars(cents(total - nano["matched"], num,
                                              den))}
    for m, d in maps.items():
        out[m] = {k: dollars(cents(v, num, den)) for k, v in d.items()}
    out["nanos"] = dict(nano, gap=gap, lines=by_key, maps=maps)
    out["resource_costs"] = costs
    out["requests"] = query_requests(fx, buckets)
    return out


def tag_method(fx, policy, lines, account, period):
    rules = {r["name"]: r for r in policy.required}
    keys, requests, best = {}, 0, 0
    nanos = {}
    for k in error_keys(policy):
        buckets = grouped(lines, account, period[0], period[1],
                          lambda ln, k=k: "%s$%s" % (k, ln["tags"].get(
                              k, "")))
        requests += query_requests(fx, buckets)
        untagged = mis = 0
        for key, n in summed(buckets).items():
            value = key[len(k) + 1:]
            if value == "":
                untagged += n
            elif policy._value_problem(rules[k], value, True):
                mis += n
        nanos[k] = (untagged, mis)
        best = max(best, untagged + mis)
        keys[k] = {"untagged": dollars(cents(untagged)),
                   "mis_tagged": dollars(cents(mis)),
                   "gap": dollars(cents(untagged + mis))}
    return {"gap": dollars(cents(best)), "tag_keys": keys,
            "nanos": nanos, "requests": requests}


def account_cost(fx, policy, lines, account, resources, period, window,
                 caller=None):
    """caller: the account whose credentials ask Cost Explorer (the
    emulator applies its faults and its cost_resource_data), default the
    account itself."""
    caller = caller or account
    acct = next(a for a in fx["accounts"] if a["id"] == caller)
    wdays = window[1] - window[0]
    pdays = period[1] - period[0]
    refused = ce_refused(fx, caller)
    if refused:
        # Its first request is refused and ends it; a period before the
        # window starts with the per-key queries, sent side by side, each
        # refused.
        return {"account_id": account, "gap": None, "error": refused,
                "requests": 1 if wdays > 0 else len(error_keys(policy))}
    if wdays > 0 and acct.get("cost_resource_data", True):
        out = resource_method(fx, lines, account, resources, window,
                              (pdays, wdays))
        out.update(method="resource", window=rng(*window),
                   bound="exact" if window == period else "estimate",
                   scale=Decimal(pdays) / wdays)
    else:
        out = tag_method(fx, policy, lines, account, period)
        # The refused WithResources request comes first when the window
        # is not empty; a period before the window goes to tags directly.
        out["requests"] += 1 if wdays > 0 else 0
        out.update(method="tag", window=rng(*period), bound="lower_bound",
                   scale=Decimal(1), resource_costs={
                       r["arn"]: None for r in resources})
    out.update(account_id=account, error=None)
    return out


def payer_requests(fx, lines, accounts, window):
    """Requests of the one resource-level query a payer makes for all the
    accounts: their groups (account, resource) share the pages."""
    per = [grouped(lines, a, window[0], window[1], lambda ln: ln["key"])
           for a in accounts]
    buckets = [{(a, k): v for a, b in zip(accounts, bs) for k, v in
                b.items()} for bs in zip(*per)]
    return query_requests(fx, buckets)


def expected(fx, policy_doc, accounts, today=None, period=None,
             home="us-east-1", types=None, payer=None):
    """The cost attribution of a scan of `accounts` (the ones that scan
    ok). today: a date (default: today UTC); period: (start, end) dates;
    payer: COST_EXPLORER_ACCOUNT_ID (resource-level data and no refusal
    assumed for it: one query for every account)."""
    today = day_num(today or utc_today())
    if period is None:
        period = (today - PERIOD_DAYS, today)
    else:
        period = (day_num(period[0]), day_num(period[1]))
    if not period[0] < period[1] <= today:
        raise ValueError("period %s..%s: start before end, end not after "
                         "today" % (day_text(period[0]),
                                    day_text(period[1])))
    window = (max(period[0], today - WINDOW_DAYS), min(period[1], today))
    if window[0] >= window[1]:
        window = (period[0], period[0])
    policy = oracle.Policy(policy_doc)
    lines = cost_lines(fx, today)
    out = {"period": rng(*period), "accounts": {}, "scan": {},
           "ce_requests": 0}
    gap = None
    for a in accounts:
        res, resources = scanned(fx, policy, a, home, types or ALL_TYPES)
        out["scan"][a] = res
        if res["status"] != "ok":
            continue
        c = account_cost(fx, policy, lines, a, resources, period, window,
                         payer)
        c["resources"] = resources
        out["accounts"][a] = c
        out["ce_requests"] += 0 if payer else c["requests"]
        if c["gap"] is not None:
            gap = (gap or 0) + int(c["gap"] * 100)
    if payer:
        out["ce_requests"] = payer_requests(fx, lines, list(out["accounts"]),
                                            window)
    out["cost_attribution_gap"] = None if gap is None else dollars(gap)
    out["ce_request_cost_usd"] = out["ce_requests"] * REQUEST_PRICE
    return out


def group_gaps(exp, group_by):
    """get_cost_attribution_gap's groups: {key: cents}. region and
    resource_type: the resource-method accounts' rounded map entries
    summed per key, tag-method accounts under "unknown"; tag_key:
    resource-method by_tag_key plus tag-method tag_keys[k].gap."""
    out = {}
    for a, c in exp["accounts"].items():
        if c["gap"] is None:
            continue
        if group_by == "account":
            add(out, a, int(c["gap"] * 100))
        elif group_by == "tag_key":
            src = c.get("by_tag_key") if c["method"] == "resource" else {
                k: v["gap"] for k, v in c["tag_keys"].items()}
            for k, v in src.items():
                add(out, k, int(v * 100))
        elif c["method"] == "resource":
            for k, v in c["by_" + group_by].items():
                add(out, k, int(v * 100))
        else:
            add(out, "unknown", int(c["gap"] * 100))
    return out


def public(exp):
    """The expectation as JSON (numbers as strings of exact decimals)."""
    def conv(o):
        if isinstance(o, dict):
            return {str(k): conv(v) for k, v in o.items()
                    if k not in ("resources", "scan")}
        if isinstance(o, (list, tuple)):
            return [conv(v) for v in o]
        if isinstance(o, Decimal):
            return str(o)
        return o
    return conv(exp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--accounts", required=True, help="comma-separated")
    ap.add_argument("--today", help="YYYY-MM-DD (default: today UTC)")
    ap.add_argument("--period", help="START..END (default: the last 30 "
                    "days)")
    ap.add_argument("--home-region", default="us-east-1")
    a = ap.parse_args()
    fx = load_fixture(a.fixture)
    with open(a.policy) as f:
        pol = json.load(f)
    today = datetime.date.fromisoformat(a.today) if a.today else None
    period = tuple(a.period.split("..")) if a.period else None
    try:
        exp = expected(fx, pol, a.accounts.split(","), today, period,
                       a.home_region)
    except (Unsupported, oracle.Unsupported) as e:
        sys.exit("cost_oracle: the fixture uses what the oracle does not "
                 "model: %s" % e)
    json.dump(public(exp), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Cost Explorer through boto3 against fixtures/ce.json, exact to the cent.

The expected dollars per period and group are computed here from the
fixture JSON with decimal.Decimal (numbers parsed as Decimal, never as
float), from the README's rules written out again: costs[] rows on their
day, a resource's daily_cost on every day from its creation day through
today, SERVICE names per resource type, RESOURCE_ID (EC2 and S3 ids, other
ARNs), tag keys "key$value" and "key$" for untagged or empty values, the
payer (management) account seeing every organization member and no one
else. Every query follows NextPageToken to the end (pages hold at most 20
period/group items, so they do cross pages); the sums must match exactly.
Errors: ValidationException texts, DataUnavailableException without
resource-level data, token misuse, and a throttle retried by botocore.
"""
import datetime
import json
import os
import re
import sys
from decimal import Decimal

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

FIXTURE = os.path.join(emulib.HERE, "fixtures", "ce.json")
PAYER, PROD, DEV, SOLO_ID = ("111111111111", "222222222222", "333333333333",
                             "555555555555")
SOLO = dict(key="AKIAEMULATORSOLO0001",
            secret="solo/Secret/Key/For/The/Emulator/Tests00")
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly"
DAY = datetime.timedelta(days=1)
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
AMOUNT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

# The README's SERVICE rule for resources: first matching prefix.
SERVICES = [
    ("ec2:instance", "Amazon Elastic Compute Cloud - Compute"),
    ("ec2:", "EC2 - Other"), ("s3:", "Amazon Simple Storage Service"),
    ("rds:", "Amazon Relational Database Service"), ("lambda:", "AWS Lambda"),
    ("ecs:", "Amazon Elastic Container Service"),
]


def load():
    with open(FIXTURE) as f:
        return json.load(f, parse_float=Decimal)


def tags(obj):
    """Cost allocation tags; an empty value counts as no tag at all."""
    t = obj.get("tags", {})
    if isinstance(t, list):
        t = {e["Key"]: e["Value"] for e in t}
    return {k: v for k, v in t.items() if v != ""}


def service_of(res):
    if "cost_service" in res.get("attributes", {}):
        return res["attributes"]["cost_service"]
    return next((s for p, s in SERVICES if res["type"].startswith(p)),
                res["type"])


def resource_id(res, acct, region):
    if res["type"].startswith("ec2:") or res["type"] == "s3:bucket":
        return res["id"]
    return emulib.arn_of(res, acct, region)


def lines(fx):
    out = []
    for c in fx.get("costs", []):
        day = (TODAY + c["day"] * DAY if isinstance(c["day"], int) else
               datetime.date.fromisoformat(c["day"]))
        out.append(dict(account=c["account"], SERVICE=c["service"],
                        RESOURCE_ID=c.get("resource_id"),
                        REGION=c.get("region", "global"), tags=tags(c),
                        first=day, last=day, amount=Decimal(c["amount"])))
    for a in fx["accounts"]:
        for region, rs in a.get("resources", {}).items():
            for r in rs:
                if Decimal(r.get("daily_cost", 0)) <= 0:
                    continue
                created = datetime.date.fromisoformat(
                    r.get("created", "2024-01-01T00:00:00Z")[:10])
                out.append(dict(account=a["id"], SERVICE=service_of(r),
                                RESOURCE_ID=resource_id(r, a["id"], region),
                                REGION=region, tags=tags(r), first=created,
                                last=TODAY,
                                amount=Decimal(r["daily_cost"])))
    return out


def visible(fx, caller, line):
    status = {a["id"]: a.get("org_status", "ACTIVE") for a in fx["accounts"]}
    payer = next(a["id"] for a in fx["accounts"] if a.get("management"))
    return line["account"] == caller or (caller == payer and
                                         status[line["account"]] != "NONE")


def buckets(start, end, monthly):
    out, d = [], start
    while d < end:
        nxt = d + DAY
        if monthly:
            nxt = (d.replace(day=28) + 4 * DAY).replace(day=1)
        out.append((d, min(nxt, end)))
        d = nxt
    return out


def key_of(line, group):
    kind, name = group
    if kind == "TAG":
        return "%s$%s" % (name, line["tags"].get(name, ""))
    if name == "LINKED_ACCOUNT":
        return line["account"]
    return line[name] if line[name] is not None else "NoResourceId"


def expect(fx, caller, start, end, monthly, groups=(), keep=lambda l: True):
    """{(period start, keys): (dollars, line-days)} from the fixture."""
    out = {}
    for line in lines(fx):
        if not visible(fx, caller, line) or not keep(line):
            continue
        keys = tuple(key_of(line, g) for g in groups)
        for b0, b1 in buckets(start, end, monthly):
            days = (min(line["last"] + DAY, b1) - max(line["first"], b0)).days
            if days > 0:
                amt, n = out.get((b0.isoformat(), keys), (Decimal(0), 0))
                out[(b0.isoformat(), keys)] = (amt + line["amount"] * days,
                                               n + days)
    return out


def fetch(c, op, checks, **kw):
    """Every page of one query: {(period start, keys): (dollars, usage)}."""
    got, pages, periods, odd, twice = {}, 0, set(), [], []
    while True:
        r = getattr(c, op)(**kw)
        pages += 1
        for p in r["ResultsByTime"]:
            periods.add(p["TimePeriod"]["Start"])
            items = [(tuple(g["Keys"]), g["Metrics"]) for g in p["Groups"]]
            if not kw.get("GroupBy"):
                items = [((), p["Total"])]
            for keys, m in items:
                amount = m["UnblendedCost"]["Amount"]
                if AMOUNT.match(amount) is None:
                    odd.append(amount)
                k = (p["TimePeriod"]["Start"], keys)
                if k in got:
                    twice.append(k)
                usage = m.get("UsageQuantity", {}).get("Amount", "0")
                got[k] = (Decimal(amount), int(usage))
        if not r.get("NextPageToken"):
            break
        kw["NextPageToken"] = r["NextPageToken"]
    checks.eq(odd, [], "amounts are plain decimal strings")
    checks.eq(twice, [], "no period and group shows on two pages")
    return got, pages, periods, r


def compare(checks, got, want, what, totals_only=False):
    if totals_only:	# no GroupBy: every period shows, also at zero
        got = {k: v for k, v in got.items() if v != (0, 0) or k in want}
    cents = Decimal("0.01")
    checks.eq({k: v[0].quantize(cents) for k, v in got.items()},
              {k: v[0].quantize(cents) for k, v in want.items()},
              "%s: dollars per period and group, to the cent" % what)
    checks.eq({k: v[0] for k, v in got.items()},
              {k: v[0] for k, v in want.items()},
              "%s: exactly (micro-dollars)" % what)
    checks.ok(len(want) > 0, "%s: the fixture has costs here" % what)
    return got


def period(start, end):
    return {"Start": start.isoformat(), "End": end.isoformat()}


def check_grouped(emu, fx, checks):
    c = emulib.client(emu, "ce")
    start, end = TODAY - 40 * DAY, TODAY + DAY
    groups = [("DIMENSION", "SERVICE"), ("TAG", "Owner")]
    got, pages, periods, last = fetch(
        c, "get_cost_and_usage", checks, TimePeriod=period(start, end),
        Granularity="MONTHLY", Metrics=["UnblendedCost", "UsageQuantity"],
        GroupBy=[{"Type": t, "Key": k} for t, k in groups])
    want = expect(fx, PAYER, start, end, True, groups)
    compare(checks, got, want, "payer MONTHLY by SERVICE and Owner tag")
    checks.eq({k: v[1] for k, v in got.items()},
              {k: v[1] for k, v in want.items()},
              "UsageQuantity: the line-days behind each group")
    checks.ok(pages > 1, "MONTHLY by SERVICE and Owner: %d pages" % pages)
    checks.eq(periods, {b[0].isoformat() for b in buckets(start, end, True)},
              "every month of the period shows")
    checks.eq(last["GroupDefinitions"],
              [{"Type": t, "Key": k} for t, k in groups], "GroupDefinitions")
    untagged = [k for k in want if k[1][1] == "Owner$"]
    checks.ok(len(untagged) > 0 and any(k[1][1] != "Owner$" for k in want),
              "fixture sanity: tagged and untagged (Owner$) spend")


def check_daily(emu, fx, checks):
    c = emulib.client(emu, "ce")
    start, end = TODAY - 20 * DAY, TODAY + DAY
    groups = [("DIMENSION", "LINKED_ACCOUNT"), ("TAG", "Environment")]
    got, pages, periods, _ = fetch(
        c, "get_cost_and_usage", checks, TimePeriod=period(start, end),
        Granularity="DAILY", Metrics=["UnblendedCost"],
        GroupBy=[{"Type": t, "Key": k} for t, k in groups])
    want = expect(fx, PAYER, start, end, False, groups)
    compare(checks, got, want, "payer DAILY by LINKED_ACCOUNT and "
            "Environment tag")
    checks.ok(pages >= len(want) // 20, "DAILY: %d pages for %d items" %
              (pages, len(want)))
    checks.eq(len(periods), 21, "21 days, each shown")
    accounts = {k[1][0] for k in got}
    checks.eq(accounts, {PAYER, PROD, DEV, "444444444444"},
              "the payer sees every organization member, not the standalone "
              "account")
    names = {}
    kw = dict(TimePeriod=period(start, end), Granularity="MONTHLY",
              Metrics=["BlendedCost"],
              GroupBy=[{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}])
    while True:
        r = c.get_cost_and_usage(**kw)
        for d in r["DimensionValueAttributes"]:
            names[d["Value"]] = d["Attributes"]["description"]
        if not r.get("NextPageToken"):
            break
        kw["NextPageToken"] = r["NextPageToken"]
    checks.eq(names, {a["id"]: a["name"] for a in fx["accounts"]
                      if a["id"] in accounts},
              "DimensionValueAttributes name the linked accounts")


def check_totals(emu, fx, checks):
    c = emulib.client(emu, "ce")
    start, end = TODAY - 70 * DAY, TODAY + DAY
    got, _, _, last = fetch(c, "get_cost_and_usage", checks,
                            TimePeriod=period(start, end),
                            Granularity="MONTHLY", Metrics=["UnblendedCost"])
    compare(checks, got, expect(fx, PAYER, start, end, True), "payer totals",
            totals_only=True)
    checks.ok(all(p["Groups"] == [] for p in last["ResultsByTime"]),
              "no GroupBy: Total only")
    this_month = TODAY.replace(day=1)
    est = {p["TimePeriod"]["Start"]: p["Estimated"]
           for p in last["ResultsByTime"]}
    checks.eq(est.get(this_month.isoformat()), True,
              "the current month is Estimated")
    prev = (this_month - DAY).replace(day=1)
    checks.eq(est.get(prev.isoformat()), False, "last month is final")


def check_filters(emu, fx, checks):
    c = emulib.client(emu, "ce")
    start, end = TODAY - 35 * DAY, TODAY + DAY
    ec2 = "Amazon Elastic Compute Cloud - Compute"
    cases = [
        ("LINKED_ACCOUNT 222 by Application",
         {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [PROD]}},
         [("TAG", "Application")], lambda l: l["account"] == PROD),
        ("Owner ABSENT by SERVICE",
         {"Tags": {"Key": "Owner", "MatchOptions": ["ABSENT"]}},
         [("DIMENSION", "SERVICE")], lambda l: "Owner" not in l["tags"]),
        ("Environment production or staging by REGION",
         {"Tags": {"Key": "Environment",
                   "Values": ["production", "staging"]}},
         [("DIMENSION", "REGION")],
         lambda l: l["tags"].get("Environment") in ("production", "staging")),
        ("not EC2 compute and (production or eu-west-1)",
         {"And": [{"Not": {"Dimensions": {"Key": "SERVICE", "Values": [ec2]}}},
                  {"Or": [{"Tags": {"Key": "Environment",
                                    "Values": ["production"]}},
                          {"Dimensions": {"Key": "REGION",
                                          "Values": ["eu-west-1"]}}]}]},
         [("DIMENSION", "SERVICE"), ("DIMENSION", "LINKED_ACCOUNT")],
         lambda l: l["SERVICE"] != ec2 and (
             l["tags"].get("Environment") == "production" or
             l["REGION"] == "eu-west-1")),
        ("Owner ending in @example.com, any case",
         {"Tags": {"Key": "Owner", "Values": ["@EXAMPLE.COM"],
                   "MatchOptions": ["ENDS_WITH", "CASE_INSENSITIVE"]}},
         [("TAG", "Owner")],
         lambda l: l["tags"].get("Owner", "").endswith("@example.com")),
    ]
    for what, filt, groups, keep in cases:
        got, _, _, _ = fetch(c, "get_cost_and_usage", checks,
                             TimePeriod=period(start, end),
                             Granularity="DAILY", Metrics=["UnblendedCost"],
                             Filter=filt,
                             GroupBy=[{"Type": t, "Key": k}
                                      for t, k in groups])
        compare(checks, got, expect(fx, PAYER, start, end, False, groups,
                                    keep), what)


def check_scope(emu, fx, checks):
    start, end = TODAY - 40 * DAY, TODAY + DAY
    groups = [("DIMENSION", "LINKED_ACCOUNT"), ("DIMENSION", "SERVICE")]
    gb = [{"Type": t, "Key": k} for t, k in groups]
    callers = [
        (PROD, emulib.client(emu, "ce", **emulib.assume(emu, ROLE % PROD))),
        (SOLO_ID, emulib.client(emu, "ce", **SOLO)),
    ]
    for acct, c in callers:
        got, _, _, _ = fetch(c, "get_cost_and_usage", checks,
                             TimePeriod=period(start, end),
                             Granularity="MONTHLY", Metrics=["UnblendedCost"],
                             GroupBy=gb)
        compare(checks, got, expect(fx, acct, start, end, True, groups),
                "%s sees its own costs" % acct)
        checks.eq({k[1][0] for k in got}, {acct}, "%s: one account" % acct)


def check_resources(emu, fx, checks):
    c = emulib.client(emu, "ce")
    start, end = TODAY - 14 * DAY, TODAY + DAY
    groups = [("DIMENSION", "RESOURCE_ID")]
    filt = {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [PROD, DEV]}}
    for monthly in (False, True):
        got, pages, _, _ = fetch(
            c, "get_cost_and_usage_with_resources", checks,
            TimePeriod=period(start, end),
            Granularity="MONTHLY" if monthly else "DAILY",
            Metrics=["UnblendedCost"], Filter=filt,
            GroupBy=[{"Type": "DIMENSION", "Key": "RESOURCE_ID"}])
        compare(checks, got, expect(
            fx, PAYER, start, end, monthly, groups,
            lambda l: l["account"] in (PROD, DEV)),
            "resources, %s" % ("MONTHLY" if monthly else "DAILY"))
    keys = {k[1][0] for k in got}
    checks.ok({"i-0bbb000000000001", "prod-eu-assets",
               "arn:aws:rds:us-east-1:222222222222:db:orders-db",
               "NoResourceId"} <= keys,
              "EC2 and S3 by id, others by ARN, rows without one grouped")
    one = "arn:aws:dynamodb:us-east-1:333333333333:table/orders"
    got, _, _, _ = fetch(
        c, "get_cost_and_usage_with_resources", checks,
        TimePeriod=period(start, end), Granularity="DAILY",
        Metrics=["UnblendedCost"],
        Filter={"Dimensions": {"Key": "RESOURCE_ID", "Values": [one]}})
    compare(checks, got, expect(fx, PAYER, start, end, False, (),
                                lambda l: l["RESOURCE_ID"] == one),
            "filter by RESOURCE_ID without GroupBy", totals_only=True)


def ce_error(checks, call, code, what, message=None):
    import botocore.exceptions
    try:
        call()
    except botocore.exceptions.ClientError as e:
        checks.eq(e.response["Error"]["Code"], code, what)
        if message is not None:
            checks.eq(e.response["Error"]["Message"], message,
                      "%s: AWS's message" % what)
        return
    checks.ok(False, "%s: no error, want %s" % (what, code))


def check_errors(emu, checks):
    c = emulib.client(emu, "ce")
    raw = emulib.client(emu, "ce", validate=False)
    ok = dict(TimePeriod=period(TODAY - 14 * DAY, TODAY + DAY),
              Granularity="DAILY", Metrics=["UnblendedCost"],
              Filter={"Dimensions": {"Key": "LINKED_ACCOUNT",
                                     "Values": [PROD]}},
              GroupBy=[{"Type": "DIMENSION", "Key": "RESOURCE_ID"}])
    early = dict(ok, TimePeriod=period(TODAY - 15 * DAY, TODAY + DAY))
    ce_error(checks, lambda: c.get_cost_and_usage_with_resources(**early),
             "ValidationException", "resources: start 15 days ago",
             "start date is too old for hourly, the max supported days for "
             "hourly granularity is 14 days")
    prod = emulib.client(emu, "ce", **emulib.assume(emu, ROLE % PROD))
    ce_error(checks, lambda: prod.get_cost_and_usage_with_resources(**ok),
             "DataUnavailableException", "resource-level data not enabled")
    nofilter = {k: v for k, v in ok.items() if k != "Filter"}
    ce_error(checks, lambda: raw.get_cost_and_usage_with_resources(
        **nofilter), "ValidationException", "resources without Filter")
    nogroup = {k: v for k, v in ok.items() if k != "GroupBy"}
    ce_error(checks, lambda: c.get_cost_and_usage_with_resources(**nogroup),
             "ValidationException", "resources without RESOURCE_ID")
    base = dict(TimePeriod=period(TODAY - 5 * DAY, TODAY),
                Granularity="DAILY", Metrics=["UnblendedCost"])
    bad = [
        ("RESOURCE_ID in GetCostAndUsage",
         dict(base, GroupBy=[{"Type": "DIMENSION", "Key": "RESOURCE_ID"}]),
         "Dimension RESOURCE_ID is not allowed."),
        ("Start not before End",
         dict(base, TimePeriod=period(TODAY, TODAY)),
         "Start date (and hour) should be before end date (and hour)"),
        ("End past next month",
         dict(base, TimePeriod=period(TODAY, (TODAY.replace(day=28) + 4 * DAY)
                                      .replace(day=1) + DAY)),
         "end date past the beginning of next month"),
        ("three GroupBy", dict(base, GroupBy=[
            {"Type": "TAG", "Key": k} for k in ("a", "b", "c")]), None),
        ("unknown metric", dict(base, Metrics=["Dollars"]), None),
        ("bad date", dict(base, TimePeriod={"Start": "2024-02-30",
                                            "End": "2024-03-01"}), None),
        ("two root operators", dict(base, Filter={
            "Tags": {"Key": "Owner"},
            "Dimensions": {"Key": "SERVICE", "Values": ["x"]}}), None),
    ]
    for what, kw, message in bad:
        ce_error(checks, lambda: raw.get_cost_and_usage(**kw),
                 "ValidationException", what, message)


def check_tokens(emu, checks):
    c = emulib.client(emu, "ce")
    kw = dict(TimePeriod=period(TODAY - 20 * DAY, TODAY + DAY),
              Granularity="DAILY", Metrics=["UnblendedCost"],
              GroupBy=[{"Type": "DIMENSION", "Key": "SERVICE"}])
    token = c.get_cost_and_usage(**kw)["NextPageToken"]
    changed = dict(kw, Metrics=["AmortizedCost"], NextPageToken=token)
    ce_error(checks, lambda: c.get_cost_and_usage(**changed),
             "RequestChangedException", "token used with other parameters")
    ce_error(checks, lambda: c.get_cost_and_usage(
        **dict(kw, NextPageToken="bm9wZQ==.0123456789abcdef")),
        "InvalidNextTokenException", "forged token")
    other = emulib.client(emu, "ce", **SOLO)
    ce_error(checks, lambda: other.get_cost_and_usage(
        **dict(kw, NextPageToken=token)), "InvalidNextTokenException",
        "another account's token")


def check_throttle(emu, checks):
    emulib.control(emu, "POST", "faults", [
        {"service": "ce", "operation": "GetCostAndUsage",
         "kind": "throttle_next", "count": 2}])
    before = emulib.stats(emu)
    c = emulib.client(emu, "ce", retries={"mode": "standard",
                                          "total_max_attempts": 5})
    c.get_cost_and_usage(TimePeriod=period(TODAY - DAY, TODAY + DAY),
                         Granularity="DAILY", Metrics=["UnblendedCost"])
    after = emulib.stats(emu)
    key, code = "ce:GetCostAndUsage", "LimitExceededException"
    checks.eq(after["operations"][key] - before["operations"].get(key, 0), 3,
              "two throttles then success = 3 calls")
    checks.eq(after["errors"].get(code, 0) - before["errors"].get(code, 0), 2,
              "two LimitExceededException replies")


def main():
    checks = emulib.Checks("test-ce")
    fx = load()
    emu = emulib.Emulator(FIXTURE)
    check_grouped(emu, fx, checks)
    check_daily(emu, fx, checks)
    check_totals(emu, fx, checks)
    check_filters(emu, fx, checks)
    check_scope(emu, fx, checks)
    check_resources(emu, fx, checks)
    check_errors(emu, checks)
    check_tokens(emu, checks)
    check_throttle(emu, checks)
    checks.finish([emu])


if __name__ == "__main__":	# test-awscli-more.sh imports the oracle
    main()

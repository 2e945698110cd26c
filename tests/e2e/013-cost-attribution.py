#!/usr/bin/python3
"""Cost attribution to the cent (docs/cost.md): a multi-account scan of
tests/fixtures/cost.json reports for every account what
tests/oracle/cost_oracle.py computes from the fixture and the policy alone:
the method (resource-level, or the tag method for the account whose
resource-level data is off), bound, window, scale, gap, violating,
unreadable, total and unattributed cost, the by_region, by_resource_type
and by_tag_key maps, the tag method's per-key untagged and mis_tagged
spend, and the scan's cost_attribution_gap (the sum of the account gaps'
cents). The account Cost Explorer refuses has gap null with an error naming
AccessDenied, its compliance result is still complete, and
data_quality.cost_data_collected is false. Compliance totals are the
compliance oracle's, as if costs did not exist.

The cost oracle itself is checked first against Cost Explorer as botocore
reads it from the emulator (boto3, every page followed): per account and
RESOURCE_ID (or tag value) the summed amounts, and the number of pages
each query takes, equal the oracle's lines and request counts.
"""
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402

sys.path.insert(0, os.path.join(lib.SRC, "tests", "oracle"))
import cost_oracle  # noqa: E402  (path set just above)

FIXTURE = os.path.join(lib.SRC, "tests", "fixtures", "cost.json")
ROLE = "FinOpsTagComplianceReadOnly"
# Every field of a resource-method account compared in dollars.
DOLLARS = ("gap", "violating_cost", "unreadable_cost", "total_cost",
           "unattributed_cost")
MAPS = ("by_region", "by_resource_type", "by_tag_key")


def accounts_of(fx):
    return [a["id"] for a in fx["accounts"]]


# ---- the oracle against botocore ----

def sessions(emu, fx):
    """account -> boto3 Session: base keys, or an assumed role."""
    import boto3
    mgmt, creds = lib.base_keys(fx)
    base = boto3.Session(aws_access_key_id=creds["access_key_id"],
                         aws_secret_access_key=creds["secret_access_key"],
                         region_name="us-east-1")
    out = {mgmt: base}
    sts = base.client("sts", endpoint_url=emu.url)
    for a in accounts_of(fx):
        if a == mgmt:
            continue
        c = sts.assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (a, ROLE),
                            RoleSessionName="cost-oracle-check")
        c = c["Credentials"]
        out[a] = boto3.Session(aws_access_key_id=c["AccessKeyId"],
                               aws_secret_access_key=c["SecretAccessKey"],
                               aws_session_token=c["SessionToken"],
                               region_name="us-east-1")
    return out


def ce_query(ce, with_resources, account, rng, group2):
    """{group key: nanos} summed over periods and pages, and the pages."""
    args = {"TimePeriod": {"Start": rng["start"], "End": rng["end"]},
            "Granularity": "MONTHLY", "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                        group2],
            "Filter": {"Dimensions": {"Key": "LINKED_ACCOUNT",
                                      "Values": [account]}}}
    call = ce.get_cost_and_usage_with_resources if with_resources else \
        ce.get_cost_and_usage
    got, pages = {}, 0
    while True:
        r = call(**args)
        pages += 1
        for period in r["ResultsByTime"]:
            for g in period["Groups"]:
                check(g["Keys"][0] == account, "botocore: a group of "
                      "another account: %r" % g)
                amt = Decimal(g["Metrics"]["UnblendedCost"]["Amount"])
                got[g["Keys"][1]] = got.get(g["Keys"][1], 0) + \
                    int(amt * 1000000000)
        if not r.get("NextPageToken"):
            return got, pages
        args["NextPageToken"] = r["NextPageToken"]


def error_code(fn):
    from botocore.exceptions import ClientError
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def check_oracle(emu, fx, exp):
    """The oracle's lines and page counts are what botocore reads."""
    ses = sessions(emu, fx)
    from botocore.config import Config
    cfg = Config(retries={"max_attempts": 1})
    nq = 0
    for a, c in exp["accounts"].items():
        ce = ses[a].client("ce", endpoint_url=emu.url, config=cfg)
        res_group = {"Type": "DIMENSION", "Key": "RESOURCE_ID"}
        if c["gap"] is None:
            code = error_code(lambda: ce_query(ce, True, a, exp["period"],
                                               res_group))
            check(code == c["error"], "botocore: %s's Cost Explorer call "
                  "gave %r, the oracle expects %s" % (a, code, c["error"]))
            continue
        if c["method"] == "resource":
            got, pages = ce_query(ce, True, a, c["window"], res_group)
            want = c["nanos"]["lines"]
            check(got == want, "oracle vs botocore, %s by RESOURCE_ID: "
                  "only botocore %s; only oracle %s" % (
                      a, sorted(set(got.items()) - set(want.items())),
                      sorted(set(want.items()) - set(got.items()))))
            check(pages == c["requests"], "oracle vs botocore: %s's "
                  "resource query takes %d pages, the oracle says %d" % (
                      a, pages, c["requests"]))
            nq += 1
            continue
        code = error_code(lambda: ce_query(ce, True, a, {
            "start": exp["period"]["start"], "end": exp["period"]["end"]},
            res_group))
        check(code in ("DataUnavailableException", "ValidationException"),
              "botocore: %s's resource query gave %r" % (a, code))
        pages = 1
        for k, (untagged, mis) in c["nanos"].items():
            got, n = ce_query(ce, False, a, c["window"],
                              {"Type": "TAG", "Key": k})
            pages += n
            g_untagged = got.pop("%s$" % k, 0)
            pol = cost_oracle.oracle.Policy(lib.load_json(lib.POLICY))
            rule = next(r for r in pol.required if r["name"] == k)
            g_mis = sum(v for key, v in got.items() if pol._value_problem(
                rule, key[len(k) + 1:], True))
            check((g_untagged, g_mis) == (untagged, mis), "oracle vs "
                  "botocore, %s tag %s: untagged, mis_tagged nanos %s, "
                  "the oracle says %s" % (a, k, (g_untagged, g_mis),
                                          (untagged, mis)))
            nq += 1
        check(pages == c["requests"], "oracle vs botocore: %s's tag "
              "method takes %d requests, the oracle says %d" % (
                  a, pages, c["requests"]))
    return nq


# ---- tagwarden against the oracle ----

# Dollar figures printed with more than two decimals (docs/cost.md:
# "a JSON number of dollars (12.34)"), reported after the values.
LONG_FIGURES = []


def dollars_eq(got, want, where=None):
    """The figure is the cents the oracle computed: the same double a
    JSON reader gets from want (every value is compared this way first,
    so a wrong cent is reported as such); the text is kept to two
    decimals separately."""
    if want is None or got is None:
        return got is None and want is None
    if isinstance(got, bool) or not isinstance(got, (int, Decimal)):
        return False
    if Decimal(got).as_tuple().exponent < -2 and where is not None:
        LONG_FIGURES.append("%s %s" % (where, got))
    return float(got) == float(want)


def nonzero(m):
    """A map without zero entries (no violating spend on a key is no
    entry, or an entry of 0: either reads the same)."""
    return {k: v for k, v in (m or {}).items() if Decimal(v) != 0}


def check_account(got, want):
    a = want["account_id"]
    check(got.get("error") is None, "%s: error %r" % (a, got.get("error")))
    for k in ("method", "bound", "window"):
        check(got.get(k) == want[k], "%s.%s = %r, the oracle says %r" % (
            a, k, got.get(k), want[k]))
    check(abs(Decimal(got["scale"]) - want["scale"]) <= Decimal("1e-6"),
          "%s.scale = %r, the oracle says %s" % (a, got["scale"],
                                                   want["scale"]))
    check(dollars_eq(got.get("gap"), want["gap"], a + ".gap"),
          "%s.gap = %r, the oracle says %s" % (a, got.get("gap"),
                                               want["gap"]))
    if want["method"] == "resource":
        for k in DOLLARS:
            check(dollars_eq(got.get(k), want[k], a + "." + k),
                  "%s.%s = %r, the oracle says %s (nanos %s)" % (
                      a, k, got.get(k), want[k], want["nanos"]))
        for m in MAPS:
            g = nonzero(got.get(m))
            check(set(g) == set(nonzero(want[m])) and all(
                dollars_eq(g[k], want[m][k], "%s.%s.%s" % (a, m, k))
                for k in g),
                "%s.%s = %r, the oracle says %s" % (
                    a, m, got.get(m), {k: str(v) for k, v in
                                       want[m].items()}))
        return
    tk = got.get("tag_keys") or {}
    check(sorted(tk) == sorted(want["tag_keys"]), "%s.tag_keys has %s, "
          "the oracle says %s" % (a, sorted(tk), sorted(want["tag_keys"])))
    for k, w in want["tag_keys"].items():
        for f in ("untagged", "mis_tagged", "gap"):
            check(dollars_eq(tk[k].get(f), w[f], "%s.tag_keys.%s.%s" % (
                a, k, f)), "%s.tag_keys.%s.%s = %r, "
                  "the oracle says %s" % (a, k, f, tk[k].get(f), w[f]))


def check_costs(res, exp, denied):
    check("cost_attribution" in res, "no cost_attribution in the result; "
          "keys %s" % sorted(res))
    ca = res["cost_attribution"]
    check(ca["period"] == exp["period"], "cost_attribution.period %r, the "
          "oracle says %r" % (ca["period"], exp["period"]))
    check(ca.get("metric") == "UnblendedCost" and ca.get("currency") ==
          "USD", "metric %r, currency %r" % (ca.get("metric"),
                                             ca.get("currency")))
    got = {a["account_id"]: a for a in ca["accounts"]}
    check(sorted(got) == sorted(exp["accounts"]), "cost_attribution."
          "accounts covers %s, expected %s" % (sorted(got),
                                               sorted(exp["accounts"])))
    for a, want in exp["accounts"].items():
        if a in denied:
            check(got[a].get("gap") is None, "%s (Cost Explorer refused) "
                  "has gap %r" % (a, got[a].get("gap")))
            check("AccessDenied" in (got[a].get("error") or ""),
                  "%s's error does not name AccessDenied: %r" % (
                      a, got[a].get("error")))
        else:
            check_account(got[a], want)
        bd = res["account_breakdown"][a]
        check(dollars_eq(bd.get("cost_attribution_gap"), want["gap"]),
              "account_breakdown[%s].cost_attribution_gap = %r, the oracle "
              "says %s" % (a, bd.get("cost_attribution_gap"), want["gap"]))
    check(dollars_eq(res.get("cost_attribution_gap"),
                     exp["cost_attribution_gap"], "cost_attribution_gap"),
          "cost_attribution_gap = %r, the oracle says %s (the sum of the "
          "account gaps' cents)" % (res.get("cost_attribution_gap"),
                                    exp["cost_attribution_gap"]))
    dq = res["data_quality"]
    check(dq.get("cost_data_collected") is (not denied),
          "data_quality.cost_data_collected = %r with %s refused" % (
              dq.get("cost_data_collected"), denied))
    for a in denied:
        check(any(a in n for n in dq.get("notes", [])), "no data_quality "
              "note names %s: %s" % (a, dq.get("notes")))
    check(not LONG_FIGURES, "every figure is the oracle's cent, but %d "
          "are printed with more than two decimals (docs/cost.md: a JSON "
          "number of dollars, 12.34), e.g. %s" % (
              len(LONG_FIGURES), "; ".join(LONG_FIGURES[:4])))


def body(t):
    fx = cost_oracle.load_fixture(FIXTURE)
    accts = lib.ok_accounts(FIXTURE)
    check(sorted(accts) == sorted(accounts_of(fx)), "every account of "
          "cost.json must be reachable: %s" % accts)
    denied = [a for a in accts if cost_oracle.ce_refused(fx, a)]
    day = cost_oracle.utc_today()
    emu = t.emulator(FIXTURE)
    exp = cost_oracle.expected(fx, lib.load_json(lib.POLICY), accts, day)
    methods = sorted(c.get("method", "refused")
                     for c in exp["accounts"].values())
    check(methods == ["refused", "resource", "resource", "tag"] and
          len(denied) == 1, "the fixture must give two resource-method "
          "accounts, one tag-method and one refused: %s" % methods)
    nq = check_oracle(emu, fx, exp)

    run = t.tagwarden(["scan", "--json"], t.env(emu, accts))
    check(run.rc in (0, 1), "%s; stderr: %s" % (run.describe(),
                                                run.err[-2000:]))
    res = lib.json.loads(run.out, parse_float=Decimal)
    if cost_oracle.utc_today() != day:
        raise lib.Skip("the UTC day turned during the test")
    md = res["account_metadata"]
    check(sorted(md["successful_accounts"]) == sorted(accts),
          "successful_accounts %s: a Cost Explorer failure must not fail "
          "an account" % md["successful_accounts"])
    tot = lib.check_result(run.json(), lib.expect(FIXTURE, accts))
    check_costs(res, exp, denied)
    return ("%d accounts (%s), gap %s = the cost oracle's to the cent, "
            "the oracle = botocore on %d queries; %d resources, %d "
            "compliant as the compliance oracle" % (
                len(accts), ", ".join(methods), exp["cost_attribution_gap"],
                nq, tot["counted"], tot["compliant"]))


lib.main("013 cost attribution", body)

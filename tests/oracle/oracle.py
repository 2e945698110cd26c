#!/usr/bin/python3
"""What a scan of one account must report, computed from the emulator
fixture and the policy file alone, for comparison with tagwarden's output.

It never runs or imports tagwarden code. The policy rules are reimplemented
from docs/policy.md; the AWS behaviour comes from the fixture format of
tests/emulator (resources per account and region, ever_tagged, states,
regions with opt-in status, fault rules) and from how AWS answers; the scan
rules are the decisions written down in worker/tagwarden-worker.8 (and the
opening comments of worker/collect.c, inventory.c, services.c):

- Regions: the job's list (or every region DescribeRegions shows); one the
  account does not have, or has not opted in to, is skipped.
- Resources of the requested types in a scanned region are reported once;
  terminated instances, deleted volumes and INACTIVE clusters are not.
  Types no collector enumerates are seen through the Tagging API only,
  which shows only resources that were ever tagged.
- Tags are the fixture's. The EC2, RDS and ECS listings carry them; Lambda
  functions and S3 buckets get theirs from GetResources in their region,
  which shows every resource that has or had tags, so one it does not show
  has none. GetResources is called only when the job has such a type or a
  type no collector enumerates. GetResources refused (access denied) leaves those tags unknown
  and the region scanned, unless the job wants a type no enumerator lists:
  then the region fails. Unknown tags: reported, not counted, no
  violations.
- A region fails when a call the scan makes there is refused or answered
  with a broken body (except the refused GetResources above); a refused
  DescribeRegions, or every scanned region failing, fails the account.

Usage: oracle.py --fixture F --policy P --account ID [--home-region R]
       [--regions r1,r2] [--types t1,t2]    prints the expected result as JSON.
"""

import argparse
import json
import re
import sys
import unicodedata

# regions.c's list: what an account without "regions" in the fixture has.
STANDARD_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "sa-east-1",
]

# Per type: the listing calls (service, operation) made in each region, the
# per-resource tag read (none any more: kept for readers of this table),
# whether its tags come from GetResources alone, and the gone state.
ENUMERATED = {
    "ec2:instance": {"calls": [("ec2", "DescribeInstances")],
                     "tag_read": None, "tags_from_tagging": False,
                     "gone": "terminated"},
    "ec2:volume": {"calls": [("ec2", "DescribeVolumes")],
                   "tag_read": None, "tags_from_tagging": False,
                   "gone": "deleted"},
    "s3:bucket": {"calls": [], "tag_read": None, "tags_from_tagging": True,
                  "gone": None},
    "rds:db": {"calls": [("rds", "DescribeDBInstances")],
               "tag_read": None, "tags_from_tagging": False, "gone": None},
    "lambda:function": {"calls": [("lambda", "ListFunctions")],
                        "tag_read": None, "tags_from_tagging": True,
                        "gone": None},
    "ecs:cluster": {"calls": [("ecs", "ListClusters")],
                    "tag_read": None, "tags_from_tagging": False,
                    "gone": "INACTIVE"},
}
TAGGING = ("tagging", "GetResources")

# The error code each protocol family answers a refusal with.
DENIED_CODE = {"ec2": "UnauthorizedOperation", "tagging":
               "AccessDeniedException", "ecs": "AccessDeniedException",
               "lambda": "AccessDeniedException", "rds": "AccessDenied",
               "iam": "AccessDenied", "s3": "AccessDenied"}

FAILING_KINDS = ("access_denied", "malformed_body", "truncated_body")
# A call is tried up to three times (AWS standard retry mode).
MAX_ATTEMPTS = 3


class Unsupported(Exception):
    pass


# ---- the policy, from docs/policy.md ----

class Policy:
    def __init__(self, doc):
        rules = doc.get("tag_naming_rules", {})
        self.case_sensitive = rules.get("case_sensitivity", False)
        self.allow_special = rules.get("allow_special_characters", True)
        self.max_value = rules.get("max_value_length", 256)
        self.required = [dict(t, severity=t.get("severity", "error"))
                         for t in doc["required_tags"]]
        self.optional = doc.get("optional_tags", [])

    @staticmethod
    def _applies(patterns, rtype):
        for p in patterns:
            if p.endswith(":*"):
                if rtype.startswith(p[:-1]) and len(rtype) > len(p) - 1:
                    return True
            elif p == rtype:
                return True
        return False

    def in_scope(self, rtype):
        return any(self._applies(t["applies_to"], rtype)
                   for t in self.required)

    def _fold(self, s):
        if self.case_sensitive:
            return s
        return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c
                       for c in s)

    def _find(self, name, tags):
        if name in tags:
            return tags[name]
        for k, v in tags.items():   # the resource's order
            if self._fold(k) == self._fold(name):
                return v
        return None

    @staticmethod
    def _charset_ok(value):
        for ch in value:
            cat = unicodedata.category(ch)
            if cat[0] in "LN" or cat == "Zs" or ch in "_.:/=+-@":
                continue
            return False
        return True

    def _value_problem(self, rule, value, required):
        if required and value == "":
            return "invalid_value"
        allowed = rule.get("allowed_values")
        if allowed is not None and not any(
                self._fold(a) == self._fold(value) for a in allowed):
            return "invalid_value"
        regex = rule.get("validation_regex")
        if regex is not None and re.fullmatch(regex, value) is None:
            return "invalid_format"
        if len(value) > self.max_value:
            return "invalid_format"
        if not self.allow_special and not self._charset_ok(value):
            return "invalid_format"
        return None

    def evaluate(self, rtype, tags):
        """(in_scope, compliant, [(tag_name, type, severity)])."""
        if not self.in_scope(rtype):
            return False, False, []
        out = []
        for rule in self.required:
            if not self._applies(rule["applies_to"], rtype):
                continue
            v = self._find(rule["name"], tags)
            if v is None:
                out.append((rule["name"], "missing_required_tag",
                            rule["severity"]))
                continue
            p = self._value_problem(rule, v, True)
            if p:
                out.append((rule["name"], p, rule["severity"]))
        for rule in self.optional:
            v = self._find(rule["name"], tags)
            if v is not None:
                p = self._value_problem(rule, v, False)
                if p:
                    out.append((rule["name"], p, "warning"))
        return True, not any(s == "error" for _, _, s in out), out


# ---- the fixture, as the emulator serves it ----

def tags_of(r):
    t = r.get("tags", {})
    if isinstance(t, list):
        return {e["Key"]: e["Value"] for e in t}
    return dict(t)


def arn_of(account, region, r):
    if "arn" in r:
        return r["arn"]
    svc, kind = r["type"].split(":", 1)
    rid = r["id"]
    special = {"s3:bucket": "arn:aws:s3:::%s" % rid,
               "rds:db": "arn:aws:rds:%s:%s:db:%s" % (region, account, rid),
               "lambda:function": "arn:aws:lambda:%s:%s:function:%s" % (
                   region, account, rid)}
    if r["type"] in special:
        return special[r["type"]]
    return "arn:aws:%s:%s:%s:%s/%s" % (svc, region, account, kind, rid)


def default_state(rtype):
    return {"ec2:instance": "running", "ec2:volume": "in-use",
            "ecs:cluster": "ACTIVE"}.get(rtype)


class Faults:
    def __init__(self, rules, account):
        self.rules = [f for f in rules
                      if f.get("account", "*") in ("*", account)]
        for f in self.rules:
            kind = f["kind"]
            if kind in FAILING_KINDS and "count" in f:
                raise Unsupported("a counted %s rule" % kind)
            if kind in ("throttle_next", "http_5xx") and \
                    f["count"] >= MAX_ATTEMPTS:
                raise Unsupported("%s with count >= %d" % (kind,
                                                           MAX_ATTEMPTS))
            if kind == "expired_token" and f.get("count", 0) != 1:
                raise Unsupported("expired_token without count 1")
            if kind == "hang":
                raise Unsupported("hang")

    def failing(self, region, service, op):
        """The first failing rule matching the call, as the emulator does."""
        for f in self.rules:
            if f.get("region", "*") not in ("*", region) or \
                    f.get("service", "*") not in ("*", service) or \
                    f.get("operation", "*") not in ("*", op):
                continue
            # Transient rules are spent by the client's retries.
            if f["kind"] in FAILING_KINDS:
                return f
        return None


def tagging_called(types):
    """GetResources runs in a region only for a type whose tags it alone
    gives (Lambda, S3) or that no collector enumerates."""
    return any(t not in ENUMERATED or ENUMERATED[t]["tags_from_tagging"]
               for t in types)


def tagging_refused(faults, region, types):
    """The access_denied rule on GetResources that leaves the region
    scanned (every type of the job enumerated), else None."""
    f = faults.failing(region, *TAGGING)
    if f is None or f["kind"] != "access_denied" or \
            any(t not in ENUMERATED for t in types):
        return None
    return f


def region_failure(faults, region, types, fixture_res):
    """(code, why) of the first listing call that fails, else None."""
    calls = [TAGGING] if tagging_called(types) and \
        not tagging_refused(faults, region, types) else []
    for t in types:
        if t in ENUMERATED:
            calls += ENUMERATED[t]["calls"]
    if "ecs:cluster" in types and any(
            r["type"] == "ecs:cluster" for r in fixture_res):
        calls.append(("ecs", "DescribeClusters"))
    for svc, op in calls:
        f = faults.failing(region, svc, op)
        if f is not None:
            code = DENIED_CODE[svc] if f["kind"] == "access_denied" else None
            return (code, f["kind"])
    return None


def expected_resources(policy, faults, account, region, types, fixture_res):
    out = []
    for r in fixture_res:
        rtype = r["type"]
        if rtype not in types:
            continue
        ever = r.get("ever_tagged", bool(tags_of(r)))
        info = ENUMERATED.get(rtype)
        if info is None and not ever:
            continue        # only the Tagging API would show it
        state = r.get("state", default_state(rtype))
        if info is not None and info["gone"] is not None and \
                state == info["gone"]:
            continue
        tags = tags_of(r)
        known = not (info is not None and info["tags_from_tagging"] and
                     tagging_refused(faults, region, types) is not None)
        in_scope, compliant, viol = policy.evaluate(rtype, tags)
        out.append({
            "arn": arn_of(account, region, r), "type": rtype,
            "tags_known": known,
            "tags": tags if known else None,
            "tags_error_code": None if known else DENIED_CODE["tagging"],
            "in_scope": policy.in_scope(rtype),
            "compliant": known and compliant,
            "counted": known and in_scope,
            "violations": sorted([n, t] for n, t, _ in viol) if known else [],
        })
    return out


def scan(fixture, policy, account_id, home, regions, types):
    acct = next((a for a in fixture["accounts"] if a["id"] == account_id),
                None)
    if acct is None:
        raise SystemExit("oracle: no account %s in the fixture" % account_id)
    faults = Faults(fixture.get("faults", []), account_id)
    offered = acct.get("regions") or {r: "enabled" for r in STANDARD_REGIONS}
    result = {"account": account_id, "alias": acct.get("alias") or None,
              "regions": {}}
    f = faults.failing(home, "ec2", "DescribeRegions")
    if f is not None:
        result["status"] = "error"
        result["error_code"] = (DENIED_CODE["ec2"]
                                if f["kind"] == "access_denied" else None)
        return result
    if faults.failing(home, "iam", "ListAccountAliases") is not None:
        result["alias"] = None
    wanted = regions if regions is not None else list(offered)
    scanned = []
    for name in wanted:
        if name in result["regions"]:
            continue
        if name not in offered or offered[name] == "not-opted-in":
            result["regions"][name] = {"status": "skipped"}
            continue
        scanned.append(name)
        result["regions"][name] = None
    s3_fail = None
    if "s3:bucket" in types and scanned:
        f = faults.failing(home, "s3", "ListBuckets")
        if f is not None:
            s3_fail = (DENIED_CODE["s3"] if f["kind"] == "access_denied"
                       else None, f["kind"])
    for name in scanned:
        res = acct.get("resources", {}).get(name, [])
        fail = s3_fail or region_failure(faults, name, types, res)
        if fail is not None:
            result["regions"][name] = {"status": "failed",
                                       "aws_code": fail[0], "why": fail[1]}
            continue
        rs = expected_resources(policy, faults, account_id, name, types, res)
        result["regions"][name] = {
            "status": "ok", "resources": rs,
            "sent": len(rs),
            "counted": sum(r["counted"] for r in rs),
            "compliant": sum(r["compliant"] for r in rs),
            "violations": sum(len(r["violations"]) for r in rs),
        }
    ok = [v for v in result["regions"].values() if v["status"] == "ok"]
    if scanned and not ok:
        result["status"] = "error"
        result["error_code"] = None
        return result
    result["status"] = "ok"
    result["totals"] = {k: sum(v[k] for v in ok)
                        for k in ("counted", "compliant", "violations")}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--account", required=True)
    ap.add_argument("--home-region", default="us-east-1")
    ap.add_argument("--regions", help="comma-separated; default: all")
    ap.add_argument("--types", default="ec2:instance,ec2:volume,s3:bucket,"
                    "rds:db,lambda:function,ecs:cluster")
    a = ap.parse_args()
    with open(a.fixture) as f:
        fixture = json.load(f)
    with open(a.policy) as f:
        policy = Policy(json.load(f))
    regions = a.regions.split(",") if a.regions else None
    try:
        out = scan(fixture, policy, a.account, a.home_region, regions,
                   a.types.split(","))
    except Unsupported as e:
        sys.exit("oracle: the fixture uses what the oracle does not model: "
                 "%s" % e)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Organizations through boto3 against fixtures/organizations.json.

ListAccounts (default pages of at most 20, so 25 organization accounts need
two, plus the fixture's short and empty pages), ListPolicies for
TAG_POLICY, DescribeEffectivePolicy merged from the root's and the
account's tag policies, and the permission errors AWS gives: members get
AccessDeniedException, an account outside the organization
AWSOrganizationsNotInUseException. Expectations come from the fixture JSON;
the effective policy from a separate Python rendering of AWS's documented
inheritance operators (@@assign replaces, @@append adds, @@remove removes,
keys compared without case and shown lowercase).
"""
import json
import os
import sys

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

FIXTURE = os.path.join(emulib.HERE, "fixtures", "organizations.json")
MGMT = "111111111111"
MEMBER, OTHER = "200000000001", "200000000003"
SOLO = dict(key="AKIAEMULATORSOLO0001",
            secret="solo/Secret/Key/For/The/Emulator/Tests00")
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly"


def org_accounts(fx):
    return [a for a in fx["accounts"] if a.get("org_status") != "NONE"]


def expected_account(fx, a):
    org = fx["organization"]["id"]
    return {
        "Id": a["id"],
        "Arn": "arn:aws:organizations::%s:account/%s/%s" % (MGMT, org,
                                                            a["id"]),
        "Email": a.get("email", "account-%s@example.com" % a["id"]),
        "Name": a.get("name", a.get("alias", a["id"])),
        "Status": a.get("org_status", "ACTIVE"),
    }


def check_accounts(emu, fx, checks):
    c = emulib.client(emu, "organizations")
    want = [expected_account(fx, a) for a in org_accounts(fx)]
    for size in (None, 1, 7, 20):
        cfg = {} if size is None else {"PageSize": size}
        got, pages = [], 0
        for page in c.get_paginator("list_accounts").paginate(
                PaginationConfig=cfg):
            pages += 1
            checks.ok(len(page["Accounts"]) <= (size or 20),
                      "page size %s: page within the limit" % size)
            got += [{k: a[k] for k in ("Id", "Arn", "Email", "Name",
                                       "Status")} for a in page["Accounts"]]
        checks.eq(got, want, "page size %s: every organization account" %
                  size)
        if size is None:
            checks.ok(pages >= 2, "25 accounts take more than one default "
                      "page (%d pages)" % pages)
    first = c.list_accounts()["Accounts"][0]
    checks.eq((first["JoinedMethod"], first["JoinedTimestamp"].year),
              ("INVITED", 2020), "management account joined by invitation")
    checks.ok(len(want) == 25 and sum(a["Status"] == "SUSPENDED"
                                      for a in want) == 4,
              "fixture sanity: 25 organization accounts, 4 suspended")


def check_policies(emu, fx, checks):
    c = emulib.client(emu, "organizations")
    policies = fx["organization"]["tag_policies"]
    got = []
    for page in c.get_paginator("list_policies").paginate(
            Filter="TAG_POLICY", PaginationConfig={"PageSize": 1}):
        got += page["Policies"]
    checks.eq([(p["Id"], p["Name"], p["Type"], p["AwsManaged"]) for p in got],
              [(p["id"], p["name"], "TAG_POLICY", False) for p in policies],
              "ListPolicies TAG_POLICY")
    checks.eq(got[0]["Arn"], "arn:aws:organizations::%s:policy/%s/tag_policy/"
              "%s" % (MGMT, fx["organization"]["id"], policies[0]["id"]),
              "policy ARN")
    checks.eq(c.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"],
              [], "no service control policies in the fixture")


def merge_field(out, field, value):
    """AWS's inheritance operators, written out independently of the C."""
    if not isinstance(value, dict):
        out[field] = value
        return
    if "@@assign" in value:
        out[field] = value["@@assign"]
    if "@@append" in value:
        add = value["@@append"]
        out[field] = list(out.get(field, [])) + (add if isinstance(add, list)
                                                 else [add])
    if "@@remove" in value and isinstance(out.get(field), list):
        gone = value["@@remove"]
        gone = gone if isinstance(gone, list) else [gone]
        out[field] = [v for v in out[field] if v not in gone]


def effective(fx, account):
    tags, found = {}, False
    for level in ("root", account):
        for p in fx["organization"]["tag_policies"]:
            if level not in p["targets"]:
                continue
            found = True
            for name, entry in p["content"]["tags"].items():
                out = tags.setdefault(name.lower(), {})
                for field, value in entry.items():
                    merge_field(out, field, value)
    return {"tags": tags} if found else None


def check_effective(emu, fx, checks):
    c = emulib.client(emu, "organizations")
    for target in (MEMBER, "200000000002", OTHER, MGMT):
        got = c.describe_effective_policy(PolicyType="TAG_POLICY",
                                          TargetId=target)["EffectivePolicy"]
        checks.eq(json.loads(got["PolicyContent"]), effective(fx, target),
                  "effective tag policy of %s" % target)
        checks.eq((got["TargetId"], got["PolicyType"]),
                  (target, "TAG_POLICY"), "target and type echoed")
    env = json.loads(c.describe_effective_policy(
        PolicyType="TAG_POLICY", TargetId=MEMBER)["EffectivePolicy"]
        ["PolicyContent"])["tags"]["environment"]
    checks.eq(env["tag_value"], ["production", "staging", "development",
                                 "sandbox"],
              "hand-merged: sandbox appended, test removed")
    member = emulib.client(emu, "organizations",
                           **emulib.assume(emu, ROLE % MEMBER))
    own = member.describe_effective_policy(PolicyType="TAG_POLICY")
    checks.eq(json.loads(own["EffectivePolicy"]["PolicyContent"]),
              effective(fx, MEMBER), "a member reads its own (TargetId "
              "defaults to the caller)")
    checks.error_code(lambda: member.describe_effective_policy(
        PolicyType="TAG_POLICY", TargetId=OTHER), "AccessDeniedException",
        "a member asks about another account")
    checks.error_code(lambda: c.describe_effective_policy(
        PolicyType="TAG_POLICY", TargetId="999999999999"),
        "TargetNotFoundException", "an account outside the fixture")
    checks.error_code(lambda: c.describe_effective_policy(
        PolicyType="TAG_POLICY", TargetId="555555555555"),
        "TargetNotFoundException", "an account outside the organization")
    checks.error_code(lambda: c.describe_effective_policy(
        PolicyType="BACKUP_POLICY", TargetId=MEMBER),
        "EffectivePolicyNotFoundException", "no backup policy")


def check_denials(emu, checks):
    member = emulib.client(emu, "organizations",
                           **emulib.assume(emu, ROLE % MEMBER))
    solo = emulib.client(emu, "organizations", **SOLO)
    for name, call in (("ListAccounts", lambda c: c.list_accounts()),
                       ("ListPolicies",
                        lambda c: c.list_policies(Filter="TAG_POLICY"))):
        checks.error_code(lambda: call(member), "AccessDeniedException",
                          "%s from a member account" % name)
        checks.error_code(lambda: call(solo),
                          "AWSOrganizationsNotInUseException",
                          "%s outside the organization" % name)
    checks.error_code(lambda: solo.describe_effective_policy(
        PolicyType="TAG_POLICY"), "AWSOrganizationsNotInUseException",
        "DescribeEffectivePolicy outside the organization")
    raw = emulib.client(emu, "organizations", validate=False)
    for bad in (0, 21):
        checks.error_code(lambda: raw.list_accounts(MaxResults=bad),
                          "InvalidInputException", "MaxResults=%d" % bad)
    checks.error_code(lambda: raw.list_accounts(NextToken="bm9wZQ=="),
                      "InvalidInputException", "forged NextToken")
    checks.error_code(lambda: raw.list_policies(Filter="NOT_A_TYPE"),
                      "InvalidInputException", "unknown policy type")


def check_no_policies(checks):
    """Another fixture's organization has no tag policy at all."""
    lam = os.path.join(emulib.HERE, "fixtures", "lambda.json")
    emu = emulib.Emulator(lam)
    c = emulib.client(emu, "organizations")
    checks.error_code(lambda: c.describe_effective_policy(
        PolicyType="TAG_POLICY", TargetId="222222222222"),
        "EffectivePolicyNotFoundException", "no tag policy attached")
    got = c.list_accounts()["Accounts"]
    checks.ok(got[0]["Arn"].startswith("arn:aws:organizations::111111111111:"
                                       "account/o-"),
              "an organization id is derived when the fixture has none")
    return emu


def check_throttle(emu, checks):
    emulib.control(emu, "POST", "faults", [
        {"service": "organizations", "operation": "ListAccounts",
         "kind": "throttle_next", "count": 2}])
    before = emulib.stats(emu)
    c = emulib.client(emu, "organizations",
                      retries={"mode": "standard", "total_max_attempts": 5})
    c.list_accounts(MaxResults=1)
    after = emulib.stats(emu)
    key, code = "organizations:ListAccounts", "TooManyRequestsException"
    checks.eq(after["operations"][key] - before["operations"].get(key, 0), 3,
              "two throttles then success = 3 calls")
    checks.eq(after["errors"].get(code, 0) - before["errors"].get(code, 0), 2,
              "two TooManyRequestsException replies")


def main():
    checks = emulib.Checks("test-organizations")
    fx = emulib.load(FIXTURE)
    emu = emulib.Emulator(FIXTURE)
    check_accounts(emu, fx, checks)
    check_policies(emu, fx, checks)
    check_effective(emu, fx, checks)
    check_denials(emu, checks)
    check_throttle(emu, checks)
    other = check_no_policies(checks)
    checks.finish([emu, other])


main()

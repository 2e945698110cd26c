#!/usr/bin/python3
"""GetResources through boto3's paginator against fixtures/small.json.

Expected ARNs are computed from the fixture JSON here (emulib), never
taken from the emulator: visibility (ever tagged, caller's account,
request region, buckets in their own region), type and tag filters,
ResourceARNList, and AWS-style pages (short or empty pages with a token).
"""
import sys
import os

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

PROD = "222222222222"
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly" % PROD


def paginate(c, checks, **kwargs):
    arns, pages, empty_with_token = [], 0, 0
    for page in c.get_paginator("get_resources").paginate(**kwargs):
        pages += 1
        items = page["ResourceTagMappingList"]
        if not items and page.get("PaginationToken"):
            empty_with_token += 1
        for m in items:
            checks.ok(isinstance(m["Tags"], list), "Tags is a list")
            arns.append(m["ResourceARN"])
    return arns, pages, empty_with_token


def check_pages(emu, fx, checks):
    creds = emulib.assume(emu, ROLE)
    for region in ("us-east-1", "eu-west-1", "ap-east-1", "us-west-2"):
        c = emulib.client(emu, "resourcegroupstaggingapi", region=region,
                          **creds)
        want = emulib.tagging_expect(fx, PROD, region)
        for size in (None, 1, 2, 3, 100):
            cfg = {} if size is None else {"PageSize": size}
            got, pages, _ = paginate(c, checks, PaginationConfig=cfg)
            checks.eq(sorted(got), sorted(want),
                      "%s page size %s: ARNs" % (region, size))
            checks.eq(len(got), len(set(got)),
                      "%s page size %s: no duplicates" % (region, size))
    # us-east-1 has 14 visible resources: with pages of 1 the 7th request
    # (page number 6) is the fixture's default empty page with a token.
    c = emulib.client(emu, "resourcegroupstaggingapi", **creds)
    _, pages, empty = paginate(c, checks, PaginationConfig={"PageSize": 1})
    checks.ok(empty >= 1, "an empty page carrying a token was served")
    checks.ok(pages > len(emulib.tagging_expect(fx, PROD, "us-east-1")),
              "more pages than resources (empty pages are followed)")


def check_filters(emu, fx, checks):
    c = emulib.client(emu, "resourcegroupstaggingapi",
                      **emulib.assume(emu, ROLE))
    cases = [
        dict(types=["ec2"]),
        dict(types=["ec2:instance"]),
        dict(types=["s3:bucket", "rds"]),
        dict(tag_filters=[{"Key": "Environment",
                           "Values": ["production", "staging"]}]),
        dict(tag_filters=[{"Key": "Owner"}]),
        dict(tag_filters=[{"Key": "Environment", "Values": ["production"]},
                          {"Key": "Application",
                           "Values": ["checkout-api"]}]),
        dict(types=["ec2:volume"], tag_filters=[{"Key": "Environment"}]),
        dict(tag_filters=[{"Key": "NoSuchKey"}]),
    ]
    for case in cases:
        want = emulib.tagging_expect(fx, PROD, "us-east-1", **case)
        kwargs = {"PaginationConfig": {"PageSize": 2}}
        if case.get("types"):
            kwargs["ResourceTypeFilters"] = case["types"]
        if case.get("tag_filters"):
            kwargs["TagFilters"] = case["tag_filters"]
        got, _, _ = paginate(c, checks, **kwargs)
        checks.eq(sorted(got), sorted(want), "filters %r" % case)
    checks.ok(len(emulib.tagging_expect(fx, PROD, "us-east-1",
                                        types=["ec2:instance"])) == 6,
              "fixture sanity: 6 ever-tagged instances in us-east-1")


def check_arn_list(emu, fx, checks):
    c = emulib.client(emu, "resourcegroupstaggingapi",
                      **emulib.assume(emu, ROLE))
    visible = emulib.tagging_expect(fx, PROD, "us-east-1")
    never = [emulib.arn_of(r, PROD, "us-east-1")
             for r in emulib.resources(fx, PROD, "us-east-1")
             if not emulib.ever_tagged(r)]
    other_region = emulib.tagging_expect(fx, PROD, "eu-west-1")
    foreign = emulib.tagging_expect(fx, "111111111111", "us-east-1")
    asked = visible[:3] + never[:2] + other_region[:1] + foreign[:1] + [
        "arn:aws:ec2:us-east-1:%s:instance/i-0nonexistent" % PROD]
    got = [m["ResourceARN"] for m in
           c.get_resources(ResourceARNList=asked)["ResourceTagMappingList"]]
    checks.eq(sorted(got), sorted(visible[:3]),
              "ResourceARNList returns only visible resources")
    checks.error_code(lambda: c.get_resources(ResourceARNList=visible[:1],
                                              ResourcesPerPage=5),
                      "InvalidParameterException",
                      "ResourceARNList with ResourcesPerPage")
    for bad in (0, 101):
        checks.error_code(lambda: c.get_resources(ResourcesPerPage=bad),
                          "InvalidParameterException",
                          "ResourcesPerPage=%d" % bad)
    checks.error_code(lambda: c.get_resources(PaginationToken="bm9wZQ=="),
                      "InvalidParameterException", "forged pagination token")


def check_accounts(emu, fx, checks):
    # Base credentials see the management account only.
    c = emulib.client(emu, "resourcegroupstaggingapi")
    got, _, _ = paginate(c, checks)
    checks.eq(sorted(got),
              sorted(emulib.tagging_expect(fx, "111111111111", "us-east-1")),
              "management account, base credentials")
    # A bucket shows in its own region only.
    dev = emulib.assume(emu, "arn:aws:iam::333333333333:role/"
                        "FinOpsTagComplianceReadOnly")
    c = emulib.client(emu, "resourcegroupstaggingapi", region="eu-west-1",
                      **dev)
    got, _, _ = paginate(c, checks)
    checks.eq(got, [], "dev account has nothing in eu-west-1")


def main():
    checks = emulib.Checks("test-tagging")
    fx = emulib.load()
    emu = emulib.Emulator()
    check_pages(emu, fx, checks)
    check_filters(emu, fx, checks)
    check_arn_list(emu, fx, checks)
    check_accounts(emu, fx, checks)
    checks.finish([emu])


main()

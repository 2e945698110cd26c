#!/usr/bin/python3
"""EC2 DescribeRegions/DescribeInstances/DescribeVolumes through boto3.

Counts and fields are computed from fixtures/small.json here: regions and
their opt-in status, every instance (terminated included) and volume in
the region with paginators at several page sizes, filters, id lists, and
the errors AWS gives for a not-opted-in region and bad parameters.
"""
import os
import sys

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

PROD = "222222222222"
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly" % PROD
OPT_IN = {"enabled": "opt-in-not-required", "opted-in": "opted-in",
          "not-opted-in": "not-opted-in"}


def check_regions(emu, fx, checks, creds):
    for acct_id, c in (("111111111111", emulib.client(emu, "ec2")),
                       (PROD, emulib.client(emu, "ec2", **creds))):
        regions = emulib.regions(emulib.account(fx, acct_id))
        got = {r["RegionName"]: r["OptInStatus"]
               for r in c.describe_regions()["Regions"]}
        want = {n: OPT_IN[s] for n, s in regions.items()
                if s != "not-opted-in"}
        checks.eq(got, want, "%s DescribeRegions" % acct_id)
        got = {r["RegionName"]: r["OptInStatus"] for r in
               c.describe_regions(AllRegions=True)["Regions"]}
        checks.eq(got, {n: OPT_IN[s] for n, s in regions.items()},
                  "%s DescribeRegions AllRegions" % acct_id)
    c = emulib.client(emu, "ec2", **creds)
    got = c.describe_regions(RegionNames=["eu-west-1"])["Regions"]
    checks.eq([(r["RegionName"], r["Endpoint"]) for r in got],
              [("eu-west-1", "ec2.eu-west-1.amazonaws.com")], "RegionNames")
    got = c.describe_regions(AllRegions=True, Filters=[
        {"Name": "opt-in-status", "Values": ["opted-in"]}])["Regions"]
    checks.eq([r["RegionName"] for r in got], ["ap-east-1"],
              "opt-in-status filter")


def instances(c, **kwargs):
    out = []
    for page in c.get_paginator("describe_instances").paginate(**kwargs):
        for resv in page["Reservations"]:
            out.extend(resv["Instances"])
    return out


def volumes(c, **kwargs):
    out = []
    for page in c.get_paginator("describe_volumes").paginate(**kwargs):
        out.extend(page["Volumes"])
    return out


def expected(fx, region, rtype, state=None):
    return sorted(r["id"] for r in emulib.resources(fx, PROD, region)
                  if r["type"] == rtype and
                  (state is None or emulib.default_state(r) == state))


def check_instances(emu, fx, checks, creds):
    for region in ("us-east-1", "eu-west-1", "ap-east-1", "us-west-2"):
        c = emulib.client(emu, "ec2", region=region, **creds)
        want = expected(fx, region, "ec2:instance")
        for size in (None, 5, 6, 1000):
            cfg = {} if size is None else {"PageSize": size}
            got = instances(c, PaginationConfig=cfg)
            checks.eq(sorted(i["InstanceId"] for i in got), want,
                      "%s instances, page size %s" % (region, size))
    c = emulib.client(emu, "ec2", **creds)
    byid = {i["InstanceId"]: i for i in instances(c)}
    for res in emulib.resources(fx, PROD, "us-east-1"):
        if res["type"] != "ec2:instance":
            continue
        got = byid[res["id"]]
        checks.eq(got["State"]["Name"], emulib.default_state(res),
                  "%s state" % res["id"])
        checks.eq({t["Key"]: t["Value"] for t in got.get("Tags", [])},
                  emulib.tags_of(res), "%s tags" % res["id"])
    first = byid["i-0bbb000000000001"]
    checks.eq(first["InstanceType"], "m5.large", "instance_type attribute")
    checks.eq(first["LaunchTime"].isoformat(), "2023-01-10T08:00:00+00:00",
              "launchTime")
    checks.eq(byid["i-0bbb000000000003"]["State"]["Code"], 48,
              "terminated is listed with code 48")
    got = instances(c, Filters=[{"Name": "instance-state-name",
                                 "Values": ["running"]}])
    checks.eq(sorted(i["InstanceId"] for i in got),
              expected(fx, "us-east-1", "ec2:instance", "running"),
              "instance-state-name filter")
    got = instances(c, Filters=[{"Name": "tag:Environment",
                                 "Values": ["prod*"]}])
    checks.eq(sorted(i["InstanceId"] for i in got),
              ["i-0bbb000000000001", "i-0bbb000000000002"],
              "tag filter with a wildcard")
    got = c.describe_instances(InstanceIds=["i-0bbb000000000006"])
    checks.eq([i["InstanceId"] for r in got["Reservations"]
               for i in r["Instances"]], ["i-0bbb000000000006"], "InstanceIds")
    checks.error_code(lambda: c.describe_instances(
        InstanceIds=["i-0nope"]), "InvalidInstanceID.NotFound", "unknown id")
    checks.error_code(lambda: c.describe_instances(MaxResults=4),
                      "InvalidParameterValue", "MaxResults below 5")
    checks.error_code(lambda: c.describe_instances(
        InstanceIds=["i-0bbb000000000006"], MaxResults=5),
        "InvalidParameterCombination", "InstanceIds with MaxResults")
    checks.error_code(lambda: c.describe_instances(Filters=[
        {"Name": "no-such-filter", "Values": ["x"]}]),
        "InvalidParameterValue", "unknown filter")


def check_volumes(emu, fx, checks, creds):
    c = emulib.client(emu, "ec2", **creds)
    for size in (None, 5, 500):
        cfg = {} if size is None else {"PageSize": size}
        got = volumes(c, PaginationConfig=cfg)
        checks.eq(sorted(v["VolumeId"] for v in got),
                  expected(fx, "us-east-1", "ec2:volume"),
                  "volumes, page size %s" % size)
    byid = {v["VolumeId"]: v for v in volumes(c)}
    checks.eq((byid["vol-0ccc000000000001"]["Size"],
               byid["vol-0ccc000000000001"]["VolumeType"]), (100, "gp2"),
              "volume attributes")
    checks.eq(byid["vol-0ccc000000000002"]["State"], "available",
              "volume state")
    checks.error_code(lambda: c.describe_volumes(MaxResults=501),
                      "InvalidParameterValue", "volumes MaxResults 501")


def check_disabled_region(emu, checks, creds):
    c = emulib.client(emu, "ec2", region="af-south-1", **creds)
    checks.error_code(c.describe_instances, "AuthFailure",
                      "EC2 in a not-opted-in region")
    t = emulib.client(emu, "resourcegroupstaggingapi", region="af-south-1",
                      **creds)
    checks.error_code(t.get_resources, "UnrecognizedClientException",
                      "Tagging API in a not-opted-in region")
    checks.error_code(lambda: emulib.client(
        emu, "ec2", secret="wrong-secret").describe_regions(),
        "AuthFailure", "EC2 with a wrong secret")


def main():
    checks = emulib.Checks("test-ec2")
    fx = emulib.load()
    emu = emulib.Emulator()
    creds = emulib.assume(emu, ROLE)
    check_regions(emu, fx, checks, creds)
    check_instances(emu, fx, checks, creds)
    check_volumes(emu, fx, checks, creds)
    check_disabled_region(emu, checks, creds)
    checks.finish([emu])


main()

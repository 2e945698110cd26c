#!/usr/bin/python3
"""ECS ListClusters and DescribeClusters through boto3 against fixtures/ecs.json.

Expected cluster ARNs and tags are computed here from the fixture JSON (the
README's ARN rule, arn:aws:ecs:REGION:ACCOUNT:cluster/NAME, written out
again), never read back from the emulator: the caller's account and region,
INACTIVE clusters described but never listed, AWS-style pages, tags in ECS's
lowercase {key, value} shape only with include TAGS, failures with reason
MISSING, InvalidParameterException for out-of-range maxResults, a
not-opted-in region, and a throttle retried by standard retry mode.
"""
import os
import sys

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

FIXTURE = os.path.join(emulib.HERE, "fixtures", "ecs.json")
MGMT, PROD = "111111111111", "222222222222"
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly" % PROD


def clusters(fx, acct, region):
    return [r for r in emulib.resources(fx, acct, region)
            if r["type"] == "ecs:cluster"]


def arn(acct, region, name):
    return "arn:aws:ecs:%s:%s:cluster/%s" % (region, acct, name)


def listed(fx, acct, region):
    return [arn(acct, region, r["id"]) for r in clusters(fx, acct, region)
            if r.get("state", "ACTIVE") != "INACTIVE"]


def paginate(c, **kwargs):
    arns, largest = [], 0
    for page in c.get_paginator("list_clusters").paginate(**kwargs):
        largest = max(largest, len(page["clusterArns"]))
        arns += page["clusterArns"]
    return arns, largest


def check_list(emu, fx, checks, prod):
    for region in ("us-east-1", "eu-west-1", "ap-east-1"):
        c = emulib.client(emu, "ecs", region=region, **prod)
        for size in (None, 1, 2, 100):
            cfg = {} if size is None else {"PageSize": size}
            got, largest = paginate(c, PaginationConfig=cfg)
            checks.eq(got, listed(fx, PROD, region),
                      "%s page size %s: cluster ARNs" % (region, size))
            checks.ok(largest <= (size or 100),
                      "%s page size %s: no page is larger" % (region, size))
    checks.ok(len(listed(fx, PROD, "us-east-1")) <
              len(clusters(fx, PROD, "us-east-1")),
              "fixture sanity: an INACTIVE cluster is left out")
    mgmt = emulib.client(emu, "ecs")
    checks.eq(mgmt.list_clusters()["clusterArns"], listed(fx, MGMT,
                                                          "us-east-1"),
              "the management account lists its own clusters only")


def ecs_tags(res):
    return [{"key": k, "value": v} for k, v in emulib.tags_of(res).items()]


def check_describe(emu, fx, checks, prod):
    c = emulib.client(emu, "ecs", **prod)
    us = clusters(fx, PROD, "us-east-1")
    names = [r["id"] for r in us]
    # Names and ARNs mixed; the INACTIVE one is described all the same.
    asked = [n if i % 2 else arn(PROD, "us-east-1", n)
             for i, n in enumerate(names)]
    got = c.describe_clusters(clusters=asked, include=["TAGS"])
    checks.eq([x["clusterName"] for x in got["clusters"]], names,
              "every cluster described, in request order")
    checks.eq([x["tags"] for x in got["clusters"]], [ecs_tags(r) for r in us],
              "tags in ECS's lowercase key/value shape")
    checks.eq([x["status"] for x in got["clusters"]],
              [r.get("state", "ACTIVE") for r in us], "status is the state")
    checks.eq(got["failures"], [], "no failures")
    web = next(r for r in us if r["id"] == "web")
    plain = c.describe_clusters(clusters=["web"])["clusters"][0]
    checks.ok("tags" not in plain, "no tags without include TAGS")
    checks.eq((plain["registeredContainerInstancesCount"],
               plain["runningTasksCount"], plain["pendingTasksCount"],
               plain["activeServicesCount"]),
              (web["attributes"]["registered_instances"],
               web["attributes"]["running_tasks"],
               web["attributes"]["pending_tasks"],
               web["attributes"]["active_services"]),
              "counts from the attributes")
    settings = c.describe_clusters(clusters=["web", "batch"],
                                   include=["SETTINGS"])["clusters"]
    checks.eq([s["settings"][0]["value"] for s in settings],
              ["enabled", "disabled"], "containerInsights setting")
    foreign = arn(MGMT, "us-east-1", "default")
    eu = arn(PROD, "eu-west-1", "eu-web")
    got = c.describe_clusters(clusters=["web", "no-such", foreign, eu])
    checks.eq([x["clusterName"] for x in got["clusters"]], ["web"],
              "only the caller's clusters of the region")
    checks.eq(got["failures"],
              [{"arn": arn(PROD, "us-east-1", "no-such"), "reason": "MISSING"},
               {"arn": foreign, "reason": "MISSING"},
               {"arn": eu, "reason": "MISSING"}],
              "failures name the ARN with reason MISSING")
    checks.eq(c.describe_clusters()["failures"],
              [{"arn": arn(PROD, "us-east-1", "default"),
                "reason": "MISSING"}],
              "no clusters: the cluster named default is described")
    mgmt = emulib.client(emu, "ecs").describe_clusters(include=["TAGS"])
    checks.eq(mgmt["clusters"][0]["tags"],
              ecs_tags(clusters(fx, MGMT, "us-east-1")[0]),
              "the management account's default cluster")


def check_errors(emu, checks, prod):
    raw = emulib.client(emu, "ecs", validate=False, **prod)
    for bad in (0, 101):
        checks.error_code(lambda: raw.list_clusters(maxResults=bad),
                          "InvalidParameterException", "maxResults=%d" % bad)
    checks.error_code(lambda: raw.list_clusters(nextToken="bm9wZQ=="),
                      "InvalidParameterException", "forged nextToken")
    checks.error_code(lambda: raw.describe_clusters(
        clusters=["c%d" % i for i in range(101)]),
        "InvalidParameterException", "101 clusters")
    checks.error_code(lambda: raw.describe_clusters(include=["COLOUR"]),
                      "InvalidParameterException", "unknown include")
    checks.error_code(lambda: emulib.client(emu, "ecs", region="af-south-1",
                                            **prod).list_clusters(),
                      "UnrecognizedClientException", "not-opted-in region")


def check_throttle(emu, checks, prod):
    emulib.control(emu, "POST", "faults", [
        {"account": PROD, "service": "ecs", "operation": "DescribeClusters",
         "kind": "throttle_next", "count": 2}])
    before = emulib.stats(emu)
    c = emulib.client(emu, "ecs", retries={"mode": "standard",
                                           "total_max_attempts": 5}, **prod)
    checks.eq(len(c.describe_clusters(clusters=["web"])["clusters"]), 1,
              "described after two throttles")
    after = emulib.stats(emu)
    key, code = "ecs:DescribeClusters", "ThrottlingException"
    checks.eq(after["operations"][key] - before["operations"].get(key, 0), 3,
              "two throttles then success = 3 calls")
    checks.eq(after["errors"].get(code, 0) - before["errors"].get(code, 0), 2,
              "two ThrottlingException replies")


def main():
    checks = emulib.Checks("test-ecs")
    fx = emulib.load(FIXTURE)
    emu = emulib.Emulator(FIXTURE)
    prod = emulib.assume(emu, ROLE)
    check_list(emu, fx, checks, prod)
    check_describe(emu, fx, checks, prod)
    check_errors(emu, checks, prod)
    check_throttle(emu, checks, prod)
    checks.finish([emu])


main()

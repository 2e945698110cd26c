#!/usr/bin/python3
"""RDS DescribeDBInstances through boto3 against fixtures/rds.json.

Expected instances, fields and tags are computed here from the fixture:
every page size the paginator allows (MaxRecords 20..100) gives exactly
the region's instances in fixture order, short pages included; the
DBInstanceIdentifier (by name, in another case, by ARN) and the filters
select what the fixture says. Errors: DBInstanceNotFound, bad MaxRecords,
an unknown filter, another account's instance, a not-opted-in region, a
wrong secret, an access_denied fault and a throttle retried by botocore's
standard retry mode with the stats showing every call.
"""
import os
import sys

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

FIXTURE = os.path.join(emulib.HERE, "fixtures", "rds.json")
OWNER = "111111111111"
OTHER = "222222222222"


def keys(fx, acct_id):
    c = emulib.account(fx, acct_id)["credentials"]
    return dict(key=c["access_key_id"], secret=c["secret_access_key"])


def dbs(fx, acct_id, region):
    return [r for r in emulib.resources(fx, acct_id, region)
            if r["type"] == "rds:db"]


def engine(res):
    return res.get("attributes", {}).get("engine", "postgres")


def expected_pages(fx, region, size):
    """Pages under the README's "pagination" rule: page n (from 0, never
    the first) with n % every == every - 1 holds nothing (empty_page_every,
    default 7) or half a page rounded up (short_page_every, default 5); a
    page that fills up on the last instance while other resources follow
    it in the region is followed by one empty page."""
    pg = fx.get("pagination", {})
    empty, short = pg.get("empty_page_every", 7), pg.get("short_page_every", 5)
    res = emulib.resources(fx, OWNER, region)
    total = len(dbs(fx, OWNER, region))
    trailing = res and res[-1]["type"] != "rds:db"
    pos = n = 0
    while True:
        limit = size
        if n > 0 and empty and n % empty == empty - 1:
            limit = 0
        elif n > 0 and short and n % short == short - 1:
            limit = (size + 1) // 2
        took = min(limit, total - pos)
        pos += took
        n += 1
        if pos >= total:
            return n + (1 if trailing and took == limit else 0)


def listed(c, **kwargs):
    out, pages = [], 0
    for page in c.get_paginator("describe_db_instances").paginate(**kwargs):
        out.extend(page["DBInstances"])
        pages += 1
    return out, pages


def check_fields(fx, checks, got, region):
    for res in dbs(fx, OWNER, region):
        g = got.get(res["id"])
        if not checks.ok(g is not None, "%s listed" % res["id"]):
            continue
        checks.eq(g["DBInstanceArn"], "arn:aws:rds:%s:%s:db:%s" % (
            region, OWNER, res["id"]), "%s DBInstanceArn" % res["id"])
        checks.eq(g["DBInstanceStatus"], res.get("state", "available"),
                  "%s DBInstanceStatus (README default available)" %
                  res["id"])
        checks.eq(g["Engine"], engine(res), "%s Engine" % res["id"])
        checks.eq(g["InstanceCreateTime"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                  res.get("created", "2024-01-01T00:00:00Z"),
                  "%s InstanceCreateTime" % res["id"])
        checks.eq({t["Key"]: t["Value"] for t in g["TagList"]},
                  emulib.tags_of(res), "%s TagList" % res["id"])
        attrs = res.get("attributes", {})
        if "instance_class" in attrs:
            checks.eq((g["DBInstanceClass"], g.get("EngineVersion")),
                      (attrs["instance_class"], attrs["engine_version"]),
                      "%s class and version attributes" % res["id"])


def check_pages(emu, fx, checks):
    c = emulib.client(emu, "rds", **keys(fx, OWNER))
    want = [r["id"] for r in dbs(fx, OWNER, "us-east-1")]
    for size in (None, 20, 21, 45, 100):
        cfg = {} if size is None else {"PageSize": size}
        got, pages = listed(c, PaginationConfig=cfg)
        checks.eq([g["DBInstanceIdentifier"] for g in got], want,
                  "us-east-1 instances, page size %s" % size)
        if size is not None:
            checks.eq(pages, expected_pages(fx, "us-east-1", size),
                      "page size %s: pages, short ones included" % size)
    check_fields(fx, checks, {g["DBInstanceIdentifier"]: g for g in got},
                 "us-east-1")
    eu = emulib.client(emu, "rds", region="eu-west-1", **keys(fx, OWNER))
    got, _ = listed(eu)
    checks.eq([g["DBInstanceIdentifier"] for g in got],
              [r["id"] for r in dbs(fx, OWNER, "eu-west-1")], "eu-west-1")
    check_fields(fx, checks, {g["DBInstanceIdentifier"]: g for g in got},
                 "eu-west-1")
    checks.eq(got[0]["AvailabilityZone"], "eu-west-1b", "availability_zone")
    got, _ = listed(emulib.client(emu, "rds", region="us-west-2",
                                  **keys(fx, OWNER)))
    checks.eq(got, [], "a region without instances")


def check_selection(emu, fx, checks):
    c = emulib.client(emu, "rds", **keys(fx, OWNER))
    arn = "arn:aws:rds:us-east-1:%s:db:db-07" % OWNER
    for ident in ("db-07", "DB-07", arn):
        got = c.describe_db_instances(DBInstanceIdentifier=ident)
        checks.eq([g["DBInstanceIdentifier"] for g in got["DBInstances"]],
                  ["db-07"], "DBInstanceIdentifier %s" % ident)
    for ident in ("no-such-db", "other-db"):
        checks.error_code(lambda: c.describe_db_instances(
            DBInstanceIdentifier=ident), "DBInstanceNotFound",
            "DBInstanceIdentifier %s" % ident)
    got, _ = listed(c, Filters=[{"Name": "engine",
                                 "Values": ["mysql", "mariadb"]}])
    checks.eq([g["DBInstanceIdentifier"] for g in got],
              [r["id"] for r in dbs(fx, OWNER, "us-east-1")
               if engine(r) in ("mysql", "mariadb")], "engine filter")
    got, _ = listed(c, Filters=[{"Name": "db-instance-id",
                                 "Values": ["db-01", arn, "other-db"]}])
    checks.eq([g["DBInstanceIdentifier"] for g in got], ["db-01", "db-07"],
              "db-instance-id filter")
    checks.error_code(lambda: c.describe_db_instances(Filters=[
        {"Name": "no-such-filter", "Values": ["x"]}]),
        "InvalidParameterValue", "unknown filter")
    for n in (19, 101):
        checks.error_code(lambda: c.describe_db_instances(MaxRecords=n),
                          "InvalidParameterValue", "MaxRecords %d" % n)
    other = emulib.client(emu, "rds", **keys(fx, OTHER))
    checks.eq([g["DBInstanceIdentifier"] for g in listed(other)[0]],
              [r["id"] for r in dbs(fx, OTHER, "us-east-1")],
              "another account sees only its own")


def check_errors(emu, fx, checks):
    creds = keys(fx, OWNER)
    checks.error_code(emulib.client(emu, "rds", region="af-south-1",
                                    **creds).describe_db_instances,
                      "InvalidClientTokenId", "not-opted-in region")
    checks.error_code(emulib.client(emu, "rds", key=creds["key"],
                                    secret="wrong/secret")
                      .describe_db_instances, "SignatureDoesNotMatch",
                      "wrong secret")
    emulib.control(emu, "POST", "faults", {
        "account": OWNER, "region": "eu-west-1", "service": "rds",
        "operation": "DescribeDBInstances", "kind": "access_denied",
        "count": 1})
    checks.error_code(emulib.client(emu, "rds", region="eu-west-1", **creds)
                      .describe_db_instances, "AccessDenied",
                      "access_denied fault")
    emulib.control(emu, "POST", "faults", {
        "account": OWNER, "service": "rds", "kind": "throttle_next",
        "count": 2})
    before = emulib.stats(emu)
    c = emulib.client(emu, "rds", retries={"mode": "standard",
                                           "total_max_attempts": 3}, **creds)
    out = c.describe_db_instances(DBInstanceIdentifier="db-00")
    after = emulib.stats(emu)
    checks.eq(out["ResponseMetadata"]["RetryAttempts"], 2, "two retries")
    checks.eq(after["operations"]["rds:DescribeDBInstances"] -
              before["operations"]["rds:DescribeDBInstances"], 3,
              "stats: three calls")
    checks.eq(after["errors"].get("Throttling", 0) -
              before["errors"].get("Throttling", 0), 2, "stats: throttles")


def main():
    checks = emulib.Checks("test-rds")
    fx = emulib.load(FIXTURE)
    emu = emulib.Emulator(FIXTURE)
    check_pages(emu, fx, checks)
    check_selection(emu, fx, checks)
    check_errors(emu, fx, checks)
    checks.finish([emu])


main()

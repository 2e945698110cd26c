#!/usr/bin/python3
"""The baseline of bench/run: a tag-compliance scanner written the way
users write one with boto3 (python3-boto3 from Debian, botocore 1.29).

A ThreadPoolExecutor runs one account per thread, MAX accounts at a time;
each thread assumes the account's role (the caller's own account uses the
base credentials), opens a boto3 Session with those credentials, lists the
account's regions, and walks them one after the other with boto3's
paginators, making the calls tagwarden's collectors make:

  sts AssumeRole; ec2 DescribeRegions (home region); iam ListAccountAliases;
  s3 ListBuckets (one answer in botocore 1.29), GetBucketLocation and
  GetBucketTagging per bucket; per region: tagging GetResources, ec2
  DescribeInstances and DescribeVolumes, rds DescribeDBInstances, lambda
  ListFunctions and ListTags per function, ecs ListClusters and
  DescribeClusters (TAGS).

Each resource is checked against the tagging policy file (the rules of
docs/policy.md, written out below), and each account's resources and
violations are written to SQLite in one transaction as its thread finishes.
The last stdout line is a JSON summary (totals over the accounts that
succeeded), which bench/run compares with tagwarden's and the oracle's.

Usage: boto3_scan.py --endpoint-url URL --accounts ID,... --policy FILE
           --db FILE [--concurrency N] [--regions R,...] [--role-name NAME]
           [--home-region R]
Base credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""

import argparse
import concurrent.futures
import json
import re
import sqlite3
import sys
import time
import unicodedata

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

TYPES = ["ec2:instance", "ec2:volume", "s3:bucket", "rds:db",
         "lambda:function", "ecs:cluster"]
# Tagging API filters for the types above ("s3" is how buckets are asked).
TAGGING_FILTERS = ["ec2:instance", "ec2:volume", "s3", "rds:db",
                   "lambda:function", "ecs:cluster"]
SPECIAL_OK = set("_.:/=+-@")
ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}

CONFIG = Config(retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=10, read_timeout=60,
                max_pool_connections=10)


# ---- the policy (docs/policy.md) ----

class Policy:
    def __init__(self, doc):
        rules = doc.get("tag_naming_rules", {})
        self.case = rules.get("case_sensitivity", False)
        self.special = rules.get("allow_special_characters", True)
        self.max_len = rules.get("max_value_length", 256)
        self.required = doc["required_tags"]
        self.optional = doc.get("optional_tags", [])
        self.regex = {}
        for t in self.required + self.optional:
            if t.get("validation_regex"):
                self.regex[t["name"]] = re.compile(t["validation_regex"])

    @staticmethod
    def applies(rule, rtype):
        for pat in rule["applies_to"]:
            if pat == rtype or (pat.endswith(":*") and
                                rtype.startswith(pat[:-1]) and
                                len(rtype) > len(pat) - 1):
                return True
        return False

    def norm(self, s):
        if self.case:
            return s
        return s.translate(ASCII_LOWER)

    def lookup(self, name, tags):
        if name in tags:
            return tags[name]
        want = self.norm(name)
        for k, v in tags.items():
            if self.norm(k) == want:
                return v
        return None

    def charset_ok(self, value):
        for ch in value:
            cat = unicodedata.category(ch)
            if not (cat[0] in "LN" or cat == "Zs" or ch in SPECIAL_OK):
                return False
        return True

    def problem(self, rule, value, required):
        allowed = rule.get("allowed_values")
        if (required and value == "") or (allowed is not None and self.norm(
                value) not in [self.norm(a) for a in allowed]):
            return "invalid_value"
        rx = self.regex.get(rule["name"])
        if rx is not None and not rx.fullmatch(value):
            return "invalid_format"
        if len(value) > self.max_len:
            return "invalid_format"
        if not self.special and not self.charset_ok(value):
            return "invalid_format"
        return None

    def check(self, rtype, tags):
        """(in_scope, compliant, [(tag, violation_type, severity, value)])"""
        rules = [r for r in self.required if self.applies(r, rtype)]
        if not rules:
            return False, False, []
        found = []
        for r in rules:
            sev = r.get("severity", "error")
            v = self.lookup(r["name"], tags)
            if v is None:
                found.append((r["name"], "missing_required_tag", sev, None))
            else:
                p = self.problem(r, v, True)
                if p:
                    found.append((r["name"], p, sev, v))
        for r in self.optional:
            v = self.lookup(r["name"], tags)
            if v is not None:
                p = self.problem(r, v, False)
                if p:
                    found.append((r["name"], p, "warning", v))
        return True, all(f[2] != "error" for f in found), found



# ---- one account ----

class Account:
    def __init__(self, args, account_id, creds):
        self.args = args
        self.id = account_id
        self.session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds.get("SessionToken"),
            region_name=args.home_region)
        self.clients = {}
        self.resources = {}     # arn -> dict

    def client(self, service, region):
        key = (service, region)
        if key not in self.clients:
            self.clients[key] = self.session.client(
                service, region_name=region,
                endpoint_url=self.args.endpoint_url, config=CONFIG)
        return self.clients[key]

    def add(self, region, rtype, arn, rid, tags, state=None):
        self.resources[arn] = {"region": region, "type": rtype, "arn": arn,
                               "id": rid, "tags": tags, "state": state}

    def regions(self):
        ec2 = self.client("ec2", self.args.home_region)
        offered = {r["RegionName"]: r.get("OptInStatus", "")
                   for r in ec2.describe_regions(AllRegions=True)["Regions"]}
        wanted = self.args.regions or sorted(offered)
        return [r for r in wanted
                if offered.get(r, "not-opted-in") != "not-opted-in"]

    def alias(self):
        iam = self.client("iam", "us-east-1")
        for page in iam.get_paginator("list_account_aliases").paginate():
            for a in page["AccountAliases"]:
                return a
        return None

    def buckets(self, regions):
        s3 = self.client("s3", self.args.home_region)
        for b in s3.list_buckets()["Buckets"]:
            loc = s3.get_bucket_location(Bucket=b["Name"]).get(
                "LocationConstraint") or "us-east-1"
            if loc == "EU":
                loc = "eu-west-1"
            if loc not in regions:
                continue
            arn = "arn:aws:s3:::" + b["Name"]
            try:
                ts = self.client("s3", loc).get_bucket_tagging(
                    Bucket=b["Name"])["TagSet"]
                tags = {t["Key"]: t["Value"] for t in ts}
            except ClientError as e:
                code = e.response["Error"]["Code"]
                if code == "NoSuchBucket":
                    continue
                tags = {} if code == "NoSuchTagSet" else None
            self.add(loc, "s3:bucket", arn, b["Name"], tags)

    def tagging(self, region):
        """Tags as the Tagging API sees them (ever-tagged resources)."""
        out = {}
        c = self.client("resourcegroupstaggingapi", region)
        for page in c.get_paginator("get_resources").paginate(
                ResourceTypeFilters=TAGGING_FILTERS, ResourcesPerPage=100):
            for m in page["ResourceTagMappingList"]:
                out[m["ResourceARN"]] = {t["Key"]: t["Value"]
                                         for t in m.get("Tags", [])}
        return out

    def ec2(self, region):
        c = self.client("ec2", region)
        for page in c.get_paginator("describe_instances").paginate(
                PaginationConfig={"PageSize": 1000}):
            for res in page["Reservations"]:
                for i in res["Instances"]:
                    if i["State"]["Name"] == "terminated":
                        continue
                    arn = "arn:aws:ec2:%s:%s:instance/%s" % (
                        region, self.id, i["InstanceId"])
                    self.add(region, "ec2:instance", arn, i["InstanceId"],
                             {t["Key"]: t["Value"]
                              for t in i.get("Tags", [])})
        for page in c.get_paginator("describe_volumes").paginate(
                PaginationConfig={"PageSize": 500}):
            for v in page["Volumes"]:
                if v["State"] == "deleted":
                    continue
                arn = "arn:aws:ec2:%s:%s:volume/%s" % (region, self.id,
                                                      v["VolumeId"])
                self.add(region, "ec2:volume", arn, v["VolumeId"],
                         {t["Key"]: t["Value"] for t in v.get("Tags", [])})

    def rds(self, region):
        c = self.client("rds", region)
        for page in c.get_paginator("describe_db_instances").paginate():
            for d in page["DBInstances"]:
                self.add(region, "rds:db", d["DBInstanceArn"],
                         d["DBInstanceIdentifier"],
                         {t["Key"]: t["Value"] for t in d.get("TagList", [])})

    def lambdas(self, region, seen):
        c = self.client("lambda", region)
        for page in c.get_paginator("list_functions").paginate():
            for f in page["Functions"]:
                arn = f["FunctionArn"]
                try:
                    tags = c.list_tags(Resource=arn).get("Tags", {})
                except ClientError as e:
                    if e.response["Error"]["Code"] == \
                            "ResourceNotFoundException":
                        continue
                    tags = seen.get(arn)
                self.add(region, "lambda:function", arn, f["FunctionName"],
                         tags)

    def ecs(self, region):
        c = self.client("ecs", region)
        arns = []
        for page in c.get_paginator("list_clusters").paginate():
            arns += page["clusterArns"]
        for i in range(0, len(arns), 100):
            out = c.describe_clusters(clusters=arns[i:i + 100],
                                      include=["TAGS"])
            for cl in out["clusters"]:
                if cl["status"] == "INACTIVE":
                    continue
                self.add(region, "ecs:cluster", cl["clusterArn"],
                         cl["clusterName"], {t["key"]: t["value"]
                                             for t in cl.get("tags", [])})

    def scan(self):
        regions = self.regions()
        alias = self.alias()
        self.buckets(regions)
        for region in regions:
            # A region's clients go when the loop moves on, as they would
            # in a loop that creates them.
            self.clients = {}
            seen = self.tagging(region)
            self.ec2(region)
            self.rds(region)
            self.lambdas(region, seen)
            self.ecs(region)
            # A bucket whose tag read was refused keeps what the Tagging
            # API showed, when it showed it.
            for r in self.resources.values():
                if r["region"] == region and r["tags"] is None:
                    r["tags"] = seen.get(r["arn"])
        return alias


def assume(args, sts, me, account_id):
    if account_id == me:
        return None
    return sts.assume_role(
        RoleArn="arn:aws:iam::%s:role/%s" % (account_id, args.role_name),
        RoleSessionName="boto3-tag-scan")["Credentials"]


def scan_account(args, sts, me, base, account_id):
    """The account's resources (its session and clients are dropped here,
    as a function-local scanner drops them)."""
    t0 = time.monotonic()
    creds = assume(args, sts, me, account_id) or base
    acct = Account(args, account_id, creds)
    alias = acct.scan()
    return list(acct.resources.values()), alias, time.monotonic() - t0


# ---- results ----

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (account_id TEXT PRIMARY KEY,
    status TEXT, error TEXT, alias TEXT, seconds REAL, total INTEGER,
    compliant INTEGER, violations INTEGER);
CREATE TABLE IF NOT EXISTS resources (account_id TEXT, region TEXT,
    arn TEXT, type TEXT, id TEXT, tags TEXT, in_scope INTEGER,
    compliant INTEGER, PRIMARY KEY (account_id, arn));
CREATE TABLE IF NOT EXISTS violations (account_id TEXT, region TEXT,
    arn TEXT, type TEXT, tag TEXT, violation_type TEXT, severity TEXT,
    current_value TEXT);
"""


def record(db, policy, account_id, resources, alias, secs):
    rows, viols = [], []
    total = compliant = nviol = 0
    for r in resources:
        if r["tags"] is None:
            rows.append((account_id, r["region"], r["arn"], r["type"],
                         r["id"], None, 0, 0))
            continue
        in_scope, ok, found = policy.check(r["type"], r["tags"])
        total += in_scope
        compliant += ok
        nviol += len(found)
        rows.append((account_id, r["region"], r["arn"], r["type"], r["id"],
                     json.dumps(r["tags"]), int(in_scope), int(ok)))
        viols += [(account_id, r["region"], r["arn"], r["type"]) + f
                  for f in found]
    with db:
        db.executemany("INSERT INTO resources VALUES (?,?,?,?,?,?,?,?)",
                       rows)
        db.executemany("INSERT INTO violations VALUES (?,?,?,?,?,?,?,?)",
                       viols)
        db.execute("INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?)",
                   (account_id, "ok", None, alias, secs, total, compliant,
                    nviol))
    return total, compliant, nviol


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--accounts", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--regions")
    ap.add_argument("--role-name", default="FinOpsTagComplianceReadOnly")
    ap.add_argument("--home-region", default="us-east-1")
    args = ap.parse_args()
    args.regions = args.regions.split(",") if args.regions else None
    with open(args.policy) as f:
        policy = Policy(json.load(f))
    accounts = [a for a in args.accounts.split(",") if a]

    base_session = boto3.Session(region_name=args.home_region)
    sts = base_session.client("sts", endpoint_url=args.endpoint_url,
                              config=CONFIG)
    me = sts.get_caller_identity()["Account"]
    frozen = base_session.get_credentials().get_frozen_credentials()
    base = {"AccessKeyId": frozen.access_key,
            "SecretAccessKey": frozen.secret_key,
            "SessionToken": frozen.token}

    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    summary = {"accounts": len(accounts), "ok": [], "failed": {},
               "total_resources": 0, "compliant_resources": 0,
               "violations": 0}
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        futs = {pool.submit(scan_account, args, sts, me, base, a): a
                for a in accounts}
        for fut in concurrent.futures.as_completed(futs):
            # Recorded, an account's resources are let go.
            a = futs.pop(fut)
            try:
                resources, alias, secs = fut.result()
            except Exception as e:  # an account failing is a result
                summary["failed"][a] = str(e)[:200]
                with db:
                    db.execute("INSERT INTO accounts (account_id, status, "
                               "error) VALUES (?,?,?)", (a, "failed",
                                                         str(e)))
                continue
            t, c, v = record(db, policy, a, resources, alias, secs)
            del fut, resources
            summary["ok"].append(a)
            summary["total_resources"] += t
            summary["compliant_resources"] += c
            summary["violations"] += v
    db.close()
    summary["ok"].sort()
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())

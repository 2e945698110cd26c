#!/usr/bin/python3
"""Lambda ListFunctions and ListTags through boto3 against fixtures/lambda.json.

Expected function names, ARNs and tags are computed here from the fixture
JSON (the README's ARN rule written out again in emulib.arn_of), never read
back from the emulator: the caller's account and the request's region only,
AWS-style pages (short or empty pages that still carry a NextMarker),
MaxItems capped at 50 per page, ResourceNotFoundException for an unknown,
foreign or other-region ARN, UnrecognizedClientException in a region the
account has not opted into, and a throttle retried by standard retry mode.
"""
import os
import sys

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

FIXTURE = os.path.join(emulib.HERE, "fixtures", "lambda.json")
MGMT, PROD = "111111111111", "222222222222"
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly" % PROD


def functions(fx, acct, region):
    return [r for r in emulib.resources(fx, acct, region)
            if r["type"] == "lambda:function"]


def paginate(c, checks, **kwargs):
    names, pages, empty = [], 0, 0
    for page in c.get_paginator("list_functions").paginate(**kwargs):
        pages += 1
        if not page["Functions"] and page.get("NextMarker"):
            empty += 1
        for f in page["Functions"]:
            names.append((f["FunctionName"], f["FunctionArn"]))
    return names, pages, empty


def check_listing(emu, fx, checks, prod):
    for region in ("us-east-1", "eu-west-1", "ap-east-1"):
        c = emulib.client(emu, "lambda", region=region, **prod)
        want = [(r["id"], emulib.arn_of(r, PROD, region))
                for r in functions(fx, PROD, region)]
        for size in (None, 1, 2, 3, 50):
            cfg = {} if size is None else {"PageSize": size}
            got, _, _ = paginate(c, checks, PaginationConfig=cfg)
            checks.eq(got, want, "%s page size %s: functions in order" %
                      (region, size))
    c = emulib.client(emu, "lambda", **prod)
    # 8 functions, pages of 1: page number 6 is the fixture's default
    # empty page (empty_page_every 7), so 9 requests in all.
    got, pages, empty = paginate(c, checks, PaginationConfig={"PageSize": 1})
    checks.ok(empty >= 1, "an empty page with a NextMarker was served")
    checks.ok(pages > len(functions(fx, PROD, "us-east-1")),
              "more pages than functions: empty pages are followed")
    page = c.list_functions(MaxItems=1000)
    checks.eq(len(page["Functions"]), len(functions(fx, PROD, "us-east-1")),
              "MaxItems above 50: one page of everything (8 < 50)")
    checks.ok("NextMarker" not in page, "last page has no NextMarker")


def check_fields(emu, fx, checks, prod):
    c = emulib.client(emu, "lambda", **prod)
    got = {f["FunctionName"]: f for f in c.list_functions()["Functions"]}
    first = functions(fx, PROD, "us-east-1")[0]
    f = got[first["id"]]
    attrs = first["attributes"]
    checks.eq((f["Runtime"], f["MemorySize"], f["Timeout"], f["Handler"],
               f["CodeSize"], f["Description"], f["Architectures"]),
              (attrs["runtime"], attrs["memory_size"], attrs["timeout"],
               attrs["handler"], attrs["code_size"], attrs["description"],
               [attrs["architecture"]]), "attributes reach the fields")
    # Lambda's own timestamp shape, not ISO 8601 with Z.
    checks.eq(f["LastModified"],
              first["created"].replace("Z", ".000+0000"),
              "LastModified in Lambda's format")
    plain = got["nightly-report"]
    checks.eq((plain["Runtime"], plain["MemorySize"], plain["Timeout"],
               plain["Version"], plain["PackageType"]),
              ("python3.12", 128, 3, "$LATEST", "Zip"),
              "README defaults for a function without attributes")
    checks.eq(plain["LastModified"], "2024-01-01T00:00:00.000+0000",
              "default creation time")
    checks.ok("State" not in plain,
              "ListFunctions leaves State out, as AWS does")


def check_tags(emu, fx, checks, prod):
    c = emulib.client(emu, "lambda", **prod)
    for r in functions(fx, PROD, "us-east-1"):
        arn = emulib.arn_of(r, PROD, "us-east-1")
        checks.eq(c.list_tags(Resource=arn)["Tags"], emulib.tags_of(r),
                  "ListTags %s" % r["id"])
    eu = functions(fx, PROD, "eu-west-1")[0]
    checks.eq(emulib.client(emu, "lambda", region="eu-west-1", **prod)
              .list_tags(Resource=emulib.arn_of(eu, PROD, "eu-west-1"))
              ["Tags"], emulib.tags_of(eu), "ListTags in eu-west-1")
    missing = [
        ("arn:aws:lambda:us-east-1:%s:function:no-such-function" % PROD,
         "unknown function"),
        (emulib.arn_of(functions(fx, MGMT, "us-east-1")[0], MGMT,
                       "us-east-1"), "another account's function"),
        (emulib.arn_of(eu, PROD, "eu-west-1"), "a function of another region"),
    ]
    for arn, what in missing:
        checks.error_code(lambda: c.list_tags(Resource=arn),
                          "ResourceNotFoundException", what)
    raw = emulib.client(emu, "lambda", validate=False, **prod)
    checks.error_code(lambda: raw.list_tags(Resource="arn:aws:s3:::bucket"),
                      "ValidationException", "not a function ARN")


def check_errors(emu, fx, checks, prod):
    c = emulib.client(emu, "lambda", validate=False, **prod)
    checks.error_code(lambda: c.list_functions(MaxItems=0),
                      "ValidationException", "MaxItems=0")
    checks.error_code(lambda: c.list_functions(Marker="bm9wZQ=="),
                      "InvalidParameterValueException", "forged Marker")
    checks.error_code(lambda: emulib.client(emu, "lambda", region="af-south-1",
                                            **prod).list_functions(),
                      "UnrecognizedClientException", "not-opted-in region")
    mgmt = emulib.client(emu, "lambda")
    got = [f["FunctionName"] for f in mgmt.list_functions()["Functions"]]
    checks.eq(got, [r["id"] for r in functions(fx, MGMT, "us-east-1")],
              "the management account sees its own functions only")


def check_throttle(emu, checks, prod):
    status, body = emulib.control(emu, "POST", "faults", [
        {"account": PROD, "service": "lambda", "operation": "ListFunctions",
         "kind": "throttle_next", "count": 2}])
    checks.eq((status, body.get("added")), (200, 1), "add throttle rule")
    before = emulib.stats(emu)
    c = emulib.client(emu, "lambda", retries={"mode": "standard",
                                              "total_max_attempts": 5},
                      **prod)
    c.list_functions()
    after = emulib.stats(emu)
    key = "lambda:ListFunctions"
    checks.eq(after["operations"][key] - before["operations"].get(key, 0), 3,
              "two throttles then success = 3 calls")
    code = "TooManyRequestsException"
    checks.eq(after["errors"].get(code, 0) - before["errors"].get(code, 0), 2,
              "two TooManyRequestsException replies")
    emulib.control(emu, "POST", "faults", [
        {"service": "lambda", "kind": "throttle_next", "count": 1}])
    import botocore.exceptions
    try:
        emulib.client(emu, "lambda", **prod).list_functions()
        checks.ok(False, "without retries the throttle shows")
    except botocore.exceptions.ClientError as e:
        checks.eq((e.response["Error"]["Code"],
                   e.response["ResponseMetadata"]["HTTPStatusCode"]),
                  (code, 429), "without retries: the throttle, 429 as Lambda")


def main():
    checks = emulib.Checks("test-lambda")
    fx = emulib.load(FIXTURE)
    emu = emulib.Emulator(FIXTURE)
    prod = emulib.assume(emu, ROLE)
    check_listing(emu, fx, checks, prod)
    check_fields(emu, fx, checks, prod)
    check_tags(emu, fx, checks, prod)
    check_errors(emu, fx, checks, prod)
    check_throttle(emu, checks, prod)
    checks.finish([emu])


main()

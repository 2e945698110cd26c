#!/usr/bin/python3
"""IAM ListAccountAliases through boto3 against fixtures/iam.json.

The alias list of each account (one alias, or none) comes from the
fixture; the paginator, an assumed role's view of its own account, and the
errors: a Marker IAM never issued, MaxItems out of range, a request signed
for another region than us-east-1 (IAM is global), a wrong secret, an
access_denied fault, and a throttle retried by botocore's standard retry
mode with the stats showing the extra calls.
"""
import os
import sys

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

FIXTURE = os.path.join(emulib.HERE, "fixtures", "iam.json")
ALIASED = "111111111111"
PLAIN = "222222222222"
MEMBER = "333333333333"
IAM_VERSION = "2010-05-08"


def keys(fx, acct_id):
    c = emulib.account(fx, acct_id)["credentials"]
    return dict(key=c["access_key_id"], secret=c["secret_access_key"])


def aliases(fx, acct_id):
    alias = emulib.account(fx, acct_id).get("alias")
    return [alias] if alias else []


def check_aliases(emu, fx, checks):
    for acct_id in (ALIASED, PLAIN):
        c = emulib.client(emu, "iam", **keys(fx, acct_id))
        out = c.list_account_aliases()
        checks.eq((out["AccountAliases"], out["IsTruncated"]),
                  (aliases(fx, acct_id), False), "%s aliases" % acct_id)
        got = []
        for page in c.get_paginator("list_account_aliases").paginate(
                PaginationConfig={"PageSize": 1}):
            got.extend(page["AccountAliases"])
        checks.eq(got, aliases(fx, acct_id), "%s paginator" % acct_id)
    role = "arn:aws:iam::%s:role/Reader" % MEMBER
    creds = emulib.assume(emu, role, **keys(fx, ALIASED))
    checks.eq(emulib.client(emu, "iam", **creds).list_account_aliases()[
        "AccountAliases"], aliases(fx, MEMBER),
        "an assumed role sees its own account's alias")


def check_errors(emu, fx, checks):
    c = emulib.client(emu, "iam", **keys(fx, ALIASED))
    checks.error_code(lambda: c.list_account_aliases(Marker="never-issued"),
                      "ValidationError", "a Marker IAM never issued")
    # botocore checks MaxItems >= 1 itself; 1001 reaches the service.
    checks.error_code(lambda: c.list_account_aliases(MaxItems=1001),
                      "ValidationError", "MaxItems 1001")
    path, headers, body = emulib.query_request(
        emu, "iam", "ListAccountAliases", IAM_VERSION, region="eu-west-1",
        **keys(fx, ALIASED))
    status, code = post(emu, path, headers, body)
    checks.eq((status, code), (403, "SignatureDoesNotMatch"),
              "IAM signed for eu-west-1")
    checks.error_code(emulib.client(emu, "iam", key=keys(fx, PLAIN)["key"],
                                    secret="wrong/secret")
                      .list_account_aliases, "SignatureDoesNotMatch",
                      "wrong secret")
    emulib.control(emu, "POST", "faults", {
        "account": ALIASED, "service": "iam", "kind": "access_denied",
        "count": 1})
    checks.error_code(c.list_account_aliases, "AccessDenied",
                      "access_denied fault")
    emulib.control(emu, "POST", "faults", {
        "account": ALIASED, "service": "iam",
        "operation": "ListAccountAliases", "kind": "throttle_next",
        "count": 2})
    before = emulib.stats(emu)
    c = emulib.client(emu, "iam", retries={"mode": "standard",
                                           "total_max_attempts": 3},
                      **keys(fx, ALIASED))
    out = c.list_account_aliases()
    after = emulib.stats(emu)
    checks.eq((out["AccountAliases"], out["ResponseMetadata"][
        "RetryAttempts"]), (aliases(fx, ALIASED), 2), "after two throttles")
    checks.eq(after["operations"]["iam:ListAccountAliases"] -
              before["operations"]["iam:ListAccountAliases"], 3,
              "stats: three calls")
    checks.eq(after["errors"].get("Throttling", 0) -
              before["errors"].get("Throttling", 0), 2, "stats: throttles")


def post(emu, path, headers, body):
    """(status, error code) of a raw Query POST."""
    import urllib.error
    import urllib.request
    import xml.etree.ElementTree as ET
    req = urllib.request.Request(emu.url + path, data=body, headers=headers,
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, None
    except urllib.error.HTTPError as e:
        root = ET.fromstring(e.read())
        return e.code, root.findtext(".//{*}Code")


def main():
    checks = emulib.Checks("test-iam")
    fx = emulib.load(FIXTURE)
    emu = emulib.Emulator(FIXTURE)
    check_aliases(emu, fx, checks)
    check_errors(emu, fx, checks)
    checks.finish([emu])


main()

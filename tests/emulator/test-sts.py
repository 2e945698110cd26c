#!/usr/bin/python3
"""STS and SigV4 through boto3 and botocore's own signer.

Expected values come from fixtures/small.json and AWS's documented
behaviour: identities and ARNs, AssumeRole's trust, ExternalId,
MaxSessionDuration and role-chaining rules, opt-in regions, web identity,
and the authentication errors for a wrong secret, an unknown key, a forged
token, an altered request, clock skew and an expired session.
"""
import datetime
import os
import sys
import time
import urllib.error
import urllib.request
from unittest import mock

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402

MGMT, PROD, DEV = "111111111111", "222222222222", "333333333333"
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly"


def check_identity(emu, checks):
    ident = emulib.client(emu, "sts").get_caller_identity()
    checks.eq(ident["Account"], MGMT, "base credentials: account")
    checks.eq(ident["Arn"], "arn:aws:iam::%s:user/finops-admin" % MGMT,
              "base credentials: user ARN")
    checks.ok(ident["UserId"].startswith("AIDA"), "IAM user id is AIDA...")
    start = time.time()
    resp = emulib.client(emu, "sts").assume_role(
        RoleArn=ROLE % PROD, RoleSessionName="scan-1")
    creds, user = resp["Credentials"], resp["AssumedRoleUser"]
    checks.ok(creds["AccessKeyId"].startswith("ASIA"), "session key ASIA...")
    checks.eq(len(creds["AccessKeyId"]), 20, "session key length")
    left = creds["Expiration"].timestamp() - start
    checks.ok(3590 <= left <= 3610, "default duration 3600 s (%.0f)" % left)
    checks.eq(user["Arn"], "arn:aws:sts::%s:assumed-role/"
              "FinOpsTagComplianceReadOnly/scan-1" % PROD, "assumed-role ARN")
    checks.ok(user["AssumedRoleId"].startswith("ARO") and
              user["AssumedRoleId"].endswith(":scan-1"), "AssumedRoleId")
    ident = emulib.client(emu, "sts", key=creds["AccessKeyId"],
                          secret=creds["SecretAccessKey"],
                          token=creds["SessionToken"]).get_caller_identity()
    checks.eq((ident["Account"], ident["Arn"]), (PROD, user["Arn"]),
              "session identity")
    checks.eq(ident["UserId"], user["AssumedRoleId"], "session user id")


def check_assume_rules(emu, checks):
    sts = emulib.client(emu, "sts")
    role = "arn:aws:iam::%s:role/%s"
    checks.error_code(lambda: sts.assume_role(
        RoleArn=role % (PROD, "NoTrustRole"), RoleSessionName="x1"),
        "AccessDenied", "role that does not trust the caller")
    try:
        sts.assume_role(RoleArn=role % (PROD, "NoTrustRole"),
                        RoleSessionName="x1")
    except Exception as e:
        msg = e.response["Error"]["Message"]
        checks.eq(msg, "User: arn:aws:iam::%s:user/finops-admin is not "
                  "authorized to perform: sts:AssumeRole on resource: %s" %
                  (MGMT, role % (PROD, "NoTrustRole")), "AccessDenied text")
    checks.error_code(lambda: sts.assume_role(
        RoleArn=role % (PROD, "NoSuchRole"), RoleSessionName="x1"),
        "AccessDenied", "missing role")
    ext = role % (PROD, "ExternalIdRole")
    checks.error_code(lambda: sts.assume_role(RoleArn=ext,
                      RoleSessionName="x1"), "AccessDenied", "no ExternalId")
    checks.error_code(lambda: sts.assume_role(
        RoleArn=ext, RoleSessionName="x1", ExternalId="wrong-id"),
        "AccessDenied", "wrong ExternalId")
    checks.ok("Credentials" in sts.assume_role(
        RoleArn=ext, RoleSessionName="x1", ExternalId="tagwarden-ext-42"),
        "right ExternalId")
    checks.error_code(lambda: sts.assume_role(
        RoleArn=ROLE % PROD, RoleSessionName="x1", DurationSeconds=7201),
        "ValidationError", "DurationSeconds above the role's 7200")
    checks.ok("Credentials" in sts.assume_role(
        RoleArn=ROLE % PROD, RoleSessionName="x1", DurationSeconds=7200),
        "DurationSeconds equal to MaxSessionDuration")
    checks.error_code(lambda: sts.assume_role(
        RoleArn=ROLE % DEV, RoleSessionName="x1", DurationSeconds=3601),
        "ValidationError", "DurationSeconds above the default 3600")
    checks.error_code(lambda: sts.assume_role(
        RoleArn=ROLE % PROD, RoleSessionName="bad name!"),
        "ValidationError", "RoleSessionName pattern")
    checks.error_code(lambda: sts.assume_role(
        RoleArn=ROLE % "444444444444", RoleSessionName="x1"),
        "AccessDenied", "suspended account")


def check_chaining(emu, checks):
    dev = emulib.assume(emu, ROLE % DEV)
    sts = emulib.client(emu, "sts", **dev)
    target = "arn:aws:iam::%s:role/finops/ChainTarget" % PROD
    checks.error_code(lambda: sts.assume_role(
        RoleArn=target, RoleSessionName="chain", DurationSeconds=7200),
        "ValidationError", "role chaining above one hour")
    resp = sts.assume_role(RoleArn=target, RoleSessionName="chain",
                           DurationSeconds=3600)
    checks.eq(resp["AssumedRoleUser"]["Arn"],
              "arn:aws:sts::%s:assumed-role/ChainTarget/chain" % PROD,
              "chained session ARN (path not in it)")
    checks.error_code(lambda: emulib.client(emu, "sts").assume_role(
        RoleArn=target, RoleSessionName="chain"), "AccessDenied",
        "ChainTarget trusts the dev role, not the management user")


def check_regions(emu, checks):
    # af-south-1 is not opted in for 222222222222.
    sts = emulib.client(emu, "sts", region="af-south-1")
    checks.error_code(lambda: sts.assume_role(RoleArn=ROLE % PROD,
                                              RoleSessionName="r1"),
                      "RegionDisabledException", "target region disabled")
    prod = emulib.assume(emu, ROLE % PROD)
    checks.error_code(lambda: emulib.client(
        emu, "sts", region="af-south-1", **prod).get_caller_identity(),
        "RegionDisabledException", "caller's region disabled (STS)")
    checks.ok(emulib.client(emu, "sts", region="ap-east-1", **prod)
              .get_caller_identity()["Account"] == PROD,
              "opted-in region works")


def check_auth_errors(emu, checks):
    checks.error_code(lambda: emulib.client(
        emu, "sts", secret="not-the-secret").get_caller_identity(),
        "SignatureDoesNotMatch", "wrong secret")
    checks.error_code(lambda: emulib.client(
        emu, "sts", key="AKIAUNKNOWNKEY000000").get_caller_identity(),
        "InvalidClientTokenId", "unknown access key")
    prod = emulib.assume(emu, ROLE % PROD)
    checks.error_code(lambda: emulib.client(
        emu, "sts", key=prod["key"], secret=prod["secret"],
        token=prod["token"][:-4] + "AAAA").get_caller_identity(),
        "InvalidClientTokenId", "forged session token")
    checks.error_code(lambda: emulib.client(
        emu, "sts", key=prod["key"], secret=prod["secret"])
        .get_caller_identity(), "InvalidClientTokenId",
        "session key without its token")


def signed(emu, body, when=None, key=emulib.MGMT_KEY):
    """A Query request signed by botocore's SigV4Auth (optionally back-dated)."""
    creds = botocore.credentials.Credentials(key, emulib.MGMT_SECRET)
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=emu.url + "/", data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded; "
                            "charset=utf-8"})
    if when is None:
        botocore.auth.SigV4Auth(creds, "sts", "us-east-1").add_auth(req)
    else:
        fake = mock.Mock(wraps=datetime.datetime)
        fake.utcnow.return_value = when
        with mock.patch("botocore.auth.datetime.datetime", fake):
            botocore.auth.SigV4Auth(creds, "sts", "us-east-1").add_auth(req)
    return req


def send(req, body=None):
    if isinstance(req, urllib.request.Request):
        r = req
    else:
        r = urllib.request.Request(req.url, data=body or req.body,
                                   headers=dict(req.headers),
                                   method=req.method)
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def check_raw_signing(emu, checks):
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    status, text = send(signed(emu, body))
    checks.ok(status == 200 and "<Account>%s</Account>" % MGMT in text,
              "botocore SigV4Auth request accepted")
    status, text = send(signed(emu, body),
                        body=body.replace("GetCallerIdentity",
                                          "GetSessionToken").encode())
    checks.ok(status == 403 and "SignatureDoesNotMatch" in text,
              "altered body -> SignatureDoesNotMatch (%d)" % status)
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
    status, text = send(signed(emu, body, when=old))
    checks.ok(status == 400 and "<Code>RequestExpired</Code>" in text and
              "Signature expired" in text, "20 minutes old -> RequestExpired")
    r = urllib.request.Request(emu.url + "/", data=body.encode(),
                               method="POST", headers={
                                   "Content-Type": "application/"
                                   "x-www-form-urlencoded"})
    status, text = send(r)
    checks.ok(status == 403 and "MissingAuthenticationToken" in text,
              "no Authorization -> MissingAuthenticationToken")
    r.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/x")
    r.add_header("X-Amz-Date", "20240101T000000Z")
    status, text = send(r)
    checks.ok(status == 400 and "IncompleteSignature" in text,
              "malformed Authorization -> IncompleteSignature")


def check_web_identity(emu, checks):
    sts = emulib.client(emu, "sts")
    token = emulib.load()["web_identities"][0]["token"]
    resp = sts.assume_role_with_web_identity(
        RoleArn=ROLE % PROD, RoleSessionName="pod-1", WebIdentityToken=token)
    checks.eq(resp["SubjectFromWebIdentityToken"],
              "system:serviceaccount:finops:tagwarden", "web identity subject")
    checks.ok(resp["Credentials"]["AccessKeyId"].startswith("ASIA"),
              "web identity credentials")
    checks.error_code(lambda: sts.assume_role_with_web_identity(
        RoleArn=ROLE % PROD, RoleSessionName="pod-1",
        WebIdentityToken="not-a-known-token"), "InvalidIdentityToken",
        "unknown web identity token")
    checks.error_code(lambda: sts.assume_role_with_web_identity(
        RoleArn=ROLE % DEV, RoleSessionName="pod-1", WebIdentityToken=token),
        "AccessDenied", "token not allowed for that role")


def check_expiry(checks):
    emu = emulib.Emulator(args=["--credential-lifetime", "1"])
    start = time.time()
    creds = emulib.client(emu, "sts").assume_role(
        RoleArn=ROLE % PROD, RoleSessionName="short",
        DurationSeconds=3600)["Credentials"]
    left = creds["Expiration"].timestamp() - start
    checks.ok(left <= 2, "--credential-lifetime 1 shows in Expiration")
    session = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                   token=creds["SessionToken"])
    time.sleep(2.2)
    checks.error_code(lambda: emulib.client(emu, "sts", **session)
                      .get_caller_identity(), "ExpiredToken",
                      "expired session (STS)")
    checks.error_code(lambda: emulib.client(
        emu, "resourcegroupstaggingapi", **session).get_resources(),
        "ExpiredTokenException", "expired session (JSON service)")
    checks.error_code(lambda: emulib.client(emu, "ec2", **session)
                      .describe_regions(), "RequestExpired",
                      "expired session (EC2)")
    return emu


def main():
    checks = emulib.Checks("test-sts")
    emu = emulib.Emulator()
    check_identity(emu, checks)
    check_assume_rules(emu, checks)
    check_chaining(emu, checks)
    check_regions(emu, checks)
    check_auth_errors(emu, checks)
    check_raw_signing(emu, checks)
    check_web_identity(emu, checks)
    short = check_expiry(checks)
    checks.finish([emu, short])


main()

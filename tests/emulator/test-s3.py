#!/usr/bin/python3
"""S3 ListBuckets, GetBucketLocation and GetBucketTagging through boto3.

Everything expected is computed here from fixtures/s3.json: the caller's
buckets of every region in name order, each bucket's region and tags. The
paginated ListBuckets form (max-buckets, continuation-token, prefix,
bucket-region, BucketRegion) is newer than this machine's botocore, so it
is driven with requests signed by botocore's S3SigV4Auth and parsed with
ElementTree. Errors: unknown and foreign buckets, NoSuchTagSet, the 301
redirect for a tag read signed for the wrong region (raw, and followed by
botocore), a not-opted-in region, a wrong secret, a payload hash mismatch,
an access_denied fault and a throttle retried by the standard retry mode.
"""
import http.client
import os
import sys
import urllib.parse
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

FIXTURE = os.path.join(emulib.HERE, "fixtures", "s3.json")
OWNER = "111111111111"
OTHER = "222222222222"
EMPTY = "333333333333"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def keys(fx, acct_id):
    c = emulib.account(fx, acct_id)["credentials"]
    return dict(key=c["access_key_id"], secret=c["secret_access_key"])


def buckets(fx, acct_id):
    """{name: (region, resource)} of the account's buckets."""
    out = {}
    for region, lst in emulib.account(fx, acct_id).get("resources",
                                                       {}).items():
        for res in lst:
            if res["type"] == "s3:bucket":
                out[res["id"]] = (region, res)
    return out


def expected_pages(fx, total, size):
    """Pages of a listing under the README's "pagination" rule: page n
    (from 0, never the first) with n % every == every - 1 holds nothing
    (empty_page_every, default 7) or half a page rounded up
    (short_page_every, default 5), and a listing ends with its last item."""
    pg = fx.get("pagination", {})
    empty, short = pg.get("empty_page_every", 7), pg.get("short_page_every", 5)
    pos = n = 0
    while True:
        limit = size
        if n > 0 and empty and n % empty == empty - 1:
            limit = 0
        elif n > 0 and short and n % short == short - 1:
            limit = (size + 1) // 2
        pos += min(limit, total - pos)
        n += 1
        if pos >= total:
            return n


def raw(emu, path, query="", region="us-east-1", key=None, secret=None,
        mangle=None):
    """A GET signed by botocore; (status, headers, parsed XML root)."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    url = emu.url + path + ("?" + query if query else "")
    req = botocore.awsrequest.AWSRequest(method="GET", url=url)
    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(key, secret),
                              "s3", region).add_auth(req)
    headers = dict(req.headers.items())
    if mangle:
        mangle(headers)
    parts = urllib.parse.urlsplit(emu.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", path + ("?" + query if query else ""),
                 headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.headers, ET.fromstring(body) if body else None


def raw_list(emu, creds, query, checks, what):
    """Follow ContinuationToken; [(name, BucketRegion or None)], pages."""
    got, pages, token = [], 0, None
    while True:
        q = query + ("&continuation-token=" + urllib.parse.quote(token, "")
                     if token else "")
        status, _, root = raw(emu, "/", q.lstrip("&"), **creds)
        if not checks.eq(status, 200, "%s: status" % what):
            return got, pages
        pages += 1
        for b in root.iter(NS + "Bucket"):
            region = b.find(NS + "BucketRegion")
            got.append((b.find(NS + "Name").text,
                        region.text if region is not None else None))
        tok = root.find(NS + "ContinuationToken")
        token = tok.text if tok is not None else None
        if token is None or pages > 100:
            return got, pages


def check_list(emu, fx, checks):
    mine = buckets(fx, OWNER)
    want = sorted(mine)
    for region in ("us-east-1", "eu-west-1", "ap-east-1"):
        c = emulib.client(emu, "s3", region=region, **keys(fx, OWNER))
        out = c.list_buckets()
        checks.eq([b["Name"] for b in out["Buckets"]], want,
                  "ListBuckets from %s: every region's buckets, by name"
                  % region)
    by_name = {b["Name"]: b for b in out["Buckets"]}
    for name, (_, res) in mine.items():
        created = res.get("created", "2024-01-01T00:00:00Z")
        checks.eq(by_name[name]["CreationDate"].strftime(
            "%Y-%m-%dT%H:%M:%SZ"), created, "%s CreationDate" % name)
    checks.ok(len(out["Owner"]["ID"]) == 64 and
              all(ch in "0123456789abcdef" for ch in out["Owner"]["ID"]),
              "Owner ID is a 64-digit canonical user id")
    checks.eq([b["Name"] for b in emulib.client(
        emu, "s3", **keys(fx, OTHER)).list_buckets()["Buckets"]],
        sorted(buckets(fx, OTHER)), "another account sees only its own")
    checks.eq(emulib.client(emu, "s3", **keys(fx, EMPTY)).list_buckets()[
        "Buckets"], [], "an account without buckets sees none")
    plain, _ = raw_list(emu, keys(fx, OWNER), "", checks, "plain form")
    checks.eq(plain, [(n, None) for n in want],
              "plain form: no BucketRegion, one answer")


def check_paged(emu, fx, checks):
    mine = buckets(fx, OWNER)
    want = [(n, mine[n][0]) for n in sorted(mine)]
    creds = keys(fx, OWNER)
    for size in (1, 2, 3, 5, 10000):
        got, pages = raw_list(emu, creds, "max-buckets=%d" % size, checks,
                              "max-buckets=%d" % size)
        checks.eq(got, want, "max-buckets=%d: names and BucketRegion" % size)
        checks.eq(pages, expected_pages(fx, len(want), size),
                  "max-buckets=%d: pages, short and empty ones included" %
                  size)
    got, _ = raw_list(emu, creds, "prefix=alpha-", checks, "prefix")
    checks.eq(got, [w for w in want if w[0].startswith("alpha-")], "prefix")
    got, _ = raw_list(emu, creds, "bucket-region=eu-west-1&max-buckets=1",
                      checks, "bucket-region")
    checks.eq(got, [w for w in want if w[1] == "eu-west-1"], "bucket-region")
    status, _, root = raw(emu, "/", "prefix=alpha-", **creds)
    checks.eq(root.findtext(NS + "Prefix"), "alpha-", "Prefix echoed")
    for q in ("max-buckets=0", "max-buckets=10001", "continuation-token=bad"):
        status, _, root = raw(emu, "/", q, **creds)
        checks.eq((status, root.findtext("Code")), (400, "InvalidArgument"),
                  q)


def check_location(emu, fx, checks):
    for region in ("us-east-1", "us-west-2"):
        c = emulib.client(emu, "s3", region=region, **keys(fx, OWNER))
        for name, (where, _) in sorted(buckets(fx, OWNER).items()):
            # S3 has always said us-east-1 as an empty LocationConstraint.
            checks.eq(c.get_bucket_location(Bucket=name)[
                "LocationConstraint"], None if where == "us-east-1" else
                where, "GetBucketLocation %s from %s" % (name, region))
    checks.error_code(lambda: c.get_bucket_location(Bucket="no-such-bkt"),
                      "NoSuchBucket", "GetBucketLocation unknown bucket")
    checks.error_code(lambda: c.get_bucket_location(Bucket="other-eu"),
                      "AccessDenied", "GetBucketLocation foreign bucket")


def check_tagging(emu, fx, checks):
    for name, (region, res) in sorted(buckets(fx, OWNER).items()):
        c = emulib.client(emu, "s3", region=region, **keys(fx, OWNER))
        want = emulib.tags_of(res)
        if not want:
            checks.error_code(lambda: c.get_bucket_tagging(Bucket=name),
                              "NoSuchTagSet", "%s has no tag set" % name)
            continue
        got = c.get_bucket_tagging(Bucket=name)["TagSet"]
        checks.eq({t["Key"]: t["Value"] for t in got}, want,
                  "GetBucketTagging %s" % name)
    c = emulib.client(emu, "s3", **keys(fx, OWNER))
    checks.error_code(lambda: c.get_bucket_tagging(Bucket="no-such-bkt"),
                      "NoSuchBucket", "GetBucketTagging unknown bucket")
    checks.error_code(lambda: c.get_bucket_tagging(Bucket="other-private"),
                      "AccessDenied", "GetBucketTagging foreign bucket")
    checks.error_code(lambda: c.get_bucket_tagging(
        Bucket="alpha-logs", ExpectedBucketOwner=OTHER), "AccessDenied",
        "ExpectedBucketOwner of another account")
    got = c.get_bucket_tagging(Bucket="alpha-logs",
                               ExpectedBucketOwner=OWNER)["TagSet"]
    checks.eq(len(got), len(emulib.tags_of(buckets(fx, OWNER)[
        "alpha-logs"][1])), "ExpectedBucketOwner of the owner")


def check_redirect(emu, fx, checks):
    creds = keys(fx, OWNER)
    status, headers, root = raw(emu, "/eu-archive", "tagging", **creds)
    checks.eq((status, root.findtext("Code"), headers.get(
        "x-amz-bucket-region")), (301, "PermanentRedirect", "eu-west-1"),
        "tag read signed for us-east-1 of an eu-west-1 bucket")
    checks.eq(root.findtext("Bucket"), "eu-archive", "redirect names bucket")
    before = emulib.stats(emu)
    c = emulib.client(emu, "s3", region="us-east-1", **creds)
    got = c.get_bucket_tagging(Bucket="eu-archive")["TagSet"]
    checks.eq({t["Key"]: t["Value"] for t in got}, emulib.tags_of(
        buckets(fx, OWNER)["eu-archive"][1]), "botocore follows the 301")
    after = emulib.stats(emu)
    checks.eq(after["operations"]["s3:GetBucketTagging"] -
              before["operations"]["s3:GetBucketTagging"], 2,
              "redirect: two GetBucketTagging calls")
    checks.eq(after["errors"]["PermanentRedirect"] -
              before["errors"]["PermanentRedirect"], 1,
              "redirect: one PermanentRedirect")


def check_auth(emu, fx, checks):
    creds = keys(fx, OWNER)
    c = emulib.client(emu, "s3", region="af-south-1", **creds)
    checks.error_code(c.list_buckets, "InvalidAccessKeyId",
                      "ListBuckets in a not-opted-in region")
    checks.error_code(lambda: c.get_bucket_location(Bucket="alpha-logs"),
                      "InvalidAccessKeyId",
                      "GetBucketLocation in a not-opted-in region")
    checks.error_code(emulib.client(emu, "s3", key=creds["key"],
                                    secret="wrong/secret").list_buckets,
                      "SignatureDoesNotMatch", "wrong secret")

    def bad_hash(h):
        h["X-Amz-Content-SHA256"] = "0" * 64
    status, _, root = raw(emu, "/alpha-logs", "tagging", mangle=bad_hash,
                          **creds)
    checks.eq((status, root.findtext("Code")),
              (400, "XAmzContentSHA256Mismatch"), "payload hash mismatch")


def check_faults(emu, fx, checks):
    creds = keys(fx, OWNER)
    emulib.control(emu, "POST", "faults", {
        "account": OWNER, "service": "s3", "operation": "GetBucketTagging",
        "kind": "access_denied", "count": 1})
    status, _, root = raw(emu, "/alpha-logs", "tagging", **creds)
    checks.eq((status, root.tag, root.findtext("Code")),
              (403, "Error", "AccessDenied"),
              "access_denied fault in S3's <Error> format")
    emulib.control(emu, "POST", "faults", {
        "account": OWNER, "service": "s3", "operation": "ListBuckets",
        "kind": "throttle_next", "count": 2})
    before = emulib.stats(emu)
    c = emulib.client(emu, "s3", retries={"mode": "standard",
                                          "total_max_attempts": 3}, **creds)
    out = c.list_buckets()
    after = emulib.stats(emu)
    checks.eq(len(out["Buckets"]), len(buckets(fx, OWNER)),
              "ListBuckets after two throttles")
    checks.eq(out["ResponseMetadata"]["RetryAttempts"], 2, "two retries")
    checks.eq(after["operations"]["s3:ListBuckets"] -
              before["operations"]["s3:ListBuckets"], 3,
              "stats: three ListBuckets calls")
    checks.eq(after["errors"].get("SlowDown", 0) -
              before["errors"].get("SlowDown", 0), 2, "stats: two SlowDown")


def main():
    checks = emulib.Checks("test-s3")
    fx = emulib.load(FIXTURE)
    emu = emulib.Emulator(FIXTURE)
    check_list(emu, fx, checks)
    check_paged(emu, fx, checks)
    check_location(emu, fx, checks)
    check_tagging(emu, fx, checks)
    check_redirect(emu, fx, checks)
    check_auth(emu, fx, checks)
    check_faults(emu, fx, checks)
    checks.finish([emu])


main()

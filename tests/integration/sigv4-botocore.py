#!/usr/bin/python3
"""sigv4-botocore: differential test of common/sigv4.c against botocore.

Generates varied requests from a fixed seed (SIGV4_BOTOCORE_SEED, default
1): methods, services (S3 under S3SigV4Auth, the rest under SigV4Auth),
regions, times, paths with spaces, unicode, reserved characters, '.', '..',
'//' and %XX already on the wire, queries with duplicate keys, empty values,
bare keys, unicode and reserved characters (handed to the C side in a
different but equivalent percent-encoding half of the time), headers with
mixed-case names, runs of white space and duplicates, empty, text and
binary bodies, session tokens and UNSIGNED-PAYLOAD. botocore signs each one
with its clock fixed to the request's time; the C helper
tests/unit/sigv4-sign signs all of them in one process (one shared key
cache). Every Authorization header, X-Amz-Date, X-Amz-Content-SHA256 and
token presence must be equal.

Environment: TAGWARDEN_BUILD (build dir holding tests/unit/sigv4-sign),
TAGWARDEN_WRAPPER (command prefix such as valgrind, may be empty).
"""

import datetime
import hashlib
import json
import os
import random
import shlex
import subprocess
import sys
import types
from urllib.parse import quote

import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

NREQUESTS = 400
MAX_SHOWN = 5

SERVICES = ["sts", "ec2", "tagging", "iam", "ce", "lambda", "rds", "ecs",
            "organizations", "execute-api"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-3", "ap-southeast-2",
           "sa-east-1", "us-gov-west-1", "cn-north-1", "me-central-1"]
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD"]
# A few fixed days so that the shared key cache gets hits.
DAYS = [1440892800, 1369353600, 1704067200, 1718841600]
EDGE_TIMES = [0, 946684799, 951782400, 4102444799]

KEYPAIRS = [
    ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("ASIAZZZZEXAMPLE0TEST", "s3cr3t+with/odd=chars_and-more~XXXXXXXXX"),
    ("AKIA_TEST-KEY", "x"),
]

WORDS = ["a", "bucket", "key.txt", "v1", "Photos 2024", "na\u00efve",
         "\u1234", "\u65e5\u672c\u8a9e", "\U0001f600", "!$&'()*+,;=:@",
         "a~b_c-d.e", "100%", "q?x", "h#f", "sp  two", 'x"y', "<>", "[]",
         "{}", "|^`\\", "tab\tin"]
DOTS = [".", "..", ""]
ENCODED = ["%41", "%2F", "%20", "%7e", "%E2%82%AC", "%25", "%2e%2E"]

QKEYS = ["Action", "Version", "a", "A", "b", "Param-3", "x y", "na\u00efve",
         "\u1234", "k!*()", "a/b", "e=f", "p+q", "50%", "&amp", "~tilde",
         "Z", "list-type", "prefix", "max-keys", "key?", "h#", ""]
QVALUES = ["", "1", "value", "two words", "a+b", "x=y", "a&b", "100%",
           "\u00fc", "\U0001f600", "/path/to", "a~b-c_d.e", "!$'()*,;:@",
           "tab\there", "#frag", "?q", "2010-05-08", "ListUsers"]

HNAMES = ["Content-Type", "X-Amz-Target", "x-amz-meta-Owner", "My-Header",
          "Range", "If-None-Match", "Accept", "X-Amz-Acl", "X-Custom_Under",
          "Cache-Control", "Content-MD5", "User-Agent", "Expect",
          "X-Amzn-Trace-Id"]
HVALUES = ["application/x-amz-json-1.1", "  a   b\t\tc  ", "", " ",
           '"quoted   string"', "bytes=0-9", "na\u00efve caf\u00e9", "x,y",
           " trailing ", "\tlead", "v\x1fw", "AWSTagging.GetResources",
           "text/plain; charset=utf-8", "many      spaces      here"]

UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 "0123456789-_.~")

# botocore.auth reads the clock through datetime.datetime.utcnow(); the
# test replaces the module it sees with one whose clock is this cell.
CLOCK = [datetime.datetime(2015, 8, 30, 12, 36, 0)]


class FixedDateTime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return CLOCK[0]


botocore.auth.datetime = types.SimpleNamespace(datetime=FixedDateTime)


def recording(cls):
    """The auth class, keeping the canonical request it signed."""
    class Recording(cls):
        def canonical_request(self, request):
            self.last_canonical = super().canonical_request(request)
            return self.last_canonical
    return Recording


RecSigV4, RecS3SigV4 = recording(SigV4Auth), recording(S3SigV4Auth)


def pct(rng, byte):
    text = "%%%02X" % byte
    return text if rng.random() < 0.7 else text.lower()


def path_segment(rng, s3):
    roll = rng.random()
    if roll < 0.12 and not s3 or roll < 0.05:
        return rng.choice(DOTS)
    if roll < 0.22:
        return rng.choice(ENCODED)
    word = rng.choice(WORDS)
    mode = rng.random()
    if mode < 0.6:                  # as botocore's serializer writes it
        return quote(word, safe="~")
    if mode < 0.8:                  # sub-delims left raw, legal on the wire
        return quote(word, safe="~!$&'()*+,;=:@")
    out = []                        # raw spaces and UTF-8 too
    for ch in word:
        if ch in "?#%" or ord(ch) < 0x20:
            out.append(quote(ch, safe=""))
        else:
            out.append(ch)
    return "".join(out)


def make_path(rng, s3):
    if rng.random() < 0.1:
        return "/"
    segs = [path_segment(rng, s3) for _ in range(rng.randint(1, 6))]
    path = "/" + "/".join(segs)
    if rng.random() < 0.3:
        path += "/"
    return path


def make_params(rng):
    keys = rng.sample(QKEYS, rng.randint(1, 4))
    params = []
    for _ in range(rng.randint(0, 7)):
        key = rng.choice(keys)
        value = None if rng.random() < 0.15 else rng.choice(QVALUES)
        if key == "" and value is None:
            value = ""
        params.append((key, value))
    return params


def canonical_query(params):
    """The query as botocore's serializers put it on the wire."""
    pieces = []
    for key, value in params:
        piece = quote(key, safe="-_.~")
        if value is not None:
            piece += "=" + quote(value, safe="-_.~")
        pieces.append(piece)
    return "&".join(pieces)


def other_encoding(rng, text):
    """An equivalent wire form: some unreserved bytes escaped, some
    reserved and UTF-8 bytes left raw, hex digits in either case."""
    out = []
    for ch in text:
        raw = ch.encode("utf-8")
        if ch in UNRESERVED:
            out.append(pct(rng, raw[0]) if rng.random() < 0.3 else ch)
        elif ch in "&=#+% ?" or ord(ch) < 0x20 or rng.random() < 0.5:
            out.append("".join(pct(rng, b) for b in raw))
        else:
            out.append(ch)
    return "".join(out)


def alternative_query(rng, params):
    pieces = []
    for key, value in params:
        piece = other_encoding(rng, key)
        if value is not None:
            piece += "=" + other_encoding(rng, value)
        pieces.append(piece)
    return "&".join(pieces)


def vary_case(rng, name):
    roll = rng.random()
    if roll < 0.25:
        return name.lower()
    if roll < 0.4:
        return name.upper()
    if roll < 0.55:
        return "".join(c.upper() if rng.random() < 0.5 else c.lower()
                       for c in name)
    return name


def make_headers(rng, service, region):
    host = rng.choice([f"{service}.{region}.amazonaws.com",
                       "localhost:4566", "127.0.0.1:8080",
                       f" {service}.amazonaws.com "])
    headers = [(vary_case(rng, "Host"), host)]
    for _ in range(rng.randint(0, 6)):
        name = rng.choice(HNAMES)
        headers.append((vary_case(rng, name), rng.choice(HVALUES)))
        if rng.random() < 0.2:      # the same name again, other case
            headers.append((vary_case(rng, name), rng.choice(HVALUES)))
    rng.shuffle(headers)
    return headers


def make_body(rng):
    roll = rng.random()
    if roll < 0.4:
        return b""
    if roll < 0.6:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))
    if roll < 0.8:
        return json.dumps({"ResourceTypeFilters": ["ec2:instance"],
                           "n": rng.randint(0, 99)}).encode()
    return b"Action=ListUsers&Version=2010-05-08"


def make_token(rng):
    if rng.random() < 0.55:
        return None
    alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789+/=")
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(16, 400)))


def make_time(rng):
    roll = rng.random()
    if roll < 0.7:
        return rng.choice(DAYS) + rng.randrange(86400)
    if roll < 0.8:
        return rng.choice(EDGE_TIMES)
    return rng.randrange(4102444800)


def make_scope(rng, earlier):
    """Service, region, keys and time; often an earlier request's scope on
    the same day, as a scan signs many requests per scope."""
    if earlier and rng.random() < 0.5:
        old = rng.choice(earlier)
        return (old["service"], old["region"],
                (old["access_key"], old["secret_key"]),
                old["when"] - old["when"] % 86400 + rng.randrange(86400))
    service = "s3" if rng.random() < 0.3 else rng.choice(SERVICES)
    return (service, rng.choice(REGIONS), rng.choice(KEYPAIRS),
            make_time(rng))


def make_case(rng, earlier):
    service, region, (access_key, secret_key), when = make_scope(rng,
                                                                 earlier)
    s3 = service == "s3"
    params = make_params(rng) if rng.random() < 0.7 else []
    body = make_body(rng)
    payload = rng.random()
    case = {
        "s3": s3, "service": service, "region": region,
        "method": rng.choice(METHODS), "path": make_path(rng, s3),
        "query": canonical_query(params),
        "headers": make_headers(rng, service, region), "body": body,
        "when": when, "access_key": access_key,
        "secret_key": secret_key, "token": make_token(rng),
        "unsigned": payload < (0.25 if s3 else 0.1),
        "prehashed": 0.3 < payload < 0.45,
    }
    case["c_query"] = (alternative_query(rng, params)
                       if rng.random() < 0.5 else case["query"])
    return case


def botocore_sign(case):
    CLOCK[0] = datetime.datetime.utcfromtimestamp(case["when"])
    cls = RecS3SigV4 if case["s3"] else RecSigV4
    auth = cls(Credentials(case["access_key"], case["secret_key"],
                           case["token"]), case["service"], case["region"])
    url = "https://endpoint.test" + case["path"]
    if case["query"]:
        url += "?" + case["query"]
    request = AWSRequest(method=case["method"], url=url, data=case["body"])
    for name, value in case["headers"]:
        request.headers[name] = value       # appends: duplicates stay
    if case["unsigned"] and case["s3"]:
        request.context["client_config"] = Config(
            s3={"payload_signing_enabled": False})
    elif case["unsigned"]:
        request.context["payload_signing_enabled"] = False
    auth.add_auth(request)
    return {
        "authorization": request.headers["Authorization"],
        "amz_date": request.headers["X-Amz-Date"],
        "content_sha256": request.headers.get("X-Amz-Content-SHA256", ""),
        "security_token": "X-Amz-Security-Token" in request.headers,
        "canonical_request": auth.last_canonical,
    }


def helper_input(case):
    doc = {
        "method": case["method"], "path": case["path"],
        "query": case["c_query"] or None,
        "headers": [list(h) for h in case["headers"]],
        "region": case["region"], "service": case["service"],
        "when": case["when"], "s3": case["s3"],
        "access_key": case["access_key"], "secret_key": case["secret_key"],
        "token": case["token"],
    }
    if case["unsigned"]:
        doc["payload_hash"] = "UNSIGNED-PAYLOAD"
        doc["body_hex"] = case["body"].hex()
    elif case["prehashed"]:
        doc["payload_hash"] = hashlib.sha256(case["body"]).hexdigest()
    else:
        doc["body_hex"] = case["body"].hex()
    return json.dumps(doc, ensure_ascii=True)


def run_helper(lines):
    build = os.environ.get("TAGWARDEN_BUILD")
    if not build:
        sys.exit("sigv4-botocore: TAGWARDEN_BUILD is not set")
    helper = os.path.join(build, "tests", "unit", "sigv4-sign")
    cmd = shlex.split(os.environ.get("TAGWARDEN_WRAPPER", "")) + [helper]
    proc = subprocess.run(cmd, input="\n".join(lines) + "\n",
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"sigv4-botocore: {helper} exited {proc.returncode}")
    return [json.loads(line) for line in proc.stdout.splitlines()]


def masked(text, case):
    if case["token"]:
        text = text.replace(case["token"], "<session token>")
    return text


def show(index, case, want, got):
    print(f"--- request {index}: {case['method']} {case['service']} "
          f"s3={case['s3']} unsigned={case['unsigned']}")
    print(f"    path {case['path']!r} query {case['query']!r} "
          f"(C got {case['c_query']!r})")
    for key in ("authorization", "amz_date", "content_sha256",
                "security_token", "error"):
        if want.get(key) != got.get(key):
            print(f"    {key}: botocore {want.get(key)!r}")
            print(f"    {key}: ours     {got.get(key)!r}")
    print("    botocore canonical request:")
    print(masked(want["canonical_request"], case))
    print("    our canonical request:")
    print(masked(got.get("canonical_request", "(none)"), case))


def check_coverage(cases):
    """A seed that misses a feature would make the test weaker silently."""
    features = {
        "s3": lambda c: c["s3"], "unsigned": lambda c: c["unsigned"],
        "token": lambda c: c["token"], "prehashed": lambda c: c["prehashed"],
        "binary body": lambda c: b"\x00" in c["body"] or
        any(b > 0x7f for b in c["body"]),
        "dot segment": lambda c: "/../" in c["path"] + "/" or
        "/./" in c["path"] + "/",
        "double slash": lambda c: "//" in c["path"],
        "raw unicode path": lambda c: any(ord(ch) > 0x7f
                                          for ch in c["path"]),
        "bare query key": lambda c: any("=" not in p and p
                                        for p in c["query"].split("&")),
        "re-encoded query": lambda c: c["c_query"] != c["query"],
        "duplicate header": lambda c: len({n.lower() for n, _ in
                                           c["headers"]}) <
        len(c["headers"]),
    }
    missing = [name for name, has in features.items()
               if not any(has(c) for c in cases)]
    if missing:
        sys.exit("sigv4-botocore: seed covers no request with: "
                 + ", ".join(missing))
    for method in METHODS:
        if not any(c["method"] == method for c in cases):
            sys.exit(f"sigv4-botocore: seed has no {method} request")


def main():
    seed = int(os.environ.get("SIGV4_BOTOCORE_SEED", "1"))
    rng = random.Random(seed)
    cases = []
    for _ in range(NREQUESTS):
        cases.append(make_case(rng, cases))
    check_coverage(cases)
    wants = [botocore_sign(c) for c in cases]
    results = run_helper([helper_input(c) for c in cases])
    if len(results) != NREQUESTS + 1:
        sys.exit(f"sigv4-botocore: helper printed {len(results)} lines, "
                 f"want {NREQUESTS + 1}")
    matched, shown = 0, 0
    keys = ("authorization", "amz_date", "content_sha256", "security_token")
    for index, (case, want, got) in enumerate(zip(cases, wants, results)):
        if all(want[k] == got.get(k) for k in keys):
            matched += 1
        elif shown < MAX_SHOWN:
            show(index, case, want, got)
            shown += 1
    stats = results[-1]
    scopes = {(c["secret_key"], datetime.datetime.utcfromtimestamp(
        c["when"]).strftime("%Y%m%d"), c["region"], c["service"])
        for c in cases}
    print(f"seed {seed}; helper cache: {stats['cache_hits']} hits, "
          f"{stats['cache_misses']} misses for {len(scopes)} distinct scopes")
    if (stats["cache_hits"] + stats["cache_misses"] != NREQUESTS or
            stats["cache_misses"] < len(scopes) or stats["cache_hits"] == 0):
        print("sigv4-botocore: cache counters are inconsistent")
        matched = min(matched, NREQUESTS - 1)
    print(f"sigv4-botocore: {matched}/{NREQUESTS} requests match botocore")
    return 0 if matched == NREQUESTS else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""http-retry: common/http.c against a scripted AWS stand-in on 127.0.0.1.

A threaded http.server answers each request from a per-scenario plan
(throttling in XML and JSON, 5xx, AccessDenied, x-amz-retry-after, slow
replies, oversized bodies) and records what it received; tests/unit/http-probe
sends the requests. Expected attempts, sleeps and quota values are worked out
by hand from AWS standard retry mode (botocore retries/standard.py: 500
tokens, 5 per retry, 10 per timeout retry, refund on success, backoff
rand * 2^(attempt-1) s). Every Authorization header is recomputed with
botocore's SigV4Auth / S3SigV4Auth. Prints one verdict line last.
"""
import hashlib
import http.server
import os
import re
import shlex
import subprocess
import sys
import threading
import time

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FAKESESSIONTOKEN/probe+only=="
STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"

BUILD = os.environ.get("TAGWARDEN_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
PROBE = os.path.join(BUILD, "tests", "unit", "http-probe")
WRAPPER = shlex.split(os.environ.get("TAGWARDEN_WRAPPER", ""))


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset([])

    def reset(self, plan):
        with self.lock:
            self.plan = list(plan)
            self.seen = []
            self.connections = 0


STATE = State()


def xml_error(status, code, message, rid, extra=None):
    body = ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/"
            "2011-06-15/\"><Error><Type>Sender</Type><Code>%s</Code>"
            "<Message>%s</Message></Error><RequestId>%s</RequestId>"
            "</ErrorResponse>" % (code, message, rid))
    headers = {"Content-Type": "text/xml", "x-amzn-RequestId": rid}
    headers.update(extra or {})
    return {"status": status, "body": body, "headers": headers}


def s3_error(status, code, message, rid, extra=None):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
            "</Code><Message>%s</Message><RequestId>%s</RequestId></Error>"
            % (code, message, rid))
    headers = {"Content-Type": "application/xml", "x-amz-request-id": rid}
    headers.update(extra or {})
    return {"status": status, "body": body, "headers": headers}


def json_error(code, message, rid, header_type=None):
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "x-amzn-RequestId": rid}
    body = '{"message": "%s"}' % message
    if header_type:
        headers["x-amzn-ErrorType"] = header_type
    else:
        body = ('{"__type": "com.amazonaws.resourcegroupstaggingapi#%s", '
                '"message": "%s"}' % (code, message))
    return {"status": 400, "body": body, "headers": headers}


STS_OK = {"status": 200, "headers": {"Content-Type": "text/xml",
                                     "x-amzn-RequestId": "req-ok"},
          "body": "<GetCallerIdentityResponse><GetCallerIdentityResult>"
                  "<Account>123456789012</Account></GetCallerIdentityResult>"
                  "</GetCallerIdentityResponse>"}
JSON_OK = {"status": 200, "body": '{"ResourceTagMappingList": []}',
           "headers": {"Content-Type": "application/x-amz-json-1.1",
                       "x-amzn-RequestId": "req-ok"}}
S3_OK = {"status": 200, "body": "<ListBucketResult></ListBucketResult>",
         "headers": {"Content-Type": "application/xml",
                     "x-amz-request-id": "req-ok"}}
XML_THROTTLE = xml_error(400, "Throttling", "Rate exceeded", "req-thr")


def slow(seconds):
    return dict(STS_OK, delay=seconds)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with STATE.lock:
            STATE.connections += 1

    def log_message(self, *args):
        pass

    def serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with STATE.lock:
            STATE.seen.append({"method": self.command, "path": self.path,
                               "headers": self.headers, "body": body})
            spec = STATE.plan.pop(0) if STATE.plan else STS_OK
        if spec.get("delay"):
            time.sleep(spec["delay"])
        data = spec["body"].encode()
        try:
            self.send_response(spec["status"])
            for name, value in spec["headers"].items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = serve


class Checks:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, scenario, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append("%s: %s %s" % (scenario, what, detail))
            print("FAIL %s: %s %s" % (scenario, what, detail))

    def equal(self, scenario, what, got, want):
        self.check(scenario, what, got == want,
                   "got %r, want %r" % (got, want))


C = Checks()


def run_probe(args, env_extra=None, endpoint=None):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_ENDPOINT_URL"):
            del env[k]
    env["AWS_ENDPOINT_URL"] = endpoint
    env.pop("LOG_LEVEL", None)
    env.update(env_extra or {})
    started = time.monotonic()
    proc = subprocess.run(WRAPPER + [PROBE] + args, env=env,
                          capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    results = []
    lines = proc.stdout.splitlines()
    for i in range(0, len(lines) - 1, 2):
        fields = dict(kv.split("=", 1) for kv in lines[i].split())
        fields["error"] = lines[i + 1][len("error: "):]
        results.append(fields)
    return proc, results, elapsed


def verify_signature(scenario, seen, service, region, token):
    """Recompute the SigV4 signature with botocore for what we received."""
    h = seen["headers"]
    auth = h.get("Authorization", "")
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/"
                     r"([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), "
                     r"Signature=([0-9a-f]{64})", auth)
    C.check(scenario, "Authorization layout", m is not None, repr(auth))
    if m is None:
        return
    C.equal(scenario, "credential scope", m.group(1, 3, 4),
            (AKID, region, service))
    signed = m.group(5).split(";")
    C.equal(scenario, "signed headers sorted", signed, sorted(signed))
    for name in ("host", "x-amz-date"):
        C.check(scenario, "%s signed" % name, name in signed, m.group(5))
    C.equal(scenario, "token signed", "x-amz-security-token" in signed,
            token is not None)
    C.equal(scenario, "token sent", h.get("X-Amz-Security-Token"), token)
    C.equal(scenario, "date matches scope", h.get("X-Amz-Date", "")[:8],
            m.group(2))
    request = AWSRequest(method=seen["method"],
                         url="http://%s%s" % (h["Host"], seen["path"]),
                         data=seen["body"],
                         headers={n: h[n] for n in signed})
    request.context["timestamp"] = h["X-Amz-Date"]
    auth_cls = S3SigV4Auth if service == "s3" else SigV4Auth
    signer = auth_cls(Credentials(AKID, SECRET, token), service, region)
    canonical = signer.canonical_request(request)
    want = signer.signature(signer.string_to_sign(request, canonical),
                            request)
    C.equal(scenario, "signature (botocore)", m.group(6), want)


def common_headers(scenario, seen, port):
    h = seen["headers"]
    C.equal(scenario, "Host", h.get("Host"), "127.0.0.1:%d" % port)
    C.equal(scenario, "User-Agent", h.get("User-Agent"), "tagwarden/0.1.0")
    C.equal(scenario, "no Expect", h.get("Expect"), None)


def scenario(name, plan, args, port, env=None, rc=0, endpoint=None):
    STATE.reset(plan)
    proc, results, elapsed = run_probe(
        args, env, endpoint or "http://127.0.0.1:%d" % port)
    C.equal(name, "exit status", proc.returncode, rc)
    C.check(name, "result lines", len(results) >= 1, proc.stdout +
            proc.stderr)
    if proc.returncode not in (0, 1):
        print(proc.stderr[-3000:])
    return proc, results, list(STATE.seen), STATE.connections, elapsed


def sts_args(*extra):
    return list(extra) + ["-b", STS_BODY, "sts", "us-east-1", "POST", "/"]


def tagging_args(*extra):
    return list(extra) + ["-T", "GetResources", "-b", "{}", "tagging",
                          "eu-west-1", "POST", "/"]


def test_query_throttling(port):
    name = "query-throttling-xml"
    _, res, seen, conns, _ = scenario(
        name, [XML_THROTTLE, XML_THROTTLE, STS_OK],
        sts_args("-k", "-f", "-r", "500"), port)
    r = res[0] if res else {}
    C.equal(name, "status", r.get("status"), "200")
    C.equal(name, "attempts", r.get("attempts"), "3")
    # rand 0.5: 0.5 * 2^0 s, then 0.5 * 2^1 s.
    C.equal(name, "sleeps", r.get("sleeps"), "500,1000")
    # 500 - 5 - 5, then the last retry's 5 refunded on success.
    C.equal(name, "quota", r.get("quota"), "495")
    C.equal(name, "requests seen", len(seen), 3)
    # A 400 with a whole body leaves the connection reusable.
    C.equal(name, "connections", conns, 1)
    for s in seen:
        common_headers(name, s, port)
        C.equal(name, "Content-Type", s["headers"].get("Content-Type"),
                "application/x-www-form-urlencoded; charset=utf-8")
        C.equal(name, "body", s["body"].decode(), STS_BODY)
        verify_signature(name, s, "sts", "us-east-1", TOKEN)


def test_json_throttling(port):
    name = "json-throttling"
    thr = json_error("ThrottlingException", "Rate exceeded", "req-j")
    _, res, seen, _, _ = scenario(name, [thr, thr, JSON_OK],
                                  tagging_args("-f", "-r", "250"), port)
    r = res[0] if res else {}
    C.equal(name, "status", r.get("status"), "200")
    C.equal(name, "attempts", r.get("attempts"), "3")
    C.equal(name, "sleeps", r.get("sleeps"), "250,500")
    C.equal(name, "quota", r.get("quota"), "495")
    C.equal(name, "requests seen", len(seen), 3)
    for s in seen:
        C.equal(name, "X-Amz-Target", s["headers"].get("X-Amz-Target"),
                "ResourceGroupsTaggingAPI_20170126.GetResources")
        C.equal(name, "Content-Type", s["headers"].get("Content-Type"),
                "application/x-amz-json-1.1")
        verify_signature(name, s, "tagging", "eu-west-1", None)

    name = "json-throttling-exhausted"
    plan = [json_error("ThrottlingException", "Rate exceeded", "req-%d" % i)
            for i in (1, 2, 3)]
    _, res, seen, _, _ = scenario(name, plan, tagging_args("-f", "-r", "0"),
                                  port, rc=1)
    r = res[0] if res else {}
    C.equal(name, "attempts", r.get("attempts"), "3")
    C.equal(name, "code", r.get("code"), "ThrottlingException")
    # No success, no refund: 500 - 5 - 5.
    C.equal(name, "quota", r.get("quota"), "490")
    C.equal(name, "requests seen", len(seen), 3)
    C.equal(name, "error", r.get("error"),
            "tagging GetResources failed: ThrottlingException: Rate exceeded "
            "(HTTP 400, request id req-3, after 3 attempts)")

    name = "json-errortype-header"
    denied = json_error("AccessDeniedException", "no tagging for you",
                        "req-h", header_type="AccessDeniedException:http://"
                        "internal.amazon.com/coral/com.amazon.coral.service/")
    _, res, seen, _, _ = scenario(name, [denied], tagging_args(), port, rc=1)
    r = res[0] if res else {}
    C.equal(name, "attempts", r.get("attempts"), "1")
    C.equal(name, "error", r.get("error"),
            "tagging GetResources failed: AccessDeniedException: no tagging "
            "for you (HTTP 400, request id req-h)")


def test_server_error(port):
    name = "500-then-ok"
    err = xml_error(500, "InternalFailure", "oops", "req-500")
    _, res, seen, _, _ = scenario(name, [err, STS_OK],
                                  sts_args("-f", "-r", "500"), port)
    r = res[0] if res else {}
    C.equal(name, "attempts", r.get("attempts"), "2")
    C.equal(name, "sleeps", r.get("sleeps"), "500")
    C.equal(name, "quota", r.get("quota"), "500")
    C.equal(name, "requests seen", len(seen), 2)

    name = "access-denied"
    denied = xml_error(403, "AccessDenied", "User: arn:aws:iam::123456789012"
                       ":user/probe is not authorized to perform: "
                       "sts:GetCallerIdentity", "req-denied")
    _, res, seen, _, _ = scenario(name, [denied, STS_OK], sts_args("-f"),
                                  port, rc=1)
    r = res[0] if res else {}
    C.equal(name, "attempts", r.get("attempts"), "1")
    C.equal(name, "sleeps", r.get("sleeps"), "-")
    C.equal(name, "requests seen", len(seen), 1)
    C.equal(name, "code", r.get("code"), "AccessDenied")
    C.equal(name, "error", r.get("error"),
            "sts GetCallerIdentity failed: AccessDenied: User: "
            "arn:aws:iam::123456789012:user/probe is not authorized to "
            "perform: sts:GetCallerIdentity (HTTP 403, request id req-denied)")


def test_retry_after(port):
    s3 = ["-q", "list-type=2", "s3", "us-west-2", "GET", "/my-bucket"]
    name = "retry-after-header"
    slowdown = s3_error(503, "SlowDown", "Please reduce your request rate.",
                        "req-s3", {"x-amz-retry-after": "300"})
    _, res, seen, _, _ = scenario(name, [slowdown, S3_OK],
                                  ["-k", "-f", "-r", "999"] + s3, port)
    r = res[0] if res else {}
    C.equal(name, "attempts", r.get("attempts"), "2")
    # 300 ms from the header, not 0.999 s of jitter.
    C.equal(name, "sleeps", r.get("sleeps"), "300")
    C.equal(name, "requests seen", len(seen), 2)
    for s in seen:
        C.equal(name, "path", s["path"], "/my-bucket?list-type=2")
        C.equal(name, "X-Amz-Content-SHA256",
                s["headers"].get("X-Amz-Content-SHA256"),
                hashlib.sha256(b"").hexdigest())
        verify_signature(name, s, "s3", "us-west-2", TOKEN)

    name = "retry-after-real-sleep"
    slowdown = s3_error(503, "SlowDown", "Please reduce your request rate.",
                        "req-s3", {"x-amz-retry-after": "700"})
    _, res, seen, _, elapsed = scenario(name, [slowdown, S3_OK], s3, port)
    r = res[0] if res else {}
    C.equal(name, "sleeps", r.get("sleeps"), "700")
    C.check(name, "slept at least 0.7 s", elapsed >= 0.7, "%.3f" % elapsed)


def test_timeouts(port):
    name = "slow-reply-timeouts"
    _, res, seen, _, _ = scenario(name, [slow(4), slow(4), STS_OK],
                                  sts_args("-t", "1500", "-f", "-r", "500"),
                                  port)
    r = res[0] if res else {}
    C.equal(name, "status", r.get("status"), "200")
    C.equal(name, "attempts", r.get("attempts"), "3")
    # Timeout retries cost 10: 500 - 10 - 10 + 10.
    C.equal(name, "quota", r.get("quota"), "490")
    C.equal(name, "requests seen", len(seen), 3)

    name = "slow-reply-gives-up"
    _, res, seen, _, _ = scenario(name, [slow(4), slow(4)],
                                  sts_args("-a", "2", "-t", "1500", "-f"),
                                  port, rc=1)
    r = res[0] if res else {}
    C.equal(name, "attempts", r.get("attempts"), "2")
    C.equal(name, "quota", r.get("quota"), "490")
    err = r.get("error", "")
    C.check(name, "error text", err.startswith(
        "sts GetCallerIdentity failed: Operation timed out after ") and
        err.endswith(" (after 2 attempts)"), repr(err))


def test_keepalive(port):
    for mode in ([], ["-m"]):
        name = "keep-alive" + ("-multi" if mode else "")
        _, res, seen, conns, _ = scenario(
            name, [STS_OK] * 3 + [XML_THROTTLE, STS_OK],
            mode + sts_args("-n", "4", "-f"), port)
        C.equal(name, "results", [x.get("status") for x in res],
                ["200"] * 4)
        C.equal(name, "attempts", [x.get("attempts") for x in res],
                ["1", "1", "1", "2"])
        C.equal(name, "requests seen", len(seen), 5)
        C.equal(name, "TCP connections", conns, 1)

    name = "multi-throttling"
    _, res, seen, _, _ = scenario(name, [XML_THROTTLE, XML_THROTTLE, STS_OK],
                                  sts_args("-m", "-k", "-f", "-r", "500"),
                                  port)
    r = res[0] if res else {}
    C.equal(name, "attempts", r.get("attempts"), "3")
    C.equal(name, "sleeps", r.get("sleeps"), "500,1000")
    C.equal(name, "quota", r.get("quota"), "495")
    for s in seen:
        verify_signature(name, s, "sts", "us-east-1", TOKEN)


def test_debug_trace(port):
    name = "debug-trace"
    proc, res, seen, _, _ = scenario(name, [XML_THROTTLE, STS_OK],
                                     sts_args("-k", "-f"), port,
                                     env={"LOG_LEVEL": "DEBUG"})
    trace = proc.stderr
    C.check(name, "trace has the request line", re.search(
        r"http: > POST http://127\.0\.0\.1:%d/ \(attempt 1\)" % port, trace)
        is not None, trace[:500])
    C.check(name, "trace has the reply", re.search(
        r"http: < POST http://127\.0\.0\.1:%d/: HTTP 200 \(attempt 2, "
        r"\d+ ms" % port, trace) is not None, trace[-500:])
    C.check(name, "Authorization redacted",
            "Authorization: [redacted]" in trace)
    C.check(name, "token redacted",
            "X-Amz-Security-Token: [redacted]" in trace)
    C.check(name, "no secret key", SECRET not in trace)
    C.check(name, "no token", TOKEN not in trace)
    for s in seen:
        sig = s["headers"].get("Authorization", "").split("Signature=")[-1]
        C.check(name, "no signature", len(sig) == 64 and sig not in trace)
    C.check(name, "no body", STS_BODY not in trace and
            "123456789012" not in trace)
    STATE.reset([])
    proc, _, _ = run_probe(sts_args("-k"), None,
                           "http://127.0.0.1:%d" % port)
    C.equal(name, "silent at INFO", proc.stderr, "")


def test_secret_scrub_and_limits(port):
    name = "signature-mismatch-scrubbed"
    canonical = ("The request signature we calculated does not match the "
                 "signature you provided. The Canonical String for this "
                 "request should have been\n'POST\n/\n\nhost:127.0.0.1\n"
                 "x-amz-date:20240101T000000Z\nx-amz-security-token:%s\n'"
                 % TOKEN)
    mismatch = xml_error(403, "SignatureDoesNotMatch", canonical, "req-sig")
    proc, res, _, _, _ = scenario(name, [mismatch], sts_args("-k"), port,
                                  rc=1)
    r = res[0] if res else {}
    C.check(name, "token not printed", TOKEN not in proc.stdout + proc.stderr)
    C.check(name, "error text", r.get("error", "").startswith(
        "sts GetCallerIdentity failed: SignatureDoesNotMatch: The request "
        "signature we calculated does not match"), r.get("error"))

    name = "body-limit"
    big = dict(STS_OK, body="<x>" + "a" * 4096 + "</x>")
    _, res, seen, _, _ = scenario(name, [big], sts_args("-B", "1024"), port,
                                  rc=1)
    r = res[0] if res else {}
    C.equal(name, "attempts", r.get("attempts"), "1")
    C.equal(name, "error", r.get("error"), "sts GetCallerIdentity failed: "
            "response body larger than the 1024 byte limit")

    name = "bad-endpoint"
    _, res, seen, _, _ = scenario(name, [], sts_args(), port, rc=1,
                                  endpoint="ftp://127.0.0.1:%d" % port)
    r = res[0] if res else {}
    C.equal(name, "requests seen", len(seen), 0)
    C.equal(name, "error", r.get("error"),
            "sts GetCallerIdentity: AWS_ENDPOINT_URL=\"ftp://127.0.0.1:%d\": "
            "scheme must be http or https, e.g. http://127.0.0.1:4566" % port)


def main():
    if not os.access(PROBE, os.X_OK):
        print("http-retry: FAIL: %s not built" % PROBE)
        return 1
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for test in (test_query_throttling, test_json_throttling,
                     test_server_error, test_retry_after, test_timeouts,
                     test_keepalive, test_debug_trace,
                     test_secret_scrub_and_limits):
            test(port)
    finally:
        server.shutdown()
    if C.failures:
        print("http-retry: FAIL: %d of %d checks failed" %
              (len(C.failures), len(C.failures) + C.passed))
        return 1
    print("http-retry: %d checks passed" % C.passed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

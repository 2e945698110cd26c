#!/usr/bin/python3
"""creds-chain: the credentials chain of common/creds.c, end to end.

A threaded http.server on 127.0.0.1 stands in for the EC2 instance metadata
service (IMDSv2: PUT a session token, then GETs that must carry it), the
ECS/EKS container credentials endpoint (checks the Authorization token)
and STS (Query form POSTs: AssumeRole, whose SigV4 signature is recomputed
with botocore, and unsigned AssumeRoleWithWebIdentity, whose token is
checked), answering with real-shaped XML and JSON. tests/unit/creds-probe
resolves the chain under different environments (HOME in a temporary
directory, AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL,
AWS_EC2_METADATA_SERVICE_ENDPOINT and AWS_CONTAINER_CREDENTIALS_FULL_URI
pointing at the server) and prints the winning source, the access key id
and SHA-256 digests of the secret and token; every run is at
LOG_LEVEL=DEBUG and its output must hold no secret or token. Last, the
shared-file reader is compared with botocore's on the same files.

Environment: TAGWARDEN_BUILD (holds tests/unit/creds-probe),
TAGWARDEN_WRAPPER (command prefix, e.g. valgrind). Prints one verdict line.
"""
import hashlib
import http.server
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BUILD = os.environ.get("TAGWARDEN_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
PROBE = os.path.join(BUILD, "tests", "unit", "creds-probe")
WRAPPER = shlex.split(os.environ.get("TAGWARDEN_WRAPPER", ""))

ENV_KEY = ("AKIAENVEXAMPLE00001", "envSecret/EXAMPLE+key0001", None)
ENV_TOK = ("ASIAENVEXAMPLE00002", "envSecret/EXAMPLE+key0002",
           "envSessionToken/EXAMPLE+0002==")
FILE_KEY = ("AKIAFILEEXAMPLE0003", "fileSecret/EXAMPLE+key0003", None)
BASE_KEY = ("AKIABASEEXAMPLE0004", "baseSecret/EXAMPLE+key0004", None)
IMDS_KEY = ("ASIAIMDSEXAMPLE0005", "imdsSecret/EXAMPLE+key0005",
            "imdsSessionToken/EXAMPLE+0005==")
CONT_KEY = ("ASIACONTEXAMPLE0006", "contSecret/EXAMPLE+key0006",
            "contSessionToken/EXAMPLE+0006==")
ROLE_OPS = "arn:aws:iam::123456789012:role/ops"
ROLE_WEB = "arn:aws:iam::123456789012:role/web"
ROLES = {
    ROLE_OPS: ("ASIAOPSEXAMPLE00007", "opsSecret/EXAMPLE+key0007",
               "opsSessionToken/EXAMPLE+0007=="),
    ROLE_WEB: ("ASIAWEBEXAMPLE00008", "webSecret/EXAMPLE+key0008",
               "webSessionToken/EXAMPLE+0008=="),
}
IMDS_TOKEN = "AQAEAimdsV2SessionTokenEXAMPLE0009=="
CONTAINER_AUTH = "containerAuthToken/EXAMPLE+0010"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnMDAxMQ"
IMDS_ROLE = "probe-instance-role"
EXPIRES = int(time.time()) + 3600
EXPIRES_ISO = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EXPIRES))

# Who may sign AssumeRole: access key id -> (secret, session token).
SIGNERS = {k[0]: (k[1], k[2]) for k in (FILE_KEY, BASE_KEY, IMDS_KEY)}
SECRETS = [k[1] for k in (ENV_KEY, ENV_TOK, FILE_KEY, BASE_KEY, IMDS_KEY,
                          CONT_KEY)] + \
    [v for r in ROLES.values() for v in r[1:]] + \
    [ENV_TOK[2], IMDS_KEY[2], CONT_KEY[2], IMDS_TOKEN, CONTAINER_AUTH,
     WEB_TOKEN]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []

    def reset(self):
        with self.lock:
            self.seen = []

    def add(self, item):
        with self.lock:
            self.seen.append(item)


STATE = State()


def sts_xml(action, key):
    return ("<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<%sResult><AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s"
            "</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/x/s"
            "</Arn></AssumedRoleUser><Credentials><AccessKeyId>%s"
            "</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
            "<SessionToken>%s</SessionToken><Expiration>%s</Expiration>"
            "</Credentials></%sResult><ResponseMetadata><RequestId>"
            "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>"
            "</ResponseMetadata></%sResponse>" %
            (action, action, key[0], key[1], key[2], EXPIRES_ISO, action,
             action))


def sts_error(status, code, message):
    return (status, "text/xml",
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/"
            "2011-06-15/\"><Error><Type>Sender</Type><Code>%s</Code>"
            "<Message>%s</Message></Error><RequestId>1</RequestId>"
            "</ErrorResponse>" % (code, message))


def creds_json(key, code=None):
    doc = {"AccessKeyId": key[0], "SecretAccessKey": key[1],
           "Token": key[2], "Expiration": EXPIRES_ISO}
    if code:
        doc.update({"Code": code, "LastUpdated": EXPIRES_ISO,
                    "Type": "AWS-HMAC"})
    return json.dumps(doc, indent=2)


def check_signature(method, path, headers, body):
    """None when botocore computes the same SigV4 signature, else why not."""
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/"
                     r"sts/aws4_request, SignedHeaders=([a-z0-9;-]+), "
                     r"Signature=([0-9a-f]{64})",
                     headers.get("Authorization", ""))
    if m is None:
        return "no SigV4 Authorization header", None
    akid, region, signed = m.group(1), m.group(3), m.group(4).split(";")
    if akid not in SIGNERS:
        return "unknown signer %s" % akid, akid
    secret, token = SIGNERS[akid]
    if headers.get("X-Amz-Security-Token") != token:
        return "X-Amz-Security-Token does not match the signer", akid
    request = AWSRequest(method=method, url="http://%s%s" %
                         (headers["Host"], path), data=body,
                         headers={n: headers[n] for n in signed})
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(akid, secret, token), "sts", region)
    want = signer.signature(signer.string_to_sign(
        request, signer.canonical_request(request)), request)
    if want != m.group(5):
        return "signature differs from botocore's", akid
    return None, akid


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, ctype, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def imds(self):
        h = self.headers
        if self.command == "PUT" and self.path == "/latest/api/token":
            ok = h.get("X-aws-ec2-metadata-token-ttl-seconds") == "21600"
            STATE.add({"kind": "imds-token", "ok": ok})
            return self.reply(200 if ok else 400, "text/plain",
                              IMDS_TOKEN if ok else "bad ttl")
        ok = h.get("X-aws-ec2-metadata-token") == IMDS_TOKEN
        STATE.add({"kind": "imds-get", "path": self.path, "ok": ok})
        if self.command != "GET" or not ok:
            return self.reply(401, "text/plain", "Unauthorized")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, "text/plain", IMDS_ROLE)
        if self.path == base + IMDS_ROLE:
            return self.reply(200, "text/plain",
                              creds_json(IMDS_KEY, "Success"))
        return self.reply(404, "text/plain", "Not Found")

    def container(self):
        ok = self.headers.get("Authorization") == CONTAINER_AUTH
        STATE.add({"kind": "container", "ok": ok})
        if not ok:
            return self.reply(401, "application/json",
                              '{"message": "invalid authorization token"}')
        return self.reply(200, "application/json", creds_json(CONT_KEY))

    def sts(self, body):
        form = {k: v[0] for k, v in urllib.parse.parse_qs(
            body.decode(), keep_blank_values=True).items()}
        action = form.get("Action")
        seen = {"kind": "sts", "action": action, "form": form,
                "signer": None, "why": None}
        STATE.add(seen)
        if action == "AssumeRole":
            seen["why"], seen["signer"] = check_signature(
                self.command, self.path, self.headers, body)
            if seen["why"]:
                return self.reply(*sts_error(403, "SignatureDoesNotMatch",
                                             seen["why"]))
        elif action == "AssumeRoleWithWebIdentity":
            if "Authorization" in self.headers:
                seen["why"] = "signed"
            if form.get("WebIdentityToken") != WEB_TOKEN:
                return self.reply(*sts_error(
                    400, "InvalidIdentityToken", "Token is not valid"))
        else:
            return self.reply(*sts_error(400, "InvalidAction", "no"))
        if form.get("RoleArn") not in ROLES:
            return self.reply(*sts_error(403, "AccessDenied", "Not "
                                         "authorized to assume the role"))
        return self.reply(200, "text/xml",
                          sts_xml(action, ROLES[form["RoleArn"]]))

    def serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/latest/"):
            return self.imds()
        if self.path.startswith("/ecs/"):
            return self.container()
        if self.command == "POST" and self.path == "/":
            return self.sts(body)
        return self.reply(404, "text/plain", "Not Found")

    do_GET = do_POST = do_PUT = serve


class Checks:
    def __init__(self):
        self.passed = 0
        self.failures = []

    def check(self, scenario, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failures.append("%s: %s" % (scenario, what))
            print("FAIL %s: %s %s" % (scenario, what, detail))

    def equal(self, scenario, what, got, want):
        self.check(scenario, what, got == want,
                   "got %r, want %r" % (got, want))


C = Checks()


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest() if text else "none"


def base_env(home):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k != "LOG_LEVEL"}
    env.update({"HOME": home, "LOG_LEVEL": "DEBUG",
                "AWS_EC2_METADATA_DISABLED": "true"})
    return env


def run_probe(name, home, extra):
    env = base_env(home)
    env.update(extra)
    for k in [k for k, v in env.items() if v is None]:
        del env[k]
    STATE.reset()
    started = time.monotonic()
    proc = subprocess.run(WRAPPER + [PROBE], env=env, capture_output=True,
                          text=True, timeout=300)
    elapsed = time.monotonic() - started
    out = dict(line.split("=", 1) for line in proc.stdout.splitlines()
               if "=" in line)
    for secret in SECRETS:
        C.check(name, "no secret or token in the output",
                secret not in proc.stdout and secret not in proc.stderr,
                "(%s... leaked)" % secret[:8])
    C.check(name, "probe ran cleanly", proc.returncode in (0, 1),
            "exit %d: %s" % (proc.returncode, proc.stderr[-2000:]))
    return proc, out, list(STATE.seen), elapsed


def expect_creds(name, home, extra, source, key, expiration=None):
    proc, out, seen, _ = run_probe(name, home, extra)
    C.equal(name, "exit status", proc.returncode, 0)
    if proc.returncode != 0:
        print(proc.stderr[-2000:])
    C.equal(name, "source", out.get("source"), source)
    C.equal(name, "access key id", out.get("access_key_id"), key[0])
    C.equal(name, "secret digest", out.get("secret_sha256"), sha(key[1]))
    C.equal(name, "token digest", out.get("token_sha256"), sha(key[2]))
    if expiration is not None:
        C.equal(name, "expiration", out.get("expiration"), str(expiration))
    return seen


def expect_error(name, home, extra, *fragments):
    proc, out, seen, elapsed = run_probe(name, home, extra)
    C.equal(name, "exit status", proc.returncode, 1)
    C.check(name, "no credentials printed", "access_key_id" not in out)
    for frag in fragments:
        C.check(name, "error mentions %r" % frag, frag in proc.stderr,
                proc.stderr[-1500:])
    return seen, elapsed


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def sts_calls(seen):
    return [s for s in seen if s["kind"] == "sts"]


def test_environment(url, home):
    expect_creds("env", home, {"AWS_ACCESS_KEY_ID": ENV_KEY[0],
                               "AWS_SECRET_ACCESS_KEY": ENV_KEY[1]},
                 "environment", ENV_KEY, 0)
    expect_creds("env+token", home, {"AWS_ACCESS_KEY_ID": ENV_TOK[0],
                                     "AWS_SECRET_ACCESS_KEY": ENV_TOK[1],
                                     "AWS_SESSION_TOKEN": ENV_TOK[2]},
                 "environment", ENV_TOK, 0)
    expect_error("env half", home, {"AWS_ACCESS_KEY_ID": ENV_KEY[0]},
                 "AWS_SECRET_ACCESS_KEY is not")


def test_web_identity(url, home):
    token = write(os.path.join(home, "web-token"), WEB_TOKEN + "\n")
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": ROLE_WEB,
           "AWS_ROLE_SESSION_NAME": "ci-run", "AWS_ENDPOINT_URL_STS": url}
    seen = expect_creds("web identity", home, env, "web-identity",
                        ROLES[ROLE_WEB], EXPIRES)
    calls = sts_calls(seen)
    C.equal("web identity", "one STS call", len(calls), 1)
    if calls:
        C.equal("web identity", "action", calls[0]["action"],
                "AssumeRoleWithWebIdentity")
        C.equal("web identity", "unsigned", calls[0]["why"], None)
        C.equal("web identity", "RoleSessionName",
                calls[0]["form"].get("RoleSessionName"), "ci-run")
    env.pop("AWS_ROLE_SESSION_NAME")
    env["AWS_ENDPOINT_URL_STS"] = None
    env["AWS_ENDPOINT_URL"] = url
    seen = expect_creds("web identity generic endpoint", home, env,
                        "web-identity", ROLES[ROLE_WEB], EXPIRES)
    calls = sts_calls(seen)
    C.check("web identity generic endpoint", "default session name",
            len(calls) == 1 and re.fullmatch(r"tagwarden-\d{10}", calls[0][
                "form"].get("RoleSessionName", "")) is not None, repr(calls))
    write(token, "not-the-token")
    expect_error("web identity refused", home, env,
                 "AssumeRoleWithWebIdentity " + ROLE_WEB,
                 "InvalidIdentityToken")
    os.unlink(token)
    expect_error("web identity no file", home, env,
                 "AWS_WEB_IDENTITY_TOKEN_FILE: " + token)


def test_shared_files(url, home):
    cred = os.path.join(home, ".aws", "credentials")
    cfg = os.path.join(home, ".aws", "config")
    write(cred, "[default]\naws_access_key_id = %s\n"
          "aws_secret_access_key = %s\n"
          "[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n" %
          (FILE_KEY[0], FILE_KEY[1], BASE_KEY[0], BASE_KEY[1]))
    write(cfg, "[default]\nregion = us-east-1\n"
          "[profile ops]\nrole_arn = %s\nsource_profile = base\n"
          "external_id = ext-0042\nduration_seconds = 1800\n"
          "[profile imds]\nrole_arn = %s\n"
          "credential_source = Ec2InstanceMetadata\n"
          "[profile loop]\nrole_arn = %s\nsource_profile = loop2\n"
          "[profile loop2]\nrole_arn = %s\nsource_profile = loop\n" %
          (ROLE_OPS, ROLE_OPS, ROLE_OPS, ROLE_OPS))
    expect_creds("profile default", home, {}, "profile:default", FILE_KEY, 0)
    seen = expect_creds("assume role", home, {
        "AWS_PROFILE": "ops", "AWS_ENDPOINT_URL_STS": url},
        "assume-role:ops", ROLES[ROLE_OPS], EXPIRES)
    calls = sts_calls(seen)
    C.equal("assume role", "one STS call", len(calls), 1)
    if calls:
        C.equal("assume role", "signature", calls[0]["why"], None)
        C.equal("assume role", "signed by the source profile",
                calls[0]["signer"], BASE_KEY[0])
        C.equal("assume role", "form", {k: calls[0]["form"].get(k) for k in
                                        ("Action", "Version", "RoleArn",
                                         "ExternalId", "DurationSeconds")},
                {"Action": "AssumeRole", "Version": "2011-06-15",
                 "RoleArn": ROLE_OPS, "ExternalId": "ext-0042",
                 "DurationSeconds": "1800"})
    seen = expect_creds("credential_source", home, {
        "AWS_PROFILE": "imds", "AWS_ENDPOINT_URL_STS": url,
        "AWS_EC2_METADATA_DISABLED": None,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": url},
        "assume-role:imds", ROLES[ROLE_OPS], EXPIRES)
    calls = sts_calls(seen)
    C.check("credential_source", "signed by IMDS credentials with token",
            len(calls) == 1 and calls[0]["signer"] == IMDS_KEY[0] and
            calls[0]["why"] is None, repr(calls))
    expect_error("cycle", home, {"AWS_PROFILE": "loop"},
                 cfg + " line ", "source_profile cycle loop -> loop2 -> loop")
    expect_error("missing profile", home, {"AWS_PROFILE": "nope"},
                 "AWS_PROFILE=nope", cred, cfg)
    write(cfg, "[default]\nregion = us-east-1\nthis is not a setting\n")
    expect_error("broken config", home, {}, cfg + " line 3: ")
    os.unlink(cfg)
    os.unlink(cred)


def test_container(url, home):
    full = url + "/ecs/creds"
    expect_creds("container", home, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": full,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_AUTH},
        "container", CONT_KEY, EXPIRES)
    token = write(os.path.join(home, "eks-token"), CONTAINER_AUTH + "\n")
    expect_creds("container token file", home, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": full,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-file-set",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token},
        "container", CONT_KEY, EXPIRES)
    expect_error("container bad token", home, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": full,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"},
        "container credentials", "HTTP 401")
    seen, _ = expect_error("container host refused", home, {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.7/creds"},
        "host 192.0.2.7 is not allowed over http")
    C.equal("container host refused", "nothing sent", seen, [])


def test_imds(url, home):
    seen = expect_creds("imds", home, {
        "AWS_EC2_METADATA_DISABLED": None,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": url + "/"},
        "imds", IMDS_KEY, EXPIRES)
    C.equal("imds", "token, role list, role", [(s["kind"], s["ok"])
                                               for s in seen],
            [("imds-token", True), ("imds-get", True), ("imds-get", True)])
    # Accepts the connection, never answers: must give up within seconds.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(8)
    try:
        _, elapsed = expect_error("imds hangs", home, {
            "AWS_EC2_METADATA_DISABLED": None,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT":
                "http://127.0.0.1:%d" % hang.getsockname()[1]},
            "no AWS credentials found", "EC2 instance metadata at")
    finally:
        hang.close()
    C.check("imds hangs", "falls through quickly", elapsed < 15,
            "%.1f s" % elapsed)
    expect_error("nothing", home, {}, "no AWS credentials found",
                 "AWS_WEB_IDENTITY_TOKEN_FILE unset", "no default profile",
                 "disabled by AWS_EC2_METADATA_DISABLED=true")


def test_precedence(url, home):
    write(os.path.join(home, ".aws", "credentials"),
          "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
          % FILE_KEY[:2])
    token = write(os.path.join(home, "web-token"), WEB_TOKEN)
    everything = {
        "AWS_ACCESS_KEY_ID": ENV_KEY[0], "AWS_SECRET_ACCESS_KEY": ENV_KEY[1],
        "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": ROLE_WEB,
        "AWS_ENDPOINT_URL_STS": url,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": url + "/ecs/creds",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": CONTAINER_AUTH,
        "AWS_EC2_METADATA_DISABLED": None,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": url}
    # Each winner is then switched off to let the next one win.
    order = [(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "environment",
              ENV_KEY),
             (("AWS_WEB_IDENTITY_TOKEN_FILE",), "web-identity",
              ROLES[ROLE_WEB]),
             (("HOME",), "profile:default", FILE_KEY),
             (("AWS_CONTAINER_CREDENTIALS_FULL_URI",), "container", CONT_KEY),
             ((), "imds", IMDS_KEY)]
    env = dict(everything)
    for names, source, key in order:
        seen = expect_creds("precedence " + source, home, env, source, key)
        C.check("precedence " + source, "later providers not asked",
                source == "imds" or all(s["kind"] != "imds-token"
                                        for s in seen), repr(seen))
        for var in names:
            env[var] = os.path.join(home, "empty") if var == "HOME" else None
    os.unlink(os.path.join(home, ".aws", "credentials"))


# Shared files on which our reader and botocore's must agree.
LONG_TOKEN = ("IQoJb3JpZ2luX2VjEXAMPLE" * 60)[:1300]
FILE_CASES = [
    ("credentials file wins", None,
     "[default]\naws_access_key_id = AKIACRED1\n"
     "aws_secret_access_key = credSecret1\n",
     "[default]\naws_access_key_id = AKIACONF1\n"
     "aws_secret_access_key = confSecret1\naws_session_token = confTok\n"),
    ("config only, comments and sub-sections", "dev", None,
     "# top comment\n; another\n[profile dev]  ; note\n"
     "region = eu-west-1\ns3 =\n    max_concurrent_requests = 20\n"
     "    multipart_chunksize = 16MB\n\n"
     "aws_access_key_id=AKIASUB2\r\n"
     "AWS_SECRET_ACCESS_KEY : subSecret2\r\n"
     "[profile indented]\n  region = us-east-1\n"),
    ("indented settings", "indented", None,
     "[profile indented]\n  aws_access_key_id = AKIAIND3\n"
     "  aws_secret_access_key = indSecret3\n"
     "  aws_session_token = indToken3\n"),
    ("long session token", None,
     "[default]\naws_access_key_id = AKIALONG4\n"
     "aws_secret_access_key = longSecret4\n"
     "aws_session_token = %s\nregion = us-east-1\n" % LONG_TOKEN, None),
    ("hash is not an inline comment", None,
     "[default]\naws_access_key_id = AKIAHASH5 # not a comment\n"
     "aws_secret_access_key = hashSecret5\n", None),
    ("[profile x] in credentials is not x", "x",
     "[profile x]\naws_access_key_id = AKIAX6\n"
     "aws_secret_access_key = xSecret6\n", None),
    ("[x] in config is not a profile", "x", None,
     "[x]\naws_access_key_id = AKIAX7\naws_secret_access_key = xSecret7\n"),
    ("half a key pair", None,
     "[default]\naws_access_key_id = AKIAHALF8\n", None),
    ("token only from the file with the keys", "both",
     "[both]\naws_access_key_id = AKIABOTH9\n"
     "aws_secret_access_key = bothSecret9\n",
     "[profile both]\naws_session_token = configToken9\n"),
    ("profile without credentials", None, None,
     "[default]\nregion = us-west-2\n"),
]

BOTOCORE_SNIPPET = """
import hashlib, botocore.session
def sha(t):
    return hashlib.sha256(t.encode()).hexdigest() if t else "none"
try:
    c = botocore.session.Session().get_credentials()
    if c is None:
        print("none")
    else:
        f = c.get_frozen_credentials()
        print("%s\t%s\t%s" % (f.access_key, sha(f.secret_key),
                              sha(f.token)))
except Exception as e:
    print("error " + type(e).__name__)
"""


def test_botocore_agrees(url, home):
    for name, profile, cred, cfg in FILE_CASES:
        files = {}
        for var, text in (("AWS_SHARED_CREDENTIALS_FILE", cred),
                          ("AWS_CONFIG_FILE", cfg)):
            files[var] = os.path.join(home, "agree-" + var.lower())
            if text is not None:
                write(files[var], text)
            elif os.path.exists(files[var]):
                os.unlink(files[var])
        env = base_env(home)
        env.update(files)
        if profile:
            env["AWS_PROFILE"] = profile
        ref = subprocess.run(["/usr/bin/python3", "-c", BOTOCORE_SNIPPET],
                             env=env, capture_output=True, text=True,
                             timeout=60).stdout.strip().split("\t")
        extra = dict(files, AWS_PROFILE=profile)
        proc, out, _, _ = run_probe("botocore: " + name, home, extra)
        if proc.returncode == 0:
            ours = [out.get("access_key_id"), out.get("secret_sha256"),
                    out.get("token_sha256")]
        elif "no AWS credentials found" in proc.stderr:
            ours = ["none"]
        else:
            ours = ["error"]
        if ref[0].startswith("error"):
            ref = ["error"]
        C.equal("botocore: " + name, "same credentials as botocore", ours,
                ref)


def main():
    if not os.access(PROBE, os.X_OK):
        print("creds-chain: FAIL: %s not built" % PROBE)
        return 1
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    url = "http://127.0.0.1:%d" % server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="creds-chain.") as home:
            for test in (test_environment, test_web_identity,
                         test_shared_files, test_container, test_imds,
                         test_precedence, test_botocore_agrees):
                test(url, home)
    finally:
        server.shutdown()
    if C.failures:
        print("creds-chain: FAIL: %d of %d checks failed" %
              (len(C.failures), len(C.failures) + C.passed))
        return 1
    print("creds-chain: %d checks passed" % C.passed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

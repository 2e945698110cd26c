"""Helpers for the emulator's tests (not a test itself).

Starts tests/emulator/aws-emulator on port 0 with the build's binary (under
TAGWARDEN_WRAPPER when set, e.g. valgrind), reads the first stdout line for
the URL, always stops it at exit and fails the test if it did not exit 0
(so ASan and valgrind findings at shutdown fail the test). Also computes
expectations straight from fixture JSON, independently of the emulator.
"""
import atexit
import json
import os
import select
import shlex
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TAGWARDEN_SRC", os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("TAGWARDEN_BUILD", os.path.join(SRC, "build"))
WRAPPER = shlex.split(os.environ.get("TAGWARDEN_WRAPPER", ""))
SMALL = os.path.join(HERE, "fixtures", "small.json")
MGMT_KEY = "AKIAEMULATORMGMT0001"
MGMT_SECRET = "mgmt/Secret/Key/For/The/Emulator/Tests00"

# Never let the host's AWS configuration leak into a test.
os.environ["AWS_CONFIG_FILE"] = "/dev/null"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_PAGER"] = ""
for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION",
            "AWS_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
    os.environ.pop(var, None)


def program(name):
    return os.path.join(BUILD, "tests", "emulator", name)


def proto_constant(name):
    """A #define of common/proto.h (PROTO_VERSION, PROTO_INFLIGHT...), so a
    test speaks the protocol of the tree it tests."""
    with open(os.path.join(SRC, "common", "proto.h")) as f:
        for line in f:
            words = line.split()
            if words[:2] == ["#define", name]:
                return int(words[2])
    raise KeyError("no #define %s in common/proto.h" % name)


class Emulator:
    def __init__(self, fixture=SMALL, args=()):
        cmd = WRAPPER + [program("aws-emulator"), "--fixture", fixture,
                         "--listen", "127.0.0.1:0"] + list(args)
        self.stderr_path = os.path.join(
            os.environ.get("TMPDIR", "/tmp"),
            "emulator-%d-%d.stderr" % (os.getpid(), id(self)))
        self.stderr = open(self.stderr_path, "w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        atexit.register(self.kill)
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("listening on http://127.0.0.1:"):
            self.kill()
            raise SystemExit("emulator did not start: %r; stderr: %s" %
                             (line, self.stderr_text()))
        self.url = line.split()[-1]

    def stderr_text(self):
        self.stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self):
        """SIGTERM and wait; the exit status must be 0 (clean shutdown)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Checks:
    """Counts checks; the verdict line is printed by finish()."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = []

    def ok(self, cond, what, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed.append(what)
            print("FAIL: %s %s" % (what, str(detail)[:3000]), flush=True)
        return cond

    def check(self, what, cond, detail=""):
        """ok() with the name first, as the integration scripts write it."""
        return self.ok(cond, what, detail)

    def eq(self, got, want, what):
        return self.ok(got == want, "%s: got %r, want %r" % (what, got, want))

    def error_code(self, fn, want, what):
        """fn() must raise a botocore ClientError with code want."""
        import botocore.exceptions
        try:
            fn()
        except botocore.exceptions.ClientError as e:
            return self.eq(e.response["Error"]["Code"], want, what)
        return self.ok(False, "%s: no error, want %s" % (what, want))

    def finish(self, emulators=()):
        for emu in emulators:
            rc = emu.stop()
            self.eq(rc, 0, "emulator exit status after SIGTERM")
            if rc != 0:
                print(emu.stderr_text()[-4000:])
        if self.failed:
            print("%s: %d checks failed, %d passed" %
                  (self.name, len(self.failed), self.passed))
            sys.exit(1)
        print("%s: all %d checks passed" % (self.name, self.passed))
        sys.exit(0)


def client(emu, service, key=MGMT_KEY, secret=MGMT_SECRET, token=None,
           region="us-east-1", retries=None, read_timeout=120, validate=True):
    """A boto3 client for the emulator; validate=False sends what botocore
    would refuse, to test the emulator's own checks."""
    import boto3
    from botocore.config import Config
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret,
        aws_session_token=token, region_name=region)
    # total_max_attempts counts the first call; max_attempts would not.
    cfg = Config(retries=retries or {"mode": "standard",
                                     "total_max_attempts": 1},
                 connect_timeout=10, read_timeout=read_timeout,
                 parameter_validation=validate)
    return session.client(service, endpoint_url=emu.url, config=cfg)


def assume(emu, role_arn, name="emulator-test", region="us-east-1",
           **client_args):
    creds = client(emu, "sts", region=region, **client_args).assume_role(
        RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    return dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                token=creds["SessionToken"])


def load(path=SMALL):
    with open(path) as f:
        return json.load(f)


# ---- expectations computed from the fixture, not from the emulator ----

STANDARD_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "sa-east-1",
]


def account(fx, account_id):
    return next(a for a in fx["accounts"] if a["id"] == account_id)


def regions(acct):
    """{name: status} with the README's default of 17 enabled regions."""
    return acct.get("regions") or {r: "enabled" for r in STANDARD_REGIONS}


def tags_of(res):
    t = res.get("tags", {})
    if isinstance(t, list):
        return {e["Key"]: e["Value"] for e in t}
    return dict(t)


def ever_tagged(res):
    return res.get("ever_tagged", len(tags_of(res)) > 0)


def arn_of(res, acct_id, region):
    """The README's ARN rules, written out again here."""
    if "arn" in res:
        return res["arn"]
    svc, rtype = res["type"].split(":")
    special = {
        "s3:bucket": "arn:aws:s3:::%s",
        "rds:db": "arn:aws:rds:{r}:{a}:db:%s",
        "lambda:function": "arn:aws:lambda:{r}:{a}:function:%s",
    }
    fmt = special.get(res["type"],
                      "arn:aws:%s:{r}:{a}:%s/%%s" % (svc, rtype))
    return fmt.format(r=region, a=acct_id) % res["id"]


def resources(fx, acct_id, region):
    return account(fx, acct_id).get("resources", {}).get(region, [])


def tagging_expect(fx, acct_id, region, types=(), tag_filters=()):
    """ARNs GetResources must return: ever tagged, type and tag filters."""
    out = []
    for res in resources(fx, acct_id, region):
        if not ever_tagged(res):
            continue
        if types and not any(res["type"] == t or
                             res["type"].split(":")[0] == t for t in types):
            continue
        tags = tags_of(res)
        if any(f["Key"] not in tags or
               (f.get("Values") and tags[f["Key"]] not in f["Values"])
               for f in tag_filters):
            continue
        out.append(arn_of(res, acct_id, region))
    return out


def default_state(res):
    return res.get("state", {"ec2:instance": "running",
                             "ec2:volume": "in-use"}.get(res["type"], ""))


def now():
    return time.time()


def control(emu, method, what, body=None):
    """/_emulator/<what>: (status, decoded JSON)."""
    import urllib.error
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(emu.url + "/_emulator/" + what, data=data,
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def stats(emu):
    return control(emu, "GET", "stats")[1]


def signed_request(emu, service, body, headers, key=MGMT_KEY,
                   secret=MGMT_SECRET, token=None, region="us-east-1"):
    """(path, headers, body) signed by botocore's SigV4Auth."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    creds = botocore.credentials.Credentials(key, secret, token)
    req = botocore.awsrequest.AWSRequest(method="POST", url=emu.url + "/",
                                         data=body, headers=headers)
    botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    return "/", dict(req.headers.items()), body.encode()


def query_request(emu, service, action, version, **kw):
    return signed_request(
        emu, service, "Action=%s&Version=%s" % (action, version),
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        **kw)

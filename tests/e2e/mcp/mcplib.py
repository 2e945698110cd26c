"""Shared pieces of the MCP end-to-end tests (tests/e2e/2NN-mcp-*.sh).

A real `tagwarden` speaks to these tests over its stdin/stdout pipes, one
JSON-RPC message per line; the AWS emulator serves tests/fixtures/mcp.json.
Expected numbers never come from tagwarden: they come from
tests/oracle/oracle.py (an independent scan model) or from the fixture and
the policy read here.

Environment (as scripts/test sets it): TAGWARDEN_SRC, TAGWARDEN_BUILD,
PYTHON, TAGWARDEN_WRAPPER (a prefix such as valgrind for our programs).
"""

import datetime
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SRC = os.environ.get("TAGWARDEN_SRC", os.path.abspath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")))
BUILD = os.environ.get("TAGWARDEN_BUILD", SRC)
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
WRAPPER = os.environ.get("TAGWARDEN_WRAPPER", "").split()
TAGWARDEN = os.path.join(BUILD, "supervisor", "tagwarden")
WORKER = os.path.join(BUILD, "worker", "tagwarden-worker")
EMULATOR = os.path.join(BUILD, "tests", "emulator", "aws-emulator")
ORACLE = os.path.join(SRC, "tests", "oracle", "oracle.py")
FIXTURE = os.path.join(SRC, "tests", "fixtures", "mcp.json")
POLICY = os.path.join(SRC, "tests", "fixtures", "mcp-policy.json")
# Everything slows down about tenfold under valgrind.
SLOW = 10 if WRAPPER else 1
MGMT = "111111111111"
PROD = "222222222222"
DEV = "333333333333"
LOCKED = "444444444444"
ALL_ACCOUNTS = [MGMT, PROD, DEV, LOCKED]
# Every type a scan collects (the emulator serves them all).
TYPES = ["ec2:instance", "ec2:volume", "s3:bucket", "rds:db",
         "lambda:function", "ecs:cluster"]
# Types whose listing carries no creation time in AWS's API (Lambda
# ListFunctions has only LastModified; ECS DescribeClusters none).
NO_CREATION_TIME = ("lambda:function", "ecs:cluster")
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]   # the fixture's regions
# Mirrors tools.h TOOL_MAX_LIST as documented in docs/mcp.md.
LIST_LIMIT = 100


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def fixture():
    with open(FIXTURE) as f:
        return json.load(f)


def policy():
    with open(POLICY) as f:
        return json.load(f)


# ---- the emulator ----

class Emulator:
    def __init__(self, fixture_path=FIXTURE):
        self.proc = subprocess.Popen(
            WRAPPER + [EMULATOR, "--fixture", fixture_path, "--listen",
                       "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (http://127\.0\.0\.1:(\d+))$",
                     line.strip())
        if not m:
            self.proc.kill()
            raise Failure("emulator did not start: %r %s" % (
                line, self.proc.stderr.read()))
        self.url = m.group(1)

    def faults(self, rules):
        req = urllib.request.Request(
            self.url + "/_emulator/faults", data=json.dumps(rules).encode(),
            method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def clear_faults(self):
        req = urllib.request.Request(self.url + "/_emulator/faults",
                                     method="DELETE")
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("emulator did not stop on SIGTERM")
        check(rc == 0, "emulator exited %d: %s" % (rc,
                                                   self.proc.stderr.read()))


# ---- tagwarden over its pipes ----

def server_env(tmp, emulator=None, multi=False, extra=None):
    fx = fixture()
    mgmt = next(a for a in fx["accounts"] if a["id"] == MGMT)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tmp,
        "LANG": "C.UTF-8",
        "HISTORY_DB_PATH": os.path.join(tmp, "history.db"),
        "POLICY_PATH": POLICY,
        "TAGWARDEN_WORKER": WORKER,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "LOG_LEVEL": "INFO",
        "MULTI_ACCOUNT_ENABLED": "true" if multi else "false",
    }
    if multi:
        env["AWS_ACCOUNT_IDS"] = ",".join(ALL_ACCOUNTS)
    if emulator is not None:
        env["AWS_ENDPOINT_URL"] = emulator.url
        env["AWS_ACCESS_KEY_ID"] = mgmt["credentials"]["access_key_id"]
        env["AWS_SECRET_ACCESS_KEY"] = \
            mgmt["credentials"]["secret_access_key"]
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra or {})
    return env


class Server:
    """One tagwarden process; every stdout line must be a JSON-RPC message."""

    def __init__(self, env, args=None, stderr_path=None):
        self.stderr_path = stderr_path or os.path.join(env["HOME"],
                                                       "tagwarden.err")
        self.errf = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            WRAPPER + [TAGWARDEN] + (args or []), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.errf, env=env)
        self.responses = {}
        self.raw = {}
        self.notes = []
        self.bad = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.next_id = 1000

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                try:
                    msg = json.loads(line.decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as e:
                    self.bad.append((line[:200], str(e)))
                    self.cond.notify_all()
                    continue
                if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
                    self.bad.append((line[:200], "not a JSON-RPC object"))
                elif "id" in msg and ("result" in msg or "error" in msg):
                    key = json.dumps(msg["id"])
                    self.responses.setdefault(key, []).append(msg)
                    self.raw.setdefault(key, []).append(line)
                elif "method" in msg and "id" not in msg:
                    self.notes.append(msg)
                else:
                    self.bad.append((line[:200], "neither response nor "
                                     "notification"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg):
        self.send_raw(json.dumps(msg).encode() + b"\n")

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def request(self, method, params=None, rid=None, wait=True,
                timeout=30):
        rid = self.new_id() if rid is None else rid
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.wait(rid, timeout) if wait else rid

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def wait(self, rid, timeout=30):
        key = json.dumps(rid)
        deadline = time.monotonic() + timeout * SLOW
        with self.cond:
            while not self.responses.get(key):
                self.check_clean()
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and \
                        not self.reader.is_alive():
                    raise Failure("no answer to id %s (exit %s); stderr "
                                  "tail:\n%s" % (key, self.proc.poll(),
                                                 self.stderr_tail()))
                self.cond.wait(min(left, 0.5))
            return self.responses[key].pop(0)

    def wait_null_error(self, timeout=30):
        """The next error answer with id null."""
        return self.wait(None, timeout)

    def expect_silence(self, rid, seconds):
        time.sleep(seconds)
        with self.cond:
            self.check_clean()
            check(not self.responses.get(json.dumps(rid)),
                  "an answer came for id %r: %r" % (
                      rid, self.responses.get(json.dumps(rid))))

    def check_clean(self):
        check(not self.bad, "stdout carried non-protocol output: %r" %
              self.bad[:3])

    def initialize(self, version="2025-11-25"):
        r = self.request("initialize", {
            "protocolVersion": version, "capabilities": {},
            "clientInfo": {"name": "tagwarden-e2e", "version": "1"}})
        check("result" in r, "initialize failed: %r" % r)
        self.notify("notifications/initialized")
        return r["result"]

    def call(self, tool, args=None, rid=None, wait=True, progress=None,
             timeout=120):
        params = {"name": tool}
        if args is not None:
            params["arguments"] = args
        if progress is not None:
            params["_meta"] = {"progressToken": progress}
        return self.request("tools/call", params, rid=rid, wait=wait,
                            timeout=timeout)

    def tool_ok(self, tool, args=None, **kw):
        """A successful tool answer: structuredContent, same JSON as text."""
        r = self.call(tool, args, **kw)
        check("result" in r, "%s: protocol error %r" % (tool, r))
        res = r["result"]
        check(res.get("isError") is False, "%s: isError: %r" % (
            tool, res.get("content")))
        check(len(res["content"]) == 1 and res["content"][0]["type"] ==
              "text", "%s: content is not one text item" % tool)
        sc = res["structuredContent"]
        check(json.loads(res["content"][0]["text"]) == sc,
              "%s: the text item is not the structured JSON" % tool)
        return sc

    def tool_error(self, tool, args=None, **kw):
        r = self.call(tool, args, **kw)
        check("result" in r, "%s: expected a tool error, got %r" % (tool, r))
        res = r["result"]
        check(res.get("isError") is True, "%s: expected isError, got %r" % (
            tool, str(res)[:300]))
        check("structuredContent" not in res, "%s: error with "
              "structuredContent" % tool)
        return res["content"][0]["text"]

    def close(self, timeout=30):
        """EOF on stdin; the exit status (0 expected)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("tagwarden did not exit after EOF; stderr:\n%s" %
                          self.stderr_tail())
        self.reader.join(timeout=10)
        self.errf.close()
        self.check_clean()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.errf.close()

    def stderr_tail(self, n=3000):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def workers(self):
        """Live tagwarden-worker children of this server."""
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/status" % pid) as f:
                    st = f.read()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)", st, re.M)
            name = re.search(r"^Name:\s+(\S+)", st, re.M)
            if ppid and int(ppid.group(1)) == self.proc.pid and name and \
                    name.group(1).startswith("tagwarden-work"):
                out.append(int(pid))
        return out


def expect_exit_ok(server, what):
    rc = server.close()
    check(rc == 0, "%s: tagwarden exited %d; stderr:\n%s" % (
        what, rc, server.stderr_tail()))


# ---- expected values from independent sources ----

def oracle(account, types=None, regions=None, fixture_path=FIXTURE,
           policy_path=POLICY):
    cmd = [PYTHON, ORACLE, "--fixture", fixture_path, "--policy",
           policy_path, "--account", account, "--types",
           ",".join(types or TYPES)]
    if regions:
        cmd += ["--regions", ",".join(regions)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def oracle_resources(result):
    """ARN -> oracle resource entry, over the account's ok regions."""
    out = {}
    for name, reg in result["regions"].items():
        if reg and reg.get("status") == "ok":
            for r in reg["resources"]:
                out[r["arn"]] = dict(r, region=name)
    return out


def severity_of(tag_name):
    """The severity the policy gives a tag (tests/fixtures/mcp-policy.json)."""
    for t in policy()["required_tags"]:
        if t["name"].lower() == tag_name.lower():
            return t.get("severity", "error")
    return "warning"      # optional tags only ever warn


def _oracle_module():
    sys.path.insert(0, os.path.dirname(ORACLE))
    import oracle as mod      # noqa: E402 (the independent model)
    return mod


def fixture_tags():
    """ARN -> the tags the fixture gives the resource, with its created
    (ARNs as tests/oracle/oracle.py derives them)."""
    fx = fixture()
    arn_of = _oracle_module().arn_of
    out = {}
    for a in fx["accounts"]:
        for region, rs in a.get("resources", {}).items():
            for r in rs:
                arn = arn_of(a["id"], region, r)
                tags = r.get("tags", {})
                if isinstance(tags, list):
                    tags = {t["Key"]: t["Value"] for t in tags}
                out[arn] = {"tags": tags, "created": r.get(
                    "created", "2024-01-01T00:00:00Z"), "type": r["type"]}
    return out


def required_names(rtype):
    """The tags the policy requires of a type (exact names, no wildcards
    in the test policy)."""
    return [t["name"] for t in policy()["required_tags"]
            if rtype in t["applies_to"]]


def age_days(created, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    t = datetime.datetime.strptime(created[:19], "%Y-%m-%dT%H:%M:%S")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return (now - t).days


def expected_untagged(accounts, types=None, regions=None):
    """ARN -> age in days of every resource a scan reports that has none
    of its type's required tags (keys compared without case, as the test
    policy's case_sensitivity false says) or no tags at all."""
    tags = fixture_tags()
    out = {}
    for acct in accounts:
        res = oracle(acct, types, regions)
        if res["status"] != "ok":
            continue
        for arn, r in oracle_resources(res).items():
            if not r["tags_known"]:
                continue
            t = tags[arn]["tags"]
            have = {k.lower() for k in t}
            need = [n.lower() for n in required_names(r["type"])]
            if not t or not any(n in have for n in need):
                out[arn] = None if r["type"] in NO_CREATION_TIME else \
                    age_days(tags[arn]["created"])
    return out


# ---- running a test file ----

def run(cases):
    """Run (name, fn) cases; print one verdict line last; exit status."""
    failed = []
    for name, fn in cases:
        t0 = time.monotonic()
        try:
            fn()
            print("ok   %s (%.1f s)" % (name, time.monotonic() - t0))
        except Exception as e:     # a case's failure is the verdict
            failed.append(name)
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
        sys.stdout.flush()
    if failed:
        print("FAIL: %d of %d cases failed: %s" % (len(failed), len(cases),
                                                  ", ".join(failed)))
        return 1
    print("PASS: %d cases" % len(cases))
    return 0


def tempdir():
    return tempfile.mkdtemp(prefix="tagwarden-mcp-")

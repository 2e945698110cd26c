"""Shared by the end-to-end tests tests/e2e/0NN-*.py; not a test itself.

A test calls main(name, body). body(t) gets a Test, which owns:
- a temporary directory (kept when E2E_KEEP=1) holding the history
  database (HISTORY_DB_PATH) and whatever else the test writes;
- the emulators it starts: tests/emulator/aws-emulator on port 0, under
  TAGWARDEN_WRAPPER like our other binaries, its URL read from the first
  stdout line; at the end each is stopped with SIGTERM and must exit 0, so
  ASan and valgrind findings in the emulator fail the test too;
- tagwarden runs: TAGWARDEN_WRAPPER + tagwarden, in an environment built
  from nothing (env()), so the host's AWS settings never leak in.
Expected numbers come from tests/oracle/oracle.py, imported here; it reads
the fixture and the policy and never runs tagwarden.

The test prints one verdict line last, "PASS|FAIL|SKIP <name>: <why>", and
exits 0, 1 or 77 (scripts/test's convention).

Run as a program (`lib.py worker-proxy ...`) this file is a stand-in for
tagwarden-worker: see worker_proxy().
"""

import atexit
import collections
import http.client
import http.server
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("TAGWARDEN_SRC", os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("TAGWARDEN_BUILD", os.path.join(SRC, "build"))
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
WRAPPER = shlex.split(os.environ.get("TAGWARDEN_WRAPPER", ""))
MODE = os.environ.get("TAGWARDEN_TEST_MODE", "plain")
POLICY = os.path.join(SRC, "policies", "tagging_policy.json")
DEMO = os.path.join(SRC, "tests", "fixtures", "demo.json")
TAGWARDEN = os.path.join(BUILD, "supervisor", "tagwarden")
WORKER = os.path.join(BUILD, "worker", "tagwarden-worker")
FAKE_WORKER = os.path.join(BUILD, "tests", "unit", "fake-worker")
EMULATOR = os.path.join(BUILD, "tests", "emulator", "aws-emulator")

# Waits are generous: a loaded 2-core CI machine, valgrind is ~20x slower.
SLOW = 10 if WRAPPER else (2 if MODE == "asan" else 1)

sys.path.insert(0, os.path.join(SRC, "tests", "oracle"))
import oracle  # noqa: E402  (path set just above)

# The oracle's default: every type tagwarden collects.
ALL_TYPES = ["ec2:instance", "ec2:volume", "s3:bucket", "rds:db",
             "lambda:function", "ecs:cluster"]
# Sanitizer and valgrind reports, in tagwarden's (and its workers') stderr.
FINDINGS = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|"
                      r"runtime error:|==\d+== (Invalid|Conditional|"
                      r"Syscall param|Mismatched)|definitely lost: [1-9]")


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def load_json(path):
    with open(path) as f:
        return json.load(f)


# ---- the emulator ----

class Emulator:
    def __init__(self, t, fixture, args=()):
        self.fixture = fixture
        self.log = os.path.join(t.tmp, "emulator-%d.stderr" %
                                len(t.emulators))
        self.err = open(self.log, "w")
        cmd = WRAPPER + [EMULATOR, "--fixture", fixture, "--listen",
                         "127.0.0.1:0"] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=self.err)
        ready, _, _ = select.select([self.proc.stdout], [], [], 60 * SLOW)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("listening on http://127.0.0.1:"):
            self.proc.kill()
            self.proc.wait()
            raise Failure("the emulator did not start (%r): %s" % (
                line, self.stderr_tail()))
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])
        # Its stdout carries nothing more; drain it so it never blocks.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stderr_tail(self, n=20):
        self.err.flush()
        with open(self.log) as f:
            return "".join(f.readlines()[-n:])

    def _control(self, method, what, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + "/_emulator/" + what,
                                     data=data, method=method)
        with urllib.request.urlopen(req, timeout=30 * SLOW) as r:
            return json.loads(r.read())

    def stats(self):
        return self._control("GET", "stats")

    def add_faults(self, rules):
        return self._control("POST", "faults", rules)

    def clear_faults(self):
        return self._control("DELETE", "faults")

    def stop(self):
        """SIGTERM; the exit status (0 is a clean shutdown)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.err.close()
        return rc


def sandbox_built():
    """Whether the build enters the worker sandbox (not --disable-sandbox,
    the valgrind build)."""
    try:
        with open(os.path.join(BUILD, "Makefile")) as f:
            return "-DWITH_SANDBOX=1" in f.read()
    except OSError:
        return False


def account_calls(stats, account):
    """Requests an account made that authenticated (0 when none)."""
    return stats["accounts"].get(account, {}).get("calls", 0)


def operation_calls(stats, op):
    return stats["operations"].get(op, 0)


# ---- a tagwarden run ----

class Run:
    def __init__(self, args, rc, out, err, secs):
        self.args, self.rc, self.out, self.err, self.secs = \
            args, rc, out, err, secs

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise Failure("tagwarden %s: stdout is not JSON (%s): %.300r" %
                          (" ".join(self.args), e, self.out))

    def describe(self):
        return "tagwarden %s: exit %s after %.1f s" % (
            " ".join(self.args), self.rc, self.secs)


def base_keys(fixture):
    """The management account's base credentials in a fixture."""
    with_creds = [a for a in fixture["accounts"] if "credentials" in a]
    mgmt = [a for a in with_creds if a.get("management")] or with_creds
    return mgmt[0]["id"], mgmt[0]["credentials"]


# ---- the test ----

class Test:
    def __init__(self, name):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="tagwarden-e2e-")
        self.db = os.path.join(self.tmp, "history.db")
        self.emulators = []
        self.runs = []
        self.children = []
        # Whatever happens (an exception, SIGTERM from a test runner's
        # timeout), nothing this test started outlives it.
        atexit.register(self._kill_all)
        signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(143))

    def _kill_all(self):
        for p in self.children + [e.proc for e in self.emulators]:
            if p.poll() is None:
                p.kill()
                p.wait()

    def emulator(self, fixture=DEMO, args=()):
        emu = Emulator(self, fixture, args)
        self.emulators.append(emu)
        return emu

    def env(self, emu, accounts=None, **extra):
        """tagwarden's environment against emu; accounts given: multi."""
        fx = load_json(emu.fixture)
        _, creds = base_keys(fx)
        e = {
            "PATH": "/usr/bin:/bin", "HOME": self.tmp, "TZ": "UTC",
            "AWS_ENDPOINT_URL": emu.url,
            "AWS_ACCESS_KEY_ID": creds["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": creds["secret_access_key"],
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": "us-east-1",
            "POLICY_PATH": POLICY, "HISTORY_DB_PATH": self.db,
            "MULTI_ACCOUNT_ENABLED": "false", "LOG_LEVEL": "INFO",
        }
        for v in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if v in os.environ:
                e[v] = os.environ[v]
        if accounts is not None:
            e["MULTI_ACCOUNT_ENABLED"] = "true"
            e["AWS_ACCOUNT_IDS"] = ",".join(accounts)
        for k, v in extra.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = str(v)
        return e

    def _findings(self, run):
        m = FINDINGS.search(run.err)
        if m is not None or (WRAPPER and run.rc == 99):
            raise Failure("%s: sanitizer or valgrind report: %s" % (
                run.describe(), run.err[max(0, (m.start() if m else 0)
                                            - 200):][:3000]))

    def tagwarden(self, args, env, timeout=120, rc=None):
        """Run tagwarden to the end; rc, when given, is the expected exit."""
        t0 = time.monotonic()
        try:
            p = subprocess.run(WRAPPER + [TAGWARDEN] + args, env=env,
                               capture_output=True, text=True,
                               timeout=timeout * SLOW)
        except subprocess.TimeoutExpired as e:
            raise Failure("tagwarden %s did not finish in %d s; stderr: %s"
                          % (" ".join(args), timeout * SLOW,
                             (e.stderr or b"")[-2000:]))
        run = Run(args, p.returncode, p.stdout, p.stderr,
                  time.monotonic() - t0)
        self.runs.append(run)
        self._findings(run)
        if rc is not None and run.rc != rc:
            raise Failure("%s, expected %d; stderr: %s" % (
                run.describe(), rc, run.err[-2500:]))
        return run

    def tagwarden_bg(self, args, env):
        """Start tagwarden; finish_bg() collects it."""
        out = open(os.path.join(self.tmp, "bg.stdout"), "w+")
        err = open(os.path.join(self.tmp, "bg.stderr"), "w+")
        p = subprocess.Popen(WRAPPER + [TAGWARDEN] + args, env=env,
                             stdout=out, stderr=err)
        p.e2e = (args, out, err, time.monotonic())
        self.children.append(p)
        return p

    def finish_bg(self, p, timeout=120, rc=None):
        args, out, err, t0 = p.e2e
        try:
            p.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Failure("tagwarden %s did not finish in %d s" % (
                " ".join(args), timeout * SLOW))
        out.seek(0)
        err.seek(0)
        run = Run(args, p.returncode, out.read(), err.read(),
                  time.monotonic() - t0)
        self.runs.append(run)
        self._findings(run)
        if rc is not None and run.rc != rc:
            raise Failure("%s, expected %d; stderr: %s" % (
                run.describe(), rc, run.err[-2500:]))
        return run

    def sqlite(self, sql_file, params=None):
        """Rows of a query file through the sqlite3 shell (| separated)."""
        cmd = ["sqlite3", "-batch", "-bail", "-separator", "|"]
        for k, v in (params or {}).items():
            cmd += ["-cmd", ".param set %s '%s'" % (k, v)]
        with open(sql_file) as f:
            p = subprocess.run(cmd + [self.db], stdin=f, capture_output=True,
                               text=True, timeout=60)
        check(p.returncode == 0, "sqlite3 < %s: exit %d: %s" % (
            sql_file, p.returncode, p.stderr.strip()))
        return [line.split("|") for line in p.stdout.splitlines()]

    def worker_proxy(self, mode, target):
        """A TAGWARDEN_WORKER that runs fake-worker MODE for account target
        and the real tagwarden-worker for every other account."""
        path = os.path.join(self.tmp, "worker-proxy-%s" % mode)
        with open(path, "w") as f:
            f.write("#!/bin/sh\nexec %s %s worker-proxy %s %s %s %s\n" % (
                shlex.quote(PYTHON), shlex.quote(os.path.abspath(__file__)),
                shlex.quote(FAKE_WORKER), shlex.quote(mode),
                shlex.quote(target), shlex.quote(WORKER)))
        os.chmod(path, 0o755)
        return path

    def close(self):
        """Stop what is still running; emulators must exit 0."""
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()
        bad = []
        for emu in self.emulators:
            rc = emu.stop()
            if rc != 0:
                bad.append("the emulator exited %d after SIGTERM: %s" % (
                    rc, emu.stderr_tail()))
        self.emulators = []
        if os.environ.get("E2E_KEEP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)
        if bad:
            raise Failure("; ".join(bad))


def main(name, body):
    t = Test(name)
    atexit.register(lambda: shutil.rmtree(t.tmp, ignore_errors=True)
                    if os.environ.get("E2E_KEEP") != "1" else None)
    try:
        summary = body(t)
        t.close()
    except Skip as e:
        t.close()
        print("SKIP %s: %s" % (name, e))
        sys.exit(77)
    except Failure as e:
        if t.runs:
            last = t.runs[-1]
            print("last run: %s\n--- stderr (tail) ---\n%s" % (
                last.describe(), last.err[-3000:]))
        try:
            t.close()
        except Failure as e2:
            print("also: %s" % e2)
        print("FAIL %s: %s" % (name, e))
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        try:
            t.close()
        except Failure as e2:
            print("also: %s" % e2)
        print("FAIL %s: the test itself broke (traceback above)" % name)
        sys.exit(1)
    print("PASS %s: %s" % (name, summary))
    sys.exit(0)


# ---- expectations from the oracle ----

def expect(fixture_path, accounts, regions=None, types=None,
           home="us-east-1"):
    """{account: oracle.scan() result} for the accounts of a fixture."""
    fx = load_json(fixture_path)
    pol = oracle.Policy(load_json(POLICY))
    return {a: oracle.scan(fx, pol, a, home, regions, types or ALL_TYPES)
            for a in accounts}


def expected_totals(exp):
    """counted, compliant, violations summed over the ok accounts."""
    tot = {"counted": 0, "compliant": 0, "violations": 0}
    for r in exp.values():
        if r["status"] == "ok":
            for k in tot:
                tot[k] += r["totals"][k]
    return tot


def score(compliant, total):
    return 1.0 if total == 0 else compliant / total


def expected_violations(exp):
    """Counter of (account, region, arn, type, tag, violation_type)."""
    c = collections.Counter()
    for acct, r in exp.items():
        if r["status"] != "ok":
            continue
        for region, reg in r["regions"].items():
            if reg["status"] != "ok":
                continue
            for res in reg["resources"]:
                for tag, vtype in res["violations"]:
                    c[(acct, region, res["arn"], res["type"], tag,
                       vtype)] += 1
    return c


def got_violations(result):
    c = collections.Counter()
    for v in result["violations"]:
        c[(v["account_id"], v["region"], v["resource_arn"],
           v["resource_type"], v["tag_name"], v["violation_type"])] += 1
    return c


def expected_skipped(exp):
    return {(a, reg) for a, r in exp.items() if r["status"] == "ok"
            for reg, v in r["regions"].items() if v["status"] == "skipped"}


def counter_diff(got, want, n=6):
    extra = list((got - want).elements())[:n]
    missing = list((want - got).elements())[:n]
    return "unexpected %s; missing %s" % (extra, missing)


def check_breakdown(entry, acct, exp):
    """One account_breakdown entry against the oracle's account result."""
    tot = exp["totals"]
    want = {"account_id": acct, "account_alias": exp["alias"],
            "total_resources": tot["counted"],
            "compliant_resources": tot["compliant"],
            "violation_count": tot["violations"]}
    for k, v in want.items():
        check(entry.get(k) == v, "account_breakdown[%s].%s = %r, the "
              "oracle says %r" % (acct, k, entry.get(k), v))
    s = score(tot["compliant"], tot["counted"])
    check(abs(entry["compliance_score"] - s) < 1e-9,
          "account_breakdown[%s].compliance_score = %r, the oracle says %r"
          % (acct, entry["compliance_score"], s))


# A violation's fields (DESIGN.md section 6).
VIOLATION_KEYS = {"resource_id", "resource_type", "resource_arn", "region",
                  "account_id", "tag_name", "violation_type", "severity",
                  "current_value", "allowed_values", "message"}


def severities():
    """tag name -> severity: a required tag's own, optional tags warn."""
    pol = load_json(POLICY)
    return {r["name"]: r.get("severity", "error")
            for r in pol["required_tags"]}


def check_result(result, exp, multi=True):
    """Totals, score, violations and skipped regions against the oracle
    (exp holds only the accounts expected to succeed)."""
    tot = expected_totals(exp)
    for key, k in (("total_resources", "counted"),
                   ("compliant_resources", "compliant"),
                   ("violation_count_total", "violations")):
        check(result[key] == tot[k], "%s = %r, the oracle says %r" % (
            key, result[key], tot[k]))
    s = score(tot["compliant"], tot["counted"])
    check(abs(result["compliance_score"] - s) < 1e-9,
          "compliance_score = %r, the oracle says %r" % (
              result["compliance_score"], s))
    check(not result["violations_truncated"], "violations truncated")
    got, want = got_violations(result), expected_violations(exp)
    check(got == want, "violations differ from the oracle's: %s" %
          counter_diff(got, want))
    sev = severities()
    for v in result["violations"]:
        check(set(v) == VIOLATION_KEYS, "violation keys %s, DESIGN.md "
              "section 6 says %s" % (sorted(v), sorted(VIOLATION_KEYS)))
        check(re.fullmatch(r"\d{12}", v["account_id"] or "") and
              v["region"], "a violation without account_id or region: "
              "%r" % v)
        check(v["severity"] == sev.get(v["tag_name"], "warning"),
              "violation %s of %s: severity %r, the policy says %r" % (
                  v["tag_name"], v["resource_arn"], v["severity"],
                  sev.get(v["tag_name"], "warning")))
    skipped = {(r["account_id"], r["region"]) for r in
               result["data_quality"]["regions_not_scanned"]
               if r["status"] == "skipped"}
    check(skipped == expected_skipped(exp), "skipped regions %s, the "
          "oracle says %s" % (sorted(skipped),
                              sorted(expected_skipped(exp))))
    if multi:
        for acct, r in exp.items():
            check(acct in result["account_breakdown"],
                  "account_breakdown has no entry for %s" % acct)
            check_breakdown(result["account_breakdown"][acct], acct, r)
    return tot


def ok_accounts(fixture_path, exclude=()):
    """Accounts of a fixture tagwarden can scan: those reached with base
    credentials or through a role that trusts the management account."""
    fx = load_json(fixture_path)
    mgmt, _ = base_keys(fx)
    trusted = ("arn:aws:iam::%s:root" % mgmt, mgmt)
    out = []
    for a in fx["accounts"]:
        if a["id"] in exclude:
            continue
        roles = [r for r in a.get("roles", [])
                 if r["name"] == "FinOpsTagComplianceReadOnly"]
        if a["id"] == mgmt or any(set(r["trust"]) & set(trusted)
                                  for r in roles):
            out.append(a["id"])
    return out


def slow_accounts(fixture_path):
    """Accounts with a latency fault rule of their own in the fixture."""
    return [f["account"] for f in load_json(fixture_path).get("faults", [])
            if f["kind"] == "latency_ms" and f.get("account", "*") != "*"]


def fixture_secrets(fixture_path):
    """Every secret access key in a fixture."""
    return [a["credentials"]["secret_access_key"]
            for a in load_json(fixture_path)["accounts"]
            if "credentials" in a]


# ---- an STS endpoint that remembers what it issued ----

class StsRecorder:
    """A loopback HTTP proxy in front of the emulator, for
    AWS_ENDPOINT_URL_STS: requests go through unchanged (Host included, so
    signatures still verify), and the access key ids, secrets and session
    tokens in AssumeRole answers are kept, so a test can look for them
    where they must never be."""

    def __init__(self, upstream_port):
        self.issued = []
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get(
                    "Content-Length", 0)))
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port,
                                                  timeout=60 * SLOW)
                conn.putrequest("POST", self.path, skip_host=True,
                                skip_accept_encoding=True)
                for k, v in self.headers.items():
                    conn.putheader(k, v)
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                rec._remember(data)
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection",
                                         "transfer-encoding", "date",
                                         "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever,
                         daemon=True).start()

    def _remember(self, data):
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            return
        for el in root.iter():
            tag = el.tag.rsplit("}", 1)[-1]
            if tag in ("AccessKeyId", "SecretAccessKey", "SessionToken") \
                    and el.text:
                self.issued.append((tag, el.text))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---- the worker proxy (lib.py worker-proxy FAKE MODE TARGET REAL) ----

def _read_frame(fd):
    hdr = _read_exact(fd, 8)
    _, n = struct.unpack(">II", hdr)
    return hdr, _read_exact(fd, n)


def _read_exact(fd, n):
    buf = b""
    while len(buf) < n:
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            sys.exit("worker-proxy: the supervisor closed the channel")
        buf += chunk
    return buf


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def _relay(a, b):
    """Copy bytes both ways between two fds until either side closes."""
    while True:
        r, _, _ = select.select([a, b], [], [])
        for src in r:
            dst = b if src == a else a
            try:
                data = os.read(src, 65536)
                if data:
                    _write_all(dst, data)
            except OSError:
                data = b""
            if not data:
                return


def worker_proxy(fake, mode, target, real):
    """Runs as TAGWARDEN_WORKER. The supervisor sends JOB and CREDENTIALS
    on fd 3; for the target account JOB's job_id becomes MODE (fake-worker
    takes its behaviour from job_id) and fake-worker runs, for any other
    account the real worker. Either is exec'd in this very process, so the
    supervisor's child (and HELLO's pid) is the worker itself and its death
    (SIGSYS, SIGKILL) is what the supervisor sees. A forked helper hands it
    the two frames on a new socketpair and relays the channel afterwards."""
    hdr, job = _read_frame(3)
    chdr, creds = _read_frame(3)
    body = json.loads(job)
    prog = real
    if body.get("account_id") == target:
        body["job_id"] = mode
        job = json.dumps(body).encode()
        hdr = struct.pack(">II", struct.unpack(">II", hdr)[0], len(job))
        prog = fake
    mine, theirs = socket.socketpair()
    if os.fork() == 0:
        theirs.close()
        mine.sendall(hdr + job + chdr + creds)
        _relay(mine.fileno(), 3)
        os._exit(0)
    mine.close()
    os.dup2(theirs.fileno(), 3)
    theirs.close()
    os.execv(prog, ["tagwarden-worker"])


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "worker-proxy":
        worker_proxy(*sys.argv[2:])
    sys.exit("usage: lib.py worker-proxy FAKE-WORKER MODE ACCOUNT WORKER")

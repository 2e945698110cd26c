#!/usr/bin/python3
"""sts-emulator: supervisor/sts.c against the AWS emulator.

Starts tests/emulator/aws-emulator on tests/fixtures/sts.json (port 0) and
runs tests/unit/sts-probe, which drives sts.c on a libevent loop with the
base credentials of the fixture's local account. Checks: the local account
found by GetCallerIdentity and served with the base keys (no AssumeRole);
AssumeRole for members (session keys start with ASIA, the configured
duration), the cache and the sharing of a call in flight (counted by the
emulator's GET /_emulator/stats and by sts_assume_role_calls); refresh of a
cached credential inside the 5-minute margin (--credential-lifetime); the
exact failure sentences for a role that does not trust the caller, a wrong
or missing ExternalId, and a closed endpoint; 20 accounts at once behind a
1 s latency fault with the loop still ticking. The expected identities,
ARNs and messages are written by hand from the fixture and from the STS
error format the emulator reproduces. Prints one verdict line last.
"""
import json
import os
import re
import shlex
import subprocess
import sys

SRC = os.environ.get("TAGWARDEN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.environ.get("TAGWARDEN_BUILD") or os.path.join(SRC, "build")
WRAPPER = shlex.split(os.environ.get("TAGWARDEN_WRAPPER", ""))
EMULATOR = os.path.join(BUILD, "tests", "emulator", "aws-emulator")
PROBE = os.path.join(BUILD, "tests", "unit", "sts-probe")
FIXTURE = os.path.join(SRC, "tests", "fixtures", "sts.json")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(SRC, "tests", "emulator"))
import emulib  # noqa: E402  (the emulator runner, Checks)

# From tests/fixtures/sts.json.
LOCAL = "100000000001"
LOCAL_ARN = "arn:aws:iam::100000000001:user/sts-tester"
LOCAL_AKID = "AKIASTSPROBELOCAL001"
LOCAL_SECRET = "stsprobe/Local/Secret/Key/000000000000001"
MEMBERS = ["2000000000%02d" % i for i in range(1, 21)]
NO_TRUST = "300000000001"
EXT_ID_ACCOUNT = "300000000002"
EXT_ID = "tagwarden-ext-7"


def role_arn(account):
    return "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly" % account


def denied(account):
    # STS's AccessDenied text: "User: <caller> is not authorized to perform:
    # sts:AssumeRole on resource: <role>", then our prefix.
    return ("AssumeRole failed for %s: AccessDenied: User: %s is not "
            "authorized to perform: sts:AssumeRole on resource: %s"
            % (role_arn(account), LOCAL_ARN, role_arn(account)))


class Emulator(emulib.Emulator):
    """The shared emulator runner on this test's fixture."""

    def __init__(self, *extra):
        super().__init__(FIXTURE, extra)

    def control(self, method, what, body=None):
        return emulib.control(self, method, what, body)[1]

    def assume_calls(self):
        return emulib.stats(self)["operations"].get("sts:AssumeRole", 0)


class Run:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err
        self.lines = out.splitlines()

    def creds(self, account):
        """(akid, role, expires_in) of each answer for account, in order."""
        got = []
        for line in self.lines:
            m = re.fullmatch(r"creds (\S+) akid=(\S+) role=(\S+) "
                             r"expires_in=(\S+)", line)
            if m and m.group(1) == account:
                got.append((m.group(2), m.group(3), m.group(4)))
        return got

    def errors(self, account):
        pre = "error %s " % account
        return [l[len(pre):] for l in self.lines if l.startswith(pre)]

    def value(self, key):
        for line in self.lines:
            if line.startswith(key + " "):
                return line[len(key) + 1:]
        return None


def probe(emu, steps, env_extra=None, endpoint=True):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": "/nonexistent",
           "AWS_CONFIG_FILE": "/nonexistent/config",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
           "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_ACCESS_KEY_ID": LOCAL_AKID,
           "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET,
           "AWS_REGION": "us-east-1",
           "POLICY_PATH": os.path.join(SRC, "policies",
                                       "tagging_policy.json"),
           "LOG_LEVEL": "info"}
    if endpoint:
        env["AWS_ENDPOINT_URL"] = emu.url
    env.update(env_extra or {})
    p = subprocess.run(WRAPPER + [PROBE] + steps, env=env,
                       capture_output=True, text=True, timeout=300)
    return Run(p.returncode, p.stdout, p.stderr)


CHECKS = emulib.Checks("sts-emulator")
check = CHECKS.check


def clean(name, run):
    """Every run: exit 0 (valgrind's 99 included), no FAIL from the probe."""
    check(name + ": probe exit 0 and no callback inside sts_*",
          run.rc == 0 and "FAIL" not in run.out,
          "rc=%d\n%s\n%s" % (run.rc, run.out, run.err[-3000:]))
    check(name + ": no secret key in any output",
          LOCAL_SECRET not in run.out and LOCAL_SECRET not in run.err)


def test_local(emu):
    before = emu.control("GET", "stats")["operations"]
    r = probe(emu, ["identity", "get:" + LOCAL, "get:" + LOCAL])
    clean("local", r)
    check("local: GetCallerIdentity names the account",
          r.value("identity") == "%s %s" % (LOCAL, LOCAL_ARN), r.out)
    check("local: base credentials, no role",
          r.creds(LOCAL) == [(LOCAL_AKID, "-", "never")] * 2, r.out)
    after = emu.control("GET", "stats")["operations"]
    check("local: one GetCallerIdentity, no AssumeRole",
          after.get("sts:GetCallerIdentity", 0)
          - before.get("sts:GetCallerIdentity", 0) == 1
          and after.get("sts:AssumeRole", 0)
          == before.get("sts:AssumeRole", 0), json.dumps(after))


def test_member_cache(emu):
    a = MEMBERS[0]
    before = emu.assume_calls()
    r = probe(emu, ["get:" + a, "get:" + a, "calls"])
    clean("cache", r)
    got = r.creds(a)
    check("cache: two answers with the same session key", len(got) == 2
          and got[0][0] == got[1][0] and got[0][0].startswith("ASIA")
          and got[0][1] == role_arn(a), r.out)
    # AWS_ASSUME_ROLE_SESSION_DURATION defaults to 3600.
    check("cache: default duration",
          len(got) == 2 and 3590 <= int(got[0][2]) <= 3600, r.out)
    check("cache: one AssumeRole (probe)",
          r.value("assume_role_calls") == "1", r.out)
    check("cache: one AssumeRole (emulator)",
          emu.assume_calls() - before == 1)


def test_duration(emu):
    a = MEMBERS[1]
    r = probe(emu, ["get:" + a],
              {"AWS_ASSUME_ROLE_SESSION_DURATION": "900"})
    clean("duration", r)
    got = r.creds(a)
    check("duration: DurationSeconds=900 honoured",
          len(got) == 1 and 890 <= int(got[0][2]) <= 900, r.out)


def test_shared_in_flight(emu):
    a = MEMBERS[2]
    before = emu.assume_calls()
    r = probe(emu, ["all:%s,%s,%s" % (a, a, a), "calls"])
    clean("in flight", r)
    got = r.creds(a)
    check("in flight: three answers, one key",
          len(got) == 3 and len({g[0] for g in got}) == 1, r.out)
    check("in flight: one AssumeRole",
          r.value("assume_role_calls") == "1"
          and emu.assume_calls() - before == 1, r.out)


def test_denied(emu):
    r = probe(emu, ["get:" + NO_TRUST])
    clean("no trust", r)
    check("no trust: exact sentence", r.errors(NO_TRUST) == [
        denied(NO_TRUST)], r.out)
    r = probe(emu, ["get:" + EXT_ID_ACCOUNT],
              {"AWS_ASSUME_ROLE_EXTERNAL_ID": "tagwarden-ext-8"})
    clean("wrong ExternalId", r)
    check("wrong ExternalId: exact sentence",
          r.errors(EXT_ID_ACCOUNT) == [denied(EXT_ID_ACCOUNT)], r.out)
    r = probe(emu, ["get:" + EXT_ID_ACCOUNT])
    check("missing ExternalId: exact sentence",
          r.errors(EXT_ID_ACCOUNT) == [denied(EXT_ID_ACCOUNT)], r.out)
    r = probe(emu, ["get:" + EXT_ID_ACCOUNT],
              {"AWS_ASSUME_ROLE_EXTERNAL_ID": EXT_ID})
    clean("right ExternalId", r)
    got = r.creds(EXT_ID_ACCOUNT)
    check("right ExternalId: assumed", len(got) == 1
          and got[0][0].startswith("ASIA"), r.out)


def test_transport(emu):
    a = MEMBERS[3]
    r = probe(emu, ["identity", "break-endpoint", "get:" + a])
    clean("transport", r)
    # curl's text for a refused connection, then standard mode's 3 tries.
    want = (r"AssumeRole failed for %s: Failed to connect to 127\.0\.0\.1 "
            r"port 1 .*\(after 3 attempts\)" % re.escape(role_arn(a)))
    errs = r.errors(a)
    check("transport: curl error and attempts", len(errs) == 1
          and re.fullmatch(want, errs[0]) is not None, r.out)


def test_concurrent(emu):
    emu.control("POST", "faults", {"service": "sts",
                                   "operation": "AssumeRole",
                                   "kind": "latency_ms", "ms": 1000})
    before = emu.assume_calls()
    r = probe(emu, ["identity", "all:" + ",".join(MEMBERS), "calls"])
    emu.control("DELETE", "faults")
    clean("20 at once", r)
    keys = [r.creds(a) for a in MEMBERS]
    check("20 at once: every account assumed", all(
        len(k) == 1 and k[0][0].startswith("ASIA") for k in keys), r.out)
    m = re.fullmatch(r"n=20 elapsed_ms=(\d+) max_gap_ms=(\d+) ticks=(\d+)",
                     r.value("all") or "")
    # One after another would take 20 x 1 s; a blocked loop would show a
    # gap of 1 s between 10 ms ticks.
    check("20 at once: concurrent (under 5 s)",
          m is not None and int(m.group(1)) < 5000, r.value("all"))
    check("20 at once: loop never blocked (gap under 500 ms)",
          m is not None and int(m.group(2)) < 500 and int(m.group(3)) >= 50,
          r.value("all"))
    stats = emu.control("GET", "stats")
    check("20 at once: 20 AssumeRole, overlapping at the emulator",
          emu.assume_calls() - before == 20
          and r.value("assume_role_calls") == "20"
          and stats["max_inflight_requests"] >= 10, json.dumps(stats))


def test_refresh():
    # Sessions of 305 s: fresh for 5 s, then inside the 300 s margin.
    emu = Emulator("--credential-lifetime", "305")
    try:
        a = MEMBERS[4]
        r = probe(emu, ["get:" + a, "get:" + a, "sleep:6", "get:" + a,
                        "calls"])
        clean("refresh", r)
        got = r.creds(a)
        check("refresh: cached while fresh, renewed inside the margin",
              len(got) == 3 and got[0][0] == got[1][0]
              and got[2][0] != got[0][0], r.out)
        check("refresh: two AssumeRole",
              r.value("assume_role_calls") == "2"
              and emu.assume_calls() == 2, r.out)
        check("refresh: logged at INFO without secrets",
              "refreshing credentials for account %s" % a in r.err, r.err)
    finally:
        emu.stop()


def test_debug_log_has_no_secret(emu):
    r = probe(emu, ["get:" + MEMBERS[5], "get:" + NO_TRUST],
              {"LOG_LEVEL": "debug"})
    clean("debug log", r)
    check("debug log: requests traced", "sts: AssumeRole" in r.err, r.err)


def main():
    for path in (EMULATOR, PROBE):
        if not os.access(path, os.X_OK):
            print("FAIL sts-emulator: %s not built" % path)
            return 1
    emu = Emulator()
    try:
        test_local(emu)
        test_member_cache(emu)
        test_duration(emu)
        test_shared_in_flight(emu)
        test_denied(emu)
        test_transport(emu)
        test_concurrent(emu)
        test_debug_log_has_no_secret(emu)
    finally:
        emu.stop()
    test_refresh()
    CHECKS.finish()


if __name__ == "__main__":
    sys.exit(main())

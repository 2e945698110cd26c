#!/usr/bin/python3
"""ce-emulator: supervisor/ce.c against the AWS emulator, exact to the nano.

Starts tests/emulator/aws-emulator on tests/fixtures/ce-probe.json and runs
tests/unit/ce-probe, which drives ce.c on a libevent loop and prints the
lines of one query. The expected lines are summed here from the fixture
with decimal.Decimal, from the emulator README's rules written out again: a
costs[] row is its amount on its day (RESOURCE_ID "NoResourceId" without
resource_id), a resource with daily_cost is that amount on every day from
its creation through today (UTC), its RESOURCE_ID the id for ec2:* and
s3:bucket and the ARN otherwise, tags "key$value" with "key$" for absent or
empty values, and the payer (management) account sees every organization
member. Checked: resource and tag queries (several pages, lines summed per
account and key, the LINKED_ACCOUNT filter), DataUnavailableException for a
caller without resource-level data, request counts against the emulator's
GET /_emulator/stats (retries included), LimitExceededException after the
standard retries, AccessDeniedException, a malformed reply, a transport
failure, and a cancel with the request hung. A stand-in Cost Explorer on
127.0.0.1 in this script checks the wire (X-Amz-Target, Content-Type, the
bodies of the first and a later page) and serves what the emulator never
does: a NextPageToken that does not move and a group with a bad account.
Prints one verdict line last.
"""
import datetime
import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from decimal import Decimal

sys.dont_write_bytecode = True	# no __pycache__ in the source tree

SRC = os.environ.get("TAGWARDEN_SRC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.environ.get("TAGWARDEN_BUILD") or os.path.join(SRC, "build")
WRAPPER = shlex.split(os.environ.get("TAGWARDEN_WRAPPER", ""))
EMULATOR = os.path.join(BUILD, "tests", "emulator", "aws-emulator")
PROBE = os.path.join(BUILD, "tests", "unit", "ce-probe")
FIXTURE = os.path.join(SRC, "tests", "fixtures", "ce-probe.json")
sys.path.insert(0, os.path.join(SRC, "tests", "emulator"))
import emulib  # noqa: E402  (arn_of: the README's ARN rules)

# From tests/fixtures/ce-probe.json.
PAYER, MEMBER, NODATA, OUTSIDER = ("100000000001", "100000000002",
                                   "100000000003", "100000000004")
KEYS = {
    PAYER: ("AKIACEPROBEPAYER0001",
            "ceprobe/Payer/Secret/Key/000000000000001"),
    NODATA: ("AKIACEPROBENODATA001",
             "ceprobe/NoData/Secret/Key/00000000000001"),
}
SECRETS = [k[1] for k in KEYS.values()]
DAY = datetime.timedelta(days=1)
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
OP_RES = "GetCostAndUsageWithResources"
OP_TAG = "GetCostAndUsage"
NANO = Decimal(10) ** 9

CHECKS = emulib.Checks("ce-emulator")
check = CHECKS.check


# ---- expected lines, from the fixture ----

def fixture():
    with open(FIXTURE) as f:
        return json.load(f, parse_float=Decimal)


def tag_value(obj, key):
    t = obj.get("tags", {})
    if isinstance(t, list):
        t = {e["Key"]: e["Value"] for e in t}
    return t.get(key, "")


def cost_lines(fx):
    """(account, RESOURCE_ID, object with tags, first day, last day,
    dollars per day) for every costs[] row and costed resource."""
    out = []
    for c in fx.get("costs", []):
        day = (TODAY + c["day"] * DAY if isinstance(c["day"], int)
               else datetime.date.fromisoformat(c["day"]))
        out.append((c["account"], c.get("resource_id", "NoResourceId"), c,
                    day, day, Decimal(c["amount"])))
    for a in fx["accounts"]:
        for region, rs in a.get("resources", {}).items():
            for r in rs:
                if Decimal(r.get("daily_cost", 0)) <= 0:
                    continue
                rid = (r["id"] if r["type"].startswith("ec2:")
                       or r["type"] == "s3:bucket"
                       else emulib.arn_of(r, a["id"], region))
                created = datetime.date.fromisoformat(
                    r.get("created", "2024-01-01T00:00:00Z")[:10])
                out.append((a["id"], rid, r, created, TODAY,
                            Decimal(r["daily_cost"])))
    return out


def expect(fx, caller, accounts, start, end, tag_key=None):
    """{(account, key): nanos} over [start, end)."""
    status = {a["id"]: a.get("org_status", "ACTIVE") for a in fx["accounts"]}
    payer = next(a["id"] for a in fx["accounts"] if a.get("management"))
    out = {}
    for acct, rid, obj, first, last, amount in cost_lines(fx):
        seen = acct == caller or (caller == payer and status[acct] != "NONE")
        if not seen or acct not in accounts:
            continue
        days = (min(last + DAY, end) - max(first, start)).days
        if days <= 0:
            continue
        key = rid if tag_key is None else tag_value(obj, tag_key)
        out[(acct, key)] = out.get((acct, key), Decimal(0)) + amount * days
    return {k: int(v * NANO) for k, v in out.items()}


# ---- the emulator and the probe ----

class Emulator(emulib.Emulator):
    """The shared emulator runner, with this test's Cost Explorer view."""

    def __init__(self):
        super().__init__(FIXTURE)

    def control(self, method, what, body=None):
        return emulib.control(self, method, what, body)[1]

    def count(self, op):
        return emulib.stats(self)["operations"].get("ce:" + op, 0)

    def fault(self, kind, op, **extra):
        self.control("POST", "faults", dict(service="ce", operation=op,
                                            kind=kind, **extra))


class Run:
    def __init__(self, proc):
        self.rc, self.out, self.err = (proc.returncode, proc.stdout,
                                       proc.stderr)
        try:
            self.answer = json.loads(self.out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.answer = {}
        self.lines = {}
        self.dup = []
        for acct, key, nanos in self.answer.get("lines", []):
            if (acct, key) in self.lines:
                self.dup.append((acct, key))
            self.lines[(acct, key)] = nanos

    def get(self, k):
        return self.answer.get(k)


def probe(url, caller, query, start, end, accounts, cancel_ms=None,
          metric="UnblendedCost"):
    akid, secret = KEYS.get(caller, ("AKIACEPROBEFAKE00001",
                                     "fake/Secret/Key/For/The/Stand/In/0000"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": "/nonexistent",
           "AWS_CONFIG_FILE": "/nonexistent/config",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
           "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_ACCESS_KEY_ID": akid, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": url,
           "LOG_LEVEL": "debug"}
    argv = WRAPPER + [PROBE]
    if cancel_ms is not None:
        argv += ["-c", str(cancel_ms)]
    argv += [query, start.isoformat(), end.isoformat(), metric,
             ",".join(accounts)]
    p = subprocess.run(argv, env=env, capture_output=True, text=True,
                       timeout=600)
    return Run(p)


def clean(name, run):
    """Every run: exit 0 (valgrind's 99 included), no secret anywhere."""
    check(name + ": probe exit 0", run.rc == 0,
          "rc=%d\n%s\n%s" % (run.rc, run.out, run.err[-3000:]))
    check(name + ": no secret key in any output",
          not any(s in run.out or s in run.err for s in SECRETS))


def same_lines(name, run, want):
    check(name + ": rc 0", run.get("rc") == 0, run.out[:2000])
    check(name + ": one line per (account, key)", run.dup == [], run.dup)
    missing = {k: v for k, v in want.items() if run.lines.get(k) != v}
    extra = {k: v for k, v in run.lines.items() if k not in want}
    check(name + ": every line exact to the nano-dollar",
          not missing and not extra,
          "wrong or missing %s; unexpected %s" % (missing, extra))


# ---- cases against the emulator ----

RES_ACCOUNTS = [PAYER, MEMBER, NODATA]


def res_window():
    # GetCostAndUsageWithResources: Start at most 14 days back.
    return TODAY - 14 * DAY, TODAY + DAY


def test_resources(emu, fx):
    start, end = res_window()
    before = emu.count(OP_RES)
    r = probe(emu.url, PAYER, "resources", start, end, RES_ACCOUNTS)
    clean("resources", r)
    want = expect(fx, PAYER, RES_ACCOUNTS, start, end)
    same_lines("resources", r, want)
    check("resources: the fixture has NoResourceId, ARN and id lines",
          (MEMBER, "NoResourceId") in want and (PAYER, "ceprobe-logs") in want
          and any(k[1].startswith("arn:aws:rds:") for k in want))
    check("resources: the filtered-out account is absent",
          not any(k[0] == OUTSIDER for k in r.lines), r.lines.keys())
    sent = emu.count(OP_RES) - before
    # More than 20 groups in one period: at least ceil(n / 20) pages.
    check("resources: several pages (%d groups)" % len(want),
          sent >= (len(want) + 19) // 20 and sent >= 2, sent)
    check("resources: requests counted = sent to the emulator",
          r.get("requests") == sent, (r.get("requests"), sent))
    return sent


def test_tags(emu, fx):
    # Forty days back: two months, and rows outside the 14-day window.
    start, end = TODAY - 40 * DAY, TODAY + DAY
    accounts = [PAYER, MEMBER]
    before = emu.count(OP_TAG)
    r = probe(emu.url, PAYER, "tag:Owner", start, end, accounts)
    clean("tag Owner", r)
    want = expect(fx, PAYER, accounts, start, end, "Owner")
    same_lines("tag Owner", r, want)
    check("tag Owner: untagged spend as key \"\" and tagged values",
          (PAYER, "") in want and (PAYER, "dave") in want
          and (PAYER, "erin@example.com") in want, want.keys())
    check("tag Owner: requests counted = sent",
          r.get("requests") == emu.count(OP_TAG) - before,
          r.get("requests"))


def test_no_resource_data(emu, fx):
    start, end = res_window()
    before = emu.count(OP_RES)
    r = probe(emu.url, NODATA, "resources", start, end, [NODATA])
    clean("no resource data", r)
    check("no resource data: DataUnavailableException",
          r.get("rc") == -1 and r.get("aws_code") ==
          "DataUnavailableException" and r.get("lines") == [], r.out)
    check("no resource data: the sentence names the operation and code",
          (r.get("error") or "").startswith(
              "ce GetCostAndUsageWithResources failed: "
              "DataUnavailableException: "), r.get("error"))
    check("no resource data: one request, not retried",
          r.get("requests") == 1 and emu.count(OP_RES) - before == 1,
          r.get("requests"))
    # The same caller can still group by tag.
    r = probe(emu.url, NODATA, "tag:Owner", start, end, [NODATA, PAYER])
    clean("no resource data, tag query", r)
    same_lines("no resource data, tag query (own account only)", r,
               expect(fx, NODATA, [NODATA, PAYER], start, end, "Owner"))


def test_throttled(emu, fx, pages):
    start, end = res_window()
    before = emu.count(OP_RES)
    emu.fault("throttle_next", OP_RES, count=1)
    r = probe(emu.url, PAYER, "resources", start, end, RES_ACCOUNTS)
    clean("throttled once", r)
    same_lines("throttled once", r,
               expect(fx, PAYER, RES_ACCOUNTS, start, end))
    sent = emu.count(OP_RES) - before
    check("throttled once: the retry is counted (pages + 1)",
          r.get("requests") == pages + 1 and sent == pages + 1,
          (r.get("requests"), sent, pages))

    before = emu.count(OP_RES)
    emu.fault("throttle_next", OP_RES, count=3)
    r = probe(emu.url, PAYER, "resources", start, end, RES_ACCOUNTS)
    emu.control("DELETE", "faults")
    clean("throttled out", r)
    check("throttled out: LimitExceededException after 3 attempts",
          r.get("rc") == -1 and r.get("aws_code") == "LimitExceededException"
          and r.get("requests") == 3 and emu.count(OP_RES) - before == 3
          and r.get("lines") == [], r.out)
    check("throttled out: the sentence",
          re.fullmatch(r"ce GetCostAndUsageWithResources failed: "
                       r"LimitExceededException: .*after 3 attempts\)",
                       r.get("error") or "") is not None, r.get("error"))


def test_denied_and_malformed(emu):
    start, end = res_window()
    emu.fault("access_denied", OP_RES, count=1)
    r = probe(emu.url, PAYER, "resources", start, end, RES_ACCOUNTS)
    clean("access denied", r)
    check("access denied: AccessDeniedException, one request",
          r.get("rc") == -1 and r.get("aws_code") == "AccessDeniedException"
          and r.get("requests") == 1 and (r.get("error") or "").startswith(
              "ce GetCostAndUsageWithResources failed: "
              "AccessDeniedException"), r.out)
    emu.fault("malformed_body", OP_TAG, count=1)
    r = probe(emu.url, PAYER, "tag:Owner", start, end, RES_ACCOUNTS)
    clean("malformed", r)
    check("malformed: a parse error naming the operation and page",
          r.get("rc") == -1 and r.get("aws_code") == "" and
          (r.get("error") or "").startswith(
              "ce GetCostAndUsage reply (page 1): ")
          and r.get("requests") == 1, r.out)
    emu.control("DELETE", "faults")


def test_cancel(emu):
    start, end = res_window()
    emu.fault("hang", OP_RES, count=1)
    r = probe(emu.url, PAYER, "resources", start, end, RES_ACCOUNTS,
              cancel_ms=500)
    emu.control("DELETE", "faults")
    clean("cancel", r)
    check("cancel: cancelled, done never called",
          r.answer == {"cancelled": True}, r.out + r.err[-2000:])


def test_transport():
    start, end = res_window()
    r = probe("http://127.0.0.1:1", PAYER, "tag:Owner", start, end, [PAYER])
    clean("transport", r)
    check("transport: curl's error after 3 attempts, all counted",
          r.get("rc") == -1 and r.get("aws_code") == ""
          and r.get("requests") == 3 and re.fullmatch(
              r"ce GetCostAndUsage failed: Failed to connect to 127\.0\.0\.1 "
              r"port 1 .*\(after 3 attempts\)", r.get("error") or "")
          is not None, r.out)


# ---- a stand-in Cost Explorer for what the emulator never sends ----

class StandIn(http.server.ThreadingHTTPServer):
    def __init__(self, pages):
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.pages = pages	# reply bodies; the last one repeats
        self.seen = []		# (target, content type, body)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server_address[1]


class StandInHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n))
        srv = self.server
        srv.seen.append((self.headers.get("X-Amz-Target"),
                         self.headers.get("Content-Type"), body))
        reply = json.dumps(srv.pages[min(len(srv.seen),
                                         len(srv.pages)) - 1]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def group(acct, key, amount, metric="UnblendedCost"):
    return {"Keys": [acct, key],
            "Metrics": {metric: {"Amount": amount, "Unit": "USD"}}}


def test_stand_in():
    start, end = datetime.date(2024, 5, 1), datetime.date(2024, 7, 1)
    one = {"ResultsByTime": [{"Groups": [group(PAYER, "Owner$x", "1",
                                                "AmortizedCost")]}],
           "NextPageToken": "p2"}
    stuck = {"ResultsByTime": [], "NextPageToken": "p2"}
    srv = StandIn([one, stuck])
    try:
        r = probe(srv.url, None, "tag:Owner", start, end, [PAYER, MEMBER],
                  metric="AmortizedCost")
    finally:
        srv.shutdown()
    clean("stand-in token", r)
    check("stand-in token: a token that does not move is an error",
          r.get("rc") == -1 and r.get("requests") == 2 and r.get("error") ==
          'ce GetCostAndUsage: page 2 answered with the NextPageToken it '
          'was sent ("p2"), so the query would never end: retry it later',
          r.out)
    want = {"TimePeriod": {"Start": "2024-05-01", "End": "2024-07-01"},
            "Granularity": "MONTHLY", "Metrics": ["AmortizedCost"],
            "GroupBy": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                        {"Type": "TAG", "Key": "Owner"}],
            "Filter": {"Dimensions": {"Key": "LINKED_ACCOUNT",
                                      "Values": [PAYER, MEMBER]}}}
    seen = srv.seen
    check("stand-in: target and JSON 1.1 content type",
          len(seen) == 2 and all(
              s[0] == "AWSInsightsIndexService.GetCostAndUsage"
              and s[1] == "application/x-amz-json-1.1" for s in seen),
          [s[:2] for s in seen])
    check("stand-in: first page body", len(seen) == 2 and seen[0][2] == want,
          seen[:1])
    check("stand-in: second page carries the token",
          len(seen) == 2 and seen[1][2] == dict(want, NextPageToken="p2"),
          seen[1:])

    bad = {"ResultsByTime": [{"Groups": [group("12345", "i-1", "1")]}]}
    srv = StandIn([bad])
    try:
        r = probe(srv.url, None, "resources", start, end, [PAYER])
    finally:
        srv.shutdown()
    clean("stand-in bad account", r)
    check("stand-in bad account: the path and value named",
          r.get("rc") == -1 and r.get("error") ==
          'ce GetCostAndUsageWithResources reply (page 1): '
          'ResultsByTime[0].Groups[0].Keys[0]: "12345": expected a '
          '12-digit account ID', r.out)
    check("stand-in bad account: target",
          [s[0] for s in srv.seen] ==
          ["AWSInsightsIndexService.GetCostAndUsageWithResources"],
          srv.seen)


def main():
    for path in (EMULATOR, PROBE):
        if not os.access(path, os.X_OK):
            print("FAIL ce-emulator: %s not built" % path)
            return 1
    fx = fixture()
    emu = Emulator()
    try:
        pages = test_resources(emu, fx)
        test_tags(emu, fx)
        test_no_resource_data(emu, fx)
        test_throttled(emu, fx, pages)
        test_denied_and_malformed(emu)
        test_cancel(emu)
    finally:
        emu.stop()
    test_transport()
    test_stand_in()
    CHECKS.finish()


if __name__ == "__main__":
    sys.exit(main())

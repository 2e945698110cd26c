#!/usr/bin/python3
"""Fault injection and /_emulator/stats, observed through boto3 and raw HTTP.

botocore's standard retry mode must retry each service's own throttling
code and 5xx, and the stats must show the extra calls. Latency overlaps
requests of several accounts (max_inflight_accounts), hang never answers,
malformed and truncated bodies break the client's parser or read, and a
client leaving a delayed or hung request is cleaned up.
"""
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

import botocore.exceptions  # noqa: E402
import botocore.parsers  # noqa: E402

MGMT, PROD, DEV = "111111111111", "222222222222", "333333333333"
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly"
RETRY = {"mode": "standard", "total_max_attempts": 5}


def add(emu, checks, *rules):
    status, body = emulib.control(emu, "POST", "faults", list(rules))
    checks.eq((status, body.get("added")), (200, len(rules)), "add faults")


def calls(st, op):
    return st["operations"].get(op, 0)


def check_retries(emu, checks, prod):
    cases = [
        ("tagging", "GetResources", "ThrottledException", "throttle_next",
         lambda c: c.get_resources(), "resourcegroupstaggingapi"),
        ("sts", "GetCallerIdentity", "Throttling", "throttle_next",
         lambda c: c.get_caller_identity(), "sts"),
        ("ec2", "DescribeRegions", "RequestLimitExceeded", "throttle_next",
         lambda c: c.describe_regions(), "ec2"),
        ("ec2", "DescribeInstances", "ServiceUnavailable", "http_5xx",
         lambda c: c.describe_instances(), "ec2"),
    ]
    for svc, op, code, kind, call, boto_name in cases:
        rule = {"account": PROD, "service": svc, "operation": op,
                "kind": kind, "count": 2}
        if kind == "http_5xx":
            rule["status"] = 503
            code = "Unavailable"	# EC2's own name for a 503
        add(emu, checks, rule)
        before = emulib.stats(emu)
        c = emulib.client(emu, boto_name, retries=RETRY, **prod)
        call(c)
        after = emulib.stats(emu)
        key = "%s:%s" % (svc, op)
        checks.eq(calls(after, key) - calls(before, key), 3,
                  "%s: two faults then success = 3 calls" % key)
        checks.eq(after["errors"].get(code, 0) - before["errors"].get(code, 0),
                  2, "%s: two %s replies" % (key, code))
        acct = after["accounts"][PROD]["operations"].get(key, 0) - \
            before["accounts"].get(PROD, {}).get("operations", {}).get(key, 0)
        checks.eq(acct, 3, "%s: per-account calls" % key)
    add(emu, checks, {"service": "tagging", "kind": "throttle_next",
                      "count": 1})
    checks.error_code(emulib.client(emu, "resourcegroupstaggingapi",
                                    **prod).get_resources,
                      "ThrottledException", "no retries: the error shows")


def check_denials(emu, checks, prod):
    cases = [
        ("tagging", "resourcegroupstaggingapi", "get_resources",
         "AccessDeniedException"),
        ("ec2", "ec2", "describe_volumes", "UnauthorizedOperation"),
        ("sts", "sts", "get_caller_identity", "AccessDenied"),
    ]
    for svc, boto_name, method, code in cases:
        add(emu, checks, {"account": PROD, "service": svc,
                          "kind": "access_denied", "count": 1})
        c = emulib.client(emu, boto_name, **prod)
        checks.error_code(getattr(c, method), code, "access_denied %s" % svc)
        checks.ok(getattr(c, method)() is not None,
                  "access_denied count 1 is spent")
    add(emu, checks, {"service": "tagging", "kind": "expired_token",
                      "count": 1})
    checks.error_code(emulib.client(emu, "resourcegroupstaggingapi",
                                    **prod).get_resources,
                      "ExpiredTokenException", "expired_token fault")


def check_bodies(emu, checks, prod):
    add(emu, checks, {"service": "sts", "operation": "GetCallerIdentity",
                      "kind": "malformed_body", "count": 1})
    try:
        emulib.client(emu, "sts", **prod).get_caller_identity()
        checks.ok(False, "malformed XML body must not parse")
    except botocore.parsers.ResponseParserError:
        checks.ok(True, "malformed XML body -> ResponseParserError")
    add(emu, checks, {"service": "sts", "operation": "GetCallerIdentity",
                      "kind": "truncated_body", "count": 1})
    path, headers, body = emulib.query_request(
        emu, "sts", "GetCallerIdentity", "2011-06-15")
    conn = http.client.HTTPConnection(emu.url[7:], timeout=30)
    conn.request("POST", path, body, headers)
    resp = conn.getresponse()
    length = int(resp.getheader("Content-Length"))
    try:
        resp.read()
        checks.ok(False, "truncated body must not read whole")
    except http.client.IncompleteRead as e:
        checks.ok(0 < len(e.partial) < length,
                  "truncated body: %d of %d bytes" % (len(e.partial), length))
    conn.close()


def timed_identity(emu, creds, out, key):
    start = time.time()
    emulib.client(emu, "sts", **creds).get_caller_identity()
    out[key] = time.time() - start


def check_latency(emu, checks, prod, dev):
    add(emu, checks, {"account": PROD, "service": "sts", "kind": "latency_ms",
                      "ms": 400, "count": 1})
    took = {}
    timed_identity(emu, prod, took, "prod")
    checks.ok(took["prod"] >= 0.4, "latency_ms 400 (%.2fs)" % took["prod"])
    add(emu, checks, {"service": "sts", "operation": "GetCallerIdentity",
                      "kind": "latency_ms", "ms": 800, "count": 3})
    mgmt = dict(key=emulib.MGMT_KEY, secret=emulib.MGMT_SECRET)
    threads = [threading.Thread(target=timed_identity, args=(emu, c, took, n))
               for n, c in (("m", mgmt), ("p", prod), ("d", dev))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st = emulib.stats(emu)
    checks.ok(st["max_inflight_accounts"] >= 3,
              "three accounts in flight at once (%d)" %
              st["max_inflight_accounts"])
    checks.eq(st["inflight_requests"], 0, "nothing left in flight")


def raw_send(emu, path, headers, body):
    sock = socket.create_connection(("127.0.0.1", int(emu.url.split(":")[2])))
    lines = ["POST %s HTTP/1.1" % path] + ["%s: %s" % kv for kv in
                                          headers.items()]
    lines.append("Content-Length: %d" % len(body))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return sock


def check_hang_and_leave(emu, checks, prod):
    add(emu, checks, {"account": PROD, "service": "ec2", "kind": "hang",
                      "count": 1})
    c = emulib.client(emu, "ec2", **prod)
    quick = emulib.client(emu, "ec2", read_timeout=1, **prod)
    try:
        quick.describe_regions()
        checks.ok(False, "hang must not answer")
    except botocore.exceptions.ReadTimeoutError:
        checks.ok(True, "hang -> client read timeout")
    checks.ok(len(c.describe_regions()["Regions"]) > 0,
              "served normally after a hang")
    # A client that leaves during a delay: the context is freed, no crash.
    add(emu, checks, {"account": PROD, "service": "sts", "kind": "latency_ms",
                      "ms": 1000, "count": 1})
    path, headers, body = emulib.query_request(
        emu, "sts", "GetCallerIdentity", "2011-06-15", key=prod["key"],
        secret=prod["secret"], token=prod["token"])
    raw_send(emu, path, headers, body).close()
    time.sleep(1.5)
    checks.eq(emulib.stats(emu)["inflight_requests"], 0,
              "a delayed request whose client left is released")
    # One hung request stays open across SIGTERM (shutdown frees it).
    add(emu, checks, {"account": PROD, "service": "sts", "kind": "hang",
                      "count": 1})
    path, headers, body = emulib.query_request(
        emu, "sts", "GetCallerIdentity", "2011-06-15", key=prod["key"],
        secret=prod["secret"], token=prod["token"])
    return raw_send(emu, path, headers, body)


def check_control(emu, checks):
    status, body = emulib.control(emu, "POST", "faults",
                                  [{"kind": "throttle_next"}])
    checks.ok(status == 400 and "count" in body["error"],
              "rule without count rejected: %s" % body)
    status, body = emulib.control(emu, "POST", "faults",
                                  [{"kind": "sleep", "count": 1}])
    checks.ok(status == 400 and "sleep" in body["error"],
              "unknown kind rejected: %s" % body)
    status, body = emulib.control(emu, "DELETE", "faults")
    checks.eq((status, body["rules"]), (200, 0), "faults cleared")


def check_fixture_faults(checks):
    fx = emulib.load()
    fx["faults"] = [{"service": "sts", "operation": "GetCallerIdentity",
                     "kind": "throttle_next", "count": 1}]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(fx, f)
    emu = emulib.Emulator(fixture=f.name)
    os.unlink(f.name)
    sts = emulib.client(emu, "sts")
    checks.error_code(sts.get_caller_identity, "Throttling",
                      "fault rule from the fixture")
    checks.eq(sts.get_caller_identity()["Account"], MGMT,
              "fixture rule spent after one call")
    return emu


def main():
    checks = emulib.Checks("test-faults")
    emu = emulib.Emulator()
    prod = emulib.assume(emu, ROLE % PROD)
    dev = emulib.assume(emu, ROLE % DEV)
    check_retries(emu, checks, prod)
    check_denials(emu, checks, prod)
    check_bodies(emu, checks, prod)
    check_latency(emu, checks, prod, dev)
    hung = check_hang_and_leave(emu, checks, prod)
    check_control(emu, checks)
    other = check_fixture_faults(checks)
    checks.finish([emu, other])
    hung.close()


main()

#!/usr/bin/python3
"""The MCP wire of a real tagwarden, byte by byte: lifecycle and version
negotiation, every JSON-RPC error code, ids echoed exactly, the line limit,
tool argument errors, and malformed input of every kind, after which the
server must still answer and exit 0 at EOF (under ASan or valgrind a leak
or an error changes that status). No AWS is needed: nothing here scans.

Expected values come from the MCP specification (revisions 2024-11-05 to
2025-11-25) and JSON-RPC 2.0, the policy file's bytes, and the input
schemas' documented limits.
"""

import hashlib
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcplib  # noqa: E402
from mcplib import Failure, Server, check  # noqa: E402,F401

MAX_LINE = 4 * 1024 * 1024      # mcp.h MCP_MAX_LINE, as docs/mcp.md says
TOOLS = ["check_tag_compliance", "find_untagged_resources",
         "validate_resource_tags", "get_tagging_policy",
         "get_violation_history", "get_cost_attribution_gap"]


def start(multi=False, extra=None):
    tmp = mcplib.tempdir()
    return Server(mcplib.server_env(tmp, multi=multi, extra=extra))


def error_of(r, code):
    check("error" in r, "expected error %d, got %r" % (code, r))
    check(r["error"]["code"] == code, "expected code %d, got %r" % (
        code, r["error"]))
    check(isinstance(r["error"]["message"], str) and r["error"]["message"],
          "error without a message")
    return r["error"]["message"]


def case_lifecycle():
    s = start()
    # Before initialize: ping is allowed, everything else refused.
    check(s.request("ping", rid=1)["result"] == {}, "ping before init")
    msg = error_of(s.request("tools/list", rid=2), -32600)
    check("initialize" in msg, "the refusal does not say to initialize: "
          + msg)
    r = s.initialize()
    check(r["protocolVersion"] == "2025-11-25", "negotiated %r" %
          r["protocolVersion"])
    check(r["serverInfo"]["name"] == "tagwarden", "serverInfo %r" %
          r["serverInfo"])
    check("tools" in r["capabilities"], "no tools capability")
    msg = error_of(s.request("initialize", {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "x", "version": "1"}}), -32600)
    tl = s.request("tools/list")["result"]["tools"]
    check([t["name"] for t in tl] == TOOLS, "tools: %r" % [
        t["name"] for t in tl])
    for t in tl:
        check(t["inputSchema"]["type"] == "object" and
              t["inputSchema"]["additionalProperties"] is False,
              "%s inputSchema not closed" % t["name"])
        check(t["outputSchema"]["type"] == "object", "%s outputSchema" %
              t["name"])
        check(t["title"] and t["description"], "%s: no title/description" %
              t["name"])
        check(t["annotations"]["readOnlyHint"] is True, "%s annotations" %
              t["name"])
    error_of(s.request("tools/list", {"cursor": "abc"}), -32602)
    mcplib.expect_exit_ok(s, "lifecycle")


def case_versions():
    # Each revision we know is echoed; an unknown one gets the latest.
    for asked, want in [("2025-11-25", "2025-11-25"),
                        ("2025-06-18", "2025-06-18"),
                        ("2025-03-26", "2025-03-26"),
                        ("2024-11-05", "2024-11-05"),
                        ("1999-01-01", "2025-11-25"),
                        ("2026-99-99", "2025-11-25")]:
        s = start()
        r = s.initialize(asked)
        check(r["protocolVersion"] == want, "asked %s, got %s" % (
            asked, r["protocolVersion"]))
        tl = s.request("tools/list")["result"]["tools"]
        new = want >= "2025-06-18"
        check(all(("outputSchema" in t) == new for t in tl),
              "%s: outputSchema presence" % want)
        res = s.call("get_tagging_policy")["result"]
        check(("structuredContent" in res) == new,
              "%s: structuredContent presence" % want)
        check(json.loads(res["content"][0]["text"])["path"] ==
              mcplib.POLICY, "%s: the text item" % want)
        mcplib.expect_exit_ok(s, "version " + asked)
    s = start()
    error_of(s.request("initialize", {"capabilities": {}}), -32602)
    error_of(s.request("initialize", {"protocolVersion": 5}), -32602)
    mcplib.expect_exit_ok(s, "bad initialize")


def case_error_codes():
    s = start()
    s.initialize()
    check("Method not found" in error_of(
        s.request("resources/list", rid=10), -32601), "-32601 message")
    error_of(s.request("no/such/method", rid="x"), -32601)
    # Notifications are never answered, known or not.
    s.notify("notifications/no-such-thing", {"a": 1})
    s.notify("ping")
    s.notify("notifications/cancelled", {"requestId": 424242})
    s.notify("notifications/cancelled", {})
    s.send({"jsonrpc": "2.0", "id": 77, "result": {}})   # a response
    s.send({"jsonrpc": "2.0", "id": 78, "error": {"code": 1,
                                                 "message": "x"}})
    error_of(s.request("ping", [1, 2], rid=11), -32602)
    error_of(s.request("ping", "x", rid=12), -32602)
    s.send({"jsonrpc": "1.0", "id": 13, "method": "ping"})
    error_of(s.wait(13), -32600)
    s.send({"id": 14, "method": "ping"})
    error_of(s.wait(14), -32600)
    s.send({"jsonrpc": "2.0", "id": 15})
    error_of(s.wait(15), -32600)
    s.send({"jsonrpc": "2.0", "id": 16, "method": 5})
    error_of(s.wait(16), -32600)
    msg = error_of(s.call("no_such_tool", rid=17), -32602)
    check("no_such_tool" in msg, "unknown tool not named: " + msg)
    error_of(s.request("tools/call", {}, rid=18), -32602)
    error_of(s.request("tools/call", {"name": 5}, rid=19), -32602)
    error_of(s.request("tools/call", {"name": "get_tagging_policy",
                                      "arguments": [1]}, rid=20), -32602)
    # Nothing was answered for the notifications and responses above.
    s.expect_silence(77, 0.3)
    s.expect_silence(78, 0)
    check(s.request("ping", rid=21)["result"] == {}, "ping after errors")
    with s.cond:
        check(not s.responses.get("null"), "unexpected id-null errors: %r"
              % s.responses.get("null"))
    mcplib.expect_exit_ok(s, "error codes")


def case_ids():
    s = start()
    s.initialize()
    # Echoed exactly: the raw bytes of the answer carry the same token.
    for rid, token in [("abc", b'"abc"'), (0, b"0"), (-5, b"-5"),
                       (9007199254740993, b"9007199254740993"),
                       ("\u00e9\u4e2d\U0001f600", None), ("", b'""')]:
        r = s.request("ping", rid=rid)
        check(r["id"] == rid and r["result"] == {}, "id %r: %r" % (rid, r))
        if token is not None:
            raw = s.raw[json.dumps(rid)][-1]
            check(b'"id":' + token in raw, "id %r not echoed exactly: %r" %
                  (rid, raw))
    for bad in [None, 1.5, True, [1], {"a": 1}]:
        s.send({"jsonrpc": "2.0", "id": bad, "method": "ping"})
        error_of(s.wait_null_error(), -32600)
    # "1" and 1 are different ids.
    check(s.request("ping", rid="1")["id"] == "1", "string id 1")
    check(s.request("ping", rid=1)["id"] == 1, "integer id 1")
    mcplib.expect_exit_ok(s, "ids")


def case_framing():
    s = start()
    s.initialize()
    s.send_raw(b"\n\n   \n\t\n")      # blank lines are no messages
    s.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\r\n')
    check(s.wait(1)["result"] == {}, "CRLF line")
    s.send_raw(b'  {"jsonrpc":"2.0","id":2,"method":"ping"}  \n')
    check(s.wait(2)["result"] == {}, "spaces around a message")
    # Two messages written at once, one split across writes.
    s.send_raw(b'{"jsonrpc":"2.0","id":3,"method":"ping"}\n'
               b'{"jsonrpc":"2.0","id":4,')
    s.send_raw(b'"method":"ping"}\n')
    check(s.wait(3)["result"] == {} and s.wait(4)["result"] == {},
          "split writes")
    # Exactly MCP_MAX_LINE bytes is served; one more is refused.
    head = b'{"jsonrpc":"2.0","id":5,"method":"ping","params":{"pad":"'
    tail = b'"}}'
    line = head + b"x" * (MAX_LINE - len(head) - len(tail)) + tail
    check(len(line) == MAX_LINE, "test line length")
    s.send_raw(line + b"\n")
    check(s.wait(5, 60)["result"] == {}, "a line of MCP_MAX_LINE bytes")
    line = head.replace(b'"id":5', b'"id":6') + b"x" * (
        MAX_LINE + 1 - len(head) - len(tail)) + tail
    s.send_raw(line + b"\n")
    msg = error_of(s.wait_null_error(60), -32600)
    check(str(MAX_LINE) in msg, "oversize message does not name the "
          "limit: " + msg)
    s.expect_silence(6, 0.2)
    # An oversize line arriving in pieces, without a newline for long.
    s.send_raw(b'{"jsonrpc":"2.0","id":7,"method":"ping","params":{"p":"')
    for _ in range(5):
        s.send_raw(b"y" * (MAX_LINE // 4))
    s.send_raw(b'"}}\n')
    error_of(s.wait_null_error(60), -32600)
    check(s.request("ping", rid=8)["result"] == {}, "ping after oversize")
    s.expect_silence(7, 0)
    mcplib.expect_exit_ok(s, "framing")


def case_malformed():
    s = start()
    s.initialize()
    parse_errors = [b"{", b'{"a":}', b"\xff\xfe\xfd", b"\x00\x01",
                    b'{"jsonrpc":"2.0","id":1,"method":"ping"',
                    b'{"jsonrpc":"2.0","id":1,"method":"ping"}}',
                    b'{"jsonrpc":"2.0","id":1,"method":"p\xc3"}',
                    b'{"jsonrpc":"2.0","id":1,"method":"\\ud800"}',
                    b'{"jsonrpc":"2.0","id":1,"method":"a\\u0000b"}',
                    b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}',
                    b"[" * 100000, b"{" * 50000,
                    b'{"jsonrpc":"2.0","id":99999999999999999999999,'
                    b'"method":"ping"}', b"nul", b"'single'", b"1e400"]
    for bad in parse_errors:
        s.send_raw(bad + b"\n")
        error_of(s.wait_null_error(), -32700)
    invalid = [b"5", b'"ping"', b"null", b"true", b"[]",
               b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]']
    for bad in invalid:
        s.send_raw(bad + b"\n")
        msg = error_of(s.wait_null_error(), -32600)
        if bad.startswith(b"["):
            check("batch" in msg, "batch refusal: " + msg)
    # Fuzz: random bytes and mutated messages, seeded for repeatability.
    rnd = random.Random(6)
    base = b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":' \
        b'{"name":"get_violation_history","arguments":{"days_back":7}}}'
    lines = []
    for i in range(400):
        if i % 2:
            n = rnd.randrange(1, 300)
            lines.append(bytes(rnd.randrange(256) for _ in range(n))
                         .replace(b"\n", b" "))
        else:
            b = bytearray(base)
            for _ in range(rnd.randrange(1, 6)):
                b[rnd.randrange(len(b))] = rnd.randrange(32, 127)
            lines.append(bytes(b))
    s.send_raw(b"\n".join(lines) + b"\n")
    check(s.request("ping", rid="after-fuzz", timeout=120)["result"] == {},
          "ping after the fuzz")
    with s.cond:
        for rs in s.responses.values():
            for r in rs:
                check(("result" in r) != ("error" in r), "bad answer %r" % r)
    mcplib.expect_exit_ok(s, "malformed")


def case_slow_reader():
    """A client that stops reading: past MCP_MAX_PENDING_OUTPUT (64 MiB)
    of unread answers the server stops reading requests (the client's
    writes block) instead of growing; once the client reads, every request
    is answered in order."""
    if mcplib.WRAPPER:
        print("     (skipped under %s: 237 MB of answers)" %
              mcplib.WRAPPER[0])
        return
    env = mcplib.server_env(mcplib.tempdir())
    p = mcplib.subprocess.Popen([mcplib.TAGWARDEN], stdin=mcplib.subprocess
                                .PIPE, stdout=mcplib.subprocess.PIPE,
                                stderr=mcplib.subprocess.DEVNULL, env=env)
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "slow", "version": "1"}}}
    n = 20000      # 237 MB of answers: an unthrottled server shows it
    lines = [json.dumps(init)] + [json.dumps({"jsonrpc": "2.0", "id": i,
                                              "method": "tools/list"})
                                  for i in range(1, n + 1)]
    data = ("\n".join(lines) + "\n").encode()
    written = [0]

    def writer():
        try:
            for off in range(0, len(data), 4096):
                p.stdin.write(data[off:off + 4096])
                p.stdin.flush()
                written[0] = off + len(data[off:off + 4096])
            p.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    t = mcplib.threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        mcplib.time.sleep(3)
        check(written[0] < len(data), "the server read all %d bytes of "
              "requests while nobody read its answers" % len(data))
        with open("/proc/%d/maps" % p.pid) as f:
            asan = "libasan" in f.read()
        with open("/proc/%d/status" % p.pid) as f:
            rss = int(mcplib.re.search(r"VmRSS:\s+(\d+)",
                                       f.read()).group(1))
        # ASan keeps freed memory in quarantine: its size says nothing.
        check(asan or rss < 200 * 1024, "resident %d KiB while the client "
              "did not read" % rss)
        seen = 0
        for line in p.stdout:
            msg = json.loads(line)
            check(msg["id"] == seen, "answer %r out of order" %
                  msg.get("id"))
            seen += 1
        t.join(timeout=60)
        check(seen == n + 1, "answered %d of %d" % (seen, n + 1))
        check(p.wait(timeout=60) == 0, "exit status")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def case_tool_arguments():
    s = start()
    s.initialize()
    cases = [
        ("get_violation_history", {"days_back": 0},
         ["days_back", "0", "1..90"]),
        ("get_violation_history", {"days_back": "7"},
         ["days_back", '"7"', "integer"]),
        ("get_violation_history", {"group_by": "year"},
         ["group_by", '"year"', '"day", "week", "month"']),
        ("get_violation_history", {"account_id": "12345"},
         ["account_id", '"12345"', "^[0-9]{12}$"]),
        ("get_violation_history", {"bogus": 1},
         ["bogus", "unknown field", "days_back"]),
        ("check_tag_compliance", {"severity": "critical"},
         ["severity", '"critical"', '"errors_only"']),
        ("check_tag_compliance", {"resource_types": ["ec2:nat"]},
         ["resource_types[0]", '"ec2:nat"', '"ec2:instance"']),
        ("check_tag_compliance", {"resource_types": []},
         ["resource_types", "[]", "1..7"]),
        ("check_tag_compliance", {"filters": {"region": "us-east-1"}},
         ["filters.region", "unknown field", "regions"]),
        ("check_tag_compliance", {"filters": {"regions": ["US_EAST"]}},
         ["filters.regions[0]", '"US_EAST"', "matching ^[a-z]{2}"]),
        ("check_tag_compliance", {"account_ids": ["1234"]},
         ["account_ids[0]", '"1234"', "^[0-9]{12}$"]),
        ("check_tag_compliance", {"account_ids": ["111111111111",
                                                  "111111111111"]},
         ["account_ids[1]", "distinct"]),
        ("check_tag_compliance", {"store_snapshot": "yes"},
         ["store_snapshot", '"yes"', "true or false"]),
        ("validate_resource_tags", {}, ["resource_arns", "missing"]),
        ("validate_resource_tags", {"resource_arns": ["i-0abc"]},
         ["resource_arns[0]", '"i-0abc"', "arn:aws:"]),
        ("validate_resource_tags", {"resource_arns": [
            "arn:aws:ec2:us-east-1:111111111111:instance/i-%05d" % i
            for i in range(101)]}, ["resource_arns", "1..100"]),
        ("get_tagging_policy", {"x": 1}, ["x", "unknown field"]),
    ]
    for tool, args, words in cases:
        text = s.tool_error(tool, args)
        for w in words:
            check(w in text, "%s %r: %r not in %r" % (tool, args, w, text))
    # account_ids while MULTI_ACCOUNT_ENABLED=false says how to enable it.
    for tool in ("check_tag_compliance", "find_untagged_resources"):
        text = s.tool_error(tool, {"account_ids": ["222222222222"]})
        check("MULTI_ACCOUNT_ENABLED=true" in text and "account_ids" in text,
              "multi-account refusal: " + text)
    # A tag filter needs the history it reads.
    text = s.tool_error("check_tag_compliance", {
        "store_snapshot": False, "filters": {"tags": [{"key": "Owner"}]}})
    check("filters.tags" in text and "store_snapshot" in text, text)
    mcplib.expect_exit_ok(s, "tool arguments")


def case_offline_tools():
    s = start()
    s.initialize()
    p = s.tool_ok("get_tagging_policy", {})
    with open(mcplib.POLICY, "rb") as f:
        raw = f.read()
    doc = json.loads(raw)
    check(p["hash"] == hashlib.sha256(raw).hexdigest(), "policy hash")
    check(p["path"] == mcplib.POLICY, "policy path")
    check(p["required_tag_count"] == len(doc["required_tags"]) and
          p["optional_tag_count"] == len(doc["optional_tags"]), "counts")
    check([t["name"] for t in p["policy"]["required_tags"]] ==
          [t["name"] for t in doc["required_tags"]], "required tags")
    want = []
    for t in doc["required_tags"]:
        for a in t["applies_to"]:
            if a not in want:
                want.append(a)
    check(p["resource_types"] == want, "resource types %r" %
          p["resource_types"])
    h = s.tool_ok("get_violation_history", {"days_back": 90,
                                            "group_by": "month"})
    check(h["periods"] == [] and h["trend"]["direction"] == "stable" and
          h["trend"]["periods_compared"] == 0, "empty history %r" % h)
    # No AWS credentials anywhere: the scanning tools say so, the server
    # stays up, and the next call tries again.
    for tool in ("check_tag_compliance", "find_untagged_resources"):
        text = s.tool_error(tool, {})
        check(text.startswith("AWS credentials: "), "%s without "
              "credentials: %s" % (tool, text))
    r = s.tool_ok("validate_resource_tags", {"resource_arns": [
        "arn:aws:ec2:us-east-1:111111111111:instance/i-1"]})
    check(r["results"][0]["status"] == "error" and r["results"][0][
        "error"].startswith("AWS credentials: "), "validate without "
          "credentials: %r" % r["results"][0])
    mcplib.expect_exit_ok(s, "offline tools")


def case_scope_errors():
    tmp = mcplib.tempdir()
    pol = os.path.join(tmp, "policy.json")
    with open(pol, "w") as f:
        json.dump({"required_tags": [{"name": "Owner", "applies_to":
                                      ["ec2:instance"]}]}, f)
    s = Server(mcplib.server_env(tmp, extra={
        "POLICY_PATH": pol, "ALLOWED_REGIONS": "us-east-1,eu-west-1"}))
    s.initialize()
    text = s.tool_error("check_tag_compliance", {
        "resource_types": ["ec2:instance", "s3:bucket"]})
    check(text.startswith('resource_types[1]: "s3:bucket": expected all or '
                          'a type the policy') and text.endswith(
                              "covers: all, ec2:instance"), text)
    text = s.tool_error("find_untagged_resources", {
        "resource_types": ["ec2:instance", "all"]})
    check(text == 'resource_types[1]: "all": expected ["all"] alone, or a '
          'list of types without it', text)
    text = s.tool_error("check_tag_compliance", {
        "filters": {"regions": ["eu-west-1", "us-west-2"]}})
    check(text == 'filters.regions[1]: "us-west-2": expected a region of '
          'ALLOWED_REGIONS: us-east-1, eu-west-1', text)
    text = s.tool_error("find_untagged_resources", {"regions":
                                                    ["ap-south-1"]})
    check(text.startswith('regions[0]: "ap-south-1": expected a region of '
                          'ALLOWED_REGIONS'), text)
    r = s.tool_ok("validate_resource_tags", {"resource_arns": [
        "arn:aws:ec2:us-east-1:111111111111:volume/vol-1"]})
    check(r["results"][0]["status"] == "error" and "not covered by the "
          "tagging policy" in r["results"][0]["error"], "validate: %r" %
          r["results"][0])
    mcplib.expect_exit_ok(s, "scope errors")


def case_policy_broken():
    tmp = mcplib.tempdir()
    bad = os.path.join(tmp, "policy.json")
    with open(bad, "w") as f:
        f.write('{"required_tags": [{"name": 5}]}')
    s = Server(mcplib.server_env(tmp, extra={"POLICY_PATH": bad}))
    s.initialize()
    text = s.tool_error("get_tagging_policy", {})
    check("POLICY_PATH=" + bad in text, "broken policy not named: " + text)
    mcplib.expect_exit_ok(s, "broken policy")


def case_startup_errors():
    tmp = mcplib.tempdir()
    env = mcplib.server_env(tmp, extra={"MAX_CONCURRENT_ACCOUNTS": "0"})
    s = Server(env)
    rc = s.close()
    check(rc == 2, "bad configuration: exit %d" % rc)
    check("MAX_CONCURRENT_ACCOUNTS" in s.stderr_tail(), "not named")
    s = Server(mcplib.server_env(tmp), args=["serve", "extra"])
    check(s.close() == 2, "serve with an argument")
    # stdin from /dev/null: EOF at once, exit 0, nothing on stdout.
    env = mcplib.server_env(tmp)
    with open(os.devnull, "rb") as null:
        p = mcplib.subprocess.run(mcplib.WRAPPER + [mcplib.TAGWARDEN],
                                  stdin=null, capture_output=True, env=env,
                                  timeout=60 * mcplib.SLOW)
    check(p.returncode == 0 and p.stdout == b"", "stdin /dev/null: %d %r"
          % (p.returncode, p.stdout[:200]))
    # stdin a regular file of requests (epoll refuses files: poll is used).
    req = os.path.join(tmp, "requests.jsonl")
    with open(req, "w") as f:
        f.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":'
                '{"protocolVersion":"2025-06-18","capabilities":{},'
                '"clientInfo":{"name":"file","version":"1"}}}\n'
                '{"jsonrpc":"2.0","id":2,"method":"ping"}\n'
                '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":'
                '{"name":"get_tagging_policy"}}')     # no final newline
    with open(req, "rb") as f:
        p = mcplib.subprocess.run(mcplib.WRAPPER + [mcplib.TAGWARDEN],
                                  stdin=f, capture_output=True, env=env,
                                  timeout=60 * mcplib.SLOW)
    out = [json.loads(x) for x in p.stdout.splitlines()]
    check(p.returncode == 0 and [m["id"] for m in out] == [1, 2, 3] and
          out[0]["result"]["protocolVersion"] == "2025-06-18" and
          out[2]["result"]["isError"] is False, "requests from a file: %d %r"
          % (p.returncode, p.stdout[:300]))


def main():
    return mcplib.run([
        ("lifecycle", case_lifecycle),
        ("version negotiation", case_versions),
        ("error codes", case_error_codes),
        ("ids echoed exactly", case_ids),
        ("line framing and MCP_MAX_LINE", case_framing),
        ("malformed input and fuzz", case_malformed),
        ("a client that stops reading", case_slow_reader),
        ("tool argument errors", case_tool_arguments),
        ("policy and history without AWS", case_offline_tools),
        ("types outside the policy, regions outside ALLOWED_REGIONS",
         case_scope_errors),
        ("broken policy file", case_policy_broken),
        ("startup errors", case_startup_errors),
    ])


if __name__ == "__main__":
    sys.exit(main())

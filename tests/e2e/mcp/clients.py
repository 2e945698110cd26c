#!/usr/bin/python3
"""tagwarden driven by independent MCP clients, pinned in
tests/mcp/package-lock.json and installed by tests/mcp/install.sh:

  sdk        the official TypeScript SDK (tests/mcp/sdk-client.mjs): lists
             the tools and calls each one; the SDK validates every
             structuredContent against its outputSchema; cancels a scan.
  inspector  the MCP Inspector CLI: tools/list, and a multi-account
             check_tag_compliance with --tool-arg account_ids=[...]
             (PRODUCT-PLAN UAT-8).

Expected numbers come from tests/oracle/oracle.py and the fixture. Usage:
clients.py sdk|inspector. NODE names the node binary (default: node on
PATH).
"""

import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcplib  # noqa: E402
from mcplib import DEV, LOCKED, MGMT, PROD, SLOW, check  # noqa: E402

MCP_DIR = os.path.join(mcplib.SRC, "tests", "mcp")
NODE = os.environ.get("NODE", "node")
INSPECTOR = os.path.join(MCP_DIR, "node_modules", "@modelcontextprotocol",
                         "inspector", "cli", "build", "cli.js")
TOOLS = ["check_tag_compliance", "find_untagged_resources",
         "validate_resource_tags", "get_tagging_policy",
         "get_violation_history", "get_cost_attribution_gap"]


def clients_ready():
    if not os.path.isdir(os.path.join(MCP_DIR, "node_modules",
                                      "@modelcontextprotocol", "sdk")):
        raise mcplib.Failure("the MCP clients are not installed: run "
                             "tests/mcp/install.sh (npm ci)")
    v = subprocess.run([NODE, "--version"], capture_output=True, text=True,
                       check=True).stdout.strip()
    print("node %s" % v)


def totals(account):
    t = mcplib.oracle(account)["totals"]
    return {"counted": t["counted"], "compliant": t["compliant"],
            "violations": t["violations"]}


def expected():
    with open(mcplib.POLICY, "rb") as f:
        policy_hash = hashlib.sha256(f.read()).hexdigest()
    ok = mcplib.oracle_resources(mcplib.oracle(MGMT))
    good = "arn:aws:ec2:us-east-1:111111111111:instance/i-0a10000000000001"
    bad = "arn:aws:ec2:us-east-1:111111111111:instance/i-0a10000000000003"
    gone = "arn:aws:ec2:us-east-1:111111111111:instance/i-0a10000000000005"
    return {
        "tools": TOOLS,
        "types": mcplib.TYPES,
        "policy_hash": policy_hash,
        "single": totals(MGMT),
        "accounts": [MGMT, PROD, LOCKED],
        "breakdown": {a: totals(a) for a in (MGMT, PROD)},
        "failed": [LOCKED],
        "untagged_count": len(mcplib.expected_untagged([MGMT])),
        "validate": {
            good: "compliant" if ok[good]["compliant"] else "noncompliant",
            bad: "compliant" if ok[bad]["compliant"] else "noncompliant",
            gone: "not_found"},
        "hang": DEV,
    }


def run_sdk(emu):
    tmp = mcplib.tempdir()
    env = mcplib.server_env(tmp, emu, multi=True, extra={
        "CACHE_TTL_SECONDS": "0"})
    emu.faults([{"kind": "hang", "account": DEV, "service": "ec2"}])
    p = subprocess.run(
        [NODE, os.path.join(MCP_DIR, "sdk-client.mjs")], cwd=MCP_DIR,
        env=dict(os.environ, TAGWARDEN_CMD=json.dumps(
            mcplib.WRAPPER + [mcplib.TAGWARDEN]),
            TAGWARDEN_ENV=json.dumps(env), EXPECTED=json.dumps(expected())),
        capture_output=True, text=True, timeout=900)
    sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr[-4000:])
    check(p.returncode == 0, "sdk-client.mjs exited %d" % p.returncode)
    # The SDK's cancellation reached the scan: recorded as cancelled.
    import sqlite3
    deadline = time.monotonic() + 30 * SLOW
    rows = []
    while time.monotonic() < deadline:
        db = sqlite3.connect(os.path.join(tmp, "history.db"))
        rows = db.execute("SELECT status FROM account_results WHERE "
                          "account_id = ?", (DEV,)).fetchall()
        db.close()
        if rows:
            break
        time.sleep(0.1)
    check(rows == [("cancelled",)], "history after the SDK cancelled: %r" %
          rows)


def inspector(args, env, server):
    p = subprocess.run([NODE, INSPECTOR, "--cli", server] + args,
                       cwd=MCP_DIR, env=env, capture_output=True, text=True,
                       timeout=900)
    check(p.returncode == 0, "inspector %s: exit %d: %s %s" % (
        " ".join(args), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    return json.loads(p.stdout)


def run_inspector(emu):
    tmp = mcplib.tempdir()
    server = os.path.join(tmp, "tagwarden.sh")
    with open(server, "w") as f:
        f.write("#!/bin/sh\nexec %s \"$@\"\n" % " ".join(
            mcplib.WRAPPER + [mcplib.TAGWARDEN]))
    os.chmod(server, 0o755)
    env = dict(os.environ, **mcplib.server_env(tmp, emu, multi=True))
    # The inspector starts node by name: the one under test goes first.
    env["PATH"] = os.path.dirname(os.path.abspath(
        subprocess.run(["sh", "-c", "command -v " + NODE],
                       capture_output=True, text=True).stdout.strip())) + \
        ":" + env["PATH"]
    listed = inspector(["--method", "tools/list"], env, server)
    names = [t["name"] for t in listed["tools"]]
    check(names == TOOLS, "tools/list: %r" % names)
    check("account_ids" in listed["tools"][0]["inputSchema"]["properties"],
          "check_tag_compliance lists account_ids")
    print("ok   inspector tools/list: %s" % ", ".join(names))
    r = inspector(["--method", "tools/call", "--tool-name",
                   "check_tag_compliance", "--tool-arg",
                   "account_ids=%s" % json.dumps([MGMT, PROD, LOCKED]),
                   "--tool-arg", "resource_types=%s" %
                   json.dumps(mcplib.TYPES)], env, server)
    check(r.get("isError") is False, "tool error: %r" % r)
    sc = json.loads(r["content"][0]["text"])
    check(sc == r["structuredContent"], "text item is the structured JSON")
    check(sorted(sc["account_metadata"]["successful_accounts"]) ==
          [MGMT, PROD] and sc["account_metadata"]["failed_accounts"] ==
          [LOCKED], "accounts %r" % sc["account_metadata"])
    for a in (MGMT, PROD):
        t = totals(a)
        b = sc["account_breakdown"][a]
        check(b["total_resources"] == t["counted"] and
              b["compliant_resources"] == t["compliant"] and
              b["violation_count"] == t["violations"],
              "account %s: %r, oracle %r" % (a, b, t))
    print("ok   inspector multi-account check_tag_compliance: %d "
          "resources, score %.3f" % (sc["total_resources"],
                                     sc["compliance_score"]))


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "sdk"
    emu = mcplib.Emulator()
    try:
        def case():
            clients_ready()
            (run_sdk if which == "sdk" else run_inspector)(emu)
        return mcplib.run([("MCP %s client" % which, case)])
    finally:
        emu.stop()


if __name__ == "__main__":
    sys.exit(main())

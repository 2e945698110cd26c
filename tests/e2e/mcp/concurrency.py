#!/usr/bin/python3
"""Concurrency, cancellation and shutdown of a real tagwarden MCP server
against the AWS emulator. The emulator's `hang` fault holds every EC2 call
of account 333333333333 unanswered, so a scan of it runs until something
stops it; meanwhile ping, tools/list, other tools and other scans must
answer. notifications/cancelled must kill the scan's worker, record the
account as cancelled in the history, and send no answer; EOF on stdin and
SIGTERM must do the same for every scan in flight and exit 0.
"""

import os
import signal
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mcplib  # noqa: E402
from mcplib import DEV, MGMT, SLOW, Server, check  # noqa: E402

EMU = None
HANG = [{"kind": "hang", "account": DEV, "service": "ec2"}]


def start(tmp, extra=None):
    env = mcplib.server_env(tmp, EMU, multi=True, extra=dict({
        "ACCOUNT_SCAN_TIMEOUT_SECONDS": "120", "CACHE_TTL_SECONDS": "0"},
        **(extra or {})))
    s = Server(env)
    s.initialize()
    return s


def wait_for(cond, what, timeout=20):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except sqlite3.Error:
            pass        # the database is not created yet
        time.sleep(0.05)
    raise mcplib.Failure("timed out waiting for " + what)


def slow_call(s, rid, progress=None):
    s.call("check_tag_compliance", {"resource_types": mcplib.TYPES,
                                    "account_ids": [DEV]}, rid=rid,
           wait=False, progress=progress)


def history(tmp, sql, args=()):
    db = sqlite3.connect(os.path.join(tmp, "history.db"))
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def dev_rows(tmp):
    return history(tmp, "SELECT s.status, s.finished_at IS NOT NULL, "
                   "a.status, a.error FROM scans AS s JOIN account_results "
                   "AS a ON a.scan_id = s.id WHERE a.account_id = ? "
                   "ORDER BY s.id", (DEV,))


def case_concurrent_and_cancel():
    tmp = mcplib.tempdir()
    s = start(tmp)
    slow_call(s, "slow-1", progress="p-slow")
    wait_for(lambda: s.workers(), "the slow scan's worker")
    t0 = time.monotonic()
    check(s.request("ping", rid="ping-1", timeout=5)["result"] == {},
          "ping during a scan")
    check(len(s.request("tools/list", timeout=5)["result"]["tools"]) == 6,
          "tools/list during a scan")
    s.tool_ok("get_tagging_policy", {}, timeout=5)
    fast = s.tool_ok("check_tag_compliance", {
        "resource_types": mcplib.TYPES}, timeout=30)
    check(fast["total_resources"] ==
          mcplib.oracle(MGMT)["totals"]["counted"], "fast scan total")
    check(time.monotonic() - t0 < 30 * SLOW, "answers waited for the scan")
    # The id of a request in progress cannot be reused.
    dup = s.request("ping", rid="slow-1", timeout=5)
    check(dup.get("error", {}).get("code") == -32600, "duplicate id: %r" %
          dup)
    prog = [n for n in s.notes if n["method"] == "notifications/progress"
            and n["params"]["progressToken"] == "p-slow"]
    check(prog and prog[0]["params"]["progress"] == 0 and
          prog[0]["params"]["total"] == 1, "progress of the slow scan %r" %
          prog)
    workers = s.workers()
    check(len(workers) == 1, "workers alive: %r" % workers)
    s.notify("notifications/cancelled", {"requestId": "slow-1",
                                         "reason": "test"})
    wait_for(lambda: not s.workers(), "the worker to be killed")
    wait_for(lambda: dev_rows(tmp), "the cancelled account's row")
    s.expect_silence("slow-1", 1.0)
    rows = dev_rows(tmp)
    check(rows == [("cancelled", 1, "cancelled", "scan cancelled")],
          "history after cancel: %r" % rows)
    check(s.request("ping", timeout=5)["result"] == {}, "ping after cancel")
    mcplib.expect_exit_ok(s, "cancel")


def case_many_in_flight():
    tmp = mcplib.tempdir()
    s = start(tmp, {"MAX_CONCURRENT_ACCOUNTS": "2"})
    for i in range(3):
        slow_call(s, "slow-%d" % i)
    wait_for(lambda: len(s.workers()) == 2, "two workers (the cap)")
    check(s.request("ping", timeout=5)["result"] == {}, "ping")
    s.notify("notifications/cancelled", {"requestId": "slow-1"})
    wait_for(lambda: len(dev_rows(tmp)) == 1, "one scan cancelled")
    # The queued third scan takes the freed slot.
    wait_for(lambda: len(s.workers()) == 2, "the queued scan starting")
    pids = s.workers()
    rc = s.close()      # EOF with two scans running
    check(rc == 0, "exit %d after EOF; stderr:\n%s" % (rc, s.stderr_tail()))
    for pid in pids:
        check(not os.path.exists("/proc/%d" % pid) or
              open("/proc/%d/stat" % pid).read().split()[2] == "Z",
              "worker %d survived" % pid)
    rows = dev_rows(tmp)
    check(sorted(r[2] for r in rows) == ["cancelled"] * 3 and
          all(r[1] == 1 for r in rows), "history after EOF: %r" % rows)
    with s.cond:
        for i in range(3):
            check(not s.responses.get('"slow-%d"' % i), "slow-%d answered" %
                  i)


def case_busy():
    """MCP_MAX_INFLIGHT (64) requests in progress: the next is refused with
    -32000 and the server goes on; EOF then records all 64 as cancelled."""
    tmp = mcplib.tempdir()
    s = start(tmp)
    for i in range(64):
        slow_call(s, "busy-%d" % i)
    r = s.request("ping", rid="one-too-many", timeout=30)
    check(r.get("error", {}).get("code") == -32000 and "64" in
          r["error"]["message"], "65th request: %r" % r)
    rc = s.close(timeout=60)
    check(rc == 0, "exit %d; stderr:\n%s" % (rc, s.stderr_tail()))
    rows = dev_rows(tmp)
    check(len(rows) == 64 and {r[2] for r in rows} == {"cancelled"},
          "history: %d rows, %r" % (len(rows), {r[2] for r in rows}))


def case_sigterm():
    tmp = mcplib.tempdir()
    s = start(tmp)
    slow_call(s, "slow-t")
    wait_for(lambda: s.workers(), "the worker")
    s.proc.send_signal(signal.SIGTERM)
    try:
        rc = s.proc.wait(timeout=30 * SLOW)
    except mcplib.subprocess.TimeoutExpired:
        s.kill()
        raise mcplib.Failure("no exit after SIGTERM")
    s.reader.join(timeout=10)
    s.errf.close()
    check(rc == 0, "exit %d after SIGTERM: %s" % (rc, s.stderr_tail()))
    check(dev_rows(tmp) == [("cancelled", 1, "cancelled", "scan cancelled")],
          "history after SIGTERM: %r" % dev_rows(tmp))


def case_client_gone():
    """The client closes its end of stdout: the server notices and ends.
    Nothing reads stdout here, so closing it cannot race a reader."""
    tmp = mcplib.tempdir()
    env = mcplib.server_env(tmp, EMU, multi=True)
    r, w = os.pipe()
    err = open(os.path.join(tmp, "tagwarden.err"), "wb")
    p = mcplib.subprocess.Popen(mcplib.WRAPPER + [mcplib.TAGWARDEN],
                                stdin=mcplib.subprocess.PIPE, stdout=w,
                                stderr=err, env=env)
    os.close(w)
    lines = [{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "gone", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "check_tag_compliance", "arguments": {
                "resource_types": mcplib.TYPES, "account_ids": [DEV]}}}]
    for m in lines:
        p.stdin.write((mcplib.json.dumps(m) + "\n").encode())
    p.stdin.flush()
    wait_for(lambda: dev_rows(tmp) == [] and history(
        tmp, "SELECT count(*) FROM scans")[0][0] == 1, "the scan to start")
    os.close(r)
    p.stdin.write(b'{"jsonrpc":"2.0","id":3,"method":"ping"}\n')
    p.stdin.flush()
    try:
        rc = p.wait(timeout=30 * SLOW)
    except mcplib.subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise mcplib.Failure("no exit when stdout was closed")
    finally:
        err.close()
        p.stdin.close()
    check(rc == 0, "exit %d" % rc)
    check([row[2] for row in dev_rows(tmp)] == ["cancelled"],
          "history: %r" % dev_rows(tmp))


def main():
    global EMU
    EMU = mcplib.Emulator()
    try:
        EMU.faults(HANG)
        return mcplib.run([
            ("concurrent answers, cancellation", case_concurrent_and_cancel),
            ("scans queued at the cap, EOF shutdown", case_many_in_flight),
            ("MCP_MAX_INFLIGHT", case_busy),
            ("SIGTERM shutdown", case_sigterm),
            ("client closes stdout", case_client_gone),
        ])
    finally:
        EMU.stop()


if __name__ == "__main__":
    sys.exit(main())

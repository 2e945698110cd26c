#!/usr/bin/python3
"""tagwarden scan's exit status: 0 when every account was scanned, 1 when
some (or all) failed, 2 for a usage or configuration error, which also
prints one line on stderr naming the option or variable and nothing on
stdout, and scans nothing. --help exits 0.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import check  # noqa: E402


def body(t):
    fx = lib.load_json(lib.DEMO)
    mgmt, _ = lib.base_keys(fx)
    reach = [a for a in lib.ok_accounts(lib.DEMO)
             if a not in lib.slow_accounts(lib.DEMO)]
    member = next(a for a in reach if a != mgmt)
    bad = next(a["id"] for a in fx["accounts"]
               if a["id"] not in lib.ok_accounts(lib.DEMO))
    emu = t.emulator()
    multi = t.env(emu, reach[:3])

    # (what, args, env, exit status, text stderr must hold)
    cases = [
        ("--help", ["scan", "--help"], multi, 0, None),
        ("every account ok", ["scan", "--json"], multi, 0, None),
        ("the local account alone", ["scan"], t.env(emu), 0, None),
        ("one account refused", ["scan", "--json", "--accounts",
                                 ",".join(reach[:2] + [bad])], multi, 1,
         "AssumeRole failed"),
        ("every account refused", ["scan", "--accounts", bad], multi, 1,
         "AssumeRole failed"),
        ("an unknown option", ["scan", "--bogus"], multi, 2, "--bogus"),
        ("an option without its value", ["scan", "--accounts"], multi, 2,
         "--accounts"),
        ("an extra argument", ["scan", "extra"], multi, 2, "extra"),
        ("a malformed account ID", ["scan", "--accounts", "12345"], multi,
         2, "12345"),
        ("a malformed region", ["scan", "--regions", "Not_A_Region"], multi,
         2, "Not_A_Region"),
        ("a type no collector knows", ["scan", "--types", "ec2:nothing"],
         multi, 2, "ec2:nothing"),
        ("MAX_CONCURRENT_ACCOUNTS=0", ["scan"],
         t.env(emu, reach[:3], MAX_CONCURRENT_ACCOUNTS=0), 2,
         "MAX_CONCURRENT_ACCOUNTS"),
        ("ACCOUNT_SCAN_TIMEOUT_SECONDS=29", ["scan"],
         t.env(emu, reach[:3], ACCOUNT_SCAN_TIMEOUT_SECONDS=29), 2,
         "ACCOUNT_SCAN_TIMEOUT_SECONDS"),
        ("a missing policy", ["scan"],
         t.env(emu, reach[:3], POLICY_PATH=os.path.join(t.tmp, "nope.json")),
         2, "POLICY_PATH"),
        ("another account without MULTI_ACCOUNT_ENABLED", ["scan",
                                                           "--accounts",
                                                           member],
         t.env(emu), 2, "MULTI_ACCOUNT_ENABLED"),
        ("no AWS credentials", ["scan"],
         t.env(emu, reach[:3], AWS_ACCESS_KEY_ID=None,
               AWS_SECRET_ACCESS_KEY=None), 2, "credentials"),
    ]
    for what, args, env, rc, text in cases:
        before = emu.stats()
        run = t.tagwarden(args, env, timeout=60)
        check(run.rc == rc, "%s: exit %d, expected %d; stderr: %s" % (
            what, run.rc, rc, run.err[-1500:]))
        if text is not None:
            check(text in run.err, "%s: stderr does not mention %r: %s" % (
                what, text, run.err[-1500:]))
        if rc == 2:
            check(run.out == "", "%s: stdout is not empty: %r" % (
                what, run.out[:300]))
            after = emu.stats()
            scanned = {a for a in after["accounts"] if
                       lib.account_calls(after, a) !=
                       lib.account_calls(before, a) and a != mgmt}
            check(not scanned, "%s: accounts %s were scanned" % (
                what, sorted(scanned)))
        if what == "--help":
            check("usage: tagwarden scan" in run.out, "--help: %r" %
                  run.out[:200])
    return "%d cases: 0 all ok, 1 some or all failed, 2 usage and " \
        "configuration errors" % len(cases)


lib.main("012 exit codes", body)

#!/usr/bin/python3
"""A bad fixture or bad options end aws-emulator with status 2 and one
sentence naming the path, the value and what was expected (the contract in
tests/emulator/README.md). Each case breaks fixtures/small.json in one
place; the error paths also run under TAGWARDEN_WRAPPER (leaks on exit).
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402


def run(args):
    proc = subprocess.run(emulib.WRAPPER + [emulib.program("aws-emulator")] +
                          args, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def run_fixture(fx):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        if isinstance(fx, str):
            f.write(fx)
        else:
            json.dump(fx, f)
    try:
        return run(["--fixture", f.name, "--listen", "127.0.0.1:0"])
    finally:
        os.unlink(f.name)


def prod_res(fx, i=0, region="us-east-1"):
    return fx["accounts"][1]["resources"][region][i]


def mutate_cases():
    def m(fn):
        def apply(fx):
            fn(fx)
            return fx
        return apply
    return [
        (m(lambda fx: fx["accounts"][1]["regions"].__setitem__(
            "us-east-1", "enabld")),
         'accounts[1].regions.us-east-1: "enabld": expected enabled, '
         'opted-in or not-opted-in'),
        (m(lambda fx: prod_res(fx).__setitem__("colour", "red")),
         'accounts[1].resources.us-east-1[0]: unknown key "colour"'),
        (m(lambda fx: fx["accounts"][2].__setitem__("id", "12345")),
         'accounts[2].id: "12345": expected 12 digits'),
        (m(lambda fx: prod_res(fx).__setitem__("ever_tagged", False)),
         'accounts[1].resources.us-east-1[0].ever_tagged: false, but the '
         'resource has tags'),
        (m(lambda fx: fx["accounts"][1]["resources"].__setitem__(
            "af-south-1", [])),
         'accounts[1].resources.af-south-1: region af-south-1 is not opted '
         'in for account 222222222222'),
        (m(lambda fx: fx["accounts"][1]["resources"]["us-east-1"].append(
            copy.deepcopy(prod_res(fx)))),
         'resource ARN arn:aws:ec2:us-east-1:222222222222:instance/'
         'i-0bbb000000000001 appears twice'),
        (m(lambda fx: prod_res(fx).__setitem__("state", "runing")),
         'accounts[1].resources.us-east-1[0].state: "runing": not a state '
         'of ec2:instance'),
        (m(lambda fx: prod_res(fx).__setitem__("created", "yesterday")),
         'accounts[1].resources.us-east-1[0].created: "yesterday": expected '
         'an ISO 8601 UTC time'),
        (m(lambda fx: prod_res(fx).__setitem__("type", "EC2 instance")),
         'accounts[1].resources.us-east-1[0].type: "EC2 instance": expected '
         'service:type'),
        (m(lambda fx: prod_res(fx).__setitem__("tags", {"": "x"})),
         'accounts[1].resources.us-east-1[0].tags: tag key "": expected '
         '1..128 characters'),
        (m(lambda fx: fx["accounts"][1]["roles"][0].__setitem__(
            "max_session_duration", 60)),
         'accounts[1].roles[0].max_session_duration: 60: expected an '
         'integer 3600..43200'),
        (m(lambda fx: fx["accounts"][1]["roles"][0].__setitem__(
            "trust", ["everyone"])),
         'accounts[1].roles[0].trust[0]: "everyone": expected an account id'),
        (m(lambda fx: fx.__setitem__("faults", [{"kind": "explode"}])),
         'faults[0]: kind: "explode": expected latency_ms'),
        (m(lambda fx: fx["costs"][0].__setitem__("account", "999999999999")),
         'costs[0].account: "999999999999": expected the id of an account'),
        (m(lambda fx: fx["costs"][1].__setitem__("day", "May 1st")),
         'costs[1].day: "May 1st": expected "YYYY-MM-DD"'),
        (m(lambda fx: fx["organization"]["tag_policies"][0].__setitem__(
            "targets", ["555555555555"])),
         'organization.tag_policies[0].targets[0]: "555555555555": expected '
         'root or an account id'),
        (m(lambda fx: fx["accounts"][2].__setitem__("id", "111111111111")),
         'accounts[2].id: "111111111111": already used by accounts[0]'),
        (m(lambda fx: fx.__setitem__("accounts", [])),
         'accounts: []: expected at least one account'),
    ]


def main():
    checks = emulib.Checks("test-fixture")
    for mutate, want in mutate_cases():
        rc, out, err = run_fixture(mutate(emulib.load()))
        checks.eq(rc, 2, "exit status for: %s" % want)
        checks.ok(want in err and out == "",
                  "message %r in %r" % (want, err.strip()))
    rc, _, err = run_fixture('{"accounts": [}')
    checks.ok(rc == 2 and "line 1 column" in err, "malformed JSON: %r" % err)
    rc, _, err = run(["--fixture", "/nonexistent.json", "--listen",
                      "127.0.0.1:0"])
    checks.ok(rc == 2 and "/nonexistent.json" in err,
              "missing file: %r" % err)
    rc, _, err = run(["--fixture", emulib.SMALL, "--listen", "0.0.0.0:0"])
    checks.ok(rc == 2 and "loopback" in err, "non-loopback --listen")
    rc, _, err = run(["--listen", "127.0.0.1:0"])
    checks.ok(rc == 2 and "usage" in err, "missing --fixture")
    rc, _, err = run(["--fixture", emulib.SMALL, "--listen", "127.0.0.1:0",
                      "--credential-lifetime", "0"])
    checks.ok(rc == 2 and "credential-lifetime" in err,
              "--credential-lifetime 0")
    checks.finish()


main()

#!/usr/bin/python3
"""gen-fixture: determinism, the requested shape and tag mix (classified
here with the shipped policy's rules written out independently), the
100 accounts x 17 regions x 200,000 resources size in a few seconds, and
the emulator loading it quickly with a small resident set and serving the
counts computed here from the generated JSON.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True	# no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emulib  # noqa: E402

GEN = emulib.program("gen-fixture")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
APP = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ENVS = {"production", "staging", "development", "test"}
ROLE = "arn:aws:iam::%s:role/FinOpsTagComplianceReadOnly"


def gen(path, accounts, regions, resources, untagged, invalid, seed):
    args = [GEN, "--accounts", str(accounts), "--regions", str(regions),
            "--resources", str(resources), "--untagged-fraction",
            str(untagged), "--invalid-fraction", str(invalid), "--seed",
            str(seed), "--out", path]
    start = time.time()
    rc = subprocess.run(emulib.WRAPPER + args, timeout=600).returncode
    return rc, time.time() - start


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def classify(res):
    """untagged / invalid / compliant against Owner, Environment, App."""
    tags = emulib.tags_of(res)
    if not tags:
        return "untagged"
    ok = (EMAIL.match(tags.get("Owner", "")) and
          tags.get("Environment") in ENVS and
          APP.match(tags.get("Application", "")))
    return "compliant" if ok else "invalid"


def check_shape(fx, checks, accounts, regions, total, untagged, invalid):
    checks.eq(len(fx["accounts"]), accounts, "accounts")
    mgmt = fx["accounts"][0]
    checks.ok(mgmt.get("management") and "credentials" in mgmt,
              "account 0 is the management account with credentials")
    checks.ok(all(a["roles"][0]["trust"] == ["arn:aws:iam::%s:root" %
                                              mgmt["id"]]
                  for a in fx["accounts"][1:]), "roles trust account 0")
    counts, types, never = {}, set(), 0
    for a in fx["accounts"]:
        checks.ok(len(a["resources"]) == regions, "regions with resources")
        for region, lst in a["resources"].items():
            for res in lst:
                cls = classify(res)
                counts[cls] = counts.get(cls, 0) + 1
                types.add(res["type"])
                never += not emulib.ever_tagged(res)
    n = sum(counts.values())
    checks.eq(n, total, "total resources")
    for cls, want in (("untagged", untagged), ("invalid", invalid),
                      ("compliant", 1 - untagged - invalid)):
        got = counts.get(cls, 0) / n
        checks.ok(abs(got - want) < 0.02, "%s fraction %.3f ~ %.2f" %
                  (cls, got, want))
    checks.ok(abs(never / n - untagged / 2) < 0.02,
              "about half the untagged were never tagged")
    checks.ok(len(types) >= 6, "a mix of %d resource types" % len(types))
    buckets = {r for a in fx["accounts"] for r, lst in
               a["resources"].items() if any(x["type"] == "s3:bucket"
                                             for x in lst)}
    checks.ok(len(buckets) >= min(regions, 3), "buckets in several regions")


def check_serving(path, fx, checks, big):
    start = time.time()
    emu = emulib.Emulator(fixture=path)
    took = time.time() - start
    if big and os.environ.get("TAGWARDEN_TEST_MODE", "plain") == "plain":
        # ASan's redzones and quarantine make both figures meaningless.
        checks.ok(took < 5, "200,000 resources load in %.2fs" % took)
        with open("/proc/%d/status" % emu.proc.pid) as f:
            rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        checks.ok(rss < 200 * 1024, "resident after load: %d MiB" %
                  (rss // 1024))
    mgmt = fx["accounts"][0]
    cred = mgmt["credentials"]
    base = dict(key=cred["access_key_id"], secret=cred["secret_access_key"])
    for acct, region, creds in (
            (mgmt, "us-east-1", base),
            (fx["accounts"][5], "eu-west-1",
             emulib.assume(emu, ROLE % fx["accounts"][5]["id"], **base))):
        c = emulib.client(emu, "resourcegroupstaggingapi", region=region,
                          **creds)
        got = [m["ResourceARN"] for p in c.get_paginator("get_resources")
               .paginate() for m in p["ResourceTagMappingList"]]
        want = emulib.tagging_expect(fx, acct["id"], region)
        checks.eq(sorted(got), sorted(want),
                  "GetResources %s %s (%d)" % (acct["id"], region, len(want)))
    checks.error_code(lambda: emulib.client(emu, "sts", **base).assume_role(
        RoleArn=ROLE % fx["accounts"][24]["id"], RoleSessionName="s1"),
        "AccessDenied", "suspended account 24")
    return emu


def main():
    checks = emulib.Checks("test-gen-fixture")
    tmp = tempfile.mkdtemp()
    a, b, c = (os.path.join(tmp, n) for n in ("a.json", "b.json", "c.json"))
    for path, seed in ((a, 7), (b, 7), (c, 8)):
        checks.eq(gen(path, 30, 4, 3000, 0.2, 0.3, seed)[0], 0, "gen ok")
    checks.eq(digest(a), digest(b), "same seed, same bytes")
    checks.ok(digest(a) != digest(c), "another seed, other bytes")
    check_shape(emulib.load(a), checks, 30, 4, 3000, 0.2, 0.3)
    big = not emulib.WRAPPER	# valgrind: the shape, not the size
    size = (100, 17, 200000) if big else (30, 4, 3000)
    rc, took = gen(a, *size, 0.2, 0.3, 42)
    checks.eq(rc, 0, "gen %r" % (size,))
    if big:
        checks.ok(took < 5, "100 x 17 x 200,000 generated in %.2fs" % took)
    fx = emulib.load(a)
    check_shape(fx, checks, *size, 0.2, 0.3)
    emu = check_serving(a, fx, checks, big)
    bad = subprocess.run(emulib.WRAPPER + [GEN, "--regions", "18"],
                         capture_output=True, text=True)
    checks.ok(bad.returncode == 2 and "--regions" in bad.stderr,
              "--regions 18 rejected")
    for p in (a, b, c):
        os.unlink(p)
    os.rmdir(tmp)
    checks.finish([emu])


main()

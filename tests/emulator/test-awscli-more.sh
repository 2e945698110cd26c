#!/usr/bin/env bash
# awscli v2 (Debian) against the emulator for Lambda, ECS, Organizations and
# Cost Explorer, each with its own fixture: every operation at least once,
# auto-paginated listings counted against the fixture JSON, Cost Explorer
# pages followed by hand (the CLI has no paginator for it) and summed to the
# cent against test-ce.py's Decimal oracle, and the AWS error codes reaching
# the CLI. Prints one verdict line; exit 0 on pass.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${TAGWARDEN_BUILD:-$here/../../build}
python=${PYTHON:-/usr/bin/python3}
aws=/usr/bin/aws
[ -x "$aws" ] || { echo "skip: $aws (Debian awscli) is not installed"; exit 77; }

export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
export AWS_ACCESS_KEY_ID=AKIAEMULATORMGMT0001
export AWS_SECRET_ACCESS_KEY=mgmt/Secret/Key/For/The/Emulator/Tests00

tmp=$(mktemp -d)
pid= url= failed=0 passed=0
stop() {
	local rc=0
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" || rc=$?
	fi
	pid=
	return $rc
}
trap 'stop; rm -rf "$tmp"' EXIT

check() {	# check WHAT GOT WANT
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $1: got '$2', want '$3'"
	fi
}

start() {	# start FIXTURE-NAME: an emulator on that fixture
	fixture=$here/fixtures/$1.json
	# shellcheck disable=SC2086
	${TAGWARDEN_WRAPPER:-} "$build/tests/emulator/aws-emulator" \
	    --fixture "$fixture" --listen 127.0.0.1:0 >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 600); do
		grep -q '^listening on ' "$tmp/out" && break
		sleep 0.1
	done
	url=$(sed -n '1s/^listening on //p' "$tmp/out")
	[ -n "$url" ] || { cat "$tmp/err"; echo "FAIL: emulator did not start"; exit 1; }
}

finish() {	# stop the emulator; its exit status must be 0
	local rc=0
	stop || rc=$?
	check "$1: emulator exit status" "$rc" 0
}

cli() { "$aws" --endpoint-url "$url" "$@"; }
expect() {	# a Python expression over emulib and fx (the fixture's JSON)
	"$python" -B -c "import sys; sys.path.insert(0, '$here'); import emulib; \
fx = emulib.load('$fixture'); print($1)"
}
as_prod() {	# run the CLI as the prod account's read-only role
	local key secret token
	read -r key secret token < <(cli sts assume-role --role-arn \
	    "arn:aws:iam::$1:role/FinOpsTagComplianceReadOnly" \
	    --role-session-name awscli --query \
	    'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
	shift
	AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
	    AWS_SESSION_TOKEN=$token cli "$@"
}
code() {	# the AWS error code the CLI printed on stderr
	sed -n 's/.*An error occurred (\([A-Za-z]*\)).*/\1/p' "$1" | head -1
}

start lambda
check "lambda list-functions --page-size 2" \
    "$(as_prod 222222222222 lambda list-functions --page-size 2 \
    --query 'Functions[].FunctionName' --output text | wc -w)" \
    "$(expect "sum(r['type'] == 'lambda:function' for r in emulib.resources(fx, '222222222222', 'us-east-1'))")"
check "lambda list-tags" \
    "$(as_prod 222222222222 lambda list-tags --resource \
    arn:aws:lambda:us-east-1:222222222222:function:checkout-api \
    --query Tags.Application --output text)" checkout-api
as_prod 222222222222 lambda list-tags --resource \
    arn:aws:lambda:us-east-1:111111111111:function:mgmt-billing-export \
    >/dev/null 2>"$tmp/e"
check "lambda list-tags: another account's function" "$(code "$tmp/e")" \
    ResourceNotFoundException
finish lambda

start ecs
check "ecs list-clusters --page-size 1" \
    "$(as_prod 222222222222 ecs list-clusters --page-size 1 \
    --query 'clusterArns[]' --output text | wc -w)" \
    "$(expect "sum(r['type'] == 'ecs:cluster' and r.get('state') != 'INACTIVE' for r in emulib.resources(fx, '222222222222', 'us-east-1'))")"
check "ecs describe-clusters --include TAGS" \
    "$(as_prod 222222222222 ecs describe-clusters --clusters web \
    --include TAGS --query 'clusters[0].tags[?key==`Owner`].value' \
    --output text)" alice@example.com
as_prod 222222222222 ecs list-clusters --region af-south-1 >/dev/null \
    2>"$tmp/e"
check "ecs: not-opted-in region" "$(code "$tmp/e")" \
    UnrecognizedClientException
finish ecs

start organizations
check "organizations list-accounts" \
    "$(cli organizations list-accounts --query 'Accounts[].Id' \
    --output text | wc -w)" \
    "$(expect "sum(a.get('org_status') != 'NONE' for a in fx['accounts'])")"
check "organizations list-policies" \
    "$(cli organizations list-policies --filter TAG_POLICY \
    --query 'Policies[].Id' --output text | wc -w)" \
    "$(expect "len(fx['organization']['tag_policies'])")"
check "organizations describe-effective-policy" \
    "$(cli organizations describe-effective-policy --policy-type TAG_POLICY \
    --target-id 200000000001 --query EffectivePolicy.PolicyContent \
    --output text | "$python" -c 'import json, sys; \
print(json.load(sys.stdin)["tags"]["costcenter"]["tag_key"])')" CostCenter
as_prod 200000000002 organizations list-accounts >/dev/null 2>"$tmp/e"
check "organizations: member account" "$(code "$tmp/e")" \
    AccessDeniedException
finish organizations

start ce
from=$(date -u -d '-25 days' +%F) to=$(date -u -d '+1 day' +%F)
n=0 token=
while :; do
	args=(ce get-cost-and-usage --time-period "Start=$from,End=$to"
	    --granularity DAILY --metrics UnblendedCost
	    --group-by Type=DIMENSION,Key=SERVICE --output json)
	[ -n "$token" ] && args+=(--next-page-token "$token")
	cli "${args[@]}" >"$tmp/ce.$n.json" || break
	token=$("$python" -c 'import json, sys; \
print(json.load(open(sys.argv[1])).get("NextPageToken", ""))' "$tmp/ce.$n.json")
	n=$((n + 1))
	[ -z "$token" ] && break
done
check "ce get-cost-and-usage: more than one page" "$([ "$n" -gt 1 ] && echo yes)" yes
sum=$("$python" -c 'import json, sys
from decimal import Decimal
print(sum(Decimal(g["Metrics"]["UnblendedCost"]["Amount"])
          for f in sys.argv[1:] for p in json.load(open(f))["ResultsByTime"]
          for g in p["Groups"]))' "$tmp"/ce.*.json)
want=$("$python" -B -c "import sys, importlib.util, datetime
sys.path.insert(0, '$here')
spec = importlib.util.spec_from_file_location('ce', '$here/test-ce.py')
ce = importlib.util.module_from_spec(spec); spec.loader.exec_module(ce)
d = datetime.date.fromisoformat
print(sum(v[0] for v in ce.expect(ce.load(), ce.PAYER, d('$from'), d('$to'),
          False, [('DIMENSION', 'SERVICE')]).values()))")
check "ce get-cost-and-usage: sum of all pages to the cent" \
    "$("$python" -c "from decimal import Decimal; print(Decimal('$sum').quantize(Decimal('0.01')))")" \
    "$("$python" -c "from decimal import Decimal; print(Decimal('$want').quantize(Decimal('0.01')))")"
# By hand: i-0bbb000000000001 costs 4.8 a day; today-3 through today is
# 4 days, 19.2 (a window starting this month, so one MONTHLY period, or
# two at the start of a month: sum them).
check "ce get-cost-and-usage-with-resources" \
    "$(cli ce get-cost-and-usage-with-resources --time-period \
    "Start=$(date -u -d '-3 days' +%F),End=$to" --granularity MONTHLY \
    --metrics UnblendedCost --filter \
    '{"Dimensions": {"Key": "RESOURCE_ID", "Values": ["i-0bbb000000000001"]}}' \
    --query 'ResultsByTime[].Total.UnblendedCost.Amount' --output json | \
    "$python" -c 'import json, sys; from decimal import Decimal; \
print(sum(Decimal(a) for a in json.load(sys.stdin)))')" 19.2
as_prod 222222222222 ce get-cost-and-usage-with-resources --time-period \
    "Start=$(date -u -d '-3 days' +%F),End=$to" --granularity DAILY \
    --metrics UnblendedCost --group-by Type=DIMENSION,Key=RESOURCE_ID \
    --filter '{"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": ["222222222222"]}}' \
    >/dev/null 2>"$tmp/e"
check "ce: resource-level data not enabled" "$(code "$tmp/e")" \
    DataUnavailableException
finish ce

if [ "$failed" -ne 0 ]; then
	echo "test-awscli-more: $failed checks failed, $passed passed"
	exit 1
fi
echo "test-awscli-more: all $passed checks passed"

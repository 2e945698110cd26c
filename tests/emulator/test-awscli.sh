#!/usr/bin/env bash
# awscli v2 (Debian) against the emulator and fixtures/small.json: STS,
# auto-paginated GetResources and EC2 listings must give the counts that
# emulib.py computes from the fixture JSON, and the AWS error codes must
# reach the CLI. With pagination awscli applies --query per page, so ids
# are counted as words across pages. Prints one verdict line; 0 on pass.
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
pid=
stop() {
	local rc=0
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" || rc=$?
	fi
	return $rc
}
trap 'stop; rm -rf "$tmp"' EXIT

# shellcheck disable=SC2086
${TAGWARDEN_WRAPPER:-} "$build/tests/emulator/aws-emulator" \
    --fixture "$here/fixtures/small.json" --listen 127.0.0.1:0 \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 600); do
	grep -q '^listening on ' "$tmp/out" && break
	sleep 0.1
done
url=$(sed -n '1s/^listening on //p' "$tmp/out")
[ -n "$url" ] || { cat "$tmp/err"; echo "FAIL: emulator did not start"; exit 1; }

passed=0 failed=0
check() {	# check WHAT GOT WANT
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $1: got '$2', want '$3'"
	fi
}
cli() { "$aws" --endpoint-url "$url" "$@"; }
expect() {	# a Python expression over emulib and fx (the fixture JSON)
	"$python" -B -c "import sys; sys.path.insert(0, '$here'); import emulib; \
fx = emulib.load(); print($1)"
}

check "get-caller-identity" \
    "$(cli sts get-caller-identity --query Account --output text)" 111111111111
read -r key secret token < <(cli sts assume-role \
    --role-arn arn:aws:iam::222222222222:role/FinOpsTagComplianceReadOnly \
    --role-session-name awscli --query \
    'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
check "assume-role key prefix" "${key:0:4}" ASIA
prod() {
	AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
	    AWS_SESSION_TOKEN=$token cli "$@"
}
check "session identity" \
    "$(prod sts get-caller-identity --query Arn --output text)" \
    "arn:aws:sts::222222222222:assumed-role/FinOpsTagComplianceReadOnly/awscli"
for size in 1 2 100; do
	check "get-resources --page-size $size" \
	    "$(prod resourcegroupstaggingapi get-resources --page-size "$size" \
	    --query 'ResourceTagMappingList[].ResourceARN' --output text | wc -w)" \
	    "$(expect "len(emulib.tagging_expect(fx, '222222222222', 'us-east-1'))")"
done
check "get-resources ec2 filter" \
    "$(prod resourcegroupstaggingapi get-resources --resource-type-filters ec2 \
    --page-size 2 --query 'ResourceTagMappingList[].ResourceARN' \
    --output text | wc -w)" \
    "$(expect "len(emulib.tagging_expect(fx, '222222222222', 'us-east-1', types=['ec2']))")"
check "describe-regions --all-regions" \
    "$(prod ec2 describe-regions --all-regions --query 'length(Regions)' \
    --output text)" \
    "$(expect "len(emulib.regions(emulib.account(fx, '222222222222')))")"
check "describe-instances --page-size 5" \
    "$(prod ec2 describe-instances --page-size 5 \
    --query 'Reservations[].Instances[].InstanceId' --output text | wc -w)" \
    "$(expect "sum(r['type'] == 'ec2:instance' for r in emulib.resources(fx, '222222222222', 'us-east-1'))")"
check "describe-volumes --page-size 5" \
    "$(prod ec2 describe-volumes --page-size 5 --query 'Volumes[].VolumeId' \
    --output text | wc -w)" \
    "$(expect "sum(r['type'] == 'ec2:volume' for r in emulib.resources(fx, '222222222222', 'us-east-1'))")"
AWS_SECRET_ACCESS_KEY=wrong cli sts get-caller-identity >/dev/null 2>"$tmp/e1"
check "wrong secret" "$(grep -o SignatureDoesNotMatch "$tmp/e1")" \
    SignatureDoesNotMatch
prod ec2 describe-instances --region af-south-1 >/dev/null 2>"$tmp/e2"
check "not-opted-in region" "$(grep -o AuthFailure "$tmp/e2")" AuthFailure

stop; rc=$?
pid=
check "emulator exit status" "$rc" 0
if [ "$failed" -ne 0 ]; then
	echo "test-awscli: $failed checks failed, $passed passed"
	exit 1
fi
echo "test-awscli: all $passed checks passed"

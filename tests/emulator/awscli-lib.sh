# Sourced by test-awscli-<service>.sh (not a test itself): starts the
# emulator on a fixture with awscli v2 (Debian) pointed at it, and gives
# check/cli/expect/finish. The host's AWS configuration never leaks in;
# the emulator must exit 0 after SIGTERM (ASan and valgrind findings fail).
# Usage: . awscli-lib.sh; awscli_start NAME FIXTURE; ...; awscli_finish
here=$(cd "$(dirname "$0")" && pwd)
build=${TAGWARDEN_BUILD:-$here/../../build}
python=${PYTHON:-/usr/bin/python3}
aws=/usr/bin/aws

export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_REGION

awscli_tmp=$(mktemp -d)
awscli_pid=
awscli_passed=0
awscli_failed=0

awscli_stop() {
	local rc=0
	if [ -n "$awscli_pid" ] && kill -0 "$awscli_pid" 2>/dev/null; then
		kill -TERM "$awscli_pid"
		wait "$awscli_pid" || rc=$?
	fi
	awscli_pid=
	return $rc
}
trap 'awscli_stop; rm -rf "$awscli_tmp"' EXIT

awscli_start() {	# awscli_start NAME FIXTURE
	awscli_name=$1
	awscli_fixture=$2
	[ -x "$aws" ] || { echo "skip: $aws (Debian awscli) is not installed"; exit 77; }
	# shellcheck disable=SC2086
	${TAGWARDEN_WRAPPER:-} "$build/tests/emulator/aws-emulator" \
	    --fixture "$awscli_fixture" --listen 127.0.0.1:0 \
	    >"$awscli_tmp/out" 2>"$awscli_tmp/err" &
	awscli_pid=$!
	for _ in $(seq 600); do
		grep -q '^listening on ' "$awscli_tmp/out" && break
		sleep 0.1
	done
	url=$(sed -n '1s/^listening on //p' "$awscli_tmp/out")
	[ -n "$url" ] || { cat "$awscli_tmp/err"; echo "FAIL: emulator did not start"; exit 1; }
}

check() {	# check WHAT GOT WANT
	if [ "$2" = "$3" ]; then
		awscli_passed=$((awscli_passed + 1))
	else
		awscli_failed=$((awscli_failed + 1))
		echo "FAIL: $1: got '$2', want '$3'"
	fi
}

cli() { "$aws" --endpoint-url "$url" "$@"; }

# The error code awscli printed for a failing command, or "no error".
cli_error() {
	if cli "$@" >/dev/null 2>"$awscli_tmp/e"; then
		echo "no error"
	else
		sed -n 's/.*An error occurred (\([A-Za-z0-9.]*\)).*/\1/p' \
		    "$awscli_tmp/e" | head -n1
	fi
}

expect() {	# a Python expression over emulib and fx (the fixture JSON)
	"$python" -B -c "import sys; sys.path.insert(0, '$here'); import emulib; \
fx = emulib.load('$awscli_fixture'); print($1)"
}

awscli_finish() {
	local rc=0
	awscli_stop || rc=$?
	check "emulator exit status" "$rc" 0
	if [ "$awscli_failed" -ne 0 ]; then
		echo "$awscli_name: $awscli_failed checks failed, $awscli_passed passed"
		exit 1
	fi
	echo "$awscli_name: all $awscli_passed checks passed"
	exit 0
}

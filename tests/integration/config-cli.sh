#!/usr/bin/env bash
# tagwarden's command line and check-config, run as a user would: exact
# lines and exit codes (0 OK, 2 usage or configuration error), every
# variable in --help, and no secret value anywhere in the output.
set -u
: "${TAGWARDEN_SRC:?}" "${TAGWARDEN_BUILD:?}"
bin=$TAGWARDEN_BUILD/supervisor/tagwarden
wrapper=${TAGWARDEN_WRAPPER:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0

# A known environment: nothing of the caller's AWS or tagwarden variables,
# a scratch HOME, and a working directory that has policies/.
mkdir -p "$tmp/home" "$tmp/cwd/policies"
echo '{}' >"$tmp/cwd/policies/tagging_policy.json"
keep=(PATH="$PATH" HOME="$tmp/home")
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -n "${!v+x}" ] && keep+=("$v=${!v}")
done

# tw [VAR=VALUE...] -- ARGS...: run tagwarden; output in $tmp/out, $tmp/err.
tw() {
	local vars=()
	while [ "$1" != -- ]; do vars+=("$1"); shift; done
	shift
	# shellcheck disable=SC2086
	(cd "$tmp/cwd" && env -i "${keep[@]}" "${vars[@]}" $wrapper "$bin" "$@") \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

verdict() {
	checks=$((checks + 1))
	if [ "$1" = ok ]; then
		echo "ok   $2"
	else
		fails=$((fails + 1))
		echo "FAIL $2"
		echo "  rc=$rc"
		sed 's/^/  stdout: /' "$tmp/out" | head -n 40
		sed 's/^/  stderr: /' "$tmp/err" | head -n 40
	fi
}

# expect_error NAME LINE VAR=VALUE...: check-config exits 2, prints nothing
# on stdout, and LINE is one whole line of stderr.
expect_error() {
	local name=$1 line=$2
	shift 2
	tw "$@" -- check-config
	if [ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && grep -qxF -- "$line" "$tmp/err"; then
		verdict ok "$name"
	else
		echo "  want: $line"
		verdict fail "$name"
	fi
}

# The defaults of DESIGN.md section 4, written out.
cat >"$tmp/defaults" <<EOT
MULTI_ACCOUNT_ENABLED=false (source: default)
AWS_ACCOUNT_IDS="" (source: default)
AWS_ASSUME_ROLE_NAME=FinOpsTagComplianceReadOnly (source: default)
AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{account_id}:role/{role_name} (source: default)
AWS_ASSUME_ROLE_SESSION_DURATION=3600 (source: default)
AWS_ASSUME_ROLE_EXTERNAL_ID=(unset) (source: default)
MAX_CONCURRENT_ACCOUNTS=5 (source: default)
ACCOUNT_SCAN_TIMEOUT_SECONDS=120 (source: default)
AWS_REGION=us-east-1 (source: default)
POLICY_PATH=policies/tagging_policy.json (source: default)
HISTORY_DB_PATH=$tmp/home/.local/state/tagwarden/history.db (source: default)
ALLOWED_REGIONS="" (source: default)
CACHE_TTL_SECONDS=3600 (source: default)
COST_EXPLORER_ENABLED=true (source: default)
COST_EXPLORER_ACCOUNT_ID=(unset) (source: default)
COST_METRIC=UnblendedCost (source: default)
LOG_LEVEL=INFO (source: default)
AWS_DEFAULT_REGION=(unset) (source: default)
AWS_PROFILE=(unset) (source: default)
AWS_SHARED_CREDENTIALS_FILE=(unset) (source: default)
AWS_CONFIG_FILE=(unset) (source: default)
AWS_ENDPOINT_URL=(unset) (source: default)
AWS_CA_BUNDLE=(unset) (source: default)
AWS_EC2_METADATA_DISABLED=false (source: default)
AWS_ACCESS_KEY_ID=(unset) (source: default)
AWS_SECRET_ACCESS_KEY=(unset) (source: default)
AWS_SESSION_TOKEN=(unset) (source: default)
AWS_WEB_IDENTITY_TOKEN_FILE=(unset) (source: default)
AWS_ROLE_ARN=(unset) (source: default)
AWS_ROLE_SESSION_NAME=(unset) (source: default)
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=(unset) (source: default)
AWS_CONTAINER_CREDENTIALS_FULL_URI=(unset) (source: default)
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=(unset) (source: default)
AWS_CONTAINER_AUTHORIZATION_TOKEN=(unset) (source: default)
configuration OK
EOT
tw -- check-config
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && diff -u "$tmp/defaults" "$tmp/out"; then
	verdict ok "check-config defaults"
else
	verdict fail "check-config defaults"
fi

tw MULTI_ACCOUNT_ENABLED=TRUE AWS_ACCOUNT_IDS=" 123456789012, 210987654321" \
    MAX_CONCURRENT_ACCOUNTS=20 AWS_DEFAULT_REGION=eu-central-2 \
    ALLOWED_REGIONS="eu-central-2,us-gov-west-1" -- check-config
if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
    grep -qxF 'MULTI_ACCOUNT_ENABLED=true (source: environment)' "$tmp/out" &&
    grep -qxF 'AWS_ACCOUNT_IDS=123456789012,210987654321 (source: environment)' "$tmp/out" &&
    grep -qxF 'MAX_CONCURRENT_ACCOUNTS=20 (source: environment)' "$tmp/out" &&
    grep -qxF 'AWS_REGION=eu-central-2 (source: AWS_DEFAULT_REGION)' "$tmp/out" &&
    grep -qxF 'ALLOWED_REGIONS=eu-central-2,us-gov-west-1 (source: environment)' "$tmp/out" &&
    [ "$(tail -n1 "$tmp/out")" = "configuration OK" ]; then
	verdict ok "check-config values from the environment"
else
	verdict fail "check-config values from the environment"
fi

tw AWS_ACCOUNT_IDS=123456789012 -- check-config
if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/err")" = \
    "warning: AWS_ACCOUNT_IDS is set but ignored until MULTI_ACCOUNT_ENABLED=true" ] &&
    [ "$(tail -n1 "$tmp/out")" = "configuration OK" ]; then
	verdict ok "account IDs without MULTI_ACCOUNT_ENABLED: warning, exit 0"
else
	verdict fail "account IDs without MULTI_ACCOUNT_ENABLED: warning, exit 0"
fi

# One of each kind of error.
expect_error "integer below range" \
    'MAX_CONCURRENT_ACCOUNTS=0: must be an integer 1..20' MAX_CONCURRENT_ACCOUNTS=0
expect_error "integer above range" \
    'AWS_ASSUME_ROLE_SESSION_DURATION=43201: must be an integer 900..43200' \
    AWS_ASSUME_ROLE_SESSION_DURATION=43201
expect_error "integer with sign" \
    'ACCOUNT_SCAN_TIMEOUT_SECONDS=+60: must be an integer 30..600' \
    ACCOUNT_SCAN_TIMEOUT_SECONDS=+60
expect_error "empty integer" \
    'CACHE_TTL_SECONDS=: must be an integer 0..604800' CACHE_TTL_SECONDS=
expect_error "boolean" \
    'MULTI_ACCOUNT_ENABLED=enabled: must be true or false (1/0, yes/no, on/off also accepted, any case)' \
    MULTI_ACCOUNT_ENABLED=enabled
expect_error "account ID length" \
    'AWS_ACCOUNT_IDS=12345: entry 1 "12345" must be exactly 12 digits' AWS_ACCOUNT_IDS=12345
expect_error "duplicate account ID" \
    'AWS_ACCOUNT_IDS=123456789012,,123456789012: entry 3 "123456789012" must not repeat entry 1' \
    AWS_ACCOUNT_IDS=123456789012,,123456789012
expect_error "role name" \
    'AWS_ASSUME_ROLE_NAME=Read Only: must be an IAM role name: 1..64 characters of A-Z a-z 0-9 + = , . @ _ -' \
    "AWS_ASSUME_ROLE_NAME=Read Only"
expect_error "template placeholder" \
    'AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{acct}:role/{role_name}: must use only the placeholders {account_id} and {role_name}, not {acct}' \
    'AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{acct}:role/{role_name}'
expect_error "template not a role ARN" \
    'AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{account_id}:user/{role_name}: must expand to an IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME with PARTITION aws, aws-cn or aws-us-gov; for account 123456789012 it gives "arn:aws:iam::123456789012:user/FinOpsTagComplianceReadOnly"' \
    'AWS_ASSUME_ROLE_ARN_TEMPLATE=arn:aws:iam::{account_id}:user/{role_name}'
expect_error "region" \
    'AWS_REGION=us-east-1a: must be a region name such as us-east-1' AWS_REGION=us-east-1a
expect_error "allowed regions" \
    'ALLOWED_REGIONS=us-east-1,EU-WEST-1: entry 2 "EU-WEST-1" must be a region name such as us-east-1' \
    ALLOWED_REGIONS=us-east-1,EU-WEST-1
expect_error "log level" \
    'LOG_LEVEL=verbose: must be DEBUG, INFO, WARNING or ERROR (any case)' LOG_LEVEL=verbose
expect_error "endpoint URL" \
    'AWS_ENDPOINT_URL=localhost:4566: must be an http:// or https:// URL without user, query or fragment' \
    AWS_ENDPOINT_URL=localhost:4566
expect_error "control characters escaped" \
    'POLICY_PATH=/etc/p\x1b[2J.json: must be a file path without control characters' \
    "POLICY_PATH=/etc/p$(printf '\033')[2J.json"
expect_error "no default history path" \
    'HISTORY_DB_PATH: must be set, since its default ($STATE_DIRECTORY/history.db (systemd), else $XDG_STATE_HOME/tagwarden/history.db, else $HOME/.local/state/tagwarden/history.db) cannot be worked out here' \
    HOME=
expect_error "access key without secret" \
    'AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY: must set both or neither' \
    AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE

# Every error at once, one line each, then the summary.
tw MAX_CONCURRENT_ACCOUNTS=21 LOG_LEVEL=x AWS_REGION=mars -- check-config
cat >"$tmp/want" <<'EOT'
MAX_CONCURRENT_ACCOUNTS=21: must be an integer 1..20
AWS_REGION=mars: must be a region name such as us-east-1
LOG_LEVEL=x: must be DEBUG, INFO, WARNING or ERROR (any case)
configuration invalid: 3 errors; tagwarden help-config lists every variable
EOT
if [ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && diff -u "$tmp/want" "$tmp/err"; then
	verdict ok "all errors collected"
else
	verdict fail "all errors collected"
fi

# Secrets: valid ones are shown as (set) or masked, invalid ones are
# reported without their value.
marker=SeCrEtMaRkEr
tw AWS_ACCESS_KEY_ID=AKIA${marker}WXYZ AWS_SECRET_ACCESS_KEY=$marker/abc \
    AWS_SESSION_TOKEN=tok$marker AWS_ASSUME_ROLE_EXTERNAL_ID=ext$marker \
    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer $marker" -- check-config
if [ "$rc" -eq 0 ] && ! grep -q "$marker" "$tmp/out" "$tmp/err" &&
    grep -qxF 'AWS_ACCESS_KEY_ID=****WXYZ (source: environment)' "$tmp/out" &&
    grep -qxF 'AWS_SECRET_ACCESS_KEY=(set) (source: environment)' "$tmp/out" &&
    grep -qxF 'AWS_SESSION_TOKEN=(set) (source: environment)' "$tmp/out" &&
    grep -qxF 'AWS_ASSUME_ROLE_EXTERNAL_ID=(set) (source: environment)' "$tmp/out" &&
    grep -qxF 'AWS_CONTAINER_AUTHORIZATION_TOKEN=(set) (source: environment)' "$tmp/out"; then
	verdict ok "secrets never printed (valid)"
else
	verdict fail "secrets never printed (valid)"
fi
tw "AWS_ACCESS_KEY_ID=AKIA $marker" "AWS_SECRET_ACCESS_KEY=$marker x" \
    "AWS_SESSION_TOKEN=$marker x" "AWS_ASSUME_ROLE_EXTERNAL_ID=$marker x" -- check-config
if [ "$rc" -eq 2 ] && ! grep -q "$marker" "$tmp/out" "$tmp/err" &&
    grep -qxF 'AWS_SECRET_ACCESS_KEY: must be printable ASCII without spaces' "$tmp/err" &&
    grep -qxF 'AWS_ASSUME_ROLE_EXTERNAL_ID: must be 2..1224 characters of A-Z a-z 0-9 _ + = , . @ : / -' "$tmp/err"; then
	verdict ok "secrets never printed (invalid)"
else
	verdict fail "secrets never printed (invalid)"
fi

# --help, -h and help: the same text, every command and every variable.
tw -- --help
cp "$tmp/out" "$tmp/help"
ok=ok
[ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] || ok=fail
for name in MULTI_ACCOUNT_ENABLED AWS_ACCOUNT_IDS AWS_ASSUME_ROLE_NAME \
    AWS_ASSUME_ROLE_ARN_TEMPLATE AWS_ASSUME_ROLE_SESSION_DURATION \
    AWS_ASSUME_ROLE_EXTERNAL_ID MAX_CONCURRENT_ACCOUNTS \
    ACCOUNT_SCAN_TIMEOUT_SECONDS AWS_REGION POLICY_PATH HISTORY_DB_PATH \
    ALLOWED_REGIONS CACHE_TTL_SECONDS LOG_LEVEL AWS_DEFAULT_REGION \
    AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_ENDPOINT_URL \
    'AWS_ENDPOINT_URL_<SERVICE>' AWS_CA_BUNDLE AWS_EC2_METADATA_DISABLED \
    AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_CONTAINER_AUTHORIZATION_TOKEN; do
	grep -qxF "  $name" "$tmp/help" || { echo "  --help lacks $name"; ok=fail; }
done
for cmd in 'tagwarden check-config' 'tagwarden policy check FILE' \
    'tagwarden help-config [--markdown]' 'tagwarden help ' 'tagwarden --version'; do
	grep -qF "  $cmd" "$tmp/help" || { echo "  --help lacks $cmd"; ok=fail; }
done
grep -qxF '      Allowed: an integer 30..600' "$tmp/help" || ok=fail
verdict $ok "--help lists every command and variable"
for alias in -h help; do
	tw -- $alias
	if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/help"; then
		verdict ok "$alias is --help"
	else
		verdict fail "$alias is --help"
	fi
done

tw -- --version
if [ "$rc" -eq 0 ] && grep -qxE 'tagwarden [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out"; then
	verdict ok "--version"
else
	verdict fail "--version"
fi

tw -- help-config --markdown
if [ "$rc" -eq 0 ] && [ "$(head -n1 "$tmp/out")" = "| Variable | Default | Allowed | Meaning |" ] &&
    [ "$(grep -c '^| `' "$tmp/out")" -eq 35 ]; then
	verdict ok "help-config --markdown"
else
	verdict fail "help-config --markdown"
fi

# usage NAME LINE ARGS...: exit 2, stdout empty, stderr exactly LINE.
usage() {
	local name=$1 line=$2
	shift 2
	tw -- "$@"
	if [ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(cat "$tmp/err")" = "$line" ]; then
		verdict ok "$name"
	else
		echo "  want: $line"
		verdict fail "$name"
	fi
}
usage "unknown command" 'tagwarden: unknown command "frobnicate"; run tagwarden --help' frobnicate
usage "unknown option" 'tagwarden: unknown option "--frob"; run tagwarden --help' --frob
usage "check-config takes no argument" \
    'tagwarden check-config: unexpected argument "extra"; run tagwarden --help' check-config extra
usage "help-config bad option" \
    'tagwarden help-config: unexpected argument "--html"; run tagwarden --help' help-config --html

if [ "$fails" -eq 0 ]; then
	echo "config-cli: $checks checks passed"
	exit 0
fi
echo "config-cli: $fails of $checks checks failed"
exit 1

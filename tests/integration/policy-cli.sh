#!/usr/bin/env bash
# `tagwarden policy check FILE` on the shipped policy and on broken copies:
# exact output lines and exit codes (0 valid, 2 invalid or bad usage).
set -u
: "${TAGWARDEN_SRC:?}" "${TAGWARDEN_BUILD:?}"
bin=$TAGWARDEN_BUILD/supervisor/tagwarden
wrapper=${TAGWARDEN_WRAPPER:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0

# run NAME WANT_RC WANT_STDOUT WANT_STDERR ARGS...: compare exactly.
run() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4 rc
	shift 4
	checks=$((checks + 1))
	# shellcheck disable=SC2086
	$wrapper "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want_rc" ] ||
	    [ "$(cat "$tmp/out")" != "$want_out" ] ||
	    [ "$(cat "$tmp/err")" != "$want_err" ]; then
		fails=$((fails + 1))
		echo "FAIL $name: rc=$rc (want $want_rc)"
		echo "  stdout: $(cat "$tmp/out")"
		echo "  want:   $want_out"
		echo "  stderr: $(cat "$tmp/err")"
		echo "  want:   $want_err"
	else
		echo "ok   $name"
	fi
}

usage="usage: tagwarden policy check FILE"

run shipped 0 "policy OK: 3 required, 1 optional tags" "" \
	policy check "$TAGWARDEN_SRC/policies/tagging_policy.json"

# Three mistakes in one file: all three are reported, each with the file.
f=$tmp/typos.json
cat >"$f" <<'JSON'
{
  "required_tags": [
    {"name": "Owner", "applies_to": ["ec2:instance"], "validation_regex": "^(ab"},
    {"name": "Environment", "applies_to": ["EC2:instance"]},
    {"name": "owner", "applies_to": ["rds:db"]}
  ],
  "tag_naming_rule": {}
}
JSON
run typos 2 "" "$f: tag_naming_rule: unknown key, expected one of: tag_naming_rules, version, last_updated, cloud_provider, metadata, required_tags, optional_tags
$f: required_tags[0].validation_regex: found \"^(ab\", expected a valid PCRE2 regex for tag \"Owner\": error at offset 4: missing closing parenthesis
$f: required_tags[1].applies_to[0]: found \"EC2:instance\", expected a resource type \"service:type\" or \"service:*\" in lowercase, e.g. \"ec2:instance\"
$f: required_tags[2].name: found \"owner\", expected a name not already used by required_tags[0] (tag names compare ignoring case)" \
	policy check "$f"

# Column 20 is the "," right after "[" in {"required_tags": [,]}.
f=$tmp/syntax.json
printf '{"required_tags": [,]}' >"$f"
run syntax 2 "" "$f: invalid JSON at line 1 column 20: unexpected token near ','" \
	policy check "$f"

f=$tmp/absent.json
run absent 2 "" "$f: cannot open: No such file or directory" policy check "$f"

run no-args 2 "" "$usage" policy
run no-file 2 "" "$usage" policy check
run two-files 2 "" "$usage" policy check a b
run unknown 2 "" "tagwarden policy: unknown command \"lint\"
$usage" policy lint "$f"

if [ "$fails" -eq 0 ]; then
	echo "policy-cli: $checks checks passed"
	exit 0
fi
echo "policy-cli: $fails of $checks checks failed"
exit 1

#!/usr/bin/env bash
# README.md's variable table must be exactly `tagwarden help-config
# --markdown`; scripts/gen-readme-config rewrites it when the rows change.
set -u
: "${TAGWARDEN_SRC:?}" "${TAGWARDEN_BUILD:?}"
bin=$TAGWARDEN_BUILD/supervisor/tagwarden
wrapper=${TAGWARDEN_WRAPPER:-}
readme=$TAGWARDEN_SRC/README.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2086
if ! $wrapper "$bin" help-config --markdown >"$tmp/want" 2>"$tmp/err"; then
	cat "$tmp/err"
	echo "FAIL: tagwarden help-config --markdown failed"
	exit 1
fi
if [ "$(grep -cxF '<!-- config-table:begin -->' "$readme")" != 1 ] ||
    [ "$(grep -cxF '<!-- config-table:end -->' "$readme")" != 1 ]; then
	echo "FAIL: README.md lacks one pair of config-table markers"
	exit 1
fi
sed -n '/^<!-- config-table:begin -->$/,/^<!-- config-table:end -->$/p' "$readme" |
	sed '1d;$d' >"$tmp/have"
# The table has a header, a separator and one row per variable.
if [ "$(wc -l <"$tmp/want")" -lt 3 ]; then
	echo "FAIL: help-config --markdown printed $(wc -l <"$tmp/want") lines"
	exit 1
fi
if ! diff -u "$tmp/have" "$tmp/want"; then
	echo "FAIL: README.md config table differs from the binary; run scripts/gen-readme-config"
	exit 1
fi
echo "README config table matches tagwarden help-config --markdown ($(($(wc -l <"$tmp/want") - 2)) variables)"

#!/usr/bin/env bash
# supervisor/tagwarden.1 against the built tagwarden: its ENVIRONMENT list is
# exactly what `tagwarden help-config` prints (as mdoc), and it names every
# command of --help, every option of scan --help, every MCP tool that
# tools/list returns and every TAGWARDEN_* variable the sources read. Both
# man pages must format without warnings (mandoc -Tlint when installed,
# else groff -ww).
#   manpage.sh                 the test (scripts/test runs it)
#   manpage.sh --environment   print the mdoc block to paste between the
#                              help-config markers of the page
set -u
: "${TAGWARDEN_SRC:?}" "${TAGWARDEN_BUILD:?}"
bin=$TAGWARDEN_BUILD/supervisor/tagwarden
worker=$TAGWARDEN_BUILD/worker/tagwarden-worker
page=$TAGWARDEN_SRC/supervisor/tagwarden.1
page8=$TAGWARDEN_SRC/worker/tagwarden-worker.8
wrapper=${TAGWARDEN_WRAPPER:-}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0 skipped=

# The text form of help-config ("  NAME", then 6-space lines of help,
# "Default: ..." and "Allowed: ...") as -tag list items. Each sentence
# starts a line (mdoc convention; "e.g." and "i.e." do not end one) and
# lines wrap at 72 columns, but never after a word ending in "." (roff
# would take it for the end of a sentence). A name part in angle brackets
# is a placeholder: AWS_ENDPOINT_URL_<SERVICE> becomes
# ".It Ev AWS_ENDPOINT_URL_ Ns Ar SERVICE".
help_to_mdoc() {
	awk '
	function line(s) {
		gsub(/\\/, "\\e", s)
		if (s ~ /^[.\047]/)
			s = "\\&" s
		return s
	}
	function text(s,    n, w, i, cur, out) {
		n = split(s, w, " ")
		cur = w[1]
		out = ""
		for (i = 2; i <= n; i++) {
			if (length(cur) + 1 + length(w[i]) > 72 &&
			    cur !~ /\.$/) {
				out = out line(cur) "\n"
				cur = w[i]
			} else
				cur = cur " " w[i]
		}
		return out line(cur)
	}
	function sentences(s,    rest, out, i, head) {
		out = ""
		rest = s
		while (match(substr(rest, i = (i ? i : 1)), /\. [A-Z]/)) {
			head = substr(rest, 1, i + RSTART - 1)
			if (head ~ /(e\.g|i\.e)\.$/) {
				i += RSTART + 1
				continue
			}
			out = out text(head) "\n"
			rest = substr(rest, i + RSTART + 1)
			i = 0
		}
		return out text(rest)
	}
	function flush() {
		if (name == "")
			return
		n = name
		while (match(n, /<[A-Z_]+>/))
			n = substr(n, 1, RSTART - 1) " Ns Ar " \
			    substr(n, RSTART + 1, RLENGTH - 2) " Ns " \
			    substr(n, RSTART + RLENGTH)
		sub(/ Ns $/, "", n)
		print ".It Ev " n
		print sentences(help)
		print ".Bl -tag -width Allowed: -compact"
		print ".It Default:"
		print text(def)
		print ".It Allowed:"
		print text(allowed)
		print ".El"
		name = help = def = allowed = ""
	}
	/^  [^ ]/ { flush(); name = substr($0, 3); next }
	/^      Default: / { def = substr($0, 16); next }
	/^      Allowed: / { allowed = substr($0, 16); next }
	/^      / { help = (help == "" ? "" : help " ") substr($0, 7); next }
	{ print "unexpected help-config line: " $0 > "/dev/stderr"; bad = 1 }
	END { flush(); exit bad }
	'
}

environment_block() {
	# shellcheck disable=SC2086
	$wrapper "$bin" help-config >"$tmp/help-config" 2>"$tmp/help-config.err" ||
	    return 1
	help_to_mdoc <"$tmp/help-config"
}

if [ "${1:-}" = --environment ]; then
	environment_block
	exit
fi

verdict() {
	checks=$((checks + 1))
	if [ "$1" = ok ]; then
		echo "ok   $2"
	else
		fails=$((fails + 1))
		echo "FAIL $2"
	fi
}

# has_item MACRO WORD: the page has a list item (".It") for WORD set with
# MACRO, e.g. ".It Cm scan Op Ar options" or ".It Ev A , Ev WORD"; a mere
# mention elsewhere does not count.
has_item() {
	grep -qE "^\.It (.* )?$1 $(printf '%s' "$2" | sed 's/[.[\*^$]/\\&/g')( |$)" "$page"
}

# 1. ENVIRONMENT: the marked block equals help-config turned into mdoc.
if ! environment_block >"$tmp/env-want"; then
	cat "$tmp/help-config.err"
	verdict fail "tagwarden help-config ran"
elif [ "$(grep -c '^\.It Ev ' "$tmp/env-want")" -lt 10 ]; then
	verdict fail "help-config gave $(grep -c '^\.It Ev ' "$tmp/env-want") variables"
else
	sed -n '/^\.\\" BEGIN help-config$/,/^\.\\" END help-config$/p' "$page" |
	    sed '1d;$d' >"$tmp/env-have"
	if diff -u "$tmp/env-have" "$tmp/env-want"; then
		verdict ok "ENVIRONMENT lists the $(grep -c '^\.It Ev ' "$tmp/env-want") variables of help-config, defaults and forms included"
	else
		verdict fail "ENVIRONMENT differs from help-config; paste the output of tests/integration/manpage.sh --environment between the markers"
	fi
fi

# 2. Commands of --help ("  tagwarden NAME ..."): ".It Cm NAME", or
# ".It Fl NAME" for an option-like command such as --version.
# shellcheck disable=SC2086
$wrapper "$bin" --help >"$tmp/help" 2>"$tmp/help.err" ||
    { cat "$tmp/help.err"; verdict fail "tagwarden --help exits 0"; }
sed -n 's/^  tagwarden \([^ ]*\).*/\1/p' "$tmp/help" >"$tmp/commands"
missing=
while read -r c; do
	case $c in
	-*) has_item Fl "${c#-}" || missing="$missing $c" ;;
	*) has_item Cm "$c" || missing="$missing $c" ;;
	esac
done <"$tmp/commands"
n=$(wc -l <"$tmp/commands")
if [ "$n" -lt 5 ]; then
	verdict fail "tagwarden --help listed $n commands"
elif [ -n "$missing" ]; then
	verdict fail "commands of --help missing from the page:$missing"
else
	verdict ok "the page documents the $n commands of --help"
fi

# 3. Options of scan --help ("  --NAME ...") and the variables it names.
# shellcheck disable=SC2086
$wrapper "$bin" scan --help >"$tmp/scan-help" 2>"$tmp/scan-help.err" ||
    { cat "$tmp/scan-help.err"; verdict fail "tagwarden scan --help exits 0"; }
sed -n 's/^  \(--[a-z-]*\).*/\1/p' "$tmp/scan-help" >"$tmp/options"
grep -oE '\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b' "$tmp/scan-help" | sort -u >"$tmp/scan-vars"
missing=
while read -r o; do
	has_item Fl "${o#-}" || missing="$missing $o"
done <"$tmp/options"
while read -r v; do
	has_item Ev "$v" || missing="$missing $v"
done <"$tmp/scan-vars"
n=$(wc -l <"$tmp/options")
if [ "$n" -lt 4 ]; then
	verdict fail "tagwarden scan --help listed $n options"
elif [ -n "$missing" ]; then
	verdict fail "scan options or variables missing from the page:$missing"
else
	verdict ok "the page documents the $n options of scan --help and its $(wc -l <"$tmp/scan-vars") variables"
fi

# 4. MCP tools, as a client sees them: tools/list from tagwarden serve.
mkdir -p "$tmp/home"
cat >"$tmp/requests" <<'EOF'
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"manpage.sh","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/list"}
EOF
keep=(PATH="$PATH" HOME="$tmp/home" TAGWARDEN_WORKER="$worker"
    POLICY_PATH="$TAGWARDEN_SRC/policies/tagging_policy.json"
    HISTORY_DB_PATH="$tmp/history.db" AWS_CONFIG_FILE=/dev/null
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true)
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -n "${!v+x}" ] && keep+=("$v=${!v}")
done
# shellcheck disable=SC2086
env -i "${keep[@]}" timeout 60 $wrapper "$bin" serve <"$tmp/requests" \
    >"$tmp/serve.out" 2>"$tmp/serve.err"
rc=$?
if "$python" -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("id") == 2:
        for t in m["result"]["tools"]:
            print(t["name"])
' "$tmp/serve.out" >"$tmp/tools" 2>"$tmp/tools.err" && [ "$rc" -eq 0 ] &&
    [ -s "$tmp/tools" ]; then
	missing=
	while read -r t; do
		has_item Ic "$t" || missing="$missing $t"
	done <"$tmp/tools"
	if [ -n "$missing" ]; then
		verdict fail "MCP tools missing from the page:$missing"
	else
		verdict ok "the page documents the $(wc -l <"$tmp/tools") tools of tools/list"
	fi
else
	echo "  serve rc=$rc"
	sed 's/^/  stdout: /' "$tmp/serve.out" | head -n 10
	sed 's/^/  stderr: /' "$tmp/serve.err" "$tmp/tools.err" | head -n 20
	verdict fail "tools/list from tagwarden serve"
fi

# 5. TAGWARDEN_* variables the programs read (string literals in the
# supervisor and worker sources), e.g. TAGWARDEN_WORKER.
grep -ohE '"TAGWARDEN_[A-Z0-9_]+"' "$TAGWARDEN_SRC"/supervisor/*.[ch] \
    "$TAGWARDEN_SRC"/worker/*.[ch] | tr -d '"' | sort -u >"$tmp/own-vars"
missing=
while read -r v; do
	has_item Ev "$v" || missing="$missing $v"
done <"$tmp/own-vars"
if [ ! -s "$tmp/own-vars" ]; then
	verdict fail "no TAGWARDEN_* variable found in the sources"
elif [ -n "$missing" ]; then
	verdict fail "variables missing from the page:$missing"
else
	verdict ok "the page documents $(paste -sd " " "$tmp/own-vars")"
fi

# 6. Exit statuses of --help ("exit status: 0 success, 1 failure, ...").
sed -n 's/^exit status: //p' "$tmp/help" | grep -oE '\b[0-9]+\b' >"$tmp/statuses"
sed -n '/^\.Sh EXIT STATUS$/,/^\.Sh /p' "$page" >"$tmp/exit-section"
missing=
while read -r s; do
	grep -qx "\.It $s" "$tmp/exit-section" || missing="$missing $s"
done <"$tmp/statuses"
if [ ! -s "$tmp/statuses" ] || [ -n "$missing" ]; then
	verdict fail "EXIT STATUS lacks statuses:$missing (--help: $(paste -sd " " "$tmp/statuses"))"
else
	verdict ok "EXIT STATUS lists $(paste -sd " " "$tmp/statuses")"
fi

# 7. Both pages format cleanly.
for p in "$page" "$page8"; do
	if command -v mandoc >/dev/null; then
		tool="mandoc -Tlint"
		mandoc -Tlint -W warning "$p" >"$tmp/lint" 2>&1
	elif command -v groff >/dev/null; then
		tool="groff -ww"
		groff -mdoc -ww -z "$p" >"$tmp/lint" 2>&1
	else
		# groff-base is not in every minimal image; the checks above
		# still ran, and the verdict line says what was left out.
		echo "skip $(basename "$p"): neither mandoc nor groff is installed"
		skipped="; lint skipped: install groff-base or mandoc"
		continue
	fi
	if [ -s "$tmp/lint" ]; then
		sed 's/^/  /' "$tmp/lint"
		verdict fail "$tool $(basename "$p") is not clean"
	else
		verdict ok "$tool $(basename "$p"): no message"
	fi
done

if [ "$fails" -ne 0 ]; then
	echo "FAIL: $fails of $checks man page checks failed"
	exit 1
fi
echo "tagwarden.1 matches the binary: $checks checks passed$skipped"

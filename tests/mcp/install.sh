#!/bin/sh
# Installs the pinned MCP clients of package-lock.json into
# tests/mcp/node_modules with `npm ci`, only when node_modules is missing or
# was installed from another package.json / package-lock.json (a stamp file
# holds their hash). Needs node >= 18.19 and npm (Debian 12: apt-get install
# nodejs npm) and the npm registry. Prints one line; exit 0 when ready.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
stamp=$dir/node_modules/.tagwarden-installed

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "tests/mcp/install.sh: $tool not found; on Debian 12 run" \
		    "apt-get install nodejs npm" >&2
		exit 1
	fi
done
want=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -d "$dir/node_modules/@modelcontextprotocol/sdk" ]; then
	echo "tests/mcp: MCP clients up to date"
	exit 0
fi
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
echo "$want" > "$stamp"
echo "tests/mcp: MCP clients installed (npm ci)"

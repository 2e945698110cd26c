#!/bin/sh
# MCP end-to-end with an independent client: tests/e2e/mcp/clients.py inspector
# (needs tests/mcp/install.sh to have run; NODE picks the node binary).
exec "${PYTHON:-/usr/bin/python3}" "$(dirname "$0")/mcp/clients.py" inspector

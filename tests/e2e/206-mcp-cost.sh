#!/bin/sh
# MCP end-to-end: tests/e2e/mcp/cost.py (its docstring says what it proves).
exec "${PYTHON:-/usr/bin/python3}" "$(dirname "$0")/mcp/cost.py"

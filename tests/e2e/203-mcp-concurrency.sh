#!/bin/sh
# MCP end-to-end: tests/e2e/mcp/concurrency.py (its docstring says what it proves).
exec "${PYTHON:-/usr/bin/python3}" "$(dirname "$0")/mcp/concurrency.py"

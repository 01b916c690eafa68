#!/usr/bin/env bash
# The MCP server mode tested with a client nobody here wrote: the official MCP Python SDK (`mcp` on
# PyPI) as a stdio client of `agent-runtime-kit mcp`. Creates (once) a venv with the pinned
# requirements in a cache outside the repository, then runs pytest. Exits non-zero on failure.
# The binary under test: $AGENT_RUNTIME_KIT_BIN, or target/debug/agent-runtime-kit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache_root="${ARK_MCP_TEST_CACHE:-$HOME/.cache/agent-runtime-kit/mcp-tests}"
key="$(cat "$here/requirements.txt" | sha256sum | cut -c1-16)"
venv="$cache_root/$key"

if [ ! -f "$venv/.complete" ]; then
  echo "installing the pinned MCP test client into $venv" >&2
  rm -rf "$venv.tmp"
  python3 -m venv "$venv.tmp" >&2
  "$venv.tmp/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  touch "$venv.tmp/.complete"
  rm -rf "$venv"
  mv "$venv.tmp" "$venv"
  # Keep only this version in the cache. (The move is safe because only the venv's python is
  # run, never a bin/ script whose shebang names the .tmp path.)
  find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} + 2>/dev/null || true
fi

export AGENT_RUNTIME_KIT_BIN="${AGENT_RUNTIME_KIT_BIN:-$root/target/debug/agent-runtime-kit}"
if [ ! -x "$AGENT_RUNTIME_KIT_BIN" ]; then
  echo "no binary at $AGENT_RUNTIME_KIT_BIN (cargo build first)" >&2
  exit 1
fi
cd "$here"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@" test_mcp_server.py

#!/usr/bin/env bash
# The whole test suite: what the README tells you to run, and exactly what CI runs.
# Installs the pinned vendor agents (cached), then: format, lints, every Rust test (end-to-end
# against the real vendor binaries and local mock model servers), and the client packages' tests.
# The vendor end-to-end tests are #[ignore]d (a plain `cargo test` lists them as ignored);
# --include-ignored runs them here, and one that finds its vendor missing fails.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== vendors (pinned, cached outside the repo)"
eval "$(bash tests/vendors/install.sh)"

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings

echo "== Rust tests"
cargo build --locked --bin agent-runtime-kit
cargo test --locked -- --include-ignored --test-threads=2
export AGENT_RUNTIME_KIT_BIN="$PWD/target/debug/agent-runtime-kit"

echo "== MCP server mode (official MCP Python SDK as the client)"
bash tests/mcp/test.sh

if [ -d clients/python ]; then
  echo "== Python client"
  bash clients/python/test.sh
fi
if [ -d clients/typescript ]; then
  echo "== TypeScript client"
  bash clients/typescript/test.sh
fi
echo "== packages (release build; wheel and npm tarballs installed as a user would, then run)"
bash packaging/test.sh
echo "== all tests passed"

#!/usr/bin/env bash
# The TypeScript client's tests, against the built sidecar ($AGENT_RUNTIME_KIT_BIN, default: the
# repository's debug build). Installs the pinned dev tools from package-lock.json into the
# gitignored node_modules (again only when the lockfile changes), type-checks and compiles the
# package, its tests and the TypeScript example, and runs node's test runner.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export AGENT_RUNTIME_KIT_BIN="${AGENT_RUNTIME_KIT_BIN:-$repo/target/debug/agent-runtime-kit}"
cd "$here"

want="$(sha256sum package-lock.json | cut -c1-64)"
if [ "$(cat node_modules/.ark-lock-hash 2>/dev/null || true)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > node_modules/.ark-lock-hash
fi

rm -rf dist
node_modules/.bin/tsc -p .
if [ -d "$repo/examples/typescript" ]; then
  # The example imports the package by name, as a user's program would.
  mkdir -p "$repo/examples/typescript/node_modules"
  ln -sfn "$here" "$repo/examples/typescript/node_modules/agent-runtime-kit"
  node_modules/.bin/tsc -p "$repo/examples/typescript"
fi
exec node --test --test-timeout=60000 dist/test/*.test.js

#!/usr/bin/env bash
# The benchmark, one command: installs the pinned SDKs (cached) and runs `cargo bench --bench sidecar`.
# BENCH_EVENTS=N sets the stream length (default 200000); BENCH_ONLY=claude,codex runs a subset; BENCH_BIN=path benches another build. Not part of the tests or CI.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash benches/setup.sh)"
exec cargo bench --bench sidecar "$@"

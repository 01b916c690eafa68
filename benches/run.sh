#!/usr/bin/env bash
# The benchmark, one command: installs the pinned SDKs (cached) and runs `cargo bench --bench sidecar`
# (which builds the release binary). Prints every figure of issue 14 beside a baseline measured in
# the same run, and a summary of the targets met or missed at the end. Not part of the tests or CI.
#   BENCH_ONLY=fixture,claude,codex,admission,cancel,startup,memory,sessions   a subset (default: all)
#   BENCH_EVENTS=N         relay stream length (default 200000)
#   BENCH_ROUNDS=N         timed rounds of each noisy figure (default 5); BENCH_SDK_ROUNDS=N (default 3)
#   BENCH_BIN=path         bench another build of the sidecar (e.g. another worktree's release binary)
# Then benches/sessions_codex.py (issue 16: codex cold start, prewarm and follow-ups against the
# real pinned codex and a mock Responses API; BENCH_ONLY=sessions runs only that).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash benches/setup.sh)"
only=",${BENCH_ONLY:-all},"
if [[ "$only" != ",sessions," ]]; then
  cargo bench --bench sidecar "$@"
fi
# Issue 16: cold start, prewarm and live follow-ups against the real pinned CLIs.
if [[ "$only" == *",all,"* || "$only" == *",sessions,"* ]]; then
  eval "$(bash tests/vendors/install.sh)"
  [ -n "${BENCH_BIN:-}" ] || cargo build --release --locked --quiet
  python3 benches/sessions_claude.py
  python3 benches/sessions_codex.py
fi

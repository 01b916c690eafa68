#!/usr/bin/env bash
# Installs the vendor SDKs the benchmark compares against (pinned: benches/sdk/requirements.lock.txt,
# benches/sdk/package.json + package-lock.json) into a cache outside the repository, keyed by the
# manifests' hash, and prints the environment `cargo bench --bench sidecar` reads:
#   eval "$(bash benches/setup.sh)"
# Bench-only: nothing here is used by the tests or CI. Needs the package registries once; the
# benchmark itself never touches the network (the SDKs drive fake CLIs in benches/fake/).
set -euo pipefail
here="$(cd "$(dirname "$0")/sdk" && pwd)"
cache_root="${ARK_BENCH_CACHE:-$HOME/.cache/agent-runtime-kit/bench}"
key="$(cat "$here/package.json" "$here/package-lock.json" "$here/requirements.lock.txt" | sha256sum | cut -c1-16)"
dir="$cache_root/$key"

if [ ! -f "$dir/.complete" ]; then
  echo "installing the pinned SDKs into $dir" >&2
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  cp "$here/package.json" "$here/package-lock.json" "$dir.tmp/"
  # --omit=optional: the SDK's codex dependency pulls a platform binary we never run (the bench
  # passes codexPathOverride to a fake).
  (cd "$dir.tmp" && npm ci --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error >&2)
  python3 -m venv "$dir.tmp/venv" >&2
  "$dir.tmp/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.lock.txt" >&2
  touch "$dir.tmp/.complete"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} + 2>/dev/null || true
fi
echo "export ARK_BENCH_PYTHON=$dir/venv/bin/python"
echo "export ARK_BENCH_NODE_MODULES=$dir/node_modules"

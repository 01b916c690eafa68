#!/usr/bin/env bash
# Installs the pinned vendor agents (package.json + package-lock.json, requirements.txt) into a
# cache outside the repository, keyed by the manifests' hash, and prints the environment the tests
# read (eval "$(tests/vendors/install.sh)"). A second run with unchanged manifests installs nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache_root="${ARK_VENDOR_CACHE:-$HOME/.cache/agent-runtime-kit/vendors}"
key="$(cat "$here/package.json" "$here/package-lock.json" "$here/requirements.txt" | sha256sum | cut -c1-16)"
dir="$cache_root/$key"

if [ ! -f "$dir/.complete" ]; then
  echo "installing pinned vendor agents into $dir" >&2
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  cp "$here/package.json" "$here/package-lock.json" "$dir.tmp/"
  # --ignore-scripts: the native binaries ship inside the platform packages; nothing needs a
  # postinstall download (which could not reach the network here anyway).
  (cd "$dir.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  python3 -m venv "$dir.tmp/venv" >&2
  "$dir.tmp/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  touch "$dir.tmp/.complete"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  # Keep only this version in the cache.
  find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} + 2>/dev/null || true
fi

arch="$(uname -m)"
case "$arch" in
  x86_64) claude_pkg=claude-code-linux-x64; codex_triple=x86_64-unknown-linux-musl; codex_pkg=codex-linux-x64 ;;
  aarch64) claude_pkg=claude-code-linux-arm64; codex_triple=aarch64-unknown-linux-musl; codex_pkg=codex-linux-arm64 ;;
  *) echo "unsupported architecture $arch" >&2; exit 1 ;;
esac
echo "export ARK_TEST_CLAUDE=$dir/node_modules/@anthropic-ai/$claude_pkg/claude"
echo "export ARK_TEST_CODEX=$dir/node_modules/@openai/$codex_pkg/vendor/$codex_triple/bin/codex"
echo "export ARK_TEST_ANTIGRAVITY_PYTHON=$dir/venv/bin/python"

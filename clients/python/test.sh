#!/usr/bin/env bash
# The Python client's tests, against the built sidecar ($AGENT_RUNTIME_KIT_BIN, default: the
# repository's debug build). Creates its own virtualenv with the pinned dev tools in a cache outside
# the repository (keyed by requirements-dev.txt), installs the package into it (a real, non-editable
# install, so packaging is tested too), type-checks it and runs pytest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export AGENT_RUNTIME_KIT_BIN="${AGENT_RUNTIME_KIT_BIN:-$repo/target/debug/agent-runtime-kit}"
py="${PYTHON:-python3}"
cache="${ARK_CLIENT_CACHE:-$HOME/.cache/agent-runtime-kit}"
key="$(cat "$here/requirements-dev.txt" | sha256sum | cut -c1-16)"
venv="$cache/py-venv-$key"

# A venv cannot be moved (its scripts hold absolute paths): build it in place, mark it complete.
if [ ! -f "$venv/.complete" ]; then
  echo "creating $venv" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-dev.txt"
  touch "$venv/.complete"
  find "$cache" -mindepth 1 -maxdepth 1 -name 'py-venv-*' ! -name "py-venv-$key" -exec rm -rf {} + 2>/dev/null || true
fi

# Build outside the source tree so no build/ or *.egg-info is left in the repository.
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
cp -r "$here/pyproject.toml" "$here/README.md" "$here/src" "$build/"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
  --force-reinstall "$build" >/dev/null

cd "$here"
echo "mypy --strict (the package)"
"$venv/bin/python" -m mypy --strict --cache-dir "$cache/mypy-cache" src/agent_runtime_kit
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q "$@"

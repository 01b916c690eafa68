#!/usr/bin/env bash
# Builds the release packages for this machine's platform into dist/ (gitignored):
#   - dist/agent_runtime_kit-VERSION-py3-none-<manylinux|musllinux|macosx>_*.whl: the binary (into
#     the environment's bin/) and the Python client, built by maturin (`bindings = "bin"`);
#   - dist/npm/agent-runtime-kit-VERSION.tgz: the TypeScript client and the `agent-runtime-kit` bin
#     launcher, with every platform package as an optionalDependency;
#   - dist/npm/agent-runtime-kit-PLATFORM-VERSION.tgz: @agent-runtime-kit/PLATFORM (`os`/`cpu`
#     fields), the binary alone.
# The version is Cargo.toml's, written into every package here. One release build serves both.
# Tools: maturin (installed from PyPI into a venv in ~/.cache/agent-runtime-kit on first use), npm.
# Env: ARK_TARGET (a Rust target triple: cross builds, used by the release workflow), MATURIN_ARGS
# (extra flags, e.g. `--zig --compatibility manylinux2014`: then ziglang is installed with maturin),
# ARK_DIST (output directory instead of dist/).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
dist="${ARK_DIST:-$repo/dist}"
stage="$repo/target/packaging${ARK_TARGET:+-$ARK_TARGET}"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"
[ -n "$version" ] || { echo "error: no version in Cargo.toml" >&2; exit 1; }

cache="${ARK_CLIENT_CACHE:-$HOME/.cache/agent-runtime-kit}"
maturin_version="1.16.0"
maturin_req="maturin==$maturin_version" tools="$cache/pack-venv-maturin-$maturin_version"
case " ${MATURIN_ARGS:-} " in
  *" --zig "*) maturin_req="maturin[zig]==$maturin_version" tools="$cache/pack-venv-maturin-zig-$maturin_version" ;;
esac
if [ ! -f "$tools/.complete" ]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check "$maturin_req"
  touch "$tools/.complete"
fi

rm -rf "$dist" "$stage"
mkdir -p "$dist/npm" "$stage/wheel" "$stage/npm"

echo "== wheel (maturin, release build)" >&2
cp -r clients/python/src clients/python/README.md "$stage/wheel/"
find "$stage/wheel/src" -name __pycache__ -prune -exec rm -rf {} +
sed "s|@MANIFEST@|$repo/Cargo.toml|" packaging/python/pyproject.toml > "$stage/wheel/pyproject.toml"
# The client's own __version__ follows Cargo.toml too.
init="$stage/wheel/src/agent_runtime_kit/__init__.py"
sed "s/^__version__ = .*/__version__ = \"$version\"/" "$init" > "$init.new" && mv "$init.new" "$init"
target_args=()
[ -n "${ARK_TARGET:-}" ] && target_args=(--target "$ARK_TARGET")
# PATH: maturin --zig finds zig as `python3 -m ziglang` of the tools venv.
(cd "$stage/wheel" && PATH="$tools/bin:$PATH" CARGO_TARGET_DIR="$repo/target" "$tools/bin/maturin" build --release --locked \
  ${target_args[@]+"${target_args[@]}"} ${MATURIN_ARGS:-} -o "$dist")  # (the +: bash 3.2 on macOS)
wheel="$(ls "$dist"/agent_runtime_kit-"$version"-*.whl)"
size=$(stat -c %s "$wheel" 2>/dev/null || stat -f %z "$wheel")
if [ "$size" -gt $((10 * 1024 * 1024)) ]; then
  echo "error: $wheel is $size bytes, over 10 MiB" >&2; exit 1
fi
echo "wheel: $wheel ($size bytes)" >&2

binary="$repo/target/${ARK_TARGET:+$ARK_TARGET/}release/agent-runtime-kit"
[ -x "$binary" ] || { echo "error: no $binary after the build" >&2; exit 1; }

echo "== npm packages" >&2
# npm's names for the platform: process.platform-process.arch.
case "${ARK_TARGET:-$(uname -s)}" in *linux*|Linux) os=linux ;; *apple*|Darwin) os=darwin ;; *) echo "error: unsupported OS" >&2; exit 1 ;; esac
case "${ARK_TARGET:-$(uname -m)}" in x86_64*) cpu=x64 ;; aarch64*|arm64*) cpu=arm64 ;; *) echo "error: unsupported CPU" >&2; exit 1 ;; esac
platform="$os-$cpu"
node packaging/npm/write-packages.mjs "$repo" "$stage/npm" "$version" "$platform" "$binary"
(cd "$stage/npm/platform" && npm pack --silent --pack-destination "$dist/npm" >/dev/null)
# The main package: the client compiled from clients/typescript (its pinned dev tools).
ts="$repo/clients/typescript"
want="$( (sha256sum "$ts/package-lock.json" 2>/dev/null || shasum -a 256 "$ts/package-lock.json") | cut -c1-64)"
if [ "$(cat "$ts/node_modules/.ark-lock-hash" 2>/dev/null || true)" != "$want" ]; then
  (cd "$ts" && npm ci --no-audit --no-fund --loglevel=error && echo "$want" > node_modules/.ark-lock-hash)
fi
"$ts/node_modules/.bin/tsc" -p "$stage/npm/main/tsconfig.json"
(cd "$stage/npm/main" && npm pack --silent --pack-destination "$dist/npm" >/dev/null)
ls -l "$dist" "$dist/npm" >&2

#!/usr/bin/env bash
# The packages as a user gets them: builds them (packaging/build.sh, a release build), installs the
# wheel into a fresh virtualenv and the npm tarballs into a fresh Node project, and runs a fixture
# task from the command line, from Python (`Client()`) and from Node (`Client.start()`), each with
# no cargo, no target/ and no AGENT_RUNTIME_KIT_BIN: only what the packages installed.
# Set ARK_SKIP_BUILD=1 to test the packages already in dist/.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${ARK_SKIP_BUILD:-}" != 1 ]; then
  bash "$repo/packaging/build.sh"
fi
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -1)"
wheel="$(ls "$repo"/dist/agent_runtime_kit-"$version"-*.whl)"
py="$(command -v python3)"
node="$(command -v node)"
npm_cli="$(command -v npm)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# PATH for everything below: system directories only (no ~/.cargo/bin, no target/), plus the
# directories of the interpreters this script was given.
clean_path="$(dirname "$py"):$(dirname "$node"):/usr/local/bin:/usr/bin:/bin"
run_clean() { env -u AGENT_RUNTIME_KIT_BIN -u VIRTUAL_ENV -u CARGO_HOME PATH="$1" "${@:2}"; }
run_clean "$clean_path" sh -c 'if command -v cargo || command -v agent-runtime-kit; then exit 1; fi' \
  || { echo "error: cargo or agent-runtime-kit is on the clean PATH" >&2; exit 1; }
mkdir -p "$work/project"
cd "$work/project"

echo "== Python: pip install the wheel into a fresh venv" >&2
"$py" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-index "$wheel"
venv_path="$work/venv/bin:$clean_path"
got="$(run_clean "$venv_path" agent-runtime-kit --version)"
[ "$got" = "agent-runtime-kit $version" ] || { echo "error: --version says '$got', packages say $version" >&2; exit 1; }
run_clean "$venv_path" agent-runtime-kit run "hello" > "$work/cli.out"
grep -q 'You asked: "hello"' "$work/cli.out" || { echo "error: unexpected answer:" >&2; cat "$work/cli.out" >&2; exit 1; }
echo "ok: agent-runtime-kit run \"hello\" (from the wheel)" >&2
# Client() with no argument, the venv NOT on PATH: it must find the binary the wheel installed.
run_clean "$clean_path" "$work/venv/bin/python" - <<'PY'
import asyncio
from agent_runtime_kit import AgentTask, Client

async def main() -> None:
    async with Client() as ark:
        run = ark.run(AgentTask("hello from python", working_directory="."), runtime="fixture")
        text = ""
        async for event in run:
            if event.type == "agent.output.delta":
                text += event.data.text
        result = await run
        assert result.finish_reason == "completed", result
        assert 'You asked: "hello from python"' in text, text
    print("ok: Client() ran a fixture task (binary found with no argument)")

asyncio.run(main())
PY

echo "== Node: npm install the tarballs into a fresh project" >&2
printf '{ "name": "ark-package-test", "private": true, "type": "module" }\n' > package.json
# --offline: the other platforms' optional packages are not published (or reachable) here; npm
# skips an optional dependency it cannot fetch, as it skips one for another os/cpu.
run_clean "$clean_path" "$npm_cli" install --offline --no-audit --no-fund --loglevel=error \
  "$repo"/dist/npm/agent-runtime-kit-"$version".tgz \
  "$repo"/dist/npm/agent-runtime-kit-*-"$version".tgz
got="$(run_clean "$clean_path" "$npm_cli" exec --offline -- agent-runtime-kit --version)"
[ "$got" = "agent-runtime-kit $version" ] || { echo "error: npx --version says '$got'" >&2; exit 1; }
run_clean "$clean_path" "$npm_cli" exec --offline -- agent-runtime-kit run "hello" > "$work/npx.out"
grep -q 'You asked: "hello"' "$work/npx.out" || { echo "error: unexpected answer:" >&2; cat "$work/npx.out" >&2; exit 1; }
echo "ok: npx agent-runtime-kit run \"hello\"" >&2
cat > test.mjs <<'JS'
import assert from "node:assert/strict";
import { Client } from "agent-runtime-kit";

const ark = await Client.start();
const run = ark.run({ runtime: "fixture", task: { goal: "hello from node", workingDirectory: "." } });
let text = "";
for await (const event of run.events) {
  if (event.type === "agent.output.delta") text += event.data.text;
}
const result = await run.result;
await ark.close();
assert.equal(result.finishReason, "completed");
assert.match(text, /You asked: "hello from node"/);
console.log("ok: Client.start() ran a fixture task (binary found with no argument)");
JS
run_clean "$clean_path" "$node" test.mjs
echo "== packages ok" >&2

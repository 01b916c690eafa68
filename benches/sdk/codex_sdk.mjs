// Reads the fake codex through the official @openai/codex-sdk (codexPathOverride; the SDK spawns
// `codex exec --experimental-json` and yields one parsed event per line from runStreamed()):
// one warm-up turn, then ROUNDS timed turns (default 1); prints one line per timed turn,
// {"events": N, "seconds": S, "streamingSeconds": F} (S: turn begun → last event; F: first event →
// last event).
// Usage: ARK_BENCH_NODE_MODULES=<node_modules> node codex_sdk.mjs FAKE_CODEX WORKDIR LINES WARMUP_LINES [ROUNDS]
import path from "node:path";
import { pathToFileURL } from "node:url";

const [fake, cwd, lines, warmup, rounds = "1"] = process.argv.slice(2);
const modules = process.env.ARK_BENCH_NODE_MODULES;
// The package is ESM-only (exports "import" → dist/index.js).
const entry = path.join(modules, "@openai/codex-sdk/dist/index.js");
const { Codex } = await import(pathToFileURL(entry).href);

async function once(file) {
  process.env.ARK_BENCH_CODEX_EXEC_LINES = file;
  const codex = new Codex({ codexPathOverride: fake });
  const thread = codex.startThread({ workingDirectory: cwd, skipGitRepoCheck: true });
  const began = performance.now();
  const { events } = await thread.runStreamed("bench");
  let n = 0;
  let first;
  for await (const _ of events) {
    first ??= performance.now();
    n++;
  }
  const end = performance.now();
  return [n, (end - began) / 1000, (end - (first ?? end)) / 1000];
}

await once(warmup); // warm-up: module load, first spawn
for (let i = 0; i < Number(rounds); i++) {
  const [events, seconds, streamingSeconds] = await once(lines);
  console.log(JSON.stringify({ events, seconds, streamingSeconds }));
}

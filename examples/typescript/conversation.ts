// A two-turn conversation with a coding agent, through any runtime.
//
// Turn 1 tells the agent a fact, turn 2 asks for it back: the answer shows that the agent saw the
// first turn. Where the runtime declares live sessions (`capabilities.liveSessions`), the two turns
// go through one live session (`ark.openSession(...)`): the vendor process stays between them and
// turn 2 runs in it (`sessionSource: "live"`), opened ahead of the first turn where the runtime can
// prewarm. Elsewhere (or with --cold) turn 2 resumes turn 1's session cold (`task.session.resume`).
// A runtime that `diagnose` reports not ready is skipped, with the reason.
//
//   (cd clients/typescript && npm ci && npm run build)
//   cd examples/typescript && npm install && npm run build
//   node dist/conversation.js [RUNTIME ...] [--cold] [--binary PATH] [--model NAME]   (default: fixture)
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Client, ERROR_CODES, RpcError, type AgentResult, type Run, type SessionTask } from "agent-runtime-kit";

// Compiled to examples/typescript/dist/: the examples folder is two levels up.
const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TURNS = [
  "My favourite colour is teal. Acknowledge it in one short sentence, no tools.",
  "What is my favourite colour? One word, no tools.",
];

/** undefined when the runtime is ready, else why it is skipped. */
async function availability(ark: Client, runtime: string): Promise<string | undefined> {
  try {
    const [d] = await ark.diagnose(runtime);
    if (d!.status === "ready") return undefined;
    return `${d!.status}: ${d!.message.replace(/\.$/, "")}.${d!.remedy ? ` Remedy: ${d!.remedy}` : ""}`;
  } catch (e) {
    if (e instanceof RpcError && e.code === ERROR_CODES.unknownRuntime) {
      return `not built into this sidecar (${e.code}: known ${(e.data.known as string[]).join(", ")})`;
    }
    throw e;
  }
}

/** Streams one turn and prints its summary line (with the time to its first delta). */
async function show(runtime: string, n: number, run: Run): Promise<AgentResult> {
  const start = performance.now();
  let first: number | undefined;
  for await (const event of run.events) {
    if (event.type === "agent.output.delta" && first === undefined) first = performance.now() - start;
  }
  const r = await run.result;
  const took = first === undefined ? "no delta" : `first delta ${first.toFixed(0)} ms`;
  console.log(`[${runtime}] turn ${n} (${r.sessionSource ?? "-"}, ${took}): ${r.output.trim().slice(0, 300)}`);
  return r;
}

/** Two turns; true when both completed, undefined when the runtime is skipped. */
async function converse(ark: Client, runtime: string, workingDirectory: string, model: string | undefined, cold: boolean) {
  const skipped = await availability(ark, runtime);
  if (skipped) {
    console.log(`skipped ${runtime}: ${skipped}`);
    return undefined;
  }
  const task: SessionTask = { workingDirectory, model, timeoutMs: 5 * 60 * 1000 };
  const [info] = (await ark.capabilities(runtime)).runtimes;
  const results: AgentResult[] = [];
  if (info!.capabilities.liveSessions && !cold) {
    const s = await ark.openSession(runtime, task);
    console.log(`[${runtime}] ${s.prewarmed ? `prewarmed live session ${s.sessionId}` : "live session"}`);
    try {
      for (const [i, goal] of TURNS.entries()) {
        results.push(await show(runtime, i + 1, s.send(goal)));
        if (results.at(-1)!.finishReason !== "completed") break;
      }
    } finally {
      await s.close();
    }
    const note = await s.closed;
    console.log(`[${runtime}] session ${note.sessionId} closed (${note.reason})`);
  } else {
    console.log(`[${runtime}] ${cold ? "asked for --cold" : "no live sessions here"}: turn 2 resumes turn 1's session cold`);
    results.push(await show(runtime, 1, ark.run({ runtime, task: { ...task, goal: TURNS[0] } })));
    const id = results[0]!.sessionId;
    if (results[0]!.finishReason === "completed" && id) {
      const follow = { ...task, goal: TURNS[1], session: { resume: id } };
      results.push(await show(runtime, 2, ark.run({ runtime, task: follow })));
    }
  }
  const ok = results.length === 2 && results.every((r) => r.finishReason === "completed");
  if (!ok) {
    const last = results.at(-1)!;
    console.log(`[${runtime}] stopped: ${last.finishReason} ${last.error?.message ?? ""}`);
  }
  return ok;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { binary: { type: "string" }, model: { type: "string" }, cold: { type: "boolean", default: false } },
});
const runtimes = positionals.length ? positionals : ["fixture"];
const tmp = mkdtempSync(join(tmpdir(), "ark-conversation-"));
const ark = await Client.start({ binary: values.binary, args: ["--log-level", "warn"] });
const held: boolean[] = [];
try {
  for (const rt of runtimes) {
    const wd = join(tmp, rt);
    cpSync(join(EXAMPLES, "sample-project"), wd, { recursive: true });
    try {
      const ok = await converse(ark, rt, wd, rt === "fixture" ? undefined : values.model, values.cold!);
      if (ok !== undefined) held.push(ok);
    } catch (e) {
      if (!(e instanceof RpcError)) throw e;
      console.log(`refused ${rt}: ${e.message}`); // refused before it started (e.g. -32011, -32012)
      held.push(false);
    }
  }
} finally {
  await ark.close();
  rmSync(tmp, { recursive: true, force: true });
}
// 0 when at least one runtime held the conversation and none that ran failed.
process.exitCode = held.length && held.every(Boolean) ? 0 : 1;

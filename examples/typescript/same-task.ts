// The same coding task through every runtime, side by side.
//
// Each runtime gets a fresh copy of examples/sample-project and the same task; the runs go
// concurrently through one sidecar. Runtimes this sidecar does not know (-32010) or that `diagnose`
// reports not ready are skipped, with the reason. At the end a table compares finish reason, turns,
// tokens, cost and files changed.
//
//   (cd clients/typescript && npm ci && npm run build)
//   cd examples/typescript && npm install && npm run build
//   node dist/same-task.js [--runtime fixture] [--binary PATH] [--model NAME]
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { Client, ERROR_CODES, RpcError, type AgentResult } from "agent-runtime-kit";

// Compiled to examples/typescript/dist/: the examples folder is two levels up.
const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GOAL =
  "Add a function subtract(a, b) to calc.py, next to add, and a test for it in test_calc.py. " +
  "Run the tests with `python -m pytest -q` if you can. Reply with one sentence saying what you did.";
const RUNTIMES = ["fixture", "claude", "codex", "antigravity"];

interface Row {
  runtime: string;
  skipped?: string;
  result?: AgentResult;
  error?: string;
}

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

async function runOne(ark: Client, runtime: string, workingDirectory: string, model?: string): Promise<Row> {
  const skipped = await availability(ark, runtime);
  if (skipped) return { runtime, skipped };
  const run = ark.run({
    runtime,
    task: {
      goal: GOAL,
      workingDirectory,
      model: runtime === "fixture" ? undefined : model,
      timeoutMs: 10 * 60 * 1000,
      idleTimeoutMs: 3 * 60 * 1000,
      // Read only by the fixture runtime: a replayed script instead of a model.
      runtimeOptions: { fixture: { script: JSON.parse(readFileSync(join(EXAMPLES, "fixture-script.json"), "utf8")) } },
    },
  });
  try {
    for await (const event of run.events) {
      switch (event.type) {
        case "agent.task.started":
          console.log(`[${runtime}] started (model ${event.data.model}, session ${event.data.sessionId})`);
          break;
        case "agent.tool.requested":
          console.log(`[${runtime}] tool ${event.data.name} ${JSON.stringify(event.data.input).slice(0, 80)}`);
          break;
        case "agent.tool.completed":
          if (event.data.status !== "ok") console.log(`[${runtime}] tool ${event.data.name} ${event.data.status}`);
          break;
        case "agent.message":
          console.log(`[${runtime}] says: ${event.data.text.slice(0, 120)}`);
          break;
      }
    }
    return { runtime, result: await run.result };
  } catch (e) {
    if (e instanceof RpcError) return { runtime, error: `${e.code} ${e.kind}: ${e.message}` };
    throw e;
  }
}

function table(rows: Row[]): string {
  const head = ["runtime", "finish", "turns", "tokens in/out", "cost USD", "files changed", "session"];
  const lines = rows.flatMap(({ runtime, result: r }) => {
    if (!r) return [];
    const files = r.artifacts.map((a) => `${a.path} (${a.change})`).join(", ") || "none";
    return [[
      runtime,
      r.finishReason + (r.error ? ` (${r.error.kind})` : ""),
      String(r.turns),
      `${r.usage.inputTokens}/${r.usage.outputTokens}`,
      r.usage.costUsd == null ? "n/a" : r.usage.costUsd.toFixed(4),
      files,
      (r.sessionId ?? "").slice(0, 24),
    ]];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [fmt(head), fmt(widths.map((w) => "-".repeat(w))), ...lines.map(fmt)];
  for (const r of rows) {
    if (r.skipped) out.push(`skipped ${r.runtime}: ${r.skipped}`);
    if (r.error) out.push(`refused ${r.runtime}: ${r.error}`);
  }
  return out.join("\n");
}

const { values } = parseArgs({
  options: { runtime: { type: "string", multiple: true }, binary: { type: "string" }, model: { type: "string" } },
});
const runtimes = values.runtime ?? RUNTIMES;
const tmp = mkdtempSync(join(tmpdir(), "ark-same-task-"));
const ark = await Client.start({ binary: values.binary, args: ["--log-level", "warn"] });
let rows: Row[];
try {
  rows = await Promise.all(
    runtimes.map((rt) => {
      const wd = join(tmp, rt);
      cpSync(join(EXAMPLES, "sample-project"), wd, { recursive: true });
      return runOne(ark, rt, wd, values.model);
    }),
  );
} finally {
  await ark.close();
  rmSync(tmp, { recursive: true, force: true });
}
console.log();
console.log(table(rows));
process.exitCode = rows.some((r) => r.result) ? 0 : 1;

import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";

import { Client, type AgentTask, type ClientOptions, type Event, type Run } from "../src/index.js";

// Compiled to dist/test/: the repository is four levels up.
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** $AGENT_RUNTIME_KIT_BIN (tests/run.sh sets it to the debug build), else target/debug. */
export function sidecarBin(): string {
  const p = process.env.AGENT_RUNTIME_KIT_BIN ?? join(REPO, "target", "debug", "agent-runtime-kit");
  if (!existsSync(p)) throw new Error(`no sidecar binary at ${p}: run cargo build or set AGENT_RUNTIME_KIT_BIN`);
  return p;
}

export function start(opts: ClientOptions = {}): Promise<Client> {
  return Client.start({ binary: sidecarBin(), args: ["--log-level", "warn"], ...opts });
}

export function workdir(): string {
  const d = mkdtempSync(join(tmpdir(), "ark-ts-"));
  writeFileSync(join(d, "README.md"), "# sample\n");
  return d;
}

export function scripted(goal: string, script: unknown, wd: string, extra: Partial<AgentTask> = {}): AgentTask {
  return { goal, workingDirectory: wd, runtimeOptions: { fixture: { script } }, ...extra };
}

export async function collect(run: Run): Promise<Event[]> {
  const out: Event[] = [];
  for await (const e of run.events) out.push(e);
  return out;
}

export const uid = () => `ts-${randomUUID()}`;

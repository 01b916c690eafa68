import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { REPO, sidecarBin } from "./helpers.js";

const example = join(REPO, "examples", "typescript", "dist", "same-task.js");
const conversation = join(REPO, "examples", "typescript", "dist", "conversation.js");
// Vendors pointed at binaries that do not exist: skipped whether this sidecar has them (diagnose
// says missingBinary) or not (-32010), never run against a real account.
const noVendors = {
  AGENT_RUNTIME_KIT_CLAUDE_PATH: "/nonexistent/claude",
  AGENT_RUNTIME_KIT_CODEX_PATH: "/nonexistent/codex",
  AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON: "/nonexistent/python3",
};

test("the same-task example runs the fixture and skips the runtimes it cannot use", () => {
  assert.ok(existsSync(example), `${example} is not built (test.sh builds it)`);
  const out = execFileSync(process.execPath, [example], {
    encoding: "utf8",
    timeout: 60_000,
    env: {
      ...process.env,
      AGENT_RUNTIME_KIT_BIN: sidecarBin(),
      // Vendors pointed at binaries that do not exist: skipped whether this sidecar has them
      // (diagnose says missingBinary) or not (-32010), never run against a real account.
      AGENT_RUNTIME_KIT_CLAUDE_PATH: "/nonexistent/claude",
      AGENT_RUNTIME_KIT_CODEX_PATH: "/nonexistent/codex",
      AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON: "/nonexistent/python3",
    },
  });
  assert.match(out, /^fixture\s+completed\s+3\s+1200\/180\s+0\.0000\s+none/m);
  for (const vendor of ["claude", "codex", "antigravity"]) assert.match(out, new RegExp(`^skipped ${vendor}: \\S`, "m"));
});

function runConversation(args: string[]): { status: number | null; stdout: string } {
  assert.ok(existsSync(conversation), `${conversation} is not built (test.sh builds it)`);
  const r = spawnSync(process.execPath, [conversation, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, AGENT_RUNTIME_KIT_BIN: sidecarBin(), ...noVendors },
  });
  return { status: r.status, stdout: r.stdout + r.stderr };
}

test("the conversation example holds two turns in a live session and skips what it cannot use", () => {
  const { status, stdout } = runConversation(["fixture", "claude", "codex", "antigravity"]);
  assert.equal(status, 0, stdout);
  assert.match(stdout, /^\[fixture\] prewarmed live session \S+/m);
  assert.match(stdout, /^\[fixture\] turn 1 \(live, first delta \d+ ms\): Turn 1 /m);
  // Turn 2 ran in the same live "vendor" and saw turn 1.
  assert.match(stdout, /^\[fixture\] turn 2 \(live, .*Earlier in this conversation: \["My favourite colour is teal\./m);
  assert.match(stdout, /^\[fixture\] session \S+ closed \(closed\)$/m);
  for (const vendor of ["claude", "codex", "antigravity"]) assert.match(stdout, new RegExp(`^skipped ${vendor}: \\S`, "m"));
});

test("the conversation example resumes cold on request, and fails when nothing ran", () => {
  const cold = runConversation(["--cold"]);
  assert.equal(cold.status, 0, cold.stdout);
  assert.match(cold.stdout, /^\[fixture\] turn 1 \(new, /m);
  assert.match(cold.stdout, /^\[fixture\] turn 2 \(resumed, /m);
  const skipped = runConversation(["claude"]);
  assert.equal(skipped.status, 1, skipped.stdout);
  assert.match(skipped.stdout, /^skipped claude: \S/m);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { REPO, sidecarBin } from "./helpers.js";

const example = join(REPO, "examples", "typescript", "dist", "same-task.js");

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

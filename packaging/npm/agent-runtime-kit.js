#!/usr/bin/env node
// `agent-runtime-kit` for npm users: runs the binary of the per-platform package npm installed
// through optionalDependencies (@agent-runtime-kit/linux-x64, ...), passing arguments, stdio, exit
// status and signals through.
import { spawn } from "node:child_process";

import { bundledBinary } from "../dist/src/client.js";

const binary = process.env.AGENT_RUNTIME_KIT_BIN || bundledBinary();
if (!binary) {
  console.error(
    `error: no agent-runtime-kit binary for ${process.platform}-${process.arch}: the package ` +
      `@agent-runtime-kit/${process.platform}-${process.arch} is not installed.\n` +
      "fix: reinstall without --omit=optional / --no-optional (`npm install agent-runtime-kit`); " +
      "supported platforms: linux-x64, linux-arm64, darwin-x64, darwin-arm64",
  );
  process.exit(1);
}
const child = spawn(binary, process.argv.slice(2), { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("error", (err) => {
  console.error(`error: cannot run ${binary}: ${err.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});

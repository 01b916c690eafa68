import { test } from "node:test";
import assert from "node:assert/strict";
import { symlinkSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import {
  Client,
  ERROR_CODES,
  RpcError,
  SidecarExitedError,
  SidecarNotFoundError,
  type ApprovalParams,
  type InputRequestParams,
  type Event,
} from "../src/index.js";
import { collect, scripted, sidecarBin, start, uid, workdir } from "./helpers.js";

const slow = { steps: [{ event: "agent.output.delta", data: { text: "a" } }, { delayMs: 30000 }] };

test("capabilities and diagnose", async () => {
  const ark = await start();
  try {
    const caps = await ark.capabilities();
    assert.equal(caps.protocolVersion, 2);
    assert.equal(caps.server.name, "agent-runtime-kit");
    const fixture = caps.runtimes.find((r) => r.name === "fixture");
    assert.ok(fixture?.capabilities.streaming && fixture.capabilities.approvals.includes("host"));
    assert.deepEqual((await ark.capabilities("fixture")).runtimes.map((r) => r.name), ["fixture"]);
    const diags = await ark.diagnose();
    assert.ok(diags.some((d) => d.runtime === "fixture" && d.status === "ready"));
    await assert.rejects(ark.diagnose("no-such-runtime"), (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, -32010);
      assert.equal(e.code, ERROR_CODES.unknownRuntime);
      assert.equal(e.kind, "unknownRuntime");
      assert.ok((e.data.known as string[]).includes("fixture"));
      return true;
    });
  } finally {
    await ark.close();
  }
});

test("a demo run streams typed events, then its result", async () => {
  const wd = workdir();
  const ark = await start();
  const run = ark.run({ runtime: "fixture", task: { goal: "Explain this repository", workingDirectory: wd } });
  const events = await collect(run);
  const result = await run.result;
  await ark.close();
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i));
  assert.ok(events.every((e) => e.taskId === run.taskId));
  const first = events[0]!;
  assert.equal(first.type, "agent.task.started");
  if (first.type === "agent.task.started") assert.equal(first.data.workingDirectory, wd);
  assert.equal(events.at(-1)!.type, "agent.task.completed");
  let deltas = "";
  for (const e of events) if (e.type === "agent.output.delta") deltas += e.data.text;
  assert.match(deltas, /Explain this repository/);
  assert.match(deltas, /README\.md/);
  assert.equal(result.taskId, run.taskId);
  assert.equal(result.finishReason, "completed");
  assert.equal(result.output, deltas);
  assert.deepEqual(result.toolCalls.map((t) => t.name), ["ListFiles"]);
});

test("a scripted run: tools, structured output, metadata, a vendor failure as a result", async () => {
  const wd = workdir();
  const ark = await start();
  const script = {
    steps: [{ tool: { name: "Bash", input: { command: "ls" }, output: "a b" } }],
    result: { output: "done", structuredOutput: { ok: true }, usage: { inputTokens: 10, costUsd: 0.01 } },
  };
  const run = ark.run({
    runtime: "fixture",
    taskId: uid(),
    task: scripted("go", script, wd, {
      outputSchema: { type: "object", required: ["ok"], properties: { ok: { type: "boolean" } } },
      metadata: { ticket: 42 },
    }),
  });
  const events = await collect(run);
  const result = await run.result;
  assert.deepEqual(events.map((e) => e.type), [
    "agent.task.started",
    "agent.tool.requested",
    "agent.tool.completed",
    "agent.task.completed",
  ]);
  assert.deepEqual(result.structuredOutput, { ok: true });
  assert.deepEqual(result.metadata, { ticket: 42 });
  assert.equal(result.usage.inputTokens, 10);

  const failed = ark.run({
    runtime: "fixture",
    task: scripted("go", { steps: [{ fail: { kind: "rateLimit", message: "overloaded", vendorCode: 429 } }] }, wd),
  });
  const fe = await collect(failed);
  const fr = await failed.result;
  assert.equal(fe.at(-1)!.type, "agent.task.failed");
  assert.equal(fr.finishReason, "error");
  assert.equal(fr.error?.kind, "rateLimit");
  assert.equal(fr.error?.vendorCode, 429);
  await ark.close();
});

test("an unavailable runtime's error message ends with the fix", async () => {
  const ark = await start({ args: ["--log-level", "warn", "--claude-path", "/nonexistent/claude"] });
  await assert.rejects(ark.run({ runtime: "claude", task: "x" }).result, (e: unknown) => {
    assert.ok(e instanceof RpcError, String(e));
    const remedy = e.data.remedy as string;
    assert.ok(remedy, "-32011 carries a remedy");
    assert.equal(e.remedy, remedy);
    assert.ok(e.message.startsWith('runtime "claude" is unavailable'), e.message);
    assert.ok(e.message.endsWith(`(-32011 runtimeUnavailable)\nfix: ${remedy}`), e.message);
    return true;
  });
  await ark.close();
  const plain = new RpcError(-32010, "unknown runtime", { kind: "unknownRuntime" });
  assert.equal(plain.message, "unknown runtime (-32010 unknownRuntime)");
  assert.equal(plain.remedy, undefined);
});

test("refusals reject with RpcError and their codes", async () => {
  const wd = workdir();
  const ark = await start();
  const unknown = ark.run({ runtime: "no-such-runtime", task: "x" });
  await assert.rejects(collect(unknown), (e: unknown) => e instanceof RpcError && e.code === -32010);
  await assert.rejects(unknown.result, (e: unknown) => e instanceof RpcError && e.kind === "unknownRuntime");
  const cases: Array<[object, number]> = [
    [{ goal: "x", runtimeOptions: { fixture: { bogus: 1 } } }, -32012],
    [{ goal: "x", workingDirectory: join(wd, "missing") }, -32602],
    [{ goal: "x", maxTurns: 0 }, -32602],
  ];
  for (const [task, code] of cases) {
    await assert.rejects(ark.run({ runtime: "fixture", task: task as any }).result, (e: unknown) => {
      assert.ok(e instanceof RpcError, String(e));
      assert.equal(e.code, code, e.message);
      return true;
    });
  }
  const tid = uid();
  const first = ark.run({ runtime: "fixture", taskId: tid, task: scripted("a", slow, wd) });
  await first.events[Symbol.asyncIterator]().next();
  await assert.rejects(
    ark.run({ runtime: "fixture", taskId: tid, task: scripted("b", slow, wd) }).result,
    (e: unknown) => e instanceof RpcError && e.code === ERROR_CODES.duplicateTaskId,
  );
  await assert.rejects(ark.request("no/such/method"), (e: unknown) => e instanceof RpcError && e.code === -32601);
  await assert.rejects(ark.cancel("never-started"), (e: unknown) => e instanceof RpcError && e.code === -32013);
  await first.cancel();
  assert.equal((await first.result).finishReason, "cancelled");
  await ark.close();
});

test("AbortSignal cancels; cancelling twice is harmless", async () => {
  const wd = workdir();
  const ark = await start();
  const ac = new AbortController();
  const run = ark.run({ runtime: "fixture", task: scripted("go", slow, wd), signal: ac.signal });
  const seen: string[] = [];
  for await (const e of run.events) {
    seen.push(e.type);
    if (e.type === "agent.output.delta") ac.abort();
  }
  const result = await run.result;
  assert.equal(seen.at(-1), "agent.task.failed");
  assert.equal(result.finishReason, "cancelled");
  assert.equal(result.cancel, "soft");
  assert.equal((await run.cancel()).state, "finished");

  // Aborted at once: the cancel may reach the sidecar before the task is admitted; it still lands.
  for (let i = 0; i < 5; i++) {
    const ac2 = new AbortController();
    ac2.abort();
    const r = await ark.run({ runtime: "fixture", task: scripted("go", slow, wd), signal: ac2.signal }).result;
    assert.equal(r.finishReason, "cancelled");
  }
  await ark.close();
});

test("approvals go to the handler; failures and no handler deny", async () => {
  const wd = workdir();
  const script = {
    steps: [
      { approval: { name: "Write", input: { path: "x" }, output: "written" } },
      { approval: { name: "Bash", input: { command: "rm -rf /" } } },
    ],
  };
  const task = scripted("go", script, wd, { permissions: { approvals: "host" } });
  const asked: ApprovalParams[] = [];
  const ark = await start({ onApproval: () => true });
  const run = ark.run({
    runtime: "fixture",
    task,
    onApproval: async (req) => {
      asked.push(req);
      await new Promise((r) => setTimeout(r, 10));
      return req.name === "Write" ? { decision: "allow" } : { decision: "deny", message: "not on my machine" };
    },
  });
  const events = await collect(run);
  const result = await run.result;
  assert.deepEqual(asked.map((a) => [a.name, a.taskId]), [["Write", run.taskId], ["Bash", run.taskId]]);
  assert.equal(events.filter((e) => e.type === "agent.approval.requested").length, 2);
  const done = events.filter((e): e is Extract<Event, { type: "agent.tool.completed" }> => e.type === "agent.tool.completed");
  assert.deepEqual(done.map((e) => [e.data.name, e.data.status, e.data.output]), [
    ["Write", "ok", "written"],
    ["Bash", "denied", "not on my machine"],
  ]);
  assert.deepEqual(result.toolCalls.map((t) => t.status), ["ok", "denied"]);

  const one = scripted("go", { steps: [{ approval: { name: "Write" } }] }, wd, { permissions: { approvals: "host" } });
  const status = async (c: Client, onApproval?: any) =>
    (await c.run({ runtime: "fixture", task: one, onApproval }).result).toolCalls[0]!.status;
  assert.equal(await status(ark), "ok"); // the client-wide handler
  assert.equal(await status(ark, () => "deny"), "denied");
  assert.equal(await status(ark, () => {
    throw new Error("handler bug");
  }), "denied");
  await ark.close();
  const bare = await start();
  const r = await bare.run({ runtime: "fixture", task: one }).result;
  assert.equal(r.toolCalls[0]!.status, "denied");
  assert.match(String(r.toolCalls[0]!.output), /no approval handler/);
  await bare.close();
});

test("allowForSession, abort and updatedInput answers", async () => {
  const wd = workdir();
  const bash = (command: string) => ({ approval: { name: "Bash", input: { command }, output: "ran" } });
  const task = scripted("go", { steps: [bash("ls"), bash("ls"), bash("make")] }, wd, {
    permissions: { approvals: "host" },
  });
  const asked: string[] = [];
  const ark = await start();
  const result = await ark.run({
    runtime: "fixture",
    task,
    onApproval: (req) => {
      const command = (req.input as { command: string }).command;
      asked.push(command);
      return command === "ls" ? "allowForSession" : { decision: "allow", updatedInput: { command: "make -n" } };
    },
  }).result;
  assert.deepEqual(asked, ["ls", "make"]);
  assert.deepEqual(result.toolCalls.map((t) => t.status), ["ok", "ok", "ok"]);
  assert.deepEqual(result.toolCalls[2]!.input, { command: "make -n" });
  const aborted = await ark.run({ runtime: "fixture", task, onApproval: () => "abort" }).result;
  assert.equal(aborted.finishReason, "cancelled");
  await ark.close();
});

const questions = {
  question: {
    questions: [
      { id: "color", text: "Which color?", options: [{ label: "Red" }, { label: "Blue" }] },
      { id: "sizes", text: "Sizes?", multiSelect: true, options: [{ label: "S" }, { label: "M" }] },
    ],
  },
};

test("questions go to the question handler; none or a throwing one declines", async () => {
  const wd = workdir();
  const task = scripted("go", { steps: [questions], result: { output: "{{answers.color}}/{{answers.sizes}}" } }, wd, {
    permissions: { approvals: "host" },
  });
  const asked: InputRequestParams[] = [];
  const ark = await start({
    onQuestion: (req) => {
      asked.push(req);
      return { color: "Blue", sizes: ["S", "M"] };
    },
  });
  assert.equal((await ark.run({ runtime: "fixture", task }).result).output, "Blue/S, M");
  assert.deepEqual(asked[0]!.questions.map((q) => q.id), ["color", "sizes"]);
  const thrown = await ark.run({
    runtime: "fixture",
    task,
    onQuestion: () => {
      throw new Error("not now");
    },
  }).result;
  assert.equal(thrown.output, "/");
  assert.equal(thrown.toolCalls[0]!.status, "denied");
  await ark.close();
  const bare = await start();
  assert.equal((await bare.run({ runtime: "fixture", task }).result).toolCalls[0]!.status, "denied");
  await bare.close();
});

test("a withdrawn question aborts its handler's signal", async () => {
  const wd = workdir();
  const task = scripted("go", { steps: [questions], result: { output: "x" } }, wd, {
    permissions: { approvals: "host" },
  });
  let aborted!: () => void;
  const wasAborted = new Promise<void>((r) => (aborted = r));
  const ark = await start();
  const result = await ark.run({
    runtime: "fixture",
    task,
    options: { approvalTimeoutMs: 300 },
    onQuestion: (_req, signal) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener("abort", () => {
          aborted();
          reject(new Error("withdrawn"));
        });
      }),
  }).result;
  assert.equal(result.toolCalls[0]!.status, "denied");
  await wasAborted;
  await ark.close();
});

test("a second run starts and finishes while the first streams", async () => {
  const wd = workdir();
  const steps: object[] = [];
  for (let i = 0; i < 20; i++) steps.push({ event: "agent.output.delta", data: { text: `${i} ` } }, { delayMs: 10 });
  const ark = await start();
  const a = ark.run({ runtime: "fixture", task: scripted("a", { steps, result: { output: "A" } }, wd) });
  const it = a.events[Symbol.asyncIterator]();
  for (let i = 0; i < 3; i++) await it.next();
  const b = ark.run({ runtime: "fixture", task: scripted("b", { steps: steps.slice(0, 4), result: { output: "B" } }, wd) });
  assert.equal((await b.result).output, "B");
  assert.equal(a.done, false, "the first run was still streaming when the second finished");
  assert.equal((await a.result).output, "A");
  await ark.close();
});

test("lines of many megabytes and raw line separators in text", async () => {
  const wd = workdir();
  const big = "x".repeat(6 * 1024 * 1024);
  const tricky = "before\u2028middle\u2029after \r\n end";
  const ark = await start();
  const run = ark.run({
    runtime: "fixture",
    task: scripted("go", { steps: [{ event: "agent.message", data: { text: tricky } }], result: { output: big } }, wd),
    options: { maxFieldBytes: 16 * 1024 * 1024 },
  });
  const events = await collect(run);
  const result = await run.result;
  await ark.close();
  const messages = events.flatMap((e) => (e.type === "agent.message" ? [e.data.text] : []));
  assert.deepEqual(messages, [tricky]);
  assert.equal(result.output.length, big.length);
});

test("stderr is drained and kept", async () => {
  const wd = workdir();
  const lines: string[] = [];
  const ark = await start({ args: ["--log-level", "debug"], onStderr: (l) => lines.push(l) });
  for (let i = 0; i < 3; i++) {
    const r = await ark.run({ runtime: "fixture", task: { goal: "x", workingDirectory: wd } }).result;
    assert.equal(r.finishReason, "completed");
  }
  await ark.close();
  assert.ok(lines.length > 0 && ark.stderrTail.length > 0);
});

test("a crash fails every pending call instead of hanging", async () => {
  const wd = workdir();
  const ark = await start();
  const run = ark.run({ runtime: "fixture", task: scripted("go", slow, wd) });
  const it = run.events[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.type, "agent.task.started");
  const other = ark.run({ runtime: "fixture", task: scripted("go", slow, wd) });
  const pendingCall = ark.request("diagnose", {});
  process.kill(ark.pid!, "SIGKILL");
  const isExit = (e: unknown) => {
    assert.ok(e instanceof SidecarExitedError, String(e));
    assert.equal(e.signal, "SIGKILL");
    assert.match(e.message, /killed by SIGKILL/);
    return true;
  };
  await assert.rejects(
    (async () => {
      for (;;) if ((await it.next()).done) break;
    })(),
    isExit,
  );
  await assert.rejects(run.result, isExit);
  await assert.rejects(other.result, isExit);
  await pendingCall.catch(() => {}); // answered before the kill, or failed by it: either way, settled
  await assert.rejects(ark.capabilities(), isExit);
  await ark.close();
});

test("close cancels running tasks; their runs still get results", async () => {
  const wd = workdir();
  const ark = await start();
  const run = ark.run({ runtime: "fixture", task: scripted("go", slow, wd) });
  await run.events[Symbol.asyncIterator]().next();
  await ark.close();
  assert.equal((await run.result).finishReason, "cancelled");
  assert.equal(ark.exitCode, 0);
});

test("binary lookup: argument, environment, PATH", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ark-bin-"));
  await assert.rejects(Client.start({ binary: join(dir, "nope") }), SidecarNotFoundError);
  const saved = { bin: process.env.AGENT_RUNTIME_KIT_BIN, path: process.env.PATH };
  try {
    process.env.AGENT_RUNTIME_KIT_BIN = sidecarBin();
    let c = await Client.start({ args: ["--log-level", "warn"] });
    assert.equal((await c.capabilities()).protocolVersion, 2);
    await c.close();
    delete process.env.AGENT_RUNTIME_KIT_BIN;
    process.env.PATH = dir;
    await assert.rejects(Client.start(), SidecarNotFoundError);
    symlinkSync(saved.bin ?? sidecarBin(), join(dir, "agent-runtime-kit"));
    c = await Client.start({ args: ["--log-level", "warn"] });
    assert.equal((await c.capabilities()).protocolVersion, 2);
    await c.close();
  } finally {
    if (saved.bin === undefined) delete process.env.AGENT_RUNTIME_KIT_BIN;
    else process.env.AGENT_RUNTIME_KIT_BIN = saved.bin;
    process.env.PATH = saved.path;
  }
});

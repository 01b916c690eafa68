// Live sessions through the client, against the real sidecar and its fixture runtime (which keeps a
// live "vendor" whose unscripted turns echo every earlier goal).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import {
  ERROR_CODES,
  RpcError,
  SessionBusyError,
  SessionNotFoundError,
  type AgentTask,
  type SessionClosed,
} from "../src/index.js";
import { collect, start, workdir } from "./helpers.js";

/** Fixture options whose first `n` turns each wait `ms` (so a test can act during a turn). */
function slowTurns(ms: number, n: number): AgentTask["runtimeOptions"] {
  const turn = { steps: [{ delayMs: ms }, { event: "agent.output.delta", data: { text: "done" } }], result: { output: "done" } };
  return { fixture: { turns: Array.from({ length: n }, () => turn) } };
}

test("a two-turn conversation: the second turn sees the first, close sends the notification", async () => {
  const ark = await start();
  try {
    const s = await ark.openSession("fixture", { workingDirectory: workdir() });
    // The fixture declares prewarm: the session is open (and listed) before any turn.
    assert.ok(s.prewarmed && s.sessionId);
    assert.deepEqual(
      (await ark.listSessions()).map((i) => [i.sessionId, i.state, i.turns]),
      [[s.sessionId, "idle", 0]],
    );
    const first = await s.send("My name is Ada.").result;
    assert.equal(first.finishReason, "completed");
    assert.equal(first.sessionSource, "live");
    assert.equal(first.sessionLive, true);
    assert.equal(first.sessionId, s.sessionId);

    const run = s.send("What is my name?");
    const types = (await collect(run)).map((e) => e.type);
    assert.equal(types[0], "agent.task.started");
    assert.equal(types.at(-1), "agent.task.completed");
    const second = await run.result;
    assert.match(second.output, /Turn 2/);
    assert.ok(second.output.includes('["My name is Ada."]'), `turn 2 saw turn 1: ${second.output}`);
    assert.equal((await ark.listSessions())[0]!.turns, 2);

    const id = s.sessionId!;
    await s.close();
    assert.deepEqual(await s.closed, { sessionId: id, reason: "closed" });
    assert.deepEqual(await ark.listSessions(), []);
    await s.close(); // already ended: nothing to do
    await assert.rejects(ark.closeSession(id), (e: unknown) => {
      assert.ok(e instanceof SessionNotFoundError && e instanceof RpcError);
      assert.equal(e.code, ERROR_CODES.sessionNotFound);
      assert.equal(e.data.sessionId, id);
      return true;
    });
  } finally {
    await ark.close();
  }
});

test("without prewarm the first send keeps the session alive; await using closes it", async () => {
  const ark = await start();
  try {
    let closed: Promise<SessionClosed>;
    {
      await using s = await ark.openSession("fixture", { workingDirectory: workdir() }, { prewarm: false });
      closed = s.closed;
      assert.equal(s.prewarmed, false);
      assert.equal(s.sessionId, undefined);
      const first = await s.send("remember 42").result;
      assert.equal(first.sessionSource, "new");
      assert.equal(first.sessionLive, true);
      assert.equal(s.sessionId, first.sessionId);
      const second = await s.send("what number?").result;
      assert.equal(second.sessionSource, "live");
      assert.ok(second.output.includes('["remember 42"]'), second.output);
    }
    assert.equal((await closed).reason, "closed");
  } finally {
    await ark.close();
  }
});

test("a second turn while one runs is a typed busy error", async () => {
  const ark = await start();
  try {
    const task = { workingDirectory: workdir(), runtimeOptions: slowTurns(1500, 1) };
    const s = await ark.openSession("fixture", task);
    const running = s.send("take your time");
    await assert.rejects(s.send("me too").result, (e: unknown) => {
      assert.ok(e instanceof SessionBusyError && e instanceof RpcError);
      assert.equal(e.code, ERROR_CODES.sessionBusy);
      assert.equal(e.kind, "sessionBusy");
      assert.equal(e.data.sessionId, s.sessionId);
      return true;
    });
    assert.equal((await running.result).output, "done");
    assert.equal((await s.send("now").result).sessionSource, "live");
    await s.close();

    // Before the session id is known (keepAlive on the first send) the client refuses alike.
    const s2 = await ark.openSession("fixture", task, { prewarm: false });
    const first = s2.send("first");
    await assert.rejects(s2.send("second").result, SessionBusyError);
    assert.equal((await first.result).sessionLive, true);
    await s2.close();
  } finally {
    await ark.close();
  }
});

test("steer joins the running turn and the conversation", async () => {
  const ark = await start();
  try {
    const s = await ark.openSession("fixture", { workingDirectory: workdir(), runtimeOptions: slowTurns(1500, 1) });
    await assert.rejects(s.steer("no turn yet"), (e: unknown) => e instanceof RpcError && e.code === ERROR_CODES.taskNotFound);
    const run = s.send("write a poem");
    // Sent at once: the client retries until the sidecar has admitted the turn.
    assert.deepEqual(await s.steer("make it rhyme"), { accepted: true });
    const deltas = (await collect(run)).flatMap((e) => (e.type === "agent.output.delta" ? [e.data.text] : []));
    assert.ok(deltas.includes("[steer] make it rhyme\n"), JSON.stringify(deltas));
    assert.match((await run.result).output, /make it rhyme/);
    await assert.rejects(s.steer("too late"), (e: unknown) => e instanceof RpcError && e.code === ERROR_CODES.taskNotFound);
    const after = await s.send("and now?").result;
    assert.ok(after.output.includes('["write a poem","make it rhyme"]'), after.output);
    await s.close();
  } finally {
    await ark.close();
  }
});

test("cancel (an aborted signal) interrupts a turn and keeps the session", async () => {
  const ark = await start();
  try {
    const s = await ark.openSession("fixture", { workingDirectory: workdir(), runtimeOptions: slowTurns(5000, 1) });
    const abort = new AbortController();
    const run = s.send("a long one", { signal: abort.signal });
    setTimeout(() => abort.abort(), 200);
    const cancelled = await run.result;
    assert.equal(cancelled.finishReason, "cancelled");
    assert.equal(cancelled.sessionLive, true);
    assert.equal((await s.send("still there?").result).sessionSource, "live");
    await s.close();
  } finally {
    await ark.close();
  }
});

test("an idle session closes with a notification, and the next send resumes it", async () => {
  const all: SessionClosed[] = [];
  const ark = await start({ onSessionClosed: (n) => all.push(n) });
  try {
    const mine: SessionClosed[] = [];
    const s = await ark.openSession("fixture", { workingDirectory: workdir() }, { idleTimeoutMs: 300 });
    const unsubscribe = s.onClosed((n) => mine.push(n));
    await s.send("hello").result;
    const note = await s.closed;
    assert.deepEqual(note, { sessionId: s.sessionId, reason: "idle" });
    assert.deepEqual(all, [note]);
    assert.deepEqual(mine, [note]);
    assert.deepEqual(await ark.listSessions(), []);
    unsubscribe();
    // Not live any more: the next turn resumes it cold and keeps it alive again.
    const again = await s.send("back again").result;
    assert.equal(again.sessionSource, "resumed");
    assert.equal(again.sessionLive, true);
    await s.close();
    assert.equal((await s.closed).reason, "closed");
    assert.equal(mine.length, 1);
  } finally {
    await ark.close();
  }
});

test("per-turn fields apply; a field the live process cannot change is refused", async () => {
  const ark = await start();
  try {
    const wd = workdir();
    const s = await ark.openSession("fixture", { workingDirectory: wd });
    const r = await s.send("first", { maxTurns: 3, metadata: { turn: 1 } }).result;
    assert.deepEqual(r.metadata, { turn: 1 });
    const other = join(wd, "elsewhere");
    mkdirSync(other);
    await assert.rejects(s.send("moved", { workingDirectory: other }).result, (e: unknown) => {
      assert.ok(e instanceof RpcError);
      assert.equal(e.code, ERROR_CODES.unsupportedTaskInput);
      assert.equal(e.data.field, "task.workingDirectory");
      return true;
    });
    await s.close();
  } finally {
    await ark.close();
  }
});

// A live session: one vendor conversation kept alive between turns.
//
// The session's task is the template of every turn: `send(goal, overrides)` sends it with the goal,
// the overrides (model, permissions, maxTurns... where the runtime can change them per turn) and
// `task.session = {resume: <id>, keepAlive: true}`. While the session is live, the turn runs in its
// vendor process; once it ended (idle timeout, vendor exit) the next turn resumes it cold and keeps
// it alive again, as the protocol's `resume` does.
import { RpcError, SessionBusyError } from "./errors.js";
import {
  ERROR_CODES,
  type AgentResult,
  type AgentTask,
  type SessionTask,
  type RunOptions,
  type SessionClosed,
  type SteerResult,
} from "./types.js";
import type { ApprovalHandler, Client, Run } from "./client.js";

/** Called with a `session/closed` notification; exceptions are ignored. */
export type SessionClosedListener = (closed: SessionClosed) => void;

export interface SessionOptions {
  /**
   * Open with `session/open` so the vendor starts before the first turn. Default: what the runtime
   * declares (`capabilities.prewarm`); without it the first `send` opens the session (`keepAlive`).
   */
  prewarm?: boolean;
  /** Close the session after this long without a turn (the sidecar's default: 10 minutes). */
  idleTimeoutMs?: number;
  options?: RunOptions;
  /** The approval handler of every turn (a turn can pass its own). */
  onApproval?: ApprovalHandler;
  /** Called when the live session ends (same as `session.onClosed(listener)`). */
  onClosed?: SessionClosedListener;
}

/** The fields of one turn: any AgentTask field (for this turn only), plus how to run it. */
export type TurnOverrides = Omit<AgentTask, "goal" | "session"> & {
  taskId?: string;
  signal?: AbortSignal;
  onApproval?: ApprovalHandler;
};

/** A live session of one runtime; made by {@link Client.openSession}. */
export class Session implements AsyncDisposable {
  /** True when opened with `session/open` (the vendor started before the first turn). */
  prewarmed = false;
  private id: string | undefined;
  private turn: Run | undefined;
  private readonly template: Omit<AgentTask, "goal" | "session">;
  private readonly idleTimeoutMs: number | undefined;
  private listeners = new Set<SessionClosedListener>();
  private closedPromise!: Promise<SessionClosed>;
  private settleClosed!: { resolve: (c: SessionClosed) => void; reject: (e: Error) => void; done: boolean };

  /** @internal */
  constructor(
    private readonly client: Client,
    readonly runtime: string,
    task: SessionTask,
    private readonly opts: SessionOptions,
  ) {
    const { goal: _goal, session, ...rest } = task;
    this.template = rest;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? session?.idleTimeoutMs ?? undefined;
    if (opts.onClosed) this.listeners.add(opts.onClosed);
    this.renewClosed();
  }

  /** The vendor's session id: known once opened (prewarm) or once the first turn ended. */
  get sessionId(): string | undefined {
    return this.id;
  }

  /**
   * Resolves with the `session/closed` notification (`reason`: `closed`, `idle`, `exited`,
   * `shutdown`) when the live session ends; rejects if the sidecar dies first. A later `send`
   * makes the session live again, with a new promise.
   */
  get closed(): Promise<SessionClosed> {
    return this.closedPromise;
  }

  /** Calls `listener` each time this session ends; returns a function that unsubscribes. */
  onClosed(listener: SessionClosedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while a turn sent through this object is running. */
  get busy(): boolean {
    return this.turn !== undefined && !this.turn.done;
  }

  /** @internal Opens it: `session/open` when prewarming, else nothing until the first send. */
  async open(): Promise<this> {
    let prewarm = this.opts.prewarm;
    if (prewarm === undefined) {
      const caps = await this.client.capabilities(this.runtime);
      prewarm = caps.runtimes.find((r) => r.name === this.runtime)?.capabilities.prewarm ?? false;
    }
    if (prewarm) {
      const task: SessionTask = { ...this.template };
      if (this.idleTimeoutMs !== undefined) task.session = { idleTimeoutMs: this.idleTimeoutMs };
      const opened = await this.client.prewarmSession(this.runtime, task, this.opts.options);
      this.learnId(opened.sessionId);
      this.prewarmed = true;
    }
    return this;
  }

  /**
   * Runs the next turn and returns its {@link Run} at once (`run.events`, `run.result`), as
   * {@link Client.run} does. A turn while another one of this session runs is refused with
   * {@link SessionBusyError} (-32015).
   */
  send(goal: string, overrides: TurnOverrides = {}): Run {
    const { taskId, signal, onApproval, ...fields } = overrides;
    const task: AgentTask = {
      ...this.template,
      ...fields,
      goal,
      session: { resume: this.id ?? null, keepAlive: true, idleTimeoutMs: this.idleTimeoutMs ?? null },
    };
    if (this.id === undefined && this.busy) {
      // The sidecar would open a second session: refuse as it refuses a busy live one.
      const error = new SessionBusyError(ERROR_CODES.sessionBusy, "the session's first turn is still running", {
        kind: "sessionBusy",
        sessionId: null,
      });
      return this.client.refusedRun(this.runtime, error);
    }
    const run = this.client.run({
      runtime: this.runtime,
      task,
      taskId,
      signal,
      options: this.opts.options,
      onApproval: onApproval ?? this.opts.onApproval,
    });
    if (!this.busy) this.turn = run;
    run.result.then(
      (r) => this.turnEnded(r),
      () => {},
    );
    return run;
  }

  /**
   * Adds `text` to the running turn as user input (`accepted: false` when the vendor already has
   * 16 texts waiting). No running turn: RpcError -32013; a runtime without `steer`: -32012.
   */
  steer(text: string): Promise<SteerResult> {
    const turn = this.turn;
    if (!turn || turn.done) {
      return Promise.reject(
        new RpcError(ERROR_CODES.taskNotFound, "no turn of this session is running", {
          kind: "taskNotFound",
          taskId: turn?.taskId ?? null,
        }),
      );
    }
    return this.client.steer(turn.taskId, text);
  }

  /**
   * Closes the live session (a running turn is cancelled first, by the sidecar) and resolves once
   * its vendor process is gone. Closing a session that already ended does nothing.
   */
  async close(): Promise<void> {
    const turn = this.turn;
    if (this.id === undefined && turn && !turn.done) {
      // The first keepAlive turn: its session id comes with its result.
      await turn.cancel().catch(() => {});
      await turn.result.catch(() => {});
    }
    if (this.id === undefined || this.settleClosed.done) return;
    try {
      await this.client.closeSession(this.id);
    } catch (e) {
      if (!(e instanceof RpcError && e.kind === "sessionNotFound")) throw e;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal */
  ended(note: SessionClosed): void {
    if (!this.settleClosed.done) {
      this.settleClosed.done = true;
      this.settleClosed.resolve(note);
    }
    for (const l of this.listeners) {
      try {
        l(note);
      } catch {
        // A host callback must not stop the reader.
      }
    }
  }

  /** @internal */
  fail(error: Error): void {
    if (this.settleClosed.done) return;
    this.settleClosed.done = true;
    this.settleClosed.reject(error);
  }

  private turnEnded(r: AgentResult): void {
    if (!r.sessionId || !r.sessionLive) return;
    // Resumed cold and kept: live again, with a new close to wait for.
    if (this.settleClosed.done) this.renewClosed();
    this.learnId(r.sessionId);
  }

  private learnId(id: string): void {
    if (this.id !== undefined && this.id !== id) this.client.forgetSession(this.id, this);
    this.id = id;
    this.client.rememberSession(id, this);
  }

  private renewClosed(): void {
    const settle = { resolve: (_: SessionClosed) => {}, reject: (_: Error) => {}, done: false };
    this.closedPromise = new Promise<SessionClosed>((resolve, reject) => {
      settle.resolve = resolve;
      settle.reject = reject;
    });
    // A host that never awaits `closed` must not see an unhandled rejection.
    this.closedPromise.catch(() => {});
    this.settleClosed = settle;
  }
}

import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { accessSync, constants, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";

import { ProtocolError, RpcError, SidecarExitedError, SidecarNotFoundError, rpcError } from "./errors.js";
import { LineSplitter } from "./framing.js";
import { Session, type SessionClosedListener, type SessionOptions } from "./session.js";
import {
  ERROR_CODES,
  TERMINAL_EVENT_TYPES,
  type AgentResult,
  type AgentTask,
  type SessionTask,
  type ApprovalParams,
  type ApprovalResponse,
  type CancelResult,
  type CapabilitiesResult,
  type DiagnoseParams,
  type DiagnoseResult,
  type Diagnosis,
  type Decision,
  type Event,
  type InputRequestParams,
  type InputResponse,
  type RunOptions,
  type SessionCloseResult,
  type SessionClosed,
  type SessionInfo,
  type SessionListResult,
  type SessionOpenResult,
  type SteerResult,
} from "./types.js";

export const BIN_ENV = "AGENT_RUNTIME_KIT_BIN";
export const BIN_NAME = "agent-runtime-kit";

/**
 * What an approval handler returns: a response (`{ decision, message?, updatedInput? }`),
 * `true`/`false`, or a decision name (`"allow"`, `"allowForSession"`, `"deny"`, `"abort"`).
 */
export type ApprovalDecision = ApprovalResponse | boolean | Decision;
/**
 * Called for each `approval/request` (tasks with `permissions.approvals: "host"`). `signal` aborts
 * when the sidecar withdraws the request (`$/cancelRequest`); the answer is then not sent.
 */
export type ApprovalHandler = (
  request: ApprovalParams,
  signal: AbortSignal,
) => ApprovalDecision | Promise<ApprovalDecision>;
/** What a question handler returns: an InputResponse, or the answers by question id. */
export type QuestionAnswers = InputResponse | InputResponse["answers"];
/**
 * Called for each `input/request` (the agent's questions to the user). Throw to decline them (the
 * agent is told nobody answered). `signal` aborts when the sidecar withdraws the request.
 */
export type QuestionHandler = (
  request: InputRequestParams,
  signal: AbortSignal,
) => QuestionAnswers | Promise<QuestionAnswers>;

const DECISIONS: readonly Decision[] = ["allow", "allowForSession", "deny", "abort"];

export interface ClientOptions {
  /** The sidecar executable (default: `$AGENT_RUNTIME_KIT_BIN`, then `agent-runtime-kit` on PATH). */
  binary?: string;
  /** Extra command-line flags (`--claude-path`, `--log-level`, `--record DIR`, ...). */
  args?: string[];
  /** The sidecar's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The default approval handler (a run can pass its own); without one every approval is denied. */
  onApproval?: ApprovalHandler;
  /** The default question handler (a run can pass its own); without one questions are declined. */
  onQuestion?: QuestionHandler;
  /** Called with each stderr line of the sidecar (its logs); exceptions are ignored. */
  onStderr?: (line: string) => void;
  /** How many stderr lines to keep for error reports (default 200). */
  stderrTailLines?: number;
  /** Called with every `session/closed` notification, of any session; exceptions are ignored. */
  onSessionClosed?: SessionClosedListener;
}

export interface RunRequest {
  runtime: string;
  task: AgentTask | string;
  /** Default: a random UUID, chosen here so that cancel works before the first event. */
  taskId?: string;
  options?: RunOptions;
  /** Aborting it cancels the task; the run then ends with `finishReason: "cancelled"`. */
  signal?: AbortSignal;
  onApproval?: ApprovalHandler;
  onQuestion?: QuestionHandler;
}

/**
 * The binary of the per-platform package (`@agent-runtime-kit/linux-x64`, ...) that npm installed
 * next to this one through its `optionalDependencies` (as esbuild and @openai/codex ship theirs),
 * or undefined when there is none (a checkout, or a platform without a package).
 */
export function bundledBinary(): string | undefined {
  const pkg = `@agent-runtime-kit/${process.platform}-${process.arch}`;
  try {
    const manifest = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    const candidate = join(dirname(manifest), "bin", process.platform === "win32" ? `${BIN_NAME}.exe` : BIN_NAME);
    accessSync(candidate, constants.X_OK);
    return candidate;
  } catch {
    return undefined;
  }
}

/**
 * Finds the sidecar: the argument, else `$AGENT_RUNTIME_KIT_BIN`, else the binary of the installed
 * per-platform package, else `agent-runtime-kit` on PATH.
 */
export function findBinary(binary?: string): string {
  if (binary !== undefined) {
    if (!existsSync(binary)) throw new SidecarNotFoundError(`agent-runtime-kit binary not found at ${binary}`);
    return binary;
  }
  const env = process.env[BIN_ENV];
  if (env) {
    if (!existsSync(env)) throw new SidecarNotFoundError(`${BIN_ENV}=${env} does not exist`);
    return env;
  }
  const bundled = bundledBinary();
  if (bundled !== undefined) return bundled;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, BIN_NAME);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new SidecarNotFoundError(
    `cannot find ${BIN_NAME}: \`npm install agent-runtime-kit\` installs it with this client (its per-platform ` +
      `package @agent-runtime-kit/${process.platform}-${process.arch}); or pass { binary }, set ${BIN_ENV}, or put it on PATH`,
  );
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * One sidecar process and the calls to it.
 *
 * ```ts
 * const ark = await Client.start();
 * const run = ark.run({ runtime: "claude", task: { goal: "Fix the failing test", workingDirectory: "." } });
 * for await (const event of run.events) console.log(event.type);
 * const result = await run.result;
 * await ark.close();
 * ```
 */
export class Client {
  private child: ChildProcessWithoutNullStreams;
  private nextId = 0;
  private pending = new Map<number, Pending>();
  /** Host requests being answered, by JSON id: `$/cancelRequest` aborts their handler. */
  private answering = new Map<string, AbortController>();
  private runs = new Map<string, Run>();
  private sessions = new Map<string, Session>();
  // session/closed of ids no Session knows yet (it ended while its first result was on its way):
  // handed over when one learns the id. Bounded.
  private earlyClosed = new Map<string, SessionClosed>();
  private stderrLines: string[] = [];
  private exitedError: SidecarExitedError | undefined;
  private closing = false;
  private readonly closed: Promise<void>;
  private readonly opts: ClientOptions;

  private constructor(opts: ClientOptions) {
    this.opts = opts;
    const binary = findBinary(opts.binary);
    this.child = spawn(binary, opts.args ?? [], {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    // A write to a sidecar that just died raises EPIPE here; the exit handling reports it.
    this.child.stdin.on("error", () => {});
    const out = new LineSplitter();
    this.child.stdout.on("data", (chunk: Buffer) => {
      for (const line of out.push(chunk)) this.onLine(line);
    });
    const err = new LineSplitter();
    this.child.stderr.on("data", (chunk: Buffer) => {
      for (const line of err.push(chunk)) this.onStderr(line);
      // A very long stderr line without LF: keep a bounded part of it.
      if (err.pending > 1 << 20) this.onStderr(err.flush() ?? "");
    });
    this.closed = new Promise((resolve) => {
      let spawnError: Error | undefined;
      this.child.on("error", (e) => {
        spawnError = e;
      });
      // "close" comes after stdout and stderr ended, so every line has been handled.
      this.child.on("close", (code, signal) => {
        const rest = err.flush();
        if (rest !== undefined) this.onStderr(rest);
        const clean = this.closing && code === 0;
        this.onExit(
          new SidecarExitedError(code, signal, [...this.stderrLines], clean ? "" : (spawnError?.message ?? "")),
        );
        resolve();
      });
    });
  }

  /** Spawns the sidecar. */
  static async start(opts: ClientOptions = {}): Promise<Client> {
    const c = new Client(opts);
    await new Promise<void>((resolve, reject) => {
      c.child.once("spawn", () => resolve());
      c.child.once("error", (e) => reject(new SidecarNotFoundError(`cannot start the sidecar: ${e.message}`)));
    });
    return c;
  }

  /** The sidecar's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The sidecar's exit code once it has exited (null while running or if killed by a signal). */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** The last lines the sidecar wrote to stderr. */
  get stderrTail(): string[] {
    return [...this.stderrLines];
  }

  /**
   * Closes the sidecar's stdin (it cancels running tasks, answers their runs with
   * `finishReason: "cancelled"` and exits), waits up to `timeoutMs`, then kills it.
   */
  async close(timeoutMs = 30_000): Promise<void> {
    if (!this.closing && !this.exitedError) {
      this.closing = true;
      this.child.stdin.end();
      const timer = setTimeout(() => {
        this.child.kill("SIGTERM");
        setTimeout(() => this.child.kill("SIGKILL"), 5_000).unref();
      }, timeoutMs);
      timer.unref();
      await this.closed;
      clearTimeout(timer);
    }
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Sends any JSON-RPC request and returns its raw `result` (throws RpcError on an error reply). */
  request(method: string, params: unknown = {}): Promise<unknown> {
    if (this.exitedError) return Promise.reject(this.exitedError);
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write({ jsonrpc: "2.0", id, method, params });
    });
  }

  /** The protocol version, server version and every runtime's capabilities (or one runtime's). */
  async capabilities(runtime?: string): Promise<CapabilitiesResult> {
    return (await this.request("capabilities", runtime ? { runtime } : {})) as CapabilitiesResult;
  }

  /**
   * Whether each runtime (or the one named) is ready, and if not why and what to do. An unknown
   * runtime name throws RpcError with code -32010.
   */
  async diagnose(params: DiagnoseParams | string = {}): Promise<Diagnosis[]> {
    const p = typeof params === "string" ? { runtime: params } : params;
    return ((await this.request("diagnose", p)) as DiagnoseResult).runtimes;
  }

  /**
   * Starts a task and returns its {@link Run} at once: `run.events` streams its events,
   * `run.result` resolves to its AgentResult. Refusals (unknown runtime, unsupported input, ...)
   * reject both with an RpcError.
   */
  run(req: RunRequest): Run {
    const task: AgentTask = typeof req.task === "string" ? { goal: req.task } : req.task;
    const taskId = req.taskId ?? randomUUID();
    const run = new Run(this, taskId, req.runtime, req.onApproval, req.onQuestion);
    this.runs.set(taskId, run);
    const params: Record<string, unknown> = { taskId, runtime: req.runtime, task };
    if (req.options) params.options = req.options;
    run.attach(this.request("run", params) as Promise<AgentResult>);
    if (req.signal) {
      const onAbort = () => {
        this.cancel(taskId).catch(() => {});
      };
      if (req.signal.aborted) onAbort();
      else {
        req.signal.addEventListener("abort", onAbort, { once: true });
        run.result.finally(() => req.signal?.removeEventListener("abort", onAbort)).catch(() => {});
      }
    }
    return run;
  }

  /**
   * Cancels a task: `state` is `cancelling` (its run ends with `finishReason: "cancelled"`) or
   * `finished` (it had already ended). A cancel sent right after `run` can reach the sidecar before
   * the task is admitted; for a run of this client, "no such task" is retried (for up to
   * `waitAdmittedMs`) until the task is known or its run has ended.
   */
  async cancel(taskId: string, waitAdmittedMs = 5_000): Promise<CancelResult> {
    const run = this.runs.get(taskId);
    const giveUp = Date.now() + waitAdmittedMs;
    for (;;) {
      try {
        return (await this.request("cancel", { taskId })) as CancelResult;
      } catch (e) {
        if (!(e instanceof RpcError) || e.code !== ERROR_CODES.taskNotFound || !run || Date.now() > giveUp) throw e;
        if (run.done) return { taskId, state: "finished" };
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /**
   * Opens a live session of `runtime`: `task` (no goal needed) is the template of every turn.
   * With prewarm (the runtime's `capabilities.prewarm`, or `opts.prewarm`) the vendor starts now
   * (`session/open`); otherwise the first `send` opens it. A runtime without live sessions refuses
   * with RpcError -32012.
   *
   * ```ts
   * await using s = await ark.openSession("claude", { workingDirectory: "." });
   * await s.send("My name is Ada.").result;
   * const run = s.send("What is my name?");
   * ```
   */
  async openSession(runtime: string, task: SessionTask = {}, opts: SessionOptions = {}): Promise<Session> {
    return new Session(this, runtime, task, opts).open();
  }

  /** `session/list`: the live sessions (`starting`, `idle`, `busy`) of this sidecar. */
  async listSessions(): Promise<SessionInfo[]> {
    return ((await this.request("session/list", {})) as SessionListResult).sessions;
  }

  /**
   * `session/close`: resolves once the vendor process is gone. An unknown (or already ended) id
   * rejects with SessionNotFoundError (-32017).
   */
  async closeSession(sessionId: string): Promise<SessionCloseResult> {
    return (await this.request("session/close", { sessionId })) as SessionCloseResult;
  }

  /**
   * `session/open` alone: starts the vendor and resolves once it is ready for a first turn. Most
   * hosts want {@link openSession}, which also runs the turns.
   */
  async prewarmSession(runtime: string, task: SessionTask = {}, options?: RunOptions): Promise<SessionOpenResult> {
    const { goal: _goal, ...rest } = task;
    const params: Record<string, unknown> = { runtime, task: rest };
    if (options) params.options = options;
    return (await this.request("session/open", params)) as SessionOpenResult;
  }

  /**
   * Adds `text` to a running task as user input. As for {@link cancel}, "no such task" right after
   * `run` is retried until the task is admitted or its run has ended.
   */
  async steer(taskId: string, text: string, waitAdmittedMs = 5_000): Promise<SteerResult> {
    const run = this.runs.get(taskId);
    const giveUp = Date.now() + waitAdmittedMs;
    for (;;) {
      try {
        return (await this.request("steer", { taskId, text })) as SteerResult;
      } catch (e) {
        const retry = e instanceof RpcError && e.code === ERROR_CODES.taskNotFound && run && !run.done;
        if (!retry || Date.now() > giveUp) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** @internal */
  rememberSession(id: string, session: Session): void {
    this.sessions.set(id, session);
    const early = this.earlyClosed.get(id);
    if (early) {
      this.earlyClosed.delete(id);
      this.sessions.delete(id);
      session.ended(early);
    }
  }

  /** @internal */
  forgetSession(id: string, session: Session): void {
    if (this.sessions.get(id) === session) this.sessions.delete(id);
  }

  /** @internal A run the client refused itself, before it reached the sidecar. */
  refusedRun(runtime: string, error: Error): Run {
    const run = new Run(this, randomUUID(), runtime, undefined);
    run.fail(error);
    return run;
  }

  private onSessionClosed(note: SessionClosed): void {
    if (!note || typeof note.sessionId !== "string") return;
    const session = this.sessions.get(note.sessionId);
    if (session) {
      this.sessions.delete(note.sessionId);
      session.ended(note);
    } else {
      this.earlyClosed.set(note.sessionId, note);
      for (const k of this.earlyClosed.keys()) {
        if (this.earlyClosed.size <= 64) break;
        this.earlyClosed.delete(k);
      }
    }
    try {
      this.opts.onSessionClosed?.(note);
    } catch {
      // A host callback must not stop the reader.
    }
  }

  /** @internal */
  forget(taskId: string): void {
    this.runs.delete(taskId);
  }

  private write(message: unknown): void {
    // JSON.stringify escapes control characters: the line has no raw LF inside.
    this.child.stdin.write(JSON.stringify(message) + "\n");
  }

  private onStderr(line: string): void {
    const keep = this.opts.stderrTailLines ?? 200;
    this.stderrLines.push(line);
    if (this.stderrLines.length > keep) this.stderrLines.splice(0, this.stderrLines.length - keep);
    try {
      this.opts.onStderr?.(line);
    } catch {
      // A host callback must not stop the draining.
    }
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.onStderr(`[client] unparsable line from the sidecar: ${line.slice(0, 200)}`);
      return;
    }
    for (const m of Array.isArray(msg) ? msg : [msg]) this.onMessage(m);
  }

  private onMessage(msg: any): void {
    if (!msg || typeof msg !== "object") return;
    if (typeof msg.method === "string" && "id" in msg) {
      void this.answer(msg.id, msg.method, msg.params);
    } else if (msg.method === "$/cancelRequest") {
      // The sidecar withdrew a request: abort its handler; nothing is sent back.
      const key = JSON.stringify(msg.params?.id);
      this.answering.get(key)?.abort();
      this.answering.delete(key);
    } else if (msg.method === "event") {
      const event = msg.params as Event;
      const run = event && this.runs.get(event.taskId);
      if (!run) return;
      if (typeof event.type !== "string" || typeof event.seq !== "number") {
        run.fail(new ProtocolError(`malformed event: ${JSON.stringify(event).slice(0, 200)}`));
      } else run.push(event);
    } else if (msg.method === "session/closed") {
      this.onSessionClosed(msg.params as SessionClosed);
    } else if (msg.method === undefined) {
      const p = typeof msg.id === "number" ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(rpcError(Number(msg.error.code), String(msg.error.message ?? ""), msg.error.data));
      else p.resolve(msg.result);
    }
  }

  private async answer(id: unknown, method: string, params: any): Promise<void> {
    if (method !== "approval/request" && method !== "input/request") {
      this.write({ jsonrpc: "2.0", id, error: { code: -32601, message: `unknown method ${method}` } });
      return;
    }
    const key = JSON.stringify(id);
    const controller = new AbortController();
    this.answering.set(key, controller);
    let reply: Record<string, unknown>;
    try {
      reply =
        method === "approval/request"
          ? { result: await this.decide(params, controller.signal) }
          : await this.answerQuestions(params, controller.signal);
    } finally {
      if (this.answering.get(key) === controller) this.answering.delete(key);
    }
    if (!this.exitedError && !controller.signal.aborted) this.write({ jsonrpc: "2.0", id, ...reply });
  }

  private async decide(params: any, signal: AbortSignal): Promise<ApprovalResponse> {
    const run = this.runs.get(params?.taskId);
    const handler = run?.onApproval ?? this.opts.onApproval;
    if (!handler) return { decision: "deny", message: "the host has no approval handler" };
    try {
      return asResponse(await handler(params as ApprovalParams, signal));
    } catch (e) {
      // A failing handler denies; it does not leave the task waiting.
      return { decision: "deny", message: `approval handler failed: ${(e as Error)?.message ?? e}` };
    }
  }

  private async answerQuestions(params: any, signal: AbortSignal): Promise<Record<string, unknown>> {
    const run = this.runs.get(params?.taskId);
    const handler = run?.onQuestion ?? this.opts.onQuestion;
    const decline = (why: string) => ({
      error: { code: -32000, message: `the host declined the questions: ${why}` },
    });
    if (!handler) return decline("the host has no question handler");
    try {
      const a = await handler(params as InputRequestParams, signal);
      const answers = a && typeof a === "object" && "answers" in a && typeof a.answers === "object" ? a.answers : a;
      return { result: { answers } };
    } catch (e) {
      return decline(String((e as Error)?.message ?? e));
    }
  }

  private onExit(error: SidecarExitedError): void {
    this.exitedError = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    for (const run of this.runs.values()) run.fail(error);
    this.runs.clear();
    for (const session of this.sessions.values()) session.fail(error);
    this.sessions.clear();
  }
}

function asResponse(d: ApprovalDecision): ApprovalResponse {
  if (d === true) return { decision: "allow" };
  if (d === false) return { decision: "deny" };
  if (typeof d === "string" && DECISIONS.includes(d)) return { decision: d };
  if (d && typeof d === "object" && DECISIONS.includes(d.decision)) return d;
  throw new TypeError(`an approval handler must return one of ${DECISIONS.join(", ")}, not ${JSON.stringify(d)}`);
}

type Waiter = { resolve: (r: IteratorResult<Event>) => void; reject: (e: Error) => void };

/** A running task: `events` (an async iterable of its events) and `result` (a promise of its result). */
export class Run implements AsyncIterable<Event> {
  /** Resolves to the task's result; rejects with RpcError (refused) or SidecarExitedError. */
  readonly result: Promise<AgentResult>;
  private resolveResult!: (r: AgentResult) => void;
  private rejectResult!: (e: Error) => void;
  private queue: Event[] = [];
  private waiter: Waiter | undefined;
  private ended = false;
  private error: Error | undefined;
  private finished = false;
  private iterated = false;

  /** @internal */
  constructor(
    private readonly client: Client,
    readonly taskId: string,
    readonly runtime: string,
    /** @internal */ readonly onApproval: ApprovalHandler | undefined,
    /** @internal */ readonly onQuestion: QuestionHandler | undefined = undefined,
  ) {
    this.result = new Promise<AgentResult>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // A host that only iterates sees errors there; do not also report an unhandled rejection.
    this.result.catch(() => {});
  }

  /** True once the result (or an error) is in. */
  get done(): boolean {
    return this.finished;
  }

  /** The task's events, ending with its terminal event (`agent.task.completed` / `failed`). */
  get events(): AsyncIterable<Event> {
    return { [Symbol.asyncIterator]: () => this[Symbol.asyncIterator]() };
  }

  /** Asks the sidecar to stop this task; the run then ends with `finishReason: "cancelled"`. */
  cancel(): Promise<CancelResult> {
    return this.client.cancel(this.taskId);
  }

  [Symbol.asyncIterator](): AsyncIterator<Event> {
    if (this.iterated) throw new Error("a run's events can be iterated once");
    this.iterated = true;
    let sawTerminal = false;
    return {
      next: () => {
        if (sawTerminal) return Promise.resolve({ done: true, value: undefined });
        const event = this.queue.shift();
        if (event) {
          sawTerminal = TERMINAL_EVENT_TYPES.includes(event.type);
          return Promise.resolve({ done: false, value: event });
        }
        if (this.ended) {
          return this.error ? Promise.reject(this.error) : Promise.resolve({ done: true, value: undefined });
        }
        return new Promise<IteratorResult<Event>>((resolve, reject) => {
          this.waiter = {
            resolve: (r) => {
              if (!r.done) sawTerminal = TERMINAL_EVENT_TYPES.includes(r.value.type);
              resolve(r);
            },
            reject,
          };
        });
      },
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }

  /** @internal */
  attach(call: Promise<AgentResult>): void {
    call.then(
      (r) => {
        this.finished = true;
        this.resolveResult(r);
        this.end();
      },
      (e: Error) => this.fail(e),
    );
  }

  /** @internal */
  push(event: Event): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ done: false, value: event });
    } else this.queue.push(event);
  }

  /** @internal */
  fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.error = error;
    this.rejectResult(error);
    this.end();
  }

  private end(): void {
    this.ended = true;
    this.client.forget(this.taskId);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      if (this.error) w.reject(this.error);
      else w.resolve({ done: true, value: undefined });
    }
  }
}

import { ERROR_CODES, type ErrorKind } from "./types.js";

/** Base of every error this package throws. */
export class AgentRuntimeKitError extends Error {
  override name = "AgentRuntimeKitError";
}

/** No `agent-runtime-kit` binary: not passed, not in `AGENT_RUNTIME_KIT_BIN`, not on PATH. */
export class SidecarNotFoundError extends AgentRuntimeKitError {
  override name = "SidecarNotFoundError";
}

/**
 * The sidecar process ended (crashed, was killed, or was closed) while a call was waiting.
 * Every pending call and unfinished run fails with this error; none is left hanging.
 */
export class SidecarExitedError extends AgentRuntimeKitError {
  override name = "SidecarExitedError";
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderrTail: string[],
    detail = "",
  ) {
    const how = signal
      ? `was killed by ${signal}`
      : exitCode !== null
        ? `exited with status ${exitCode}`
        : "closed its output";
    let msg = `the agent-runtime-kit sidecar ${how}`;
    if (detail) msg += ` (${detail})`;
    if (stderrTail.length) msg += `; last stderr lines:\n  ${stderrTail.slice(-10).join("\n  ")}`;
    super(msg);
  }
}

/** The sidecar sent something this client cannot understand. */
export class ProtocolError extends AgentRuntimeKitError {
  override name = "ProtocolError";
}

// The first kind of a code wins: -32015 without a `data.kind` is the task limit (`busy`).
const KIND_BY_CODE = new Map<number, string>();
for (const [k, c] of Object.entries(ERROR_CODES)) if (!KIND_BY_CODE.has(c)) KIND_BY_CODE.set(c, k);

/**
 * A JSON-RPC error reply: the sidecar refused the request before anything started. `code` is the
 * JSON-RPC code (e.g. -32010), `kind` its stable name (`unknownRuntime`), `data` the details
 * (for -32011 the runtime's `Diagnosis`), `remedy` what to install or set when the sidecar says
 * (`data.remedy`). `message` ends with it as a `fix: …` line, so a log or a stack trace shows
 * the way out.
 */
export class RpcError extends AgentRuntimeKitError {
  override name = "RpcError";
  readonly kind: ErrorKind | string;
  readonly data: Record<string, unknown>;
  readonly remedy: string | undefined;
  constructor(
    readonly code: number,
    message: string,
    data?: unknown,
  ) {
    const d = data && typeof data === "object" && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
    const kind = typeof d.kind === "string" ? d.kind : (KIND_BY_CODE.get(code) ?? "");
    const remedy = typeof d.remedy === "string" && d.remedy ? d.remedy : undefined;
    const text = `${message} (${code} ${kind})`.trimEnd();
    super(remedy ? `${text}\nfix: ${remedy}` : text);
    this.data = d;
    this.kind = kind;
    this.remedy = remedy;
  }
}

/**
 * -32015 with `kind: "sessionBusy"`: a turn into a live session whose turn is running
 * (`data.sessionId`). Wait for the running turn (or cancel it), then send again.
 */
export class SessionBusyError extends RpcError {
  override name = "SessionBusyError";
}

/** -32017: `session/close` of a session that is not live (`data.sessionId`). */
export class SessionNotFoundError extends RpcError {
  override name = "SessionNotFoundError";
}

/** The RpcError for an error reply, as its most specific class (by `data.kind`). */
export function rpcError(code: number, message: string, data?: unknown): RpcError {
  const kind = data && typeof data === "object" ? (data as { kind?: unknown }).kind : undefined;
  if (kind === "sessionBusy") return new SessionBusyError(code, message, data);
  if (kind === "sessionNotFound" || code === ERROR_CODES.sessionNotFound) return new SessionNotFoundError(code, message, data);
  return new RpcError(code, message, data);
}

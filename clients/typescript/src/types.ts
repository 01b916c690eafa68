// Protocol types, generated from protocol/schema/protocol.schema.json.
// Do not edit: run `node scripts/gen-types.mjs` (a test fails when this file drifts).

export const PROTOCOL_VERSION = 2;

/** JSON-RPC error codes by their stable `data.kind`. */
export const ERROR_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  unknownRuntime: -32010,
  runtimeUnavailable: -32011,
  unsupportedTaskInput: -32012,
  taskNotFound: -32013,
  duplicateTaskId: -32014,
  busy: -32015,
  shuttingDown: -32016,
  sessionBusy: -32015,
  sessionNotFound: -32017,
} as const;

export type ErrorKind = keyof typeof ERROR_CODES;

export interface AgentResult {
  artifacts: Artifact[];
  /** How a cancelled (or timed-out) task was stopped. */
  cancel?: CancelMode | null;
  durationMs: number;
  error?: TaskError | null;
  /** The vendor process's exit, when there was one. */
  exit?: ExitInfo | null;
  finishReason: FinishReason;
  metadata?: unknown;
  /** The final assistant text (falls back to the last assistant message). */
  output: string;
  runtime: string;
  /** True when a resume produced a different session id than the one asked for. */
  sessionChanged?: boolean;
  /** The effective, resumable session id. */
  sessionId?: string | null;
  /** Whether the session is still live (its vendor process kept) after this turn. */
  sessionLive: boolean;
  /** Where this turn's conversation came from, when the runtime has sessions. */
  sessionSource?: SessionSource | null;
  structuredOutput?: unknown;
  taskId: string;
  toolCalls: ToolCallRecord[];
  turns: number;
  usage: Usage;
  /** Vendor-specific extras; never the primary fields. */
  vendor?: unknown;
}

/** A coding task for an agent. Only `goal` is required (`session/open` accepts a task without it). */
export interface AgentTask {
  /** Further directories the agent may read and write. */
  additionalDirectories?: string[] | null;
  /** Appended to the vendor's system prompt. */
  appendSystemPrompt?: string | null;
  /** Images and files sent with the goal. */
  attachments?: Attachment[] | null;
  /**
   * The prompt. Never placed on a child's command line. `session/open` ignores it (and accepts
   * a task without it); a `run` needs a non-empty goal unless `attachments` carry the request.
   */
  goal: string;
  /** No vendor output for this long → `finishReason: "timeout"`. */
  idleTimeoutMs?: number | null;
  maxTurns?: number | null;
  /** name → server, in the shape Claude, Codex and MCP hosts already use. */
  mcpServers?: Record<string, McpServer> | null;
  /** Opaque; echoed back in `agent.task.started` and the result. */
  metadata?: unknown;
  model?: string | null;
  /** A JSON Schema; the result's `structuredOutput` is validated against it. */
  outputSchema?: unknown;
  /** Default: `workspace-write` + `deny`. */
  permissions?: Permissions | null;
  /** One object per runtime name; only the chosen runtime's entry is read, and unknown keys in it are rejected. */
  runtimeOptions?: Record<string, unknown> | null;
  session?: SessionRef | null;
  /** Replaces the vendor's system prompt. */
  systemPrompt?: string | null;
  /** Wall-clock limit; past it the task ends with `finishReason: "timeout"`. */
  timeoutMs?: number | null;
  /** Must exist and be a directory. Default: the sidecar's working directory. */
  workingDirectory?: string | null;
}

export type Answer = string | string[];

export type ApprovalMode = "deny" | "host";

export interface ApprovalParams {
  input: unknown;
  name: string;
  taskId: string;
  toolCallId: string;
}

export interface ApprovalResponse {
  decision: Decision;
  /** Told to the agent (with a deny or abort: why). */
  message?: string | null;
  /** Replaces the tool's input before it runs (where the runtime declares it can). */
  updatedInput?: unknown;
}

export interface Artifact {
  change: ArtifactChange;
  /** Relative to the working directory when inside it. */
  path: string;
}

export type ArtifactChange = "created" | "modified" | "deleted";

/**
 * An image or file sent with the goal: an image from `path` (relative to `workingDirectory`) or
 * inline base64 `data`; a file from `path`, read by the sidecar.
 */
export interface Attachment {
  /** Base64 (standard alphabet); images only. */
  data?: string | null;
  /** `image/png`, `image/jpeg`, `image/gif` or `image/webp`; guessed from the file when absent. */
  mediaType?: string | null;
  path?: string | null;
  type: AttachmentKind;
}

export type AttachmentKind = "image" | "file";

export interface BinaryInfo {
  path?: string | null;
  version?: string | null;
}

export type CancelMode = "soft" | "forced";

export interface CancelParams {
  taskId: string;
}

/**
 * The sidecar withdraws a request it sent (the vendor withdrew the approval or question, or the
 * task ended); a late answer to it is ignored.
 */
export interface CancelRequestParams {
  id: unknown;
}

export interface CancelResult {
  state: CancelState;
  taskId: string;
}

export type CancelState = "cancelling" | "finished";

/** What `run` enforces: a task field outside these is refused with -32012. */
export interface Capabilities {
  /** `task.additionalDirectories` are opened to the agent. */
  additionalDirectories: boolean;
  /** `task.appendSystemPrompt` is added to the vendor's system prompt. */
  appendSystemPrompt: boolean;
  /** Honoured `approval/request` decisions. */
  approvalDecisions: Decision[];
  /** Accepted `permissions.approvals` values. */
  approvals: ApprovalMode[];
  /** Accepted `task.attachments` types (`image`, `file`); empty = none. */
  attachments: string[];
  /** `task.session.fork` branches a new session from the resumed one. */
  fork: boolean;
  /** `task.session.keepAlive`, and a `run` resuming a live session runs in its vendor process. */
  liveSessions: boolean;
  /** `task.maxTurns` is enforced. */
  maxTurns: boolean;
  /** Accepted MCP server transports (`stdio`, `http`); empty = no MCP. */
  mcp: string[];
  /** When set, the only accepted `model` values. */
  models?: string[] | null;
  /** `session/open` starts the vendor before the first turn. */
  prewarm: boolean;
  /** The agent's questions reach the host as `input/request`. */
  questions: boolean;
  /** `task.session.resume` continues an earlier session. */
  resume: boolean;
  /** Accepted `permissions.sandbox` values. */
  sandboxModes: SandboxMode[];
  /** `steer` adds text to a running turn. */
  steer: boolean;
  /** `agent.output.delta` events are streamed. */
  streaming: boolean;
  /** `task.outputSchema` is honoured and the result carries `structuredOutput`. */
  structuredOutput: boolean;
  /** `task.systemPrompt` replaces the vendor's system prompt. */
  systemPrompt: boolean;
  /** `agent.tool.requested` / `agent.tool.completed` events are emitted. */
  toolEvents: boolean;
  /** `permissions.allowedTools` / `disallowedTools` are enforced. */
  toolFilters: boolean;
  /** The result carries `usage.costUsd`. */
  usageCost: boolean;
}

export interface CapabilitiesParams {
  /** Only this runtime. */
  runtime?: string | null;
}

export interface CapabilitiesResult {
  protocolVersion: number;
  runtimes: RuntimeInfo[];
  server: ServerInfo;
}

export type CompactionTrigger = "auto" | "manual";

/** The vendor compacted the conversation to fit its context window. */
export interface ContextCompacted {
  postTokens?: number | null;
  preTokens?: number | null;
  trigger: CompactionTrigger;
}

export type Decision = "allow" | "deny" | "allowForSession" | "abort";

export interface DiagnoseParams {
  /** The model a probe should use. */
  model?: string | null;
  /** Run a one-turn task against the real model (costs a request). */
  probe?: boolean;
  /** Only this runtime (default: all). */
  runtime?: string | null;
}

export interface DiagnoseResult {
  runtimes: Diagnosis[];
}

export interface Diagnosis {
  binary?: BinaryInfo | null;
  /** What is wrong (or that all is well), in one sentence. */
  message: string;
  /** What to run or set to fix it. */
  remedy?: string | null;
  runtime: string;
  status: DiagnosisStatus;
}

export type DiagnosisStatus = "ready" | "missingBinary" | "missingPackage" | "missingCredentials" | "unsupportedVersion" | "unsupportedModel" | "error";

export interface ExitInfo {
  code?: number | null;
  signal?: number | null;
  /** The last lines of the vendor's stderr, secrets redacted. */
  stderrTail: string[];
}

export type FileChange = "added" | "modified" | "deleted";

/** A file under the working directory changed, by whatever tool. */
export interface FileChanged {
  change: FileChange;
  /** A unified diff, truncated like any field. */
  diff?: string | null;
  /** Relative to the working directory when inside it. */
  path: string;
}

export type FinishReason = "completed" | "error" | "cancelled" | "timeout" | "maxTurns" | "budget";

export type HttpTag = "http";

/** The agent asks the user something; the host answers with `InputResponse`. */
export interface InputRequestParams {
  questions: Question[];
  taskId: string;
  toolCallId?: string | null;
}

export interface InputResponse {
  /** Question id → the answer (a string, or the chosen labels of a multi-select). */
  answers: Record<string, Answer>;
}

export interface McpHttpServer {
  headers?: Record<string, string>;
  type?: HttpTag | null;
  url: string;
}

export type McpServer = McpStdioServer | McpHttpServer;

export interface McpStdioServer {
  args?: string[];
  command: string;
  env?: Record<string, string>;
  type?: StdioTag | null;
}

export interface Permissions {
  allowedTools?: string[] | null;
  approvals?: ApprovalMode;
  disallowedTools?: string[] | null;
  sandbox?: SandboxMode;
}

export interface PlanEntry {
  status: PlanStatus;
  text: string;
}

export type PlanStatus = "pending" | "inProgress" | "completed";

/** The whole current plan, each time it changes. */
export interface PlanUpdated {
  entries: PlanEntry[];
}

export interface Question {
  header?: string | null;
  /** The key of this question's answer. */
  id: string;
  multiSelect?: boolean;
  options?: QuestionOption[] | null;
  text: string;
}

export interface QuestionOption {
  description?: string | null;
  label: string;
}

/**
 * The agent asks the host (`input/request`), as a tool call named `name`. The call's output is
 * the host's `{ answers }` (declined: status `denied`, output why); `{{answers.<id>}}` in the
 * result's `output` is replaced by that answer (a multi-select's labels joined with ", ", an
 * unanswered or declined question by nothing).
 */
export interface QuestionStep {
  name: string;
  questions: Question[];
}

/** The vendor waits before trying the model again. */
export interface Retry {
  /** 1-based. */
  attempt: number;
  delayMs?: number | null;
  httpStatus?: number | null;
  maxAttempts?: number | null;
  message: string;
  reason: RetryReason;
}

export type RetryReason = "rateLimit" | "overloaded" | "server" | "network";

/** How the sidecar runs the task (not what the agent does). */
export interface RunOptions {
  /** How long an `approval/request` may wait for the host before it counts as a deny (default 300000). */
  approvalTimeoutMs?: number | null;
  /** Also emit `agent.vendor.event` with each raw vendor message. */
  includeVendorEvents?: boolean;
  /** String fields longer than this are truncated (default 8192). */
  maxFieldBytes?: number | null;
}

export interface RunParams {
  options?: RunOptions | null;
  runtime: string;
  task: AgentTask;
  /** Chosen by the host (recommended: it can then cancel before the first event) or generated (UUID v4). */
  taskId?: string | null;
}

export interface RuntimeInfo {
  capabilities: Capabilities;
  description: string;
  name: string;
  /** JSON Schema of this runtime's `runtimeOptions` entry. */
  options: unknown;
}

export type SandboxMode = "read-only" | "workspace-write" | "full-access";

export interface ServerInfo {
  name: string;
  version: string;
}

export interface SessionCloseParams {
  sessionId: string;
}

export interface SessionCloseResult {
  closed: boolean;
  sessionId: string;
}

export interface SessionClosed {
  reason: SessionClosedReason;
  sessionId: string;
}

export type SessionClosedReason = "closed" | "idle" | "exited" | "shutdown";

export interface SessionInfo {
  /** Milliseconds since the last turn ended (0 while busy). */
  idleMs: number;
  runtime: string;
  sessionId: string;
  state: SessionState;
  /** Turns run in this live process so far. */
  turns: number;
}

export interface SessionListParams {
}

export interface SessionListResult {
  sessions: SessionInfo[];
}

export interface SessionOpenParams {
  options?: RunOptions | null;
  runtime: string;
  /** As for `run`; `goal` may be left out (it is not sent). `session.keepAlive` is implied. */
  task: SessionTask;
}

export interface SessionOpenResult {
  runtime: string;
  /** Pass as `task.session.resume` to run a turn in it. */
  sessionId: string;
}

export interface SessionRef {
  /** Continue in a new session branched from `resume` instead of appending to it. */
  fork?: boolean;
  /** A live session with no turn for this long is closed (default 600000). */
  idleTimeoutMs?: number | null;
  /** Keep the vendor process, and the conversation in it, alive after the turn. */
  keepAlive?: boolean;
  /**
   * The session id a previous result reported. A live session of this sidecar runs the turn in
   * its running vendor process; any other id is resumed cold from the vendor's store.
   */
  resume?: string | null;
}

export type SessionSource = "new" | "resumed" | "live";

export type SessionState = "starting" | "idle" | "busy";

/** An AgentTask whose `goal` may be left out (session/open sends nothing to the vendor). */
export interface SessionTask {
  /** Further directories the agent may read and write. */
  additionalDirectories?: string[] | null;
  /** Appended to the vendor's system prompt. */
  appendSystemPrompt?: string | null;
  /** Images and files sent with the goal. */
  attachments?: Attachment[] | null;
  /**
   * The prompt. Never placed on a child's command line. `session/open` ignores it (and accepts
   * a task without it); a `run` needs a non-empty goal unless `attachments` carry the request.
   */
  goal?: string;
  /** No vendor output for this long → `finishReason: "timeout"`. */
  idleTimeoutMs?: number | null;
  maxTurns?: number | null;
  /** name → server, in the shape Claude, Codex and MCP hosts already use. */
  mcpServers?: Record<string, McpServer> | null;
  /** Opaque; echoed back in `agent.task.started` and the result. */
  metadata?: unknown;
  model?: string | null;
  /** A JSON Schema; the result's `structuredOutput` is validated against it. */
  outputSchema?: unknown;
  /** Default: `workspace-write` + `deny`. */
  permissions?: Permissions | null;
  /** One object per runtime name; only the chosen runtime's entry is read, and unknown keys in it are rejected. */
  runtimeOptions?: Record<string, unknown> | null;
  session?: SessionRef | null;
  /** Replaces the vendor's system prompt. */
  systemPrompt?: string | null;
  /** Wall-clock limit; past it the task ends with `finishReason: "timeout"`. */
  timeoutMs?: number | null;
  /** Must exist and be a directory. Default: the sidecar's working directory. */
  workingDirectory?: string | null;
}

/** A change that alters what the agent can do. */
export interface Status {
  data?: unknown;
  kind: StatusKind;
  message: string;
}

export type StatusKind = "permissionMode" | "warning" | "mcpServer" | "model";

export type StdioTag = "stdio";

export interface SteerParams {
  taskId: string;
  text: string;
}

export interface SteerResult {
  accepted: boolean;
}

/**
 * Brackets the work of a sub-agent (Claude Task/Agent, Codex collab agents, Antigravity child
 * trajectories); every event in between that it caused carries `parentToolCallId`.
 */
export interface Subagent {
  description?: string | null;
  parentToolCallId: string;
  /** On completion: `completed`, `failed`, `cancelled`, … as the vendor says. */
  status?: string | null;
  subagentId: string;
  usage?: Usage | null;
}

export interface TaskError {
  kind: TaskErrorKind;
  message: string;
  /** The vendor's own code (HTTP status, error subtype, ...), when it gave one. */
  vendorCode?: unknown;
}

export type TaskErrorKind = "auth" | "rateLimit" | "model" | "vendor" | "process" | "protocol" | "schema" | "budget" | "maxTurns" | "timeout" | "cancelled";

export interface TaskFinished {
  error?: TaskError | null;
  finishReason: FinishReason;
  sessionId?: string | null;
  usage: Usage;
}

export interface TaskStarted {
  metadata?: unknown;
  model?: string | null;
  /** The permissions in force, after the runtime's mapping. */
  permissions: Permissions;
  runtime: string;
  sessionId?: string | null;
  vendor?: unknown;
  workingDirectory: string;
}

export interface TextData {
  text: string;
  vendor?: unknown;
}

export interface ToolCallRecord {
  durationMs: number;
  id: string;
  input: unknown;
  name: string;
  output?: unknown;
  status: ToolStatus;
}

export interface ToolCompleted {
  name: string;
  output: unknown;
  status: ToolStatus;
  toolCallId: string;
  vendor?: unknown;
}

/** Streamed output of a running tool (a shell command's stdout/stderr). */
export interface ToolOutputDelta {
  text: string;
  toolCallId: string;
}

export interface ToolRequested {
  input: unknown;
  name: string;
  toolCallId: string;
  vendor?: unknown;
}

export type ToolStatus = "ok" | "error" | "denied";

export interface Usage {
  cachedInputTokens: number;
  costUsd?: number | null;
  inputTokens: number;
  outputTokens: number;
}

export interface VendorEvent {
  /** The raw vendor message, secrets redacted. */
  raw: unknown;
}

export interface VendorTurn {
  /** 1-based model turn number. */
  turn: number;
  /** Usage so far in this task. */
  usage: Usage;
  vendor?: unknown;
  vendorTurnId?: string | null;
}

/** The data of each event type. */
export interface EventDataMap {
  "agent.task.started": TaskStarted;
  "agent.output.delta": TextData;
  "agent.message": TextData;
  "agent.tool.requested": ToolRequested;
  "agent.tool.completed": ToolCompleted;
  "agent.approval.requested": ToolRequested;
  "agent.reasoning.delta": TextData;
  "agent.reasoning": TextData;
  "agent.plan.updated": PlanUpdated;
  "agent.file.changed": FileChanged;
  "agent.subagent.started": Subagent;
  "agent.subagent.completed": Subagent;
  "agent.retry": Retry;
  "agent.tool.output.delta": ToolOutputDelta;
  "agent.context.compacted": ContextCompacted;
  "agent.status": Status;
  "agent.vendor.turn": VendorTurn;
  "agent.vendor.event": VendorEvent;
  "agent.task.completed": TaskFinished;
  "agent.task.failed": TaskFinished;
}

export type EventType = keyof EventDataMap;

/** Every event type, in the protocol's order. */
export const EVENT_TYPES: readonly EventType[] = ["agent.task.started", "agent.output.delta", "agent.message", "agent.tool.requested", "agent.tool.completed", "agent.approval.requested", "agent.reasoning.delta", "agent.reasoning", "agent.plan.updated", "agent.file.changed", "agent.subagent.started", "agent.subagent.completed", "agent.retry", "agent.tool.output.delta", "agent.context.compacted", "agent.status", "agent.vendor.turn", "agent.vendor.event", "agent.task.completed", "agent.task.failed"];

/** The last event of every task. */
export const TERMINAL_EVENT_TYPES: readonly EventType[] = ["agent.task.completed", "agent.task.failed"];

/** What every event carries. */
export interface EventBase {
  /** Set on every event caused inside a sub-agent: the tool call that started it. */
  parentToolCallId: string;
  /** Counts from 0 per task, with no gaps. */
  seq: number;
  taskId: string;
  /** RFC 3339, UTC. */
  time: string;
}

/** One event of a task (an `event` notification's params); narrow it on `type`. */
export type Event = { [K in EventType]: EventBase & { type: K; data: EventDataMap[K] } }[EventType];

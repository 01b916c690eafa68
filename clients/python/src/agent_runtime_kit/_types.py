"""Protocol types, generated from protocol/schema/protocol.schema.json.

Do not edit: run ``python clients/python/scripts/gen_types.py``. Field names are
snake_case; ``to_wire()`` / ``from_wire()`` convert to and from the camelCase wire.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Dict, List, Literal, Optional, Tuple, Union

from ._wire import _Wire

PROTOCOL_VERSION = 2

ERROR_CODES: Dict[str, int] = {
    "parseError": -32700,
    "invalidRequest": -32600,
    "methodNotFound": -32601,
    "invalidParams": -32602,
    "internalError": -32603,
    "unknownRuntime": -32010,
    "runtimeUnavailable": -32011,
    "unsupportedTaskInput": -32012,
    "taskNotFound": -32013,
    "duplicateTaskId": -32014,
    "busy": -32015,
    "shuttingDown": -32016,
    "sessionBusy": -32015,
    "sessionNotFound": -32017,
}
"""JSON-RPC error codes by their stable ``data.kind``."""

ApprovalMode = Literal["deny", "host"]

ArtifactChange = Literal["created", "modified", "deleted"]

AttachmentKind = Literal["image", "file"]

CancelMode = Literal["soft", "forced"]

CancelState = Literal["cancelling", "finished"]

CompactionTrigger = Literal["auto", "manual"]

Decision = Literal["allow", "deny", "allowForSession", "abort"]

DiagnosisStatus = Literal["ready", "missingBinary", "missingPackage", "missingCredentials", "unsupportedVersion", "unsupportedModel", "error"]

FileChange = Literal["added", "modified", "deleted"]

FinishReason = Literal["completed", "error", "cancelled", "timeout", "maxTurns", "budget"]

HttpTag = Literal["http"]

PlanStatus = Literal["pending", "inProgress", "completed"]

RetryReason = Literal["rateLimit", "overloaded", "server", "network"]

SandboxMode = Literal["read-only", "workspace-write", "full-access"]

SessionClosedReason = Literal["closed", "idle", "exited", "shutdown"]

SessionSource = Literal["new", "resumed", "live"]

SessionState = Literal["starting", "idle", "busy"]

StatusKind = Literal["permissionMode", "warning", "mcpServer", "model"]

StdioTag = Literal["stdio"]

TaskErrorKind = Literal["auth", "rateLimit", "model", "vendor", "process", "protocol", "schema", "budget", "maxTurns", "timeout", "cancelled"]

ToolStatus = Literal["ok", "error", "denied"]

Answer = Union[str, List[str]]

@dataclass
class Artifact(_Wire):
    path: str  # Relative to the working directory when inside it.
    change: ArtifactChange


@dataclass
class ExitInfo(_Wire):
    code: Optional[int] = None
    signal: Optional[int] = None
    stderr_tail: List[str] = field(default_factory=list)  # The last lines of the vendor's stderr, secrets redacted.


@dataclass
class TaskError(_Wire):
    kind: TaskErrorKind
    message: str
    _: KW_ONLY
    vendor_code: Any = None  # The vendor's own code (HTTP status, error subtype, ...), when it gave one.


@dataclass
class ToolCallRecord(_Wire):
    id: str
    name: str
    input: Any
    status: ToolStatus
    _: KW_ONLY
    duration_ms: int = 0
    output: Any = None


@dataclass
class Usage(_Wire):
    cached_input_tokens: int = 0
    cost_usd: Optional[float] = None
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class AgentResult(_Wire):
    task_id: str
    runtime: str
    finish_reason: FinishReason
    _: KW_ONLY
    artifacts: List[Artifact] = field(default_factory=list)
    cancel: Optional[CancelMode] = None  # How a cancelled (or timed-out) task was stopped.
    duration_ms: int = 0
    error: Optional[TaskError] = None
    exit: Optional[ExitInfo] = None  # The vendor process's exit, when there was one.
    metadata: Any = None
    output: str = ''  # The final assistant text (falls back to the last assistant message).
    session_changed: Optional[bool] = None  # True when a resume produced a different session id than the one asked for.
    session_id: Optional[str] = None  # The effective, resumable session id.
    session_live: bool = False  # Whether the session is still live (its vendor process kept) after this turn.
    session_source: Optional[SessionSource] = None  # Where this turn's conversation came from, when the runtime has sessions.
    structured_output: Any = None
    tool_calls: List[ToolCallRecord] = field(default_factory=list)
    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    vendor: Any = None  # Vendor-specific extras; never the primary fields.


@dataclass
class Attachment(_Wire):
    """An image or file sent with the goal: an image from `path` (relative to `workingDirectory`) or
    inline base64 `data`; a file from `path`, read by the sidecar.
    """
    type: AttachmentKind
    _: KW_ONLY
    data: Optional[str] = None  # Base64 (standard alphabet); images only.
    media_type: Optional[str] = None  # `image/png`, `image/jpeg`, `image/gif` or `image/webp`; guessed from the file when absent.
    path: Optional[str] = None


@dataclass
class McpHttpServer(_Wire):
    url: str
    _: KW_ONLY
    headers: Dict[str, str] = field(default_factory=dict)
    type: Optional[HttpTag] = None


@dataclass
class McpStdioServer(_Wire):
    command: str
    _: KW_ONLY
    args: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    type: Optional[StdioTag] = None


@dataclass
class Permissions(_Wire):
    allowed_tools: Optional[List[str]] = None
    approvals: ApprovalMode = 'deny'
    disallowed_tools: Optional[List[str]] = None
    sandbox: SandboxMode = 'workspace-write'


@dataclass
class SessionRef(_Wire):
    resume: Optional[str] = None  # The session id a previous result reported. A live session of this sidecar runs the turn in
    fork: bool = False  # Continue in a new session branched from `resume` instead of appending to it.
    idle_timeout_ms: Optional[int] = None  # A live session with no turn for this long is closed (default 600000).
    keep_alive: bool = False  # Keep the vendor process, and the conversation in it, alive after the turn.


@dataclass
class AgentTask(_Wire):
    """A coding task for an agent. Only `goal` is required (`session/open` accepts a task without it)."""
    goal: str  # The prompt. Never placed on a child's command line. `session/open` ignores it (and accepts
    _: KW_ONLY
    additional_directories: Optional[List[str]] = None  # Further directories the agent may read and write.
    append_system_prompt: Optional[str] = None  # Appended to the vendor's system prompt.
    attachments: Optional[List[Attachment]] = None  # Images and files sent with the goal.
    idle_timeout_ms: Optional[int] = None  # No vendor output for this long → `finishReason: "timeout"`.
    max_turns: Optional[int] = None
    mcp_servers: Optional[Dict[str, McpServer]] = None  # name → server, in the shape Claude, Codex and MCP hosts already use.
    metadata: Any = None  # Opaque; echoed back in `agent.task.started` and the result.
    model: Optional[str] = None
    output_schema: Any = None  # A JSON Schema; the result's `structuredOutput` is validated against it.
    permissions: Optional[Permissions] = None  # Default: `workspace-write` + `deny`.
    runtime_options: Optional[Dict[str, Any]] = None  # One object per runtime name; only the chosen runtime's entry is read, and unknown keys in it are rejected.
    session: Optional[SessionRef] = None
    system_prompt: Optional[str] = None  # Replaces the vendor's system prompt.
    timeout_ms: Optional[int] = None  # Wall-clock limit; past it the task ends with `finishReason: "timeout"`.
    working_directory: Optional[str] = None  # Must exist and be a directory. Default: the sidecar's working directory.


@dataclass
class ApprovalParams(_Wire):
    task_id: str
    tool_call_id: str
    name: str
    input: Any


@dataclass
class ApprovalResponse(_Wire):
    decision: Decision
    _: KW_ONLY
    message: Optional[str] = None  # Told to the agent (with a deny or abort: why).
    updated_input: Any = None  # Replaces the tool's input before it runs (where the runtime declares it can).


@dataclass
class BinaryInfo(_Wire):
    path: Optional[str] = None
    version: Optional[str] = None


@dataclass
class CancelParams(_Wire):
    task_id: str


@dataclass
class CancelRequestParams(_Wire):
    """The sidecar withdraws a request it sent (the vendor withdrew the approval or question, or the
    task ended); a late answer to it is ignored.
    """
    id: Any


@dataclass
class CancelResult(_Wire):
    task_id: str
    state: CancelState


@dataclass
class Capabilities(_Wire):
    """What `run` enforces: a task field outside these is refused with -32012."""
    streaming: bool  # `agent.output.delta` events are streamed.
    tool_events: bool  # `agent.tool.requested` / `agent.tool.completed` events are emitted.
    approvals: List[ApprovalMode]  # Accepted `permissions.approvals` values.
    sandbox_modes: List[SandboxMode]  # Accepted `permissions.sandbox` values.
    tool_filters: bool  # `permissions.allowedTools` / `disallowedTools` are enforced.
    resume: bool  # `task.session.resume` continues an earlier session.
    fork: bool  # `task.session.fork` branches a new session from the resumed one.
    mcp: List[str]  # Accepted MCP server transports (`stdio`, `http`); empty = no MCP.
    structured_output: bool  # `task.outputSchema` is honoured and the result carries `structuredOutput`.
    system_prompt: bool  # `task.systemPrompt` replaces the vendor's system prompt.
    append_system_prompt: bool  # `task.appendSystemPrompt` is added to the vendor's system prompt.
    additional_directories: bool  # `task.additionalDirectories` are opened to the agent.
    max_turns: bool  # `task.maxTurns` is enforced.
    usage_cost: bool  # The result carries `usage.costUsd`.
    _: KW_ONLY
    approval_decisions: List[Decision] = field(default_factory=list)  # Honoured `approval/request` decisions.
    attachments: List[str] = field(default_factory=list)  # Accepted `task.attachments` types (`image`, `file`); empty = none.
    live_sessions: bool = False  # `task.session.keepAlive`, and a `run` resuming a live session runs in its vendor process.
    models: Optional[List[str]] = None  # When set, the only accepted `model` values.
    prewarm: bool = False  # `session/open` starts the vendor before the first turn.
    questions: bool = False  # The agent's questions reach the host as `input/request`.
    steer: bool = False  # `steer` adds text to a running turn.


@dataclass
class CapabilitiesParams(_Wire):
    runtime: Optional[str] = None  # Only this runtime.


@dataclass
class RuntimeInfo(_Wire):
    name: str
    description: str
    capabilities: Capabilities
    options: Any  # JSON Schema of this runtime's `runtimeOptions` entry.


@dataclass
class ServerInfo(_Wire):
    name: str
    version: str


@dataclass
class CapabilitiesResult(_Wire):
    protocol_version: int
    server: ServerInfo
    runtimes: List[RuntimeInfo]


@dataclass
class ContextCompacted(_Wire):
    """The vendor compacted the conversation to fit its context window."""
    trigger: CompactionTrigger
    _: KW_ONLY
    post_tokens: Optional[int] = None
    pre_tokens: Optional[int] = None


@dataclass
class DiagnoseParams(_Wire):
    model: Optional[str] = None  # The model a probe should use.
    probe: bool = False  # Run a one-turn task against the real model (costs a request).
    runtime: Optional[str] = None  # Only this runtime (default: all).


@dataclass
class Diagnosis(_Wire):
    runtime: str
    status: DiagnosisStatus
    message: str  # What is wrong (or that all is well), in one sentence.
    _: KW_ONLY
    binary: Optional[BinaryInfo] = None
    remedy: Optional[str] = None  # What to run or set to fix it.


@dataclass
class DiagnoseResult(_Wire):
    runtimes: List[Diagnosis]


@dataclass
class FileChanged(_Wire):
    """A file under the working directory changed, by whatever tool."""
    path: str  # Relative to the working directory when inside it.
    change: FileChange
    _: KW_ONLY
    diff: Optional[str] = None  # A unified diff, truncated like any field.


@dataclass
class QuestionOption(_Wire):
    label: str
    _: KW_ONLY
    description: Optional[str] = None


@dataclass
class Question(_Wire):
    id: str  # The key of this question's answer.
    text: str
    _: KW_ONLY
    header: Optional[str] = None
    multi_select: Optional[bool] = None
    options: Optional[List[QuestionOption]] = None


@dataclass
class InputRequestParams(_Wire):
    """The agent asks the user something; the host answers with `InputResponse`."""
    task_id: str
    questions: List[Question]
    _: KW_ONLY
    tool_call_id: Optional[str] = None


@dataclass
class InputResponse(_Wire):
    answers: Dict[str, Answer]  # Question id → the answer (a string, or the chosen labels of a multi-select).


@dataclass
class PlanEntry(_Wire):
    text: str
    status: PlanStatus


@dataclass
class PlanUpdated(_Wire):
    """The whole current plan, each time it changes."""
    entries: List[PlanEntry]


@dataclass
class QuestionStep(_Wire):
    """The agent asks the host (`input/request`), as a tool call named `name`. The call's output is
    the host's `{ answers }` (declined: status `denied`, output why); `{{answers.<id>}}` in the
    result's `output` is replaced by that answer (a multi-select's labels joined with ", ", an
    unanswered or declined question by nothing).
    """
    questions: List[Question]
    _: KW_ONLY
    name: str = 'AskUserQuestion'


@dataclass
class Retry(_Wire):
    """The vendor waits before trying the model again."""
    attempt: int  # 1-based.
    reason: RetryReason
    message: str
    _: KW_ONLY
    delay_ms: Optional[int] = None
    http_status: Optional[int] = None
    max_attempts: Optional[int] = None


@dataclass
class RunOptions(_Wire):
    """How the sidecar runs the task (not what the agent does)."""
    approval_timeout_ms: Optional[int] = None  # How long an `approval/request` may wait for the host before it counts as a deny (default 300000).
    include_vendor_events: bool = False  # Also emit `agent.vendor.event` with each raw vendor message.
    max_field_bytes: Optional[int] = None  # String fields longer than this are truncated (default 8192).


@dataclass
class RunParams(_Wire):
    runtime: str
    task: AgentTask
    _: KW_ONLY
    options: Optional[RunOptions] = None
    task_id: Optional[str] = None  # Chosen by the host (recommended: it can then cancel before the first event) or generated (UUID v4).


@dataclass
class SessionCloseParams(_Wire):
    session_id: str


@dataclass
class SessionCloseResult(_Wire):
    session_id: str
    closed: bool


@dataclass
class SessionClosed(_Wire):
    session_id: str
    reason: SessionClosedReason


@dataclass
class SessionInfo(_Wire):
    session_id: str
    runtime: str
    state: SessionState
    turns: int  # Turns run in this live process so far.
    idle_ms: int  # Milliseconds since the last turn ended (0 while busy).


@dataclass
class SessionListParams(_Wire):
    pass


@dataclass
class SessionListResult(_Wire):
    sessions: List[SessionInfo]


@dataclass
class SessionTask(_Wire):
    """An AgentTask whose `goal` may be left out (session/open sends nothing to the vendor)."""
    additional_directories: Optional[List[str]] = None  # Further directories the agent may read and write.
    append_system_prompt: Optional[str] = None  # Appended to the vendor's system prompt.
    attachments: Optional[List[Attachment]] = None  # Images and files sent with the goal.
    goal: Optional[str] = None  # The prompt. Never placed on a child's command line. `session/open` ignores it (and accepts
    idle_timeout_ms: Optional[int] = None  # No vendor output for this long → `finishReason: "timeout"`.
    max_turns: Optional[int] = None
    mcp_servers: Optional[Dict[str, McpServer]] = None  # name → server, in the shape Claude, Codex and MCP hosts already use.
    metadata: Any = None  # Opaque; echoed back in `agent.task.started` and the result.
    model: Optional[str] = None
    output_schema: Any = None  # A JSON Schema; the result's `structuredOutput` is validated against it.
    permissions: Optional[Permissions] = None  # Default: `workspace-write` + `deny`.
    runtime_options: Optional[Dict[str, Any]] = None  # One object per runtime name; only the chosen runtime's entry is read, and unknown keys in it are rejected.
    session: Optional[SessionRef] = None
    system_prompt: Optional[str] = None  # Replaces the vendor's system prompt.
    timeout_ms: Optional[int] = None  # Wall-clock limit; past it the task ends with `finishReason: "timeout"`.
    working_directory: Optional[str] = None  # Must exist and be a directory. Default: the sidecar's working directory.


@dataclass
class SessionOpenParams(_Wire):
    runtime: str
    task: SessionTask  # As for `run`; `goal` may be left out (it is not sent). `session.keepAlive` is implied.
    _: KW_ONLY
    options: Optional[RunOptions] = None


@dataclass
class SessionOpenResult(_Wire):
    session_id: str  # Pass as `task.session.resume` to run a turn in it.
    runtime: str


@dataclass
class Status(_Wire):
    """A change that alters what the agent can do."""
    kind: StatusKind
    message: str
    _: KW_ONLY
    data: Any = None


@dataclass
class SteerParams(_Wire):
    task_id: str
    text: str


@dataclass
class SteerResult(_Wire):
    accepted: bool


@dataclass
class Subagent(_Wire):
    """Brackets the work of a sub-agent (Claude Task/Agent, Codex collab agents, Antigravity child
    trajectories); every event in between that it caused carries `parentToolCallId`.
    """
    subagent_id: str
    parent_tool_call_id: str
    _: KW_ONLY
    description: Optional[str] = None
    status: Optional[str] = None  # On completion: `completed`, `failed`, `cancelled`, … as the vendor says.
    usage: Optional[Usage] = None


@dataclass
class TaskFinished(_Wire):
    finish_reason: FinishReason
    usage: Usage
    _: KW_ONLY
    error: Optional[TaskError] = None
    session_id: Optional[str] = None


@dataclass
class TaskStarted(_Wire):
    runtime: str
    working_directory: str
    permissions: Permissions  # The permissions in force, after the runtime's mapping.
    _: KW_ONLY
    metadata: Any = None
    model: Optional[str] = None
    session_id: Optional[str] = None
    vendor: Any = None


@dataclass
class TextData(_Wire):
    text: str
    _: KW_ONLY
    vendor: Any = None


@dataclass
class ToolCompleted(_Wire):
    tool_call_id: str
    name: str
    status: ToolStatus
    output: Any
    _: KW_ONLY
    vendor: Any = None


@dataclass
class ToolOutputDelta(_Wire):
    """Streamed output of a running tool (a shell command's stdout/stderr)."""
    tool_call_id: str
    text: str


@dataclass
class ToolRequested(_Wire):
    tool_call_id: str
    name: str
    input: Any
    _: KW_ONLY
    vendor: Any = None


@dataclass
class VendorEvent(_Wire):
    raw: Any  # The raw vendor message, secrets redacted.


@dataclass
class VendorTurn(_Wire):
    turn: int  # 1-based model turn number.
    usage: Usage  # Usage so far in this task.
    _: KW_ONLY
    vendor: Any = None
    vendor_turn_id: Optional[str] = None


McpServer = Union[McpStdioServer, McpHttpServer]

@dataclass
class Event(_Wire):
    """One event of a task: an ``event`` notification's params."""
    task_id: str
    seq: int  # Counts from 0 per task, with no gaps.
    time: str  # RFC 3339, UTC.
    type: str
    data: Union[EventData, Any]
    _: KW_ONLY
    parent_tool_call_id: Optional[str] = None  # Set on every event caused inside a sub-agent: the tool call that started it.


EventType = Literal["agent.task.started", "agent.output.delta", "agent.message", "agent.tool.requested", "agent.tool.completed", "agent.approval.requested", "agent.reasoning.delta", "agent.reasoning", "agent.plan.updated", "agent.file.changed", "agent.subagent.started", "agent.subagent.completed", "agent.retry", "agent.tool.output.delta", "agent.context.compacted", "agent.status", "agent.vendor.turn", "agent.vendor.event", "agent.task.completed", "agent.task.failed"]
"""Every event type the protocol defines."""

EVENT_DATA: Dict[str, type] = {
    "agent.task.started": TaskStarted,
    "agent.output.delta": TextData,
    "agent.message": TextData,
    "agent.tool.requested": ToolRequested,
    "agent.tool.completed": ToolCompleted,
    "agent.approval.requested": ToolRequested,
    "agent.reasoning.delta": TextData,
    "agent.reasoning": TextData,
    "agent.plan.updated": PlanUpdated,
    "agent.file.changed": FileChanged,
    "agent.subagent.started": Subagent,
    "agent.subagent.completed": Subagent,
    "agent.retry": Retry,
    "agent.tool.output.delta": ToolOutputDelta,
    "agent.context.compacted": ContextCompacted,
    "agent.status": Status,
    "agent.vendor.turn": VendorTurn,
    "agent.vendor.event": VendorEvent,
    "agent.task.completed": TaskFinished,
    "agent.task.failed": TaskFinished,
}
"""The data type of each event type."""

EventData = Union[TaskStarted, TextData, ToolRequested, ToolCompleted, PlanUpdated, FileChanged, Subagent, Retry, ToolOutputDelta, ContextCompacted, Status, VendorTurn, VendorEvent, TaskFinished]

TERMINAL_EVENTS: Tuple[str, ...] = ("agent.task.completed", "agent.task.failed")

_FIELDS: Dict[str, List[Tuple[str, str, Any]]] = {
    "Artifact": [
        ('path', 'path', None),
        ('change', 'change', None),
    ],
    "ExitInfo": [
        ('code', 'code', None),
        ('signal', 'signal', None),
        ('stderr_tail', 'stderrTail', None),
    ],
    "TaskError": [
        ('kind', 'kind', None),
        ('message', 'message', None),
        ('vendor_code', 'vendorCode', None),
    ],
    "ToolCallRecord": [
        ('id', 'id', None),
        ('name', 'name', None),
        ('input', 'input', None),
        ('status', 'status', None),
        ('duration_ms', 'durationMs', None),
        ('output', 'output', None),
    ],
    "Usage": [
        ('cached_input_tokens', 'cachedInputTokens', None),
        ('cost_usd', 'costUsd', None),
        ('input_tokens', 'inputTokens', None),
        ('output_tokens', 'outputTokens', None),
    ],
    "AgentResult": [
        ('task_id', 'taskId', None),
        ('runtime', 'runtime', None),
        ('finish_reason', 'finishReason', None),
        ('artifacts', 'artifacts', ['list', 'Artifact']),
        ('cancel', 'cancel', None),
        ('duration_ms', 'durationMs', None),
        ('error', 'error', 'TaskError'),
        ('exit', 'exit', 'ExitInfo'),
        ('metadata', 'metadata', None),
        ('output', 'output', None),
        ('session_changed', 'sessionChanged', None),
        ('session_id', 'sessionId', None),
        ('session_live', 'sessionLive', None),
        ('session_source', 'sessionSource', None),
        ('structured_output', 'structuredOutput', None),
        ('tool_calls', 'toolCalls', ['list', 'ToolCallRecord']),
        ('turns', 'turns', None),
        ('usage', 'usage', 'Usage'),
        ('vendor', 'vendor', None),
    ],
    "Attachment": [
        ('type', 'type', None),
        ('data', 'data', None),
        ('media_type', 'mediaType', None),
        ('path', 'path', None),
    ],
    "McpHttpServer": [
        ('url', 'url', None),
        ('headers', 'headers', None),
        ('type', 'type', None),
    ],
    "McpStdioServer": [
        ('command', 'command', None),
        ('args', 'args', None),
        ('env', 'env', None),
        ('type', 'type', None),
    ],
    "Permissions": [
        ('allowed_tools', 'allowedTools', None),
        ('approvals', 'approvals', None),
        ('disallowed_tools', 'disallowedTools', None),
        ('sandbox', 'sandbox', None),
    ],
    "SessionRef": [
        ('resume', 'resume', None),
        ('fork', 'fork', None),
        ('idle_timeout_ms', 'idleTimeoutMs', None),
        ('keep_alive', 'keepAlive', None),
    ],
    "AgentTask": [
        ('goal', 'goal', None),
        ('additional_directories', 'additionalDirectories', None),
        ('append_system_prompt', 'appendSystemPrompt', None),
        ('attachments', 'attachments', ['list', 'Attachment']),
        ('idle_timeout_ms', 'idleTimeoutMs', None),
        ('max_turns', 'maxTurns', None),
        ('mcp_servers', 'mcpServers', ['map', 'McpServer']),
        ('metadata', 'metadata', None),
        ('model', 'model', None),
        ('output_schema', 'outputSchema', None),
        ('permissions', 'permissions', 'Permissions'),
        ('runtime_options', 'runtimeOptions', None),
        ('session', 'session', 'SessionRef'),
        ('system_prompt', 'systemPrompt', None),
        ('timeout_ms', 'timeoutMs', None),
        ('working_directory', 'workingDirectory', None),
    ],
    "ApprovalParams": [
        ('task_id', 'taskId', None),
        ('tool_call_id', 'toolCallId', None),
        ('name', 'name', None),
        ('input', 'input', None),
    ],
    "ApprovalResponse": [
        ('decision', 'decision', None),
        ('message', 'message', None),
        ('updated_input', 'updatedInput', None),
    ],
    "BinaryInfo": [
        ('path', 'path', None),
        ('version', 'version', None),
    ],
    "CancelParams": [
        ('task_id', 'taskId', None),
    ],
    "CancelRequestParams": [
        ('id', 'id', None),
    ],
    "CancelResult": [
        ('task_id', 'taskId', None),
        ('state', 'state', None),
    ],
    "Capabilities": [
        ('streaming', 'streaming', None),
        ('tool_events', 'toolEvents', None),
        ('approvals', 'approvals', None),
        ('sandbox_modes', 'sandboxModes', None),
        ('tool_filters', 'toolFilters', None),
        ('resume', 'resume', None),
        ('fork', 'fork', None),
        ('mcp', 'mcp', None),
        ('structured_output', 'structuredOutput', None),
        ('system_prompt', 'systemPrompt', None),
        ('append_system_prompt', 'appendSystemPrompt', None),
        ('additional_directories', 'additionalDirectories', None),
        ('max_turns', 'maxTurns', None),
        ('usage_cost', 'usageCost', None),
        ('approval_decisions', 'approvalDecisions', None),
        ('attachments', 'attachments', None),
        ('live_sessions', 'liveSessions', None),
        ('models', 'models', None),
        ('prewarm', 'prewarm', None),
        ('questions', 'questions', None),
        ('steer', 'steer', None),
    ],
    "CapabilitiesParams": [
        ('runtime', 'runtime', None),
    ],
    "RuntimeInfo": [
        ('name', 'name', None),
        ('description', 'description', None),
        ('capabilities', 'capabilities', 'Capabilities'),
        ('options', 'options', None),
    ],
    "ServerInfo": [
        ('name', 'name', None),
        ('version', 'version', None),
    ],
    "CapabilitiesResult": [
        ('protocol_version', 'protocolVersion', None),
        ('server', 'server', 'ServerInfo'),
        ('runtimes', 'runtimes', ['list', 'RuntimeInfo']),
    ],
    "ContextCompacted": [
        ('trigger', 'trigger', None),
        ('post_tokens', 'postTokens', None),
        ('pre_tokens', 'preTokens', None),
    ],
    "DiagnoseParams": [
        ('model', 'model', None),
        ('probe', 'probe', None),
        ('runtime', 'runtime', None),
    ],
    "Diagnosis": [
        ('runtime', 'runtime', None),
        ('status', 'status', None),
        ('message', 'message', None),
        ('binary', 'binary', 'BinaryInfo'),
        ('remedy', 'remedy', None),
    ],
    "DiagnoseResult": [
        ('runtimes', 'runtimes', ['list', 'Diagnosis']),
    ],
    "FileChanged": [
        ('path', 'path', None),
        ('change', 'change', None),
        ('diff', 'diff', None),
    ],
    "QuestionOption": [
        ('label', 'label', None),
        ('description', 'description', None),
    ],
    "Question": [
        ('id', 'id', None),
        ('text', 'text', None),
        ('header', 'header', None),
        ('multi_select', 'multiSelect', None),
        ('options', 'options', ['list', 'QuestionOption']),
    ],
    "InputRequestParams": [
        ('task_id', 'taskId', None),
        ('questions', 'questions', ['list', 'Question']),
        ('tool_call_id', 'toolCallId', None),
    ],
    "InputResponse": [
        ('answers', 'answers', None),
    ],
    "PlanEntry": [
        ('text', 'text', None),
        ('status', 'status', None),
    ],
    "PlanUpdated": [
        ('entries', 'entries', ['list', 'PlanEntry']),
    ],
    "QuestionStep": [
        ('questions', 'questions', ['list', 'Question']),
        ('name', 'name', None),
    ],
    "Retry": [
        ('attempt', 'attempt', None),
        ('reason', 'reason', None),
        ('message', 'message', None),
        ('delay_ms', 'delayMs', None),
        ('http_status', 'httpStatus', None),
        ('max_attempts', 'maxAttempts', None),
    ],
    "RunOptions": [
        ('approval_timeout_ms', 'approvalTimeoutMs', None),
        ('include_vendor_events', 'includeVendorEvents', None),
        ('max_field_bytes', 'maxFieldBytes', None),
    ],
    "RunParams": [
        ('runtime', 'runtime', None),
        ('task', 'task', 'AgentTask'),
        ('options', 'options', 'RunOptions'),
        ('task_id', 'taskId', None),
    ],
    "SessionCloseParams": [
        ('session_id', 'sessionId', None),
    ],
    "SessionCloseResult": [
        ('session_id', 'sessionId', None),
        ('closed', 'closed', None),
    ],
    "SessionClosed": [
        ('session_id', 'sessionId', None),
        ('reason', 'reason', None),
    ],
    "SessionInfo": [
        ('session_id', 'sessionId', None),
        ('runtime', 'runtime', None),
        ('state', 'state', None),
        ('turns', 'turns', None),
        ('idle_ms', 'idleMs', None),
    ],
    "SessionListParams": [
    ],
    "SessionListResult": [
        ('sessions', 'sessions', ['list', 'SessionInfo']),
    ],
    "SessionTask": [
        ('additional_directories', 'additionalDirectories', None),
        ('append_system_prompt', 'appendSystemPrompt', None),
        ('attachments', 'attachments', ['list', 'Attachment']),
        ('goal', 'goal', None),
        ('idle_timeout_ms', 'idleTimeoutMs', None),
        ('max_turns', 'maxTurns', None),
        ('mcp_servers', 'mcpServers', ['map', 'McpServer']),
        ('metadata', 'metadata', None),
        ('model', 'model', None),
        ('output_schema', 'outputSchema', None),
        ('permissions', 'permissions', 'Permissions'),
        ('runtime_options', 'runtimeOptions', None),
        ('session', 'session', 'SessionRef'),
        ('system_prompt', 'systemPrompt', None),
        ('timeout_ms', 'timeoutMs', None),
        ('working_directory', 'workingDirectory', None),
    ],
    "SessionOpenParams": [
        ('runtime', 'runtime', None),
        ('task', 'task', 'SessionTask'),
        ('options', 'options', 'RunOptions'),
    ],
    "SessionOpenResult": [
        ('session_id', 'sessionId', None),
        ('runtime', 'runtime', None),
    ],
    "Status": [
        ('kind', 'kind', None),
        ('message', 'message', None),
        ('data', 'data', None),
    ],
    "SteerParams": [
        ('task_id', 'taskId', None),
        ('text', 'text', None),
    ],
    "SteerResult": [
        ('accepted', 'accepted', None),
    ],
    "Subagent": [
        ('subagent_id', 'subagentId', None),
        ('parent_tool_call_id', 'parentToolCallId', None),
        ('description', 'description', None),
        ('status', 'status', None),
        ('usage', 'usage', 'Usage'),
    ],
    "TaskFinished": [
        ('finish_reason', 'finishReason', None),
        ('usage', 'usage', 'Usage'),
        ('error', 'error', 'TaskError'),
        ('session_id', 'sessionId', None),
    ],
    "TaskStarted": [
        ('runtime', 'runtime', None),
        ('working_directory', 'workingDirectory', None),
        ('permissions', 'permissions', 'Permissions'),
        ('metadata', 'metadata', None),
        ('model', 'model', None),
        ('session_id', 'sessionId', None),
        ('vendor', 'vendor', None),
    ],
    "TextData": [
        ('text', 'text', None),
        ('vendor', 'vendor', None),
    ],
    "ToolCompleted": [
        ('tool_call_id', 'toolCallId', None),
        ('name', 'name', None),
        ('status', 'status', None),
        ('output', 'output', None),
        ('vendor', 'vendor', None),
    ],
    "ToolOutputDelta": [
        ('tool_call_id', 'toolCallId', None),
        ('text', 'text', None),
    ],
    "ToolRequested": [
        ('tool_call_id', 'toolCallId', None),
        ('name', 'name', None),
        ('input', 'input', None),
        ('vendor', 'vendor', None),
    ],
    "VendorEvent": [
        ('raw', 'raw', None),
    ],
    "VendorTurn": [
        ('turn', 'turn', None),
        ('usage', 'usage', 'Usage'),
        ('vendor', 'vendor', None),
        ('vendor_turn_id', 'vendorTurnId', None),
    ],
    "Event": [
        ('task_id', 'taskId', None),
        ('seq', 'seq', None),
        ('time', 'time', None),
        ('type', 'type', None),
        ('data', 'data', '@event'),
        ('parent_tool_call_id', 'parentToolCallId', None),
    ],
}
"""Per class: (python name, wire name, decoding spec) of each field."""

_UNIONS: Dict[str, List[str]] = {
    "McpServer": ["McpStdioServer", "McpHttpServer"],
}

__all__ = [
    "PROTOCOL_VERSION",
    "ERROR_CODES",
    "EVENT_DATA",
    "EventType",
    "EventData",
    "TERMINAL_EVENTS",
    "AgentResult",
    "AgentTask",
    "Answer",
    "ApprovalMode",
    "ApprovalParams",
    "ApprovalResponse",
    "Artifact",
    "ArtifactChange",
    "Attachment",
    "AttachmentKind",
    "BinaryInfo",
    "CancelMode",
    "CancelParams",
    "CancelRequestParams",
    "CancelResult",
    "CancelState",
    "Capabilities",
    "CapabilitiesParams",
    "CapabilitiesResult",
    "CompactionTrigger",
    "ContextCompacted",
    "Decision",
    "DiagnoseParams",
    "DiagnoseResult",
    "Diagnosis",
    "DiagnosisStatus",
    "Event",
    "ExitInfo",
    "FileChange",
    "FileChanged",
    "FinishReason",
    "HttpTag",
    "InputRequestParams",
    "InputResponse",
    "McpHttpServer",
    "McpServer",
    "McpStdioServer",
    "Permissions",
    "PlanEntry",
    "PlanStatus",
    "PlanUpdated",
    "Question",
    "QuestionOption",
    "QuestionStep",
    "Retry",
    "RetryReason",
    "RunOptions",
    "RunParams",
    "RuntimeInfo",
    "SandboxMode",
    "ServerInfo",
    "SessionCloseParams",
    "SessionCloseResult",
    "SessionClosed",
    "SessionClosedReason",
    "SessionInfo",
    "SessionListParams",
    "SessionListResult",
    "SessionOpenParams",
    "SessionOpenResult",
    "SessionRef",
    "SessionSource",
    "SessionState",
    "SessionTask",
    "Status",
    "StatusKind",
    "StdioTag",
    "SteerParams",
    "SteerResult",
    "Subagent",
    "TaskError",
    "TaskErrorKind",
    "TaskFinished",
    "TaskStarted",
    "TextData",
    "ToolCallRecord",
    "ToolCompleted",
    "ToolOutputDelta",
    "ToolRequested",
    "ToolStatus",
    "Usage",
    "VendorEvent",
    "VendorTurn",
]

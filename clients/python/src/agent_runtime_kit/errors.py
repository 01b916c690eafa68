"""What can go wrong talking to the sidecar."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._types import ERROR_CODES


class AgentRuntimeKitError(Exception):
    """Base of every error this package raises."""


class SidecarNotFound(AgentRuntimeKitError, FileNotFoundError):
    """No ``agent-runtime-kit`` binary: not passed, not in ``AGENT_RUNTIME_KIT_BIN``, not on PATH."""


class SidecarExited(AgentRuntimeKitError):
    """The sidecar process ended (crashed, was killed, or was closed) while a call was waiting.

    Every pending call and every unfinished run fails with this error; none is left hanging.
    """

    def __init__(self, returncode: Optional[int], stderr_tail: List[str], detail: str = ""):
        self.returncode = returncode
        self.stderr_tail = list(stderr_tail)
        how = (
            "was killed by signal %d" % -returncode
            if returncode is not None and returncode < 0
            else "exited with status %s" % returncode
            if returncode is not None
            else "closed its output"
        )
        msg = f"the agent-runtime-kit sidecar {how}"
        if detail:
            msg += f" ({detail})"
        if self.stderr_tail:
            msg += "; last stderr lines:\n  " + "\n  ".join(self.stderr_tail[-10:])
        super().__init__(msg)


class ProtocolError(AgentRuntimeKitError):
    """The sidecar sent something this client cannot understand."""


class RpcError(AgentRuntimeKitError):
    """A JSON-RPC error reply: the sidecar refused the request before anything started.

    ``code`` is the JSON-RPC code (e.g. -32010), ``kind`` its stable name (``unknownRuntime``),
    ``data`` the error's details (for -32011 the runtime's ``Diagnosis``), ``remedy`` what to
    install or set when the sidecar says (``data["remedy"]``). ``str(error)`` ends with it as a
    ``fix: …`` line, so a log or a traceback shows the way out.
    """

    def __init__(self, code: int, message: str, data: Any = None):
        self.code = code
        self.message = message
        self.data: Dict[str, Any] = data if isinstance(data, dict) else {}
        self.kind: str = self.data.get("kind") or _KIND_BY_CODE.get(code, "")
        remedy = self.data.get("remedy")
        self.remedy: Optional[str] = remedy if isinstance(remedy, str) and remedy else None
        text = f"{message} ({code} {self.kind})".rstrip()
        if self.remedy:
            text += f"\nfix: {self.remedy}"
        super().__init__(text)


class SessionBusy(RpcError):
    """-32015 with ``kind: "sessionBusy"``: a turn into a live session whose turn is running
    (``data["sessionId"]``). Wait for the running turn (or cancel it), then send again."""


class SessionNotFound(RpcError):
    """-32017: ``session/close`` of a session that is not live (``data["sessionId"]``)."""


def rpc_error(code: int, message: str, data: Any = None) -> RpcError:
    """The RpcError for a reply, as its most specific subclass (by ``data.kind``)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "sessionBusy":
        return SessionBusy(code, message, data)
    if kind == "sessionNotFound" or code == ERROR_CODES["sessionNotFound"]:
        return SessionNotFound(code, message, data)
    return RpcError(code, message, data)


# The first kind of a code wins: -32015 without a `data.kind` is the task limit (`busy`).
_KIND_BY_CODE: Dict[int, str] = {}
for _kind, _code in ERROR_CODES.items():
    _KIND_BY_CODE.setdefault(_code, _kind)

# The codes, by name, for `except RpcError as e: if e.code == UNKNOWN_RUNTIME: ...`.
PARSE_ERROR = ERROR_CODES["parseError"]
INVALID_REQUEST = ERROR_CODES["invalidRequest"]
METHOD_NOT_FOUND = ERROR_CODES["methodNotFound"]
INVALID_PARAMS = ERROR_CODES["invalidParams"]
INTERNAL_ERROR = ERROR_CODES["internalError"]
UNKNOWN_RUNTIME = ERROR_CODES["unknownRuntime"]
RUNTIME_UNAVAILABLE = ERROR_CODES["runtimeUnavailable"]
UNSUPPORTED_TASK_INPUT = ERROR_CODES["unsupportedTaskInput"]
TASK_NOT_FOUND = ERROR_CODES["taskNotFound"]
DUPLICATE_TASK_ID = ERROR_CODES["duplicateTaskId"]
BUSY = ERROR_CODES["busy"]
SHUTTING_DOWN = ERROR_CODES["shuttingDown"]
SESSION_BUSY = ERROR_CODES["sessionBusy"]
SESSION_NOT_FOUND = ERROR_CODES["sessionNotFound"]

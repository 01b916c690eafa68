"""Python client for the agent-runtime-kit sidecar.

Run agentic coding tasks through Claude Code, Codex, Antigravity (or the built-in ``fixture``
runtime) with one protocol::

    import asyncio
    from agent_runtime_kit import AgentTask, Client

    async def main():
        async with Client() as ark:
            run = ark.run(AgentTask("Explain this repository", working_directory="."), runtime="fixture")
            async for event in run:
                if event.type == "agent.output.delta":
                    print(event.data.text, end="", flush=True)
            result = await run
            print("\\n", result.finish_reason, result.usage)

    asyncio.run(main())
"""

from ._types import *  # noqa: F401,F403 - the generated protocol types are the public surface
from ._types import __all__ as _types_all
from .client import (
    ApprovalDecision,
    ApprovalHandler,
    Client,
    QuestionAnswers,
    QuestionHandler,
    Run,
    find_binary,
)
from .session import Session, SessionClosedHandler
from .errors import (
    BUSY,
    DUPLICATE_TASK_ID,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RUNTIME_UNAVAILABLE,
    SESSION_BUSY,
    SESSION_NOT_FOUND,
    SHUTTING_DOWN,
    TASK_NOT_FOUND,
    UNKNOWN_RUNTIME,
    UNSUPPORTED_TASK_INPUT,
    AgentRuntimeKitError,
    ProtocolError,
    RpcError,
    SessionBusy,
    SessionNotFound,
    SidecarExited,
    SidecarNotFound,
)

__version__ = "0.1.0"

__all__ = [
    *_types_all,
    "ApprovalDecision",
    "ApprovalHandler",
    "Client",
    "QuestionAnswers",
    "QuestionHandler",
    "Run",
    "Session",
    "SessionClosedHandler",
    "find_binary",
    "AgentRuntimeKitError",
    "ProtocolError",
    "RpcError",
    "SidecarExited",
    "SidecarNotFound",
    "SessionBusy",
    "SessionNotFound",
    "PARSE_ERROR",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "INVALID_PARAMS",
    "INTERNAL_ERROR",
    "UNKNOWN_RUNTIME",
    "RUNTIME_UNAVAILABLE",
    "UNSUPPORTED_TASK_INPUT",
    "TASK_NOT_FOUND",
    "DUPLICATE_TASK_ID",
    "BUSY",
    "SHUTTING_DOWN",
    "SESSION_BUSY",
    "SESSION_NOT_FOUND",
]

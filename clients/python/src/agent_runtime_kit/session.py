"""A live session: one vendor conversation kept alive between turns.

::

    async with ark.session("claude", SessionTask(working_directory=".")) as s:
        first = await s.send("My name is Ada.")
        run = s.send("What is my name?")       # a Run, like Client.run: events, then the result
        async for event in run: ...
        print((await run).output)
    # leaving the block closes the session (the vendor process ends)

The session's task is the template of every turn: ``send(goal, **overrides)`` sends it with the
goal and the overrides (``model``, ``permissions``, ``max_turns``... where the runtime can change
them per turn) and ``task.session = {resume: <id>, keepAlive: true}``. While the session is live,
the turn runs in its vendor process; if the session ended (idle timeout, vendor exit), the next
turn resumes it cold and keeps it alive again, as the protocol's ``resume`` does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Optional, Union

from ._types import (
    AgentResult,
    AgentTask,
    RunOptions,
    SessionClosed,
    SessionRef,
    SessionTask,
    SteerResult,
)
from .errors import TASK_NOT_FOUND, RpcError, SessionBusy

if TYPE_CHECKING:
    from .client import ApprovalHandler, Client, Run

SessionClosedHandler = Callable[[SessionClosed], Union[None, Awaitable[None]]]
"""Called with each ``session/closed`` notification (exceptions are ignored)."""


class Session:
    """A live session of one runtime; made by :meth:`Client.session`, opened by ``async with``
    (or ``await session.open()``)."""

    def __init__(
        self,
        client: "Client",
        runtime: str,
        task: Union[AgentTask, SessionTask, None],
        *,
        prewarm: Optional[bool],
        idle_timeout_ms: Optional[int],
        options: Optional[RunOptions],
        on_approval: Optional["ApprovalHandler"],
        on_closed: Optional[SessionClosedHandler],
    ):
        self.runtime = runtime
        self._client = client
        # The template of every turn, without a goal or a session reference of its own.
        # A SessionTask (no goal needed) or an AgentTask, as the template of every turn.
        base = AgentTask.from_wire({**task.to_wire(), "goal": ""}) if task is not None else AgentTask(goal="")
        if base.session is not None and idle_timeout_ms is None:
            idle_timeout_ms = base.session.idle_timeout_ms
        base.goal = ""
        base.session = None
        self._task = base
        self._idle_timeout_ms = idle_timeout_ms
        self._prewarm = prewarm
        self._options = options
        self._on_approval = on_approval
        self._on_closed = on_closed
        self._id: Optional[str] = None
        self._opened = False
        self._turn: Optional["Run"] = None
        self._closed: asyncio.Future[SessionClosed] = asyncio.get_running_loop().create_future()
        self.prewarmed = False
        """True when the session was opened with ``session/open`` (the vendor started before the
        first turn); False when the first ``send`` opens it (``keepAlive``)."""

    # ---- state -----------------------------------------------------------------------------------
    @property
    def session_id(self) -> Optional[str]:
        """The vendor's session id: known once opened (prewarm) or once the first turn ended."""
        return self._id

    @property
    def closed(self) -> "asyncio.Future[SessionClosed]":
        """Resolves with the ``session/closed`` notification (``reason``: ``closed``, ``idle``,
        ``exited``, ``shutdown``) when the live session ends; fails with SidecarExited if the
        sidecar dies first. A later ``send`` makes the session live again, with a new future."""
        return self._closed

    @property
    def busy(self) -> bool:
        """True while a turn sent through this object is running."""
        return self._turn is not None and not self._turn.done()

    # ---- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> "Session":
        """Opens the session: ``session/open`` (the vendor starts now) when the runtime declares
        ``prewarm`` (or ``prewarm=True`` was asked), else nothing until the first ``send``, which
        runs with ``keepAlive``. A runtime without live sessions refuses with RpcError -32012."""
        if self._opened:
            return self
        prewarm = self._prewarm
        if prewarm is None:
            caps = await self._client.capabilities(self.runtime)
            info = next((r for r in caps.runtimes if r.name == self.runtime), None)
            prewarm = info is not None and info.capabilities.prewarm
        if prewarm:
            opening = self._turn_task("", keep_alive=False)
            opening.session = (
                SessionRef(idle_timeout_ms=self._idle_timeout_ms) if self._idle_timeout_ms else None
            )
            opened = await self._client.open_session(self.runtime, opening, options=self._options)
            self._learn_id(opened.session_id)
            self.prewarmed = True
        self._opened = True
        return self

    async def __aenter__(self) -> "Session":
        return await self.open()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the live session (a running turn is cancelled first, by the sidecar) and returns
        once its vendor process is gone. Closing a session that already ended is a no-op."""
        turn = self._turn
        if self._id is None and turn is not None and not turn.done():
            # The first keepAlive turn: its session id comes with its result.
            await turn.cancel()
            try:
                await turn
            except Exception:  # noqa: BLE001 - a failed turn leaves no session to close
                pass
        if self._id is None or self._closed.done():
            return
        try:
            await self._client.close_session(self._id)
        except RpcError as e:
            if e.kind != "sessionNotFound":
                raise

    # ---- turns -----------------------------------------------------------------------------------
    def send(
        self,
        goal: str,
        *,
        task_id: Optional[str] = None,
        on_approval: Optional["ApprovalHandler"] = None,
        **overrides: Any,
    ) -> "Run":
        """Runs the next turn and returns its :class:`Run` at once (iterate it for events, await
        it for the result), as :meth:`Client.run` does. ``overrides`` are AgentTask fields for
        this turn only (``model=...``, ``permissions=...``). A turn while another one of this
        session runs fails with :class:`SessionBusy` (-32015)."""
        if not self._opened:
            raise RuntimeError("open the session first: `async with ark.session(...) as s`")
        task = self._turn_task(goal, **overrides)
        if self._id is None and self.busy:
            # The sidecar would open a second session: refuse as it refuses a busy live one.
            run = self._client._refused_run(
                self.runtime,
                SessionBusy(
                    -32015,
                    "the session's first turn is still running",
                    {"kind": "sessionBusy", "sessionId": None},
                ),
            )
            return run
        run = self._client.run(
            task,
            runtime=self.runtime,
            task_id=task_id,
            options=self._options,
            on_approval=on_approval or self._on_approval,
        )
        if not (self.busy and self._id is not None):
            self._turn = run
        run._result.add_done_callback(self._turn_ended)
        return run

    async def steer(self, text: str) -> SteerResult:
        """Adds ``text`` to the running turn as user input (``accepted: False`` when the vendor
        already has 16 texts waiting). No running turn: RpcError -32013; a runtime without
        ``steer``: -32012."""
        turn = self._turn
        if turn is None or turn.done():
            raise RpcError(
                TASK_NOT_FOUND,
                "no turn of this session is running",
                {"kind": "taskNotFound", "taskId": turn.task_id if turn else None},
            )
        return await self._client.steer(turn.task_id, text)

    # ---- internals -------------------------------------------------------------------------------
    def _turn_task(self, goal: str, *, keep_alive: bool = True, **overrides: Any) -> AgentTask:
        task = dataclasses.replace(self._task, goal=goal, **overrides)
        task.session = SessionRef(
            resume=self._id, keep_alive=keep_alive, idle_timeout_ms=self._idle_timeout_ms
        )
        return task

    def _turn_ended(self, fut: "asyncio.Future[AgentResult]") -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        result = fut.result()
        if result.session_id and result.session_live:
            if self._closed.done():
                # Resumed cold and kept: live again, with a new close to wait for.
                self._closed = asyncio.get_running_loop().create_future()
            self._learn_id(result.session_id)

    def _learn_id(self, session_id: str) -> None:
        if self._id is not None and self._id != session_id:
            self._client._forget_session(self._id, self)
        self._id = session_id
        self._client._remember_session(session_id, self)

    def _ended(self, note: SessionClosed) -> None:
        if not self._closed.done():
            self._closed.set_result(note)
        if self._on_closed is not None:
            try:
                answer = self._on_closed(note)
                if inspect.isawaitable(answer):
                    asyncio.ensure_future(answer)
            except Exception:  # noqa: BLE001 - a host callback must not stop the reader
                pass

    def _fail(self, error: BaseException) -> None:
        if not self._closed.done():
            self._closed.set_exception(error)
            self._closed.exception()  # retrieved: a host that never awaits it gets no warning

"""The sidecar client: spawn ``agent-runtime-kit``, talk JSON-RPC over its stdio.

Framing is one JSON message per line, split on LF bytes only (lines of many megabytes are fine);
stderr is always drained (into a bounded tail, optionally also to a callback). If the sidecar exits,
every pending call and unfinished run fails with :class:`SidecarExited` instead of hanging.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import os
import shutil
import sysconfig
import uuid
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Deque,
    Dict,
    Generator,
    List,
    Mapping,
    Optional,
    Sequence,
    Union,
)

from ._types import (
    TERMINAL_EVENTS,
    AgentResult,
    AgentTask,
    ApprovalParams,
    ApprovalResponse,
    CancelResult,
    CapabilitiesResult,
    Diagnosis,
    DiagnoseResult,
    Event,
    InputRequestParams,
    InputResponse,
    RunOptions,
    SessionClosed,
    SessionCloseResult,
    SessionInfo,
    SessionListResult,
    SessionOpenResult,
    SessionTask,
    SteerResult,
)
from ._wire import to_wire
from .errors import (
    TASK_NOT_FOUND,
    ProtocolError,
    RpcError,
    SidecarExited,
    SidecarNotFound,
    rpc_error,
)
from .session import Session, SessionClosedHandler

BIN_ENV = "AGENT_RUNTIME_KIT_BIN"
BIN_NAME = "agent-runtime-kit"

ApprovalDecision = Union[ApprovalResponse, bool, str, Mapping[str, Any]]
"""What an approval handler returns: an ApprovalResponse, True/False, a decision name
("allow", "allowForSession", "deny", "abort"), or a dict in the wire shape
(``{"decision": "allow", "updatedInput": {...}}``)."""

ApprovalHandler = Callable[[ApprovalParams], Union[ApprovalDecision, Awaitable[ApprovalDecision]]]
"""Called for each ``approval/request`` (tasks with ``permissions.approvals = "host"``)."""

QuestionAnswers = Union[InputResponse, Mapping[str, Any]]
"""What a question handler returns: an InputResponse, ``{"answers": {id: answer}}``, or the
answers themselves (``{id: "label"}``; a multi-select's answer is a list of labels)."""

QuestionHandler = Callable[
    [InputRequestParams], Union[QuestionAnswers, Awaitable[QuestionAnswers]]
]
"""Called for each ``input/request``: the agent's questions to the user. Raise to decline them
(the agent is told nobody answered)."""

_DECISIONS = ("allow", "allowForSession", "deny", "abort")

_READ_CHUNK = 1 << 16
_END = object()


def _bundled_binary() -> Optional[str]:
    """The binary the ``agent-runtime-kit`` wheel installs into this environment's scripts
    directory (``<venv>/bin``, or the user scheme's for ``pip install --user``), as ruff and uv
    find theirs: it need not be on PATH (a venv used without activating it)."""
    exe = BIN_NAME + (".exe" if os.name == "nt" else "")
    schemes = [sysconfig.get_default_scheme()]
    user = sysconfig.get_preferred_scheme("user")
    if user not in schemes:
        schemes.append(user)
    for scheme in schemes:
        try:
            scripts = sysconfig.get_path("scripts", scheme)
        except KeyError:
            continue
        candidate = os.path.join(scripts, exe)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_binary(binary: Optional[Union[str, "os.PathLike[str]"]] = None) -> str:
    """The sidecar binary: the argument, else ``$AGENT_RUNTIME_KIT_BIN``, else the one the
    ``agent-runtime-kit`` wheel installed in this Python environment, else ``agent-runtime-kit``
    on PATH."""
    if binary is not None:
        path = os.fspath(binary)
        if not os.path.exists(path):
            raise SidecarNotFound(f"agent-runtime-kit binary not found at {path}")
        return path
    env = os.environ.get(BIN_ENV)
    if env:
        if not os.path.exists(env):
            raise SidecarNotFound(f"{BIN_ENV}={env} does not exist")
        return env
    found = _bundled_binary() or shutil.which(BIN_NAME)
    if found:
        return found
    raise SidecarNotFound(
        f"cannot find {BIN_NAME}: `pip install agent-runtime-kit` installs it with this client; "
        f"or pass binary=..., set {BIN_ENV}, or put it on PATH"
    )


class Client:
    """One sidecar process and the calls to it.

    ::

        async with Client() as ark:
            run = ark.run(AgentTask("Fix the failing test", working_directory="."), runtime="claude")
            async for event in run:
                print(event.type)
            result = await run
    """

    def __init__(
        self,
        binary: Optional[Union[str, "os.PathLike[str]"]] = None,
        *,
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[Union[str, "os.PathLike[str]"]] = None,
        on_approval: Optional[ApprovalHandler] = None,
        on_question: Optional[QuestionHandler] = None,
        on_stderr: Optional[Callable[[str], None]] = None,
        stderr_tail_lines: int = 200,
        on_session_closed: Optional[SessionClosedHandler] = None,
    ):
        """
        binary: the sidecar executable (default: ``$AGENT_RUNTIME_KIT_BIN``, then PATH).
        args: extra command-line flags (``--claude-path``, ``--log-level``, ``--record DIR``...).
        env: the sidecar's whole environment (default: this process's).
        on_approval: the default approval handler (a run can pass its own); without one every
            approval is denied.
        on_question: the default handler of the agent's questions (``input/request``; a run can
            pass its own); without one questions are declined.
        on_stderr: called with each stderr line of the sidecar (its logs); exceptions are ignored.
        on_session_closed: called with every ``session/closed`` notification, of any session
            (a :class:`Session` also has its own ``closed`` future and ``on_closed``).
        """
        self._binary = binary
        self._args = list(args)
        self._env = dict(env) if env is not None else None
        self._cwd = os.fspath(cwd) if cwd is not None else None
        self._on_approval = on_approval
        self._on_question = on_question
        self._on_stderr = on_stderr
        self._stderr: Deque[str] = collections.deque(maxlen=stderr_tail_lines)
        self._proc: Optional[asyncio.subprocess.Process] = None
        self._reader: Optional[asyncio.Task[None]] = None
        self._stderr_reader: Optional[asyncio.Task[None]] = None
        self._write_lock = asyncio.Lock()
        self._next_id = 0
        self._pending: Dict[int, asyncio.Future[Any]] = {}
        self._runs: Dict[str, Run] = {}
        self._on_session_closed = on_session_closed
        self._sessions: Dict[str, Session] = {}
        # session/closed of ids no Session object knows yet (e.g. it ended as its first turn's
        # result was on its way): handed over when one learns the id. Bounded.
        self._early_closed: "collections.OrderedDict[str, SessionClosed]" = collections.OrderedDict()
        self._handlers: set[asyncio.Task[Any]] = set()
        # Host requests being answered, by request id: `$/cancelRequest` cancels the handler.
        self._answering: Dict[str, asyncio.Task[None]] = {}
        self._exited: Optional[SidecarExited] = None
        self._closing = False

    # ---- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> "Client":
        """Spawns the sidecar. ``async with Client()`` does this for you."""
        if self._proc is not None:
            return self
        binary = find_binary(self._binary)
        self._proc = await asyncio.create_subprocess_exec(
            binary,
            *self._args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
            cwd=self._cwd,
        )
        self._stderr_reader = asyncio.ensure_future(self._drain_stderr())
        self._reader = asyncio.ensure_future(self._read_stdout())
        return self

    async def __aenter__(self) -> "Client":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self, timeout: float = 30.0) -> None:
        """Closes the sidecar's stdin (it cancels running tasks, answers their runs with
        ``finishReason: "cancelled"`` and exits), waits up to ``timeout`` seconds, then kills it."""
        proc = self._proc
        if proc is None or self._closing:
            if self._reader is not None:
                await asyncio.shield(self._reader)
            return
        self._closing = True
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except asyncio.TimeoutError:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            await self._reader
        for t in list(self._handlers):
            t.cancel()

    @property
    def pid(self) -> Optional[int]:
        """The sidecar's process id (None before start)."""
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> Optional[int]:
        return self._proc.returncode if self._proc else None

    @property
    def stderr_tail(self) -> List[str]:
        """The last lines the sidecar wrote to stderr."""
        return list(self._stderr)

    # ---- methods ---------------------------------------------------------------------------------
    async def request(self, method: str, params: Any = None) -> Any:
        """Sends any JSON-RPC request and returns its raw ``result`` (raises RpcError on error)."""
        return await self._call(method, {} if params is None else to_wire(params))

    async def capabilities(self, runtime: Optional[str] = None) -> CapabilitiesResult:
        """The protocol version, server version and every runtime's capabilities."""
        params = {"runtime": runtime} if runtime else {}
        return CapabilitiesResult.from_wire(await self._call("capabilities", params))

    async def diagnose(
        self, runtime: Optional[str] = None, *, model: Optional[str] = None, probe: bool = False
    ) -> List[Diagnosis]:
        """Whether each runtime (or the one named) is ready, and if not why and what to do.

        An unknown runtime name raises RpcError with code -32010 (``UNKNOWN_RUNTIME``).
        """
        params: Dict[str, Any] = {}
        if runtime:
            params["runtime"] = runtime
        if model:
            params["model"] = model
        if probe:
            params["probe"] = True
        return DiagnoseResult.from_wire(await self._call("diagnose", params)).runtimes

    def run(
        self,
        task: Union[AgentTask, str],
        *,
        runtime: str,
        task_id: Optional[str] = None,
        options: Optional[RunOptions] = None,
        on_approval: Optional[ApprovalHandler] = None,
        on_question: Optional[QuestionHandler] = None,
    ) -> "Run":
        """Starts a task and returns its :class:`Run` at once.

        Iterate the run (``async for event in run``) for its events; ``await run`` for its
        :class:`AgentResult`. The task id is chosen here (a UUID unless given), so
        ``run.cancel()`` works even before the first event. Refusals (unknown runtime,
        unsupported input, ...) raise :class:`RpcError` from the iteration and the await.
        """
        if isinstance(task, str):
            task = AgentTask(goal=task)
        task_id = task_id or str(uuid.uuid4())
        params: Dict[str, Any] = {"taskId": task_id, "runtime": runtime, "task": to_wire(task)}
        if options is not None:
            params["options"] = to_wire(options)
        run = Run(self, task_id, runtime, on_approval, on_question)
        self._runs[task_id] = run
        run._start(self._call("run", params))
        return run

    async def cancel(self, task_id: str, *, wait_admitted: float = 5.0) -> CancelResult:
        """Cancels a task: ``state`` is ``cancelling`` (its run ends with ``finishReason:
        "cancelled"``) or ``finished`` (it had already ended).

        A cancel sent right after ``run`` can reach the sidecar before the task is admitted; for a
        run started by this client, "no such task" is then retried (for up to ``wait_admitted``
        seconds) until the task is known or its run has ended.
        """
        run = self._runs.get(task_id)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + wait_admitted
        while True:
            try:
                return CancelResult.from_wire(await self._call("cancel", {"taskId": task_id}))
            except RpcError as e:
                if e.code != TASK_NOT_FOUND or run is None or loop.time() > give_up:
                    raise
                if run.done():
                    return CancelResult(task_id=task_id, state="finished")
                await asyncio.sleep(0.02)

    # ---- live sessions ---------------------------------------------------------------------------
    def session(
        self,
        runtime: str,
        task: Union[AgentTask, SessionTask, None] = None,
        *,
        prewarm: Optional[bool] = None,
        idle_timeout_ms: Optional[int] = None,
        options: Optional[RunOptions] = None,
        on_approval: Optional[ApprovalHandler] = None,
        on_closed: Optional[SessionClosedHandler] = None,
    ) -> Session:
        """A live session of ``runtime`` (``async with ark.session(...) as s``): ``task`` (no goal
        needed) is the template of every turn; ``s.send(goal)`` runs a turn, ``s.steer(text)``
        adds to the running one, ``s.close()`` ends it. ``prewarm`` (default: what the runtime
        declares) opens it with ``session/open`` so the vendor starts before the first turn."""
        return Session(
            self,
            runtime,
            task,
            prewarm=prewarm,
            idle_timeout_ms=idle_timeout_ms,
            options=options,
            on_approval=on_approval,
            on_closed=on_closed,
        )

    async def open_session(
        self,
        runtime: str,
        task: Union[AgentTask, SessionTask, None] = None,
        *,
        options: Optional[RunOptions] = None,
    ) -> SessionOpenResult:
        """``session/open``: starts the vendor and answers once it is ready for a first turn.
        Most hosts want :meth:`session` instead, which also runs the turns."""
        params: Dict[str, Any] = {"runtime": runtime, "task": to_wire(task or SessionTask())}
        params["task"].pop("goal", None)
        if options is not None:
            params["options"] = to_wire(options)
        return SessionOpenResult.from_wire(await self._call("session/open", params))

    async def close_session(self, session_id: str) -> SessionCloseResult:
        """``session/close``: answers once the vendor process is gone. Unknown (or already ended)
        id: :class:`SessionNotFound` (-32017)."""
        raw = await self._call("session/close", {"sessionId": session_id})
        return SessionCloseResult.from_wire(raw)

    async def sessions(self) -> List[SessionInfo]:
        """``session/list``: the live sessions (``starting``, ``idle``, ``busy``) of this sidecar."""
        return SessionListResult.from_wire(await self._call("session/list", {})).sessions

    async def steer(self, task_id: str, text: str, *, wait_admitted: float = 5.0) -> SteerResult:
        """Adds ``text`` to a running task as user input. As for :meth:`cancel`, "no such task"
        right after ``run`` is retried until the task is admitted or its run has ended."""
        run = self._runs.get(task_id)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + wait_admitted
        while True:
            try:
                raw = await self._call("steer", {"taskId": task_id, "text": text})
                return SteerResult.from_wire(raw)
            except RpcError as e:
                if e.code != TASK_NOT_FOUND or run is None or run.done() or loop.time() > give_up:
                    raise
                await asyncio.sleep(0.02)

    def _remember_session(self, session_id: str, session: Session) -> None:
        self._sessions[session_id] = session
        early = self._early_closed.pop(session_id, None)
        if early is not None:
            session._ended(early)

    def _forget_session(self, session_id: str, session: Session) -> None:
        if self._sessions.get(session_id) is session:
            del self._sessions[session_id]

    def _session_closed(self, raw: Any) -> None:
        try:
            note = SessionClosed.from_wire(raw)
        except ValueError as e:
            self._stderr.append(f"[client] malformed session/closed: {e}")
            return
        session = self._sessions.pop(note.session_id, None)
        if session is not None:
            session._ended(note)
        else:
            self._early_closed[note.session_id] = note
            while len(self._early_closed) > 64:
                self._early_closed.popitem(last=False)
        if self._on_session_closed is not None:
            try:
                answer = self._on_session_closed(note)
                if inspect.isawaitable(answer):
                    asyncio.ensure_future(answer)
            except Exception:  # noqa: BLE001 - a host callback must not stop the reader
                pass

    def _refused_run(self, runtime: str, error: BaseException) -> "Run":
        """A Run that failed before reaching the sidecar (refused by the client itself)."""
        run = Run(self, str(uuid.uuid4()), runtime, None)
        run._fail(error)
        return run

    # ---- transport -------------------------------------------------------------------------------
    def _check_alive(self) -> None:
        if self._exited is not None:
            raise self._exited
        if self._proc is None:
            raise RuntimeError("the client is not started: use `async with Client()` or `await client.start()`")

    async def _call(self, method: str, params: Any) -> Any:
        self._check_alive()
        self._next_id += 1
        rid = self._next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        try:
            await self._write({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
            return await fut
        finally:
            self._pending.pop(rid, None)

    async def _write(self, message: Dict[str, Any]) -> None:
        # json.dumps escapes control characters, so the line has no raw newline inside.
        data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        async with self._write_lock:
            self._check_alive()
            try:
                proc.stdin.write(data)
                await proc.stdin.drain()
            except (BrokenPipeError, ConnectionResetError) as e:
                await self._wait_exited(f"writing failed: {e}")
                raise self._exited or SidecarExited(self.returncode, self.stderr_tail) from None

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        out = self._proc.stdout
        buf = bytearray()
        detail = ""
        try:
            while True:
                chunk = await out.read(_READ_CHUNK)
                if not chunk:
                    break
                start = len(buf)
                buf += chunk
                # Split on LF bytes only: U+2028/U+2029 and lone CRs are not line ends.
                pos = buf.find(b"\n", start)
                if pos < 0:
                    continue
                cut = buf.rfind(b"\n") + 1
                lines = bytes(buf[:cut]).split(b"\n")[:-1]
                del buf[:cut]
                for line in lines:
                    self._on_line(line)
        except Exception as e:  # noqa: BLE001 - whatever broke the reader, fail the calls
            detail = f"reading its output failed: {e!r}"
        await self._wait_exited(detail or "its output closed")

    async def _wait_exited(self, detail: str) -> None:
        if self._exited is not None:
            return
        proc = self._proc
        assert proc is not None
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except asyncio.TimeoutError:
            pass
        if self._stderr_reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._stderr_reader), 2)
            except asyncio.TimeoutError:
                pass
        if self._exited is not None:
            return
        self._exited = SidecarExited(
            proc.returncode,
            list(self._stderr),
            "" if self._closing and proc.returncode == 0 else detail,
        )
        for fut in list(self._pending.values()):
            if not fut.done():
                fut.set_exception(self._exited)
        self._pending.clear()
        for run in list(self._runs.values()):
            run._fail(self._exited)
        for session in list(self._sessions.values()):
            session._fail(self._exited)

    async def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        err = self._proc.stderr
        buf = bytearray()
        while True:
            chunk = await err.read(_READ_CHUNK)
            if not chunk:
                break
            buf += chunk
            while True:
                pos = buf.find(b"\n")
                if pos < 0:
                    # A very long line without LF: keep only a bounded part.
                    if len(buf) > 1 << 20:
                        self._stderr_line(bytes(buf))
                        buf.clear()
                    break
                self._stderr_line(bytes(buf[:pos]))
                del buf[: pos + 1]
        if buf:
            self._stderr_line(bytes(buf))

    def _stderr_line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        self._stderr.append(line)
        if self._on_stderr is not None:
            try:
                self._on_stderr(line)
            except Exception:  # noqa: BLE001 - a host callback must not stop the draining
                pass

    def _on_line(self, raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            msg = json.loads(raw)
        except ValueError:
            self._stderr.append(f"[client] unparsable line from the sidecar: {raw[:200]!r}")
            return
        if isinstance(msg, list):
            for m in msg:
                self._on_message(m)
        else:
            self._on_message(msg)

    def _on_message(self, msg: Any) -> None:
        if not isinstance(msg, dict):
            return
        method = msg.get("method")
        if method is not None and "id" in msg:
            rid = msg["id"]
            t = asyncio.ensure_future(self._answer_request(msg))
            self._handlers.add(t)
            self._answering[_key(rid)] = t

            def forget(t: asyncio.Task[Any], rid: Any = rid) -> None:
                self._handlers.discard(t)
                if self._answering.get(_key(rid)) is t:
                    del self._answering[_key(rid)]

            t.add_done_callback(forget)
        elif method == "$/cancelRequest":
            # The sidecar withdrew a request (the agent no longer needs the answer): stop the
            # handler; nothing is sent back.
            rid = (msg.get("params") or {}).get("id")
            pending = self._answering.pop(_key(rid), None)
            if pending is not None:
                pending.cancel()
        elif method == "event":
            params = msg.get("params") or {}
            run = self._runs.get(params.get("taskId", ""))
            if run is not None:
                try:
                    run._push(Event.from_wire(params))
                except ValueError as e:
                    run._fail(ProtocolError(f"malformed event: {e}"))
        elif method == "session/closed":
            self._session_closed(msg.get("params") or {})
        elif method is None:
            rid = msg.get("id")
            fut = self._pending.get(rid) if isinstance(rid, int) else None
            if fut is None or fut.done():
                return
            if "error" in msg:
                err = msg["error"] or {}
                fut.set_exception(
                    rpc_error(int(err.get("code", 0)), str(err.get("message", "")), err.get("data"))
                )
            else:
                fut.set_result(msg.get("result"))

    async def _answer_request(self, msg: Dict[str, Any]) -> None:
        rid = msg["id"]
        method = msg.get("method")
        reply: Dict[str, Any]
        if method == "approval/request":
            decision = await self._decide(msg.get("params") or {})
            reply = {"jsonrpc": "2.0", "id": rid, "result": to_wire(decision)}
        elif method == "input/request":
            try:
                answers = await self._answer_questions(msg.get("params") or {})
                reply = {"jsonrpc": "2.0", "id": rid, "result": to_wire(answers)}
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - declined: the agent is told why
                reply = {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "error": {"code": -32000, "message": f"the host declined the questions: {e}"},
                }
        else:
            reply = {
                "jsonrpc": "2.0",
                "id": rid,
                "error": {"code": -32601, "message": f"unknown method {method!r}"},
            }
        try:
            await self._write(reply)
        except Exception:  # noqa: BLE001 - the sidecar is gone; its runs fail on their own
            pass

    async def _decide(self, raw: Dict[str, Any]) -> ApprovalResponse:
        try:
            params = ApprovalParams.from_wire(raw)
        except ValueError as e:
            return ApprovalResponse(decision="deny", message=f"malformed approval request: {e}")
        run = self._runs.get(params.task_id)
        handler = (run._on_approval if run is not None else None) or self._on_approval
        if handler is None:
            return ApprovalResponse(decision="deny", message="the host has no approval handler")
        try:
            answer = handler(params)
            if inspect.isawaitable(answer):
                answer = await answer
            return _as_response(answer)
        except Exception as e:  # noqa: BLE001 - a failing handler denies, it does not hang
            return ApprovalResponse(decision="deny", message=f"approval handler failed: {e!r}")


    async def _answer_questions(self, raw: Dict[str, Any]) -> InputResponse:
        params = InputRequestParams.from_wire(raw)
        run = self._runs.get(params.task_id)
        handler = (run._on_question if run is not None else None) or self._on_question
        if handler is None:
            raise RuntimeError("the host has no question handler")
        answer = handler(params)
        if inspect.isawaitable(answer):
            answer = await answer
        if isinstance(answer, InputResponse):
            return answer
        if isinstance(answer, Mapping):
            answers = answer.get("answers", answer)
            if isinstance(answers, Mapping):
                return InputResponse.from_wire({"answers": dict(answers)})
        raise TypeError(f"a question handler must return answers, not {answer!r}")


def _key(rid: Any) -> str:
    """A request id as a dict key (ids are numbers or strings; JSON keeps them apart)."""
    return json.dumps(rid)


def _as_response(answer: Any) -> ApprovalResponse:
    if isinstance(answer, ApprovalResponse):
        return answer
    if isinstance(answer, bool):
        return ApprovalResponse(decision="allow" if answer else "deny")
    if answer in _DECISIONS:
        return ApprovalResponse(decision=answer)
    if isinstance(answer, Mapping):
        return ApprovalResponse.from_wire(dict(answer))
    raise TypeError(f"an approval handler must return a decision ({_DECISIONS}), not {answer!r}")


class Run:
    """A running task: an async iterator of its events and an awaitable of its result."""

    def __init__(
        self,
        client: Client,
        task_id: str,
        runtime: str,
        on_approval: Optional[ApprovalHandler],
        on_question: Optional[QuestionHandler] = None,
    ):
        self.task_id = task_id
        self.runtime = runtime
        self._client = client
        self._on_approval = on_approval
        self._on_question = on_question
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._result: asyncio.Future[AgentResult] = asyncio.get_running_loop().create_future()
        self._iterating = False

    def _start(self, call: Awaitable[Any]) -> None:
        async def go() -> None:
            try:
                raw = await call
                self._finish(AgentResult.from_wire(raw))
            except BaseException as e:  # noqa: BLE001 - handed to whoever awaits the run
                self._fail(e)

        self._task = asyncio.ensure_future(go())

    def _push(self, event: Event) -> None:
        self._events.put_nowait(event)

    def _finish(self, result: AgentResult) -> None:
        if not self._result.done():
            self._result.set_result(result)
        self._events.put_nowait(_END)
        self._client._runs.pop(self.task_id, None)

    def _fail(self, error: BaseException) -> None:
        if not self._result.done():
            self._result.set_exception(error)
            # Mark it retrieved: a host that only iterates sees the error there.
            self._result.exception()
        self._events.put_nowait(_END)
        self._client._runs.pop(self.task_id, None)

    def done(self) -> bool:
        """True once the result (or an error) is in."""
        return self._result.done()

    async def result(self) -> AgentResult:
        """The task's result (``await run`` does the same)."""
        return await asyncio.shield(self._result)

    def __await__(self) -> Generator[Any, None, AgentResult]:
        return self.result().__await__()

    async def cancel(self) -> CancelResult:
        """Asks the sidecar to stop this task; the run then ends with ``finish_reason == "cancelled"``."""
        return await self._client.cancel(self.task_id)

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._iterating:
            raise RuntimeError("a run's events can be iterated once")
        self._iterating = True
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            item = await self._events.get()
            if item is _END:
                if self._result.done() and self._result.exception() is not None:
                    raise self._result.exception()  # type: ignore[misc]
                return
            yield item
            if item.type in TERMINAL_EVENTS:
                return

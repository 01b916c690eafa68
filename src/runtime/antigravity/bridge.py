"""agent-runtime-kit's bridge to the Google Antigravity SDK (google-antigravity).

Shipped inside the agent-runtime-kit binary and written to a cache directory on first use. The
sidecar runs it with a Python that has the SDK installed, one process per task:

  stdin  (sidecar -> bridge): one JSON line with the task, then zero or more of
         {"type": "approval", "id": ..., "decision": "allow"|"deny", "message": ...}
         {"type": "answers", "id": ..., "responses": [{"selectedOptionIds": [...],
          "freeformResponse": ..., "skipped": bool}, ...]} or
         {"type": "answers", "id": ..., "declined": "<why, for the model>"}
         {"type": "cancel"}
         The task (and a live turn) may carry "images": [{"mediaType": ..., "data": <base64>}],
         sent to the model with the goal.
         EOF means the sidecar is gone: the turn is cancelled and the bridge exits.
         A live session (the task has "live": true, its goal is not sent) keeps the SDK
         conversation open after "started" and takes its turns as
         {"type": "turn", "goal": ...}, each answered by the turn's events and then
         {"type": "turnDone", "last": bool} (last: the session ends, the bridge exits);
         {"type": "cancel"} cancels the running turn only (the
         conversation stays); {"type": "close"} or EOF ends the session.
  stdout (bridge -> sidecar): one JSON object per line, nothing else (see `emit`). The bridge's
         own logs and the SDK's go to stderr. The agent's questions (the ask_question tool, on
         when the task has "questions": true) come as
         {"type": "question", "id": ..., "questions": [{"question", "options": [{"id", "text"}],
          "isMultiSelect"}]} and wait for the matching "answers".

`--check` prints one JSON line describing the installation (no SDK import, no model call).

Only the SDK's public API is used. The bridge does no mapping to agent-runtime-kit's events:
it forwards the SDK's Step objects as JSON and the Rust side maps them.
"""

import asyncio
import base64
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import threading
import traceback

BRIDGE_PROTOCOL = 1
PACKAGE = "google-antigravity"

# Keep the real stdout for events only. Anything else that writes to fd 1 (a stray print, a
# library) goes to stderr instead, so the event stream cannot be corrupted.
_EVENTS = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(event):
    _EVENTS.write(json.dumps(event, default=str, ensure_ascii=False) + "\n")
    _EVENTS.flush()


def log(msg):
    print(f"agy_bridge: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# --check: what is installed, without importing the SDK (the import alone takes over a second).
# --------------------------------------------------------------------------------------------


def harness_path():
    """Where the SDK will look for its `localharness` binary, by the SDK's documented order
    (ANTIGRAVITY_HARNESS_PATH, the file shipped in the wheel, PATH), using public APIs only."""
    env = os.environ.get("ANTIGRAVITY_HARNESS_PATH")
    if env:
        return env
    name = "localharness.exe" if os.name == "nt" else "localharness"
    try:
        for f in importlib.metadata.files(PACKAGE) or []:
            if str(f).replace("\\", "/").endswith("google/antigravity/bin/" + name):
                return str(f.locate())
    except importlib.metadata.PackageNotFoundError:
        pass
    return shutil.which(name)


def check():
    info = {
        "type": "check",
        "bridgeProtocol": BRIDGE_PROTOCOL,
        "python": sys.version.split()[0],
        "pythonExecutable": sys.executable,
        "pythonOk": sys.version_info >= (3, 10),
    }
    try:
        info["sdkVersion"] = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        info["sdkVersion"] = None
    path = harness_path()
    info["harnessPath"] = path
    info["harnessExists"] = bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)
    emit(info)


# --------------------------------------------------------------------------------------------
# Running a task
# --------------------------------------------------------------------------------------------


def start_stdin_reader(loop, inbox):
    """Reads stdin lines on a thread (portable, and never blocks the event loop)."""

    def run():
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                log(f"ignoring a non-JSON line on stdin ({len(line)} bytes)")
                continue
            loop.call_soon_threadsafe(inbox.put_nowait, msg)
        loop.call_soon_threadsafe(inbox.put_nowait, None)

    threading.Thread(target=run, name="stdin", daemon=True).start()


def error_event(kind, exc=None, message=None, **extra):
    ev = {"type": "error", "kind": kind}
    if exc is not None:
        ev["exception"] = type(exc).__name__
        ev["message"] = message or str(exc) or type(exc).__name__
    else:
        ev["message"] = message or kind
    ev.update(extra)
    return ev


def step_json(step):
    d = step.model_dump(mode="json", exclude_defaults=True)
    # The HTTP status of a SYSTEM error step is on the local connection's Step subclass.
    code = getattr(step, "http_code", 0)
    if code:
        d["http_code"] = code
    return d


def usage_json(u):
    if u is None:
        return None
    return u.model_dump(mode="json", exclude_none=True)


class Bridge:
    def __init__(self, task, inbox):
        self.task = task
        self.inbox = inbox
        self.approvals = {}
        self.next_approval = 0
        # The agent's questions waiting for the sidecar's answers, by id.
        self.questions = {}
        self.next_question = 0
        self.cancel_requested = asyncio.Event()
        self.stdin_closed = False
        # Live sessions: the turns to run, in order; None = close the session.
        self.turns = asyncio.Queue()
        # The running turn's FINISH structured output.
        self.finish_output = None
        # A cancelled turn whose steps never stopped: a live session cannot go on.
        self.turn_stuck = False

    async def read_inbox(self):
        while True:
            msg = await self.inbox.get()
            if msg is None:
                # The sidecar is gone (or closed our stdin): stop the turn, deny what waits.
                self.stdin_closed = True
                self.cancel_requested.set()
                self.turns.put_nowait(None)
                for fut in self.approvals.values():
                    if not fut.done():
                        fut.set_result({"decision": "deny", "message": "the sidecar went away"})
                for fut in self.questions.values():
                    if not fut.done():
                        fut.set_result({"declined": "nobody is there to answer"})
                return
            kind = msg.get("type")
            if kind == "approval":
                fut = self.approvals.pop(str(msg.get("id")), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
            elif kind == "answers":
                fut = self.questions.pop(str(msg.get("id")), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
            elif kind == "cancel":
                self.cancel_requested.set()
            elif kind == "turn":
                self.turns.put_nowait(msg)
            elif kind == "close":
                self.turns.put_nowait(None)
            else:
                log(f"ignoring stdin message of type {kind!r}")

    async def ask(self, tool_call, reason=""):
        """The ask_user handler: every tool call our policies do not allow outright is decided
        by the sidecar (which denies at once with approvals "deny", or asks the host)."""
        self.next_approval += 1
        aid = f"approval-{self.next_approval}"
        fut = asyncio.get_running_loop().create_future()
        self.approvals[aid] = fut
        emit(
            {
                "type": "approval",
                "id": aid,
                "name": str(getattr(tool_call.name, "value", tool_call.name)),
                "serverName": tool_call.server_name,
                "args": tool_call.args,
                "reason": reason or None,
            }
        )
        if self.stdin_closed:
            return False
        answer = await fut
        return answer.get("decision") == "allow"

    async def ask_questions(self, spec):
        """The on_interaction hook: the agent's ask_question, answered by the sidecar (which
        asks the host, or declines). A decline is a written answer to every question saying
        why, so the model can tell it from a choice (the SDK's own "skipped" reads as
        "User Skipped", and its `cancelled` flag is ignored by the SDK)."""
        from google.antigravity import types

        self.next_question += 1
        qid = f"question-{self.next_question}"
        questions = [
            {
                "question": q.question,
                "options": [{"id": o.id, "text": o.text} for o in q.options],
                "isMultiSelect": bool(q.is_multi_select),
            }
            for q in spec.questions
        ]
        fut = asyncio.get_running_loop().create_future()
        self.questions[qid] = fut
        emit({"type": "question", "id": qid, "questions": questions})
        if self.stdin_closed:
            self.questions.pop(qid, None)
            answer = {"declined": "nobody is there to answer"}
        else:
            answer = await fut
        declined = answer.get("declined")
        if declined is not None:
            text = f"No answer: {declined}"
            responses = [types.QuestionResponse(freeform_response=text) for _ in questions]
        else:
            given = list(answer.get("responses") or [])
            responses = []
            for i in range(len(questions)):
                r = given[i] if i < len(given) else {"skipped": True}
                responses.append(
                    types.QuestionResponse(
                        selected_option_ids=r.get("selectedOptionIds") or None,
                        freeform_response=r.get("freeformResponse") or "",
                        skipped=bool(r.get("skipped")),
                    )
                )
        return types.QuestionHookResult(responses=responses)

    def build_config(self):
        from google.antigravity import (  # noqa: F401  (imported here: the import is slow)
            BuiltinTools,
            CapabilitiesConfig,
            CustomSystemInstructions,
            GeminiAPIEndpoint,
            LocalAgentConfig,
            ModelAPIRetryConfig,
            ModelTarget,
            ModelType,
            RetryConfig,
            SystemInstructionSection,
            TemplatedSystemInstructions,
        )
        from google.antigravity import AgentBehavior, types
        from google.antigravity.hooks import hooks as sdk_hooks
        from google.antigravity.hooks import policy

        t = self.task
        kw = {}
        workspaces = [t["workingDirectory"]] + list(t.get("additionalDirectories") or [])
        kw["workspaces"] = workspaces

        # System prompt: replace (CustomSystemInstructions) and/or append (a templated section).
        system, append = t.get("systemPrompt"), t.get("appendSystemPrompt")
        if system is not None:
            text = system if append is None else system + "\n\n" + append
            kw["system_instructions"] = CustomSystemInstructions(text=text)
        elif append is not None:
            kw["system_instructions"] = TemplatedSystemInstructions(
                sections=[SystemInstructionSection(content=append)]
            )

        # Permissions: the sandbox mode picks the tools the model sees; policies decide calls.
        sandbox = t.get("sandbox", "workspace-write")

        # A plain function, not a bound method: the SDK deep-copies its config, and a function
        # is copied by reference while a bound method would drag the bridge's state along.
        async def handler(tool_call, reason=""):
            return await self.ask(tool_call, reason)

        ask = policy.ask_user("*", handler=handler, name="agent-runtime-kit")
        if sandbox == "read-only":
            tools = BuiltinTools.read_only()
            policies = [policy.allow(x.value) for x in tools] + [ask]
        elif sandbox == "workspace-write":
            tools = None  # the SDK's default set
            policies = (
                policy.workspace_only(workspaces)
                + [policy.ask_user("run_command", handler=handler, name="agent-runtime-kit")]
                + [policy.allow("*", name="workspace-write")]
            )
        else:  # full-access
            tools = None
            policies = [policy.allow_all()]
        caps = {}
        if t.get("questions"):
            # Someone can answer: the ask_question tool is offered, and its questions go to the
            # sidecar through the interaction hook. The harness only takes the hook's answers
            # in INTERACTIVE mode (otherwise the model reads "user cancelled ask_question").
            if tools is None:
                tools = BuiltinTools.default()
            tools = list(tools) + [BuiltinTools.ASK_QUESTION]
            policies = [policy.allow(BuiltinTools.ASK_QUESTION.value, name="questions")] + policies
            caps["agent_behavior"] = AgentBehavior.INTERACTIVE

            async def on_interaction(spec):
                return await self.ask_questions(spec)

            kw["hooks"] = [sdk_hooks.on_interaction(on_interaction)]
        if tools is not None:
            caps["enabled_tools"] = tools
        kw["capabilities"] = CapabilitiesConfig(**caps)
        kw["policies"] = policies

        # Sessions: the id is chosen up front so the sidecar knows it before the first step.
        kw["conversation_id"] = t["conversationId"]
        kw["session_continuation_mode"] = (
            types.SessionContinuationMode.RESUME
            if t.get("resume")
            else types.SessionContinuationMode.CREATE_ONLY
        )
        kw["save_dir"] = t["saveDir"]
        if t.get("appDataDir"):
            kw["app_data_dir"] = t["appDataDir"]

        servers = []
        for s in t.get("mcpServers") or []:
            if s["type"] == "stdio":
                servers.append(
                    types.McpStdioServer(
                        name=s["name"],
                        command=s["command"],
                        args=s.get("args") or [],
                        env=s.get("env") or None,
                    )
                )
            else:
                servers.append(
                    types.McpStreamableHttpServer(
                        name=s["name"], url=s["url"], headers=s.get("headers") or None
                    )
                )
        if servers:
            kw["mcp_servers"] = servers

        if t.get("responseSchema") is not None:
            kw["response_schema"] = t["responseSchema"]

        # Bounded API retries: the SDK's default retries a 429 for minutes.
        retry = ModelAPIRetryConfig(
            max_retries=int(t.get("apiRetries", 2)),
            initial_sleep_duration_ms=int(t.get("retryInitialDelayMs", 1000)),
        )
        kw["retry_config"] = RetryConfig(api_retry=retry)
        if t.get("maxModelCalls"):
            kw["budget_config"] = types.BudgetConfig(
                max_model_calls=int(t["maxModelCalls"]),
                scope=types.BudgetScope.FORWARD_LOOKING,
            )

        # Model and endpoint.
        vertex = t.get("vertex")
        base_url = t.get("baseUrl")
        model = t.get("model")
        if vertex:
            kw["vertex"] = True
            if vertex.get("project"):
                kw["project"] = vertex["project"]
            if vertex.get("location"):
                kw["location"] = vertex["location"]
        if vertex:
            # Vertex: project + location with Application Default Credentials, or an API key
            # (express mode).
            kw["vertex"] = True
            for key in ("project", "location"):
                if vertex.get(key):
                    kw[key] = vertex[key]
            api_key = os.environ.get("GOOGLE_API_KEY")
            if api_key and not (kw.get("project") or os.environ.get("GOOGLE_CLOUD_PROJECT")):
                kw["api_key"] = api_key
        else:
            # GOOGLE_API_KEY is accepted too (the SDK's own check only reads GEMINI_API_KEY).
            api_key = os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
            if api_key:
                kw["api_key"] = api_key
        if base_url and not vertex:
            from google.antigravity import models

            ep = GeminiAPIEndpoint(base_url=base_url, api_key=kw.get("api_key"))
            # Both model kinds get the endpoint, or the SDK adds its default image model with
            # the public endpoint.
            kw["models"] = [
                ModelTarget(name=model or models.DEFAULT_MODEL, types=[ModelType.TEXT], endpoint=ep),
                ModelTarget(
                    name=models.DEFAULT_IMAGE_GENERATION_MODEL, types=[ModelType.IMAGE], endpoint=ep
                ),
            ]
        elif model:
            kw["model"] = model
        return LocalAgentConfig(**kw)

    async def run(self):
        from google.antigravity import Agent, types

        try:
            config = self.build_config()
        except Exception as e:  # a pydantic ValidationError, a ValueError
            emit(error_event("config", e))
            return 1
        reader = asyncio.create_task(self.read_inbox())
        try:
            async with Agent(config) as agent:
                conv = agent.conversation
                emit(
                    {
                        "type": "started",
                        "sessionId": conv.conversation_id or self.task["conversationId"],
                        "sdkVersion": _sdk_version(),
                        "sandboxAvailable": getattr(agent.sandbox_status, "available", None),
                    }
                )
                if self.task.get("live"):
                    return await self.serve(conv, types)
                return await self.turn(conv, types, self.task["goal"], self.task.get("images"))
        except types.AntigravityCancelledError:
            log("the turn was cancelled before it started")
            emit({"type": "cancelled"})
            return 0
        except Exception as e:
            emit(classify(e, types))
            return 1
        finally:
            reader.cancel()

    # ----------------------------------------------------------------------------------------
    # Live sessions: the run/session loop (kept apart from the ask handler above).
    # ----------------------------------------------------------------------------------------

    async def serve(self, conv, types):
        """A live session: the same conversation takes turn after turn until close or EOF.
        Every turn ends with "turnDone"; a turn that failed, or that a cancel did not stop, ends
        the session (the harness may be unusable after it; the conversation is saved, so the
        sidecar resumes it cold)."""
        while True:
            msg = await self.turns.get()
            if msg is None or self.stdin_closed:
                return 0
            # A cancel that came after the previous turn had ended is not this turn's.
            self.cancel_requested.clear()
            code = await self.turn(conv, types, str(msg.get("goal") or ""), msg.get("images"))
            last = code != 0 or self.turn_stuck
            emit({"type": "turnDone", "last": last})
            if last:
                return code

    async def turn(self, conv, types, goal, images=None):
        if self.cancel_requested.is_set():
            emit({"type": "cancelled"})
            return 0
        # This turn's structured output only (a live conversation holds earlier turns' too).
        self.finish_output = None
        await conv.send(prompt_of(types, goal, images))

        async def pump():
            # Returns instead of raising: the SDK's AntigravityCancelledError subclasses
            # asyncio.CancelledError, which would mark this task itself as cancelled.
            try:
                async for step in conv.receive_steps():
                    if step.type == types.StepType.FINISH:
                        self.finish_output = step.structured_output
                    emit({"type": "step", "step": step_json(step)})
            except types.AntigravityCancelledError:
                return "cancelled"
            except Exception as e:
                return e
            return None

        pumping = asyncio.create_task(pump())
        cancel_wait = asyncio.create_task(self.cancel_requested.wait())
        done, _ = await asyncio.wait({pumping, cancel_wait}, return_when=asyncio.FIRST_COMPLETED)
        if pumping in done:
            cancel_wait.cancel()
            outcome = pumping.result()
        else:
            # Soft cancel: ask the harness to halt the turn, then let the steps drain.
            outcome = "cancelled"
            try:
                await conv.cancel()
                await asyncio.wait_for(asyncio.shield(pumping), timeout=5)
            except asyncio.TimeoutError:
                log("the turn did not stop within 5 s of the cancel")
            except Exception as e:
                log(f"error while cancelling: {e!r}")
            if not pumping.done():
                # Still reading this turn's steps: the conversation cannot take another.
                self.turn_stuck = True
        if isinstance(outcome, BaseException):
            emit(self.turn_end(conv, types))
            emit(classify(outcome, types))
            return 1
        emit(self.turn_end(conv, types))
        if outcome == "cancelled":
            emit({"type": "cancelled"})
        return 0

    def turn_end(self, conv, types):
        async def no_chunks():
            return
            yield  # pragma: no cover

        stop = None
        try:
            # ChatResponse is the SDK's public view of the last turn's stop reason.
            stop = types.ChatResponse(no_chunks(), conversation=conv).stop_reason
            stop = getattr(stop, "value", stop)
        except Exception as e:
            log(f"no stop reason: {e!r}")
        return {
            "type": "turnEnd",
            "usage": usage_json(conv.last_turn_usage),
            "totalUsage": usage_json(conv.total_usage),
            "stopReason": stop,
            "structuredOutput": self.finish_output,
            "turnCount": conv.turn_count,
        }


def prompt_of(types, goal, images):
    """The goal, and the task's images as the SDK's content parts (the sidecar checked them)."""
    if not images:
        return goal
    parts = [goal] if goal else []
    for img in images:
        parts.append(types.Image(data=base64.b64decode(img["data"]), mime_type=img["mediaType"]))
    return parts


def classify(exc, types):
    """An exception from the SDK as an error event (the Rust side maps `kind` to its kinds)."""
    msg = str(exc)
    if isinstance(exc, types.AntigravityValidationError):
        return error_event("validation", exc)
    if isinstance(exc, types.AntigravityConnectionError):
        return error_event("auth", exc)
    if isinstance(exc, types.AntigravityExecutionError):
        return error_event("execution", exc)
    if isinstance(exc, FileNotFoundError) or "Could not find default localharness" in msg:
        return error_event("harnessMissing", exc)
    if "Failed to initialize conversation" in msg and "not found" in msg:
        return error_event("sessionNotFound", exc)
    return error_event("internal", exc, traceback=traceback.format_exc(limit=5))


def _sdk_version():
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


async def run_task():
    loop = asyncio.get_running_loop()
    inbox = asyncio.Queue()
    start_stdin_reader(loop, inbox)
    task = await inbox.get()
    if task is None:
        return 0
    if task.get("type") != "task":
        emit(error_event("protocol", message="the first stdin line must be the task"))
        return 2
    try:
        import google.antigravity  # noqa: F401
    except ImportError as e:
        emit(error_event("packageMissing", e))
        return 1
    return await Bridge(task, inbox).run()


def main():
    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("AGY_BRIDGE_LOG_LEVEL", "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if sys.argv[1:] == ["--check"]:
        check()
        return 0
    try:
        return asyncio.run(run_task())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    code = main()
    _EVENTS.flush()
    # os._exit: do not wait for the stdin thread (blocked in read) or SDK daemon threads.
    os._exit(code)

"""`agent-runtime-kit mcp` driven by the official MCP Python SDK as a stdio client.

Nothing here speaks MCP by hand: the SDK spawns the binary, negotiates (both the 2026-07-28
`server/discover` path and the legacy `initialize` handshake), lists tools, calls them with a
progress callback, cancels a call the way it does when the caller abandons it, and validates
successful results against the tools' declared output schemas.
"""

import glob
import json
import os
import tempfile

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

BIN = os.environ["AGENT_RUNTIME_KIT_BIN"]
MODES = ["auto", "legacy"]


def server(*args, env=None):
    """Parameters that launch the binary under test as an MCP stdio server."""
    return StdioServerParameters(
        command=BIN,
        args=["mcp", *args],
        env={"AGENT_RUNTIME_KIT_LOG": "warn", **(env or {})},
        cwd=tempfile.mkdtemp(prefix="ark-mcp-cwd-"),
    )


def script(*steps, **result):
    """A fixture-runtime script: replayed by the built-in `fixture` runtime, no vendor needed."""
    return {"fixture": {"script": {"steps": list(steps), "result": result}}}


async def abandon_and_expect_cancelled(client, task, started, on_progress, records):
    """Calls run_task with `task`, abandons the call once `started` is set (the SDK then sends
    notifications/cancelled), and checks that the task really stopped (the core recorded its
    result in `records` with finishReason "cancelled", long before its 60 s delay) and that the
    server keeps serving."""
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:

            async def call():
                await client.call_tool("run_task", task, progress_callback=on_progress)
                pytest.fail("the call should have been cancelled")

            tg.start_soon(call)
            await started.wait()
            tg.cancel_scope.cancel()
    recorded = None
    with anyio.fail_after(10):
        while recorded is None:
            files = glob.glob(os.path.join(records, "*.json"))
            if files:
                recorded = json.load(open(files[0]))
            else:
                await anyio.sleep(0.05)
    assert recorded["result"]["finishReason"] == "cancelled"
    again = await client.call_tool("list_runtimes", {"runtime": "fixture"})
    assert again.is_error is False


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_lists_its_tools_with_schemas(mode):
    async with Client(server(), mode=mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"run_task", "list_runtimes", "diagnose"}

        run = tools["run_task"]
        schema = run.input_schema
        assert schema["type"] == "object"
        assert schema["required"] == ["goal"]
        assert schema["additionalProperties"] is False
        for arg in ["runtime", "goal", "workingDirectory", "model", "permissions", "outputSchema", "resume", "fork"]:
            assert arg in schema["properties"], arg
        # The result schema is the protocol's AgentResult.
        assert {"taskId", "runtime", "finishReason", "output"} <= set(run.output_schema["required"])
        assert tools["list_runtimes"].annotations.read_only_hint is True
        assert tools["diagnose"].output_schema is not None


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_runs_a_task_with_progress(mode):
    progress = []

    async def on_progress(value, total, message):
        progress.append((value, message))

    task = {
        "runtime": "fixture",
        "goal": "Add the numbers",
        "permissions": {"sandbox": "read-only"},
        "outputSchema": {
            "type": "object",
            "properties": {"sum": {"type": "integer"}},
            "required": ["sum"],
        },
        "runtimeOptions": script(
            {"tool": {"name": "Read", "input": {"path": "numbers.txt"}, "output": "1 2"}},
            {"event": "agent.message", "data": {"text": "The sum is 3."}},
            output="The sum is 3.",
            structuredOutput={"sum": 3},
            sessionId="sess-1",
        ),
    }
    async with Client(server(), mode=mode) as client:
        result = await client.call_tool("run_task", task, progress_callback=on_progress)

    # The SDK has already validated structuredContent against run_task's outputSchema.
    assert result.is_error is False
    r = result.structured_content
    assert r["finishReason"] == "completed"
    assert r["runtime"] == "fixture"
    assert r["output"] == "The sum is 3."
    assert r["structuredOutput"] == {"sum": 3}
    assert r["sessionId"] == "sess-1"
    assert [c["name"] for c in r["toolCalls"]] == ["Read"]
    text = result.content[0].text
    assert text.startswith("completed · fixture")
    assert "session sess-1" in text and text.endswith("The sum is 3.")

    values = [v for v, _ in progress]
    assert values == sorted(set(values)), "progress must increase"
    messages = [m for _, m in progress]
    assert messages[0].startswith("started: fixture")
    assert 'tool Read: {"path":"numbers.txt"}' in messages
    assert "The sum is 3." in messages
    assert messages[-1] == "completed"


@pytest.mark.anyio
async def test_resume_reaches_the_runtime():
    task = {"runtime": "fixture", "goal": "continue", "resume": "sess-42"}
    async with Client(server()) as client:
        result = await client.call_tool("run_task", task)
    assert result.is_error is False
    # The fixture runtime continues the session it is asked to resume.
    assert result.structured_content["sessionId"] == "sess-42"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_cancelling_the_call_cancels_the_task(mode):
    records = tempfile.mkdtemp(prefix="ark-mcp-rec-")
    started = anyio.Event()

    async def on_progress(value, total, message):
        if message.startswith("started"):
            started.set()

    task = {
        "runtime": "fixture",
        "goal": "Take forever",
        "runtimeOptions": script({"delayMs": 60_000}, output="never"),
    }
    async with Client(server("--record", records), mode=mode) as client:
        await abandon_and_expect_cancelled(client, task, started, on_progress, records)


def refusal(result):
    """The `run` error object a refused call carries."""
    assert result.is_error is True
    return result.structured_content["error"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_bad_arguments_get_the_same_errors_as_run(mode):
    missing = tempfile.mkdtemp()
    os.rmdir(missing)
    env = {"AGENT_RUNTIME_KIT_CLAUDE_PATH": "/nonexistent/claude"}
    async with Client(server(env=env), mode=mode) as client:
        e = refusal(await client.call_tool("run_task", {"runtime": "fixture", "goal": "x", "permissions": {"sandbox": "nope"}}))
        assert (e["code"], e["data"]["kind"], e["data"]["path"]) == (-32602, "invalidParams", "permissions.sandbox")

        e = refusal(await client.call_tool("run_task", {"runtime": "fixture"}))
        assert e["code"] == -32602 and "goal" in e["message"]

        e = refusal(await client.call_tool("run_task", {"runtime": "fixture", "goal": "x", "gaol": "typo"}))
        assert e["code"] == -32602 and "gaol" in e["message"]

        e = refusal(await client.call_tool("run_task", {"runtime": "fixture", "goal": "x", "workingDirectory": missing}))
        assert (e["code"], e["data"]["path"]) == (-32602, "workingDirectory")
        assert e["message"].startswith("invalid params at workingDirectory:")

        e = refusal(await client.call_tool("run_task", {"goal": "x"}))
        assert (e["code"], e["data"]["path"]) == (-32602, "runtime")

        e = refusal(await client.call_tool("run_task", {"runtime": "nope", "goal": "x"}))
        assert (e["code"], e["data"]["kind"]) == (-32010, "unknownRuntime")
        assert "fixture" in e["data"]["known"]

        e = refusal(await client.call_tool("run_task", {"runtime": "fixture", "goal": "x", "fork": True}))
        assert (e["code"], e["data"]["path"]) == (-32602, "fork")

        e = refusal(
            await client.call_tool("run_task", {"runtime": "fixture", "goal": "x", "permissions": {"approvals": "host"}})
        )
        assert (e["code"], e["data"]["kind"], e["data"]["field"]) == (-32012, "unsupportedTaskInput", "permissions.approvals")

        e = refusal(await client.call_tool("run_task", {"runtime": "claude", "goal": "x"}))
        assert (e["code"], e["data"]["kind"], e["data"]["runtime"]) == (-32011, "runtimeUnavailable", "claude")

        e = refusal(await client.call_tool("list_runtimes", {"runtime": "nope"}))
        assert e["code"] == -32010

        e = refusal(await client.call_tool("diagnose", {"probe": "yes"}))
        assert (e["code"], e["data"]["path"]) == (-32602, "probe")

        # Not a tool at all: a JSON-RPC error, as the MCP spec says.
        with pytest.raises(MCPError) as err:
            await client.call_tool("no_such_tool", {})
        assert err.value.error.code == -32602


@pytest.mark.anyio
async def test_failed_task_is_a_tool_error_with_its_result():
    task = {
        "runtime": "fixture",
        "goal": "fail",
        "runtimeOptions": script({"fail": {"kind": "auth", "message": "invalid API key"}}),
    }
    async with Client(server()) as client:
        result = await client.call_tool("run_task", task)
    assert result.is_error is True
    r = result.structured_content
    assert r["finishReason"] == "error"
    assert r["error"] == {"kind": "auth", "message": "invalid API key"}
    assert "error (auth): invalid API key" in result.content[0].text


@pytest.mark.anyio
async def test_list_runtimes_and_diagnose():
    async with Client(server()) as client:
        caps = await client.call_tool("list_runtimes", {})
        diag = await client.call_tool("diagnose", {"runtime": "fixture"})
    assert caps.is_error is False
    names = {r["name"] for r in caps.structured_content["runtimes"]}
    assert {"fixture", "claude", "codex", "antigravity"} <= names
    assert caps.structured_content["server"]["name"] == "agent-runtime-kit"
    assert diag.is_error is False
    [d] = diag.structured_content["runtimes"]
    assert (d["runtime"], d["status"]) == ("fixture", "ready")
    assert diag.content[0].text.startswith("fixture: ready")


# Approvals and questions through elicitation: only for a client with an elicitation callback, only
# when the operator allows approvals "host". Over the initialize handshake ("legacy") each form is an
# elicitation/create request; under 2026-07-28 ("auto"), which forbids server-to-client requests, the
# call answers with input_required and the SDK retries it with the answers, the task running on.


def approval_task(*steps, **result):
    return {
        "runtime": "fixture",
        "goal": "ask first",
        "permissions": {"approvals": "host"},
        "runtimeOptions": script(*steps, **result),
    }


WRITE = {"approval": {"name": "Write", "input": {"path": "notes.txt"}, "output": "written"}}


def answering(seen, action="accept", content=None, wait=None):
    """An elicitation callback that records each form and answers it."""
    from mcp import types

    async def callback(context, params):
        seen.append(params)
        if wait is not None:
            try:
                await anyio.sleep(30)
            except anyio.get_cancelled_exc_class():
                wait.set()
                raise
        return types.ElicitResult(action=action, content=content)

    return callback


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "decision, finish, status, output",
    [
        ("allow", "completed", "ok", "written"),
        ("allowForSession", "completed", "ok", "written"),
        ("deny", "completed", "denied", "nope, use docs/"),
        ("abort", "cancelled", "denied", "nope, use docs/"),
    ],
)
async def test_an_approval_is_answered_through_elicitation(mode, decision, finish, status, output):
    seen = []
    callback = answering(seen, content={"decision": decision, "message": "nope, use docs/"})
    async with Client(server("--allow-host-approvals"), mode=mode, elicitation_callback=callback) as client:
        result = await client.call_tool("run_task", approval_task(WRITE, {"delayMs": 10}, output="done"))
    r = result.structured_content
    assert r["finishReason"] == finish
    assert result.is_error is (finish != "completed")
    [call] = r["toolCalls"]
    assert (call["name"], call["status"], call["output"]) == ("Write", status, output)
    # What the user saw: the tool, its input, and the four decisions.
    [form] = seen
    assert "Write" in form.message and "notes.txt" in form.message
    schema = form.requested_schema
    assert schema["required"] == ["decision"]
    assert [o["const"] for o in schema["properties"]["decision"]["oneOf"]] == ["allow", "allowForSession", "deny", "abort"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_declined_approval_is_a_deny(mode, action):
    seen = []
    async with Client(
        server("--allow-host-approvals"), mode=mode, elicitation_callback=answering(seen, action=action)
    ) as client:
        result = await client.call_tool("run_task", approval_task(WRITE, output="done"))
    r = result.structured_content
    assert r["finishReason"] == "completed"
    assert r["toolCalls"][0]["status"] == "denied"
    assert len(seen) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_questions_are_answered_through_elicitation(mode):
    questions = [
        {"id": "color", "text": "Which color?", "options": [{"label": "red"}, {"label": "blue"}]},
        {"id": "sizes", "text": "Which sizes?", "options": [{"label": "S"}, {"label": "M"}], "multiSelect": True},
        {"id": "name", "text": "Your name?"},
    ]
    seen = []
    callback = answering(seen, content={"color": "blue", "sizes": ["S", "M"], "name": "Ada"})
    task = approval_task(
        {"question": {"questions": questions}},
        output="color={{answers.color}} sizes={{answers.sizes}} name={{answers.name}}",
    )
    async with Client(server("--allow-host-approvals"), mode=mode, elicitation_callback=callback) as client:
        result = await client.call_tool("run_task", task)
    assert result.is_error is False, result.content[0].text
    assert result.structured_content["output"] == "color=blue sizes=S, M name=Ada"
    [form] = seen
    props = form.requested_schema["properties"]
    assert props["color"]["enum"] == ["red", "blue"]
    assert props["sizes"]["type"] == "array" and props["sizes"]["items"]["enum"] == ["S", "M"]
    assert props["name"]["type"] == "string"
    assert sorted(form.requested_schema["required"]) == ["color", "name", "sizes"]

    # Declined: the agent is told, and nothing reaches the output.
    async with Client(
        server("--allow-host-approvals"), mode=mode, elicitation_callback=answering([], action="decline")
    ) as client:
        result = await client.call_tool("run_task", task)
    r = result.structured_content
    assert r["output"] == "color= sizes= name="
    assert r["toolCalls"][0]["status"] == "denied"
    assert "declined" in r["toolCalls"][0]["output"]


@pytest.mark.anyio
async def test_a_pending_elicitation_is_withdrawn_when_the_task_ends():
    withdrawn = anyio.Event()
    callback = answering([], content={"decision": "allow"}, wait=withdrawn)
    task = approval_task(WRITE, output="done")
    task["timeoutMs"] = 500
    async with Client(server("--allow-host-approvals"), mode="legacy", elicitation_callback=callback) as client:
        result = await client.call_tool("run_task", task)
        assert result.structured_content["finishReason"] == "timeout"
        assert result.structured_content["toolCalls"][0]["status"] == "denied"
        # notifications/cancelled for the elicitation: the SDK cancels its callback.
        with anyio.fail_after(5):
            await withdrawn.wait()


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_host_approvals_are_refused_without_a_channel(mode):
    task = approval_task(WRITE, output="done")
    # No elicitation callback: the client declares no elicitation capability.
    async with Client(server("--allow-host-approvals"), mode=mode) as client:
        e = refusal(await client.call_tool("run_task", task))
    assert (e["code"], e["data"]["field"]) == (-32012, "permissions.approvals")
    assert "elicitation" in e["data"]["reason"]

    # The operator did not allow it: refused whatever the client can do.
    callback = answering([], content={"decision": "allow"})
    async with Client(server(), mode=mode, elicitation_callback=callback) as client:
        e = refusal(await client.call_tool("run_task", task))
    assert (e["code"], e["data"]["field"], e["data"]["flag"]) == (-32012, "permissions.approvals", "--allow-host-approvals")


@pytest.mark.anyio
async def test_several_approvals_and_progress_across_rounds():
    """Under 2026-07-28 each approval is one input_required round; the task runs on between them,
    and the retries' progress tokens carry its events."""
    seen = []
    progress = []

    async def on_progress(value, total, message):
        progress.append((value, message))

    steps = [WRITE, {"approval": {"name": "Bash", "input": {"command": "make"}, "output": "built"}}, WRITE]
    callback = answering(seen, content={"decision": "allow"})
    async with Client(server("--allow-host-approvals"), mode="auto", elicitation_callback=callback) as client:
        result = await client.call_tool("run_task", approval_task(*steps, output="done"), progress_callback=on_progress)
    r = result.structured_content
    assert r["finishReason"] == "completed", result.content[0].text
    assert [(c["name"], c["status"]) for c in r["toolCalls"]] == [("Write", "ok"), ("Bash", "ok"), ("Write", "ok")]
    assert len(seen) == 3
    messages = [m for _, m in progress]
    assert messages[-1] == "completed"
    values = [v for v, _ in progress]
    assert values == sorted(set(values)), "progress must increase"


@pytest.mark.anyio
async def test_diagnose_probes_need_the_operator():
    async with Client(server()) as client:
        e = refusal(await client.call_tool("diagnose", {"runtime": "fixture", "probe": True}))
    assert (e["code"], e["data"]["field"], e["data"]["flag"]) == (-32012, "probe", "--allow-probes")
    async with Client(server("--allow-probes")) as client:
        diag = await client.call_tool("diagnose", {"runtime": "fixture", "probe": True})
    assert diag.is_error is False


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_cancelling_a_call_with_host_approvals_cancels_the_task(mode):
    """The 2026-07-28 path runs the task apart from the call: a cancelled call still stops it."""
    records = tempfile.mkdtemp(prefix="ark-mcp-rec-")
    started = anyio.Event()

    async def on_progress(value, total, message):
        if message.startswith("started"):
            started.set()

    task = approval_task({"delayMs": 60_000}, WRITE, output="never")
    callback = answering([], content={"decision": "allow"})
    args = ("--allow-host-approvals", "--record", records)
    async with Client(server(*args), mode=mode, elicitation_callback=callback) as client:
        await abandon_and_expect_cancelled(client, task, started, on_progress, records)

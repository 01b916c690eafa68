"""The client against the real sidecar binary and its fixture runtime."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from agent_runtime_kit import (
    DUPLICATE_TASK_ID,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    TASK_NOT_FOUND,
    UNKNOWN_RUNTIME,
    UNSUPPORTED_TASK_INPUT,
    AgentResult,
    AgentTask,
    ApprovalParams,
    ApprovalResponse,
    Client,
    Event,
    InputRequestParams,
    Permissions,
    RpcError,
    RunOptions,
    SidecarExited,
    SidecarNotFound,
    TaskFinished,
    TaskStarted,
    TextData,
    ToolCompleted,
)

from conftest import async_test, sidecar_bin


def client(**kw: Any) -> Client:
    kw.setdefault("args", ["--log-level", "warn"])
    return Client(sidecar_bin(), **kw)


def scripted(goal: str, script: Dict[str, Any], wd: Path, **kw: Any) -> AgentTask:
    return AgentTask(goal=goal, working_directory=str(wd), runtime_options={"fixture": {"script": script}}, **kw)


def uid() -> str:
    return f"py-{uuid.uuid4()}"


async def collect(run: Any) -> List[Event]:
    return [e async for e in run]


@async_test
async def test_capabilities_and_diagnose(workdir: Path) -> None:
    async with client() as ark:
        caps = await ark.capabilities()
        assert caps.protocol_version == 2
        assert caps.server.name == "agent-runtime-kit"
        fixture = next(r for r in caps.runtimes if r.name == "fixture")
        assert fixture.capabilities.streaming and "host" in fixture.capabilities.approvals
        assert fixture.options["additionalProperties"] is False
        only = await ark.capabilities("fixture")
        assert [r.name for r in only.runtimes] == ["fixture"]

        diags = await ark.diagnose()
        assert any(d.runtime == "fixture" and d.status == "ready" for d in diags)
        with pytest.raises(RpcError) as e:
            await ark.diagnose("no-such-runtime")
        assert e.value.code == UNKNOWN_RUNTIME == -32010
        assert e.value.kind == "unknownRuntime"
        assert "fixture" in e.value.data["known"]


@async_test
async def test_demo_run_streams_typed_events_then_the_result(workdir: Path) -> None:
    async with client() as ark:
        run = ark.run(AgentTask("Explain this repository", working_directory=str(workdir)), runtime="fixture")
        events = await collect(run)
        result = await run
    assert [e.seq for e in events] == list(range(len(events)))
    assert all(e.task_id == run.task_id for e in events)
    assert isinstance(events[0].data, TaskStarted) and events[0].type == "agent.task.started"
    assert events[0].data.working_directory == str(workdir)
    assert events[-1].type == "agent.task.completed" and isinstance(events[-1].data, TaskFinished)
    deltas = "".join(e.data.text for e in events if e.type == "agent.output.delta")
    assert "Explain this repository" in deltas and "README.md" in deltas
    assert isinstance(result, AgentResult)
    assert result.task_id == run.task_id and result.runtime == "fixture"
    assert result.finish_reason == "completed"
    assert result.output == deltas
    assert result.turns == 2 and result.usage.cost_usd == 0.0
    assert [t.name for t in result.tool_calls] == ["ListFiles"]


@async_test
async def test_scripted_run_tools_structured_output_and_metadata(workdir: Path) -> None:
    script = {
        "steps": [
            {"event": "agent.output.delta", "data": {"text": "Wor"}},
            {"tool": {"name": "Bash", "input": {"command": "ls"}, "output": "a b", "status": "ok"}},
            {"event": "agent.message", "data": {"text": "Working"}},
        ],
        "result": {
            "output": "done",
            "structuredOutput": {"ok": True},
            "sessionId": "fx-1",
            "usage": {"inputTokens": 10, "outputTokens": 5, "costUsd": 0.01},
            "artifacts": [{"path": "a.txt", "change": "created"}],
        },
    }
    task = scripted(
        "go",
        script,
        workdir,
        output_schema={"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}},
        metadata={"ticket": 42},
    )
    async with client() as ark:
        run = ark.run(task, runtime="fixture", task_id=uid())
        events = await collect(run)
        result = await run
    types = [e.type for e in events]
    assert types == [
        "agent.task.started",
        "agent.output.delta",
        "agent.tool.requested",
        "agent.tool.completed",
        "agent.message",
        "agent.task.completed",
    ]
    done = events[3].data
    assert isinstance(done, ToolCompleted) and done.status == "ok" and done.output == "a b"
    assert events[0].data.metadata == {"ticket": 42}
    assert result.structured_output == {"ok": True}
    assert result.session_id == "fx-1" and result.metadata == {"ticket": 42}
    assert result.usage.input_tokens == 10 and result.usage.cost_usd == 0.01
    assert result.artifacts[0].path == "a.txt" and result.artifacts[0].change == "created"


@async_test
async def test_a_vendor_failure_is_a_result_not_an_exception(workdir: Path) -> None:
    script = {"steps": [{"fail": {"kind": "rateLimit", "message": "overloaded", "vendorCode": 429}}]}
    async with client() as ark:
        run = ark.run(scripted("go", script, workdir), runtime="fixture")
        events = await collect(run)
        result = await run
    assert events[-1].type == "agent.task.failed"
    assert result.finish_reason == "error"
    assert result.error is not None and result.error.kind == "rateLimit" and result.error.vendor_code == 429


@async_test
async def test_refusals_raise_rpc_errors_with_their_codes(workdir: Path) -> None:
    async with client() as ark:
        # Unknown runtime: from both the iteration and the await.
        run = ark.run(AgentTask("x"), runtime="no-such-runtime")
        with pytest.raises(RpcError) as e:
            await collect(run)
        assert e.value.code == UNKNOWN_RUNTIME
        with pytest.raises(RpcError):
            await run
        cases = [
            (AgentTask("x", runtime_options={"fixture": {"bogus": 1}}), UNSUPPORTED_TASK_INPUT, "unsupportedTaskInput"),
            (AgentTask("x", working_directory=str(workdir / "missing")), INVALID_PARAMS, "invalidParams"),
            (AgentTask("x", max_turns=0), INVALID_PARAMS, "invalidParams"),
        ]
        for task, code, kind in cases:
            with pytest.raises(RpcError) as e:
                await ark.run(task, runtime="fixture")
            assert (e.value.code, e.value.kind) == (code, kind), e.value
        assert (await ark.diagnose("fixture"))[0].status == "ready"  # still serving
        with pytest.raises(RpcError) as e:
            await ark.request("no/such/method", {})
        assert e.value.code == METHOD_NOT_FOUND


@async_test
async def test_an_unavailable_runtime_error_ends_with_the_fix() -> None:
    async with client(args=["--log-level", "warn", "--claude-path", "/nonexistent/claude"]) as ark:
        with pytest.raises(RpcError) as e:
            await ark.run(AgentTask("x"), runtime="claude")
    remedy = e.value.data["remedy"]
    assert remedy and e.value.remedy == remedy
    text = str(e.value)
    assert text.startswith('runtime "claude" is unavailable'), text
    assert text.endswith(f"(-32011 runtimeUnavailable)\nfix: {remedy}"), text


def test_an_error_without_a_remedy_has_no_fix_line() -> None:
    e = RpcError(-32010, "unknown runtime", {"kind": "unknownRuntime"})
    assert str(e) == "unknown runtime (-32010 unknownRuntime)" and e.remedy is None


@async_test
async def test_duplicate_task_id_is_refused_while_the_first_runs(workdir: Path) -> None:
    slow = {"steps": [{"delayMs": 5000}]}
    tid = uid()
    async with client() as ark:
        first = ark.run(scripted("a", slow, workdir), runtime="fixture", task_id=tid)
        it = first.__aiter__()
        assert (await it.__anext__()).type == "agent.task.started"
        with pytest.raises(RpcError) as e:
            await ark.run(scripted("b", slow, workdir), runtime="fixture", task_id=tid)
        assert e.value.code == DUPLICATE_TASK_ID
        await first.cancel()
        assert (await first).finish_reason == "cancelled"


@async_test
async def test_cancel_mid_stream_and_cancel_twice(workdir: Path) -> None:
    script = {"steps": [{"event": "agent.output.delta", "data": {"text": "a"}}, {"delayMs": 30000}]}
    async with client() as ark:
        run = ark.run(scripted("go", script, workdir), runtime="fixture", task_id=uid())
        seen = []
        async for ev in run:
            seen.append(ev.type)
            if ev.type == "agent.output.delta":
                state = await run.cancel()
                assert state.state == "cancelling" and state.task_id == run.task_id
        result = await run
        assert seen[-1] == "agent.task.failed"
        assert result.finish_reason == "cancelled" and result.cancel == "soft"
        again = await ark.cancel(run.task_id)
        assert again.state == "finished"
        with pytest.raises(RpcError) as e:
            await ark.cancel("never-started")
        assert e.value.code == TASK_NOT_FOUND


@async_test
async def test_cancel_right_after_run_does_not_lose_the_race(workdir: Path) -> None:
    slow = {"steps": [{"delayMs": 30000}]}
    async with client() as ark:
        for _ in range(5):
            run = ark.run(scripted("go", slow, workdir), runtime="fixture")
            await run.cancel()  # may reach the sidecar before the run is admitted
            result = await asyncio.wait_for(run.result(), 10)
            assert result.finish_reason == "cancelled"


@async_test
async def test_timeout_ends_the_run_with_timeout(workdir: Path) -> None:
    slow = {"steps": [{"delayMs": 30000}]}
    async with client() as ark:
        result = await ark.run(scripted("go", slow, workdir, timeout_ms=200), runtime="fixture")
    assert result.finish_reason == "timeout" and result.error is not None and result.error.kind == "timeout"


@async_test
async def test_approvals_go_to_the_handler(workdir: Path) -> None:
    script = {
        "steps": [
            {"approval": {"name": "Write", "input": {"path": "x"}, "output": "written"}},
            {"approval": {"name": "Bash", "input": {"command": "rm -rf /"}}},
        ]
    }
    asked: List[ApprovalParams] = []

    async def decide(req: ApprovalParams) -> ApprovalResponse:
        asked.append(req)
        await asyncio.sleep(0.01)
        if req.name == "Write":
            return ApprovalResponse("allow")
        return ApprovalResponse("deny", message="not on my machine")

    task = scripted("go", script, workdir, permissions=Permissions(approvals="host"))
    async with client() as ark:
        run = ark.run(task, runtime="fixture", task_id=uid(), on_approval=decide)
        events = await collect(run)
        result = await run
    assert [(a.name, a.task_id) for a in asked] == [("Write", run.task_id), ("Bash", run.task_id)]
    assert asked[0].input == {"path": "x"} and asked[0].tool_call_id
    assert [e.type for e in events].count("agent.approval.requested") == 2
    completed = [e.data for e in events if e.type == "agent.tool.completed"]
    assert [(c.name, c.status) for c in completed] == [("Write", "ok"), ("Bash", "denied")]
    assert completed[0].output == "written" and completed[1].output == "not on my machine"
    assert [t.status for t in result.tool_calls] == ["ok", "denied"]


@async_test
async def test_approval_handler_forms_failures_and_defaults(workdir: Path) -> None:
    script = {"steps": [{"approval": {"name": "Write", "input": {}}}]}
    task = scripted("go", script, workdir, permissions=Permissions(approvals="host"))

    def boom(req: ApprovalParams) -> bool:
        raise RuntimeError("handler bug")

    async def statuses(ark: Client, **kw: Any) -> str:
        result = await ark.run(task, runtime="fixture", **kw)
        return result.tool_calls[0].status

    # A client-wide handler, a plain bool, a string; a raising handler and no handler deny.
    async with client(on_approval=lambda req: True) as ark:
        assert await statuses(ark) == "ok"
        assert await statuses(ark, on_approval=lambda req: "deny") == "denied"
        assert await statuses(ark, on_approval=boom) == "denied"
    async with client() as ark:
        result = await ark.run(task, runtime="fixture")
        assert result.tool_calls[0].status == "denied"
        assert "no approval handler" in str(result.tool_calls[0].output)


@async_test
async def test_new_decisions_and_updated_input(workdir: Path) -> None:
    bash = lambda c: {"approval": {"name": "Bash", "input": {"command": c}, "output": "ran"}}
    script = {"steps": [bash("ls"), bash("ls"), bash("make")], "result": {"output": "done"}}
    task = scripted("go", script, workdir, permissions=Permissions(approvals="host"))
    asked: List[str] = []

    def decide(req: ApprovalParams) -> Any:
        asked.append(req.input["command"])
        if req.input["command"] == "ls":
            return "allowForSession"
        return {"decision": "allow", "updatedInput": {"command": "make -n"}}

    async with client() as ark:
        result = await ark.run(task, runtime="fixture", on_approval=decide)
    # The second `ls` was allowed for the session without asking; `make` ran as edited.
    assert asked == ["ls", "make"]
    assert [t.status for t in result.tool_calls] == ["ok", "ok", "ok"]
    assert result.tool_calls[2].input == {"command": "make -n"}

    async with client() as ark:
        result = await ark.run(task, runtime="fixture", on_approval=lambda req: "abort")
    assert result.finish_reason == "cancelled"


QUESTIONS = {
    "question": {
        "questions": [
            {"id": "color", "text": "Which color?", "options": [{"label": "Red"}, {"label": "Blue"}]},
            {"id": "sizes", "text": "Sizes?", "multiSelect": True, "options": [{"label": "S"}, {"label": "M"}]},
        ]
    }
}


@async_test
async def test_questions_go_to_the_question_handler(workdir: Path) -> None:
    script = {"steps": [QUESTIONS], "result": {"output": "{{answers.color}}/{{answers.sizes}}"}}
    task = scripted("go", script, workdir, permissions=Permissions(approvals="host"))
    asked: List[InputRequestParams] = []

    async def answer(req: InputRequestParams) -> Any:
        asked.append(req)
        return {"color": "Blue", "sizes": ["S", "M"]}

    async with client(on_question=answer) as ark:
        result = await ark.run(task, runtime="fixture")
    assert result.output == "Blue/S, M"
    assert [q.id for q in asked[0].questions] == ["color", "sizes"]
    assert asked[0].questions[1].multi_select and asked[0].tool_call_id

    # No handler, or a raising one: declined, and the agent is told.
    def boom(req: InputRequestParams) -> Any:
        raise RuntimeError("not now")

    async with client() as ark:
        for kw in ({}, {"on_question": boom}):
            result = await ark.run(task, runtime="fixture", **kw)
            assert result.output == "/"
            assert result.tool_calls[0].status == "denied"


@async_test
async def test_a_withdrawn_question_cancels_its_handler(workdir: Path) -> None:
    script = {"steps": [QUESTIONS], "result": {"output": "x"}}
    task = scripted("go", script, workdir, permissions=Permissions(approvals="host"))
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def answer(req: InputRequestParams) -> Any:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {}

    async with client() as ark:
        run = ark.run(
            task, runtime="fixture", options=RunOptions(approval_timeout_ms=300), on_question=answer
        )
        result = await run
        assert started.is_set()
        await asyncio.wait_for(cancelled.wait(), 5)
    assert result.tool_calls[0].status == "denied"


@async_test
async def test_a_second_run_starts_while_the_first_streams(workdir: Path) -> None:
    steps = []
    for i in range(20):
        steps += [{"event": "agent.output.delta", "data": {"text": f"{i} "}}, {"delayMs": 10}]
    async with client() as ark:
        a = ark.run(scripted("a", {"steps": steps, "result": {"output": "A"}}, workdir), runtime="fixture")
        it = a.__aiter__()
        for _ in range(3):
            await it.__anext__()
        b = ark.run(scripted("b", {"steps": steps[:4], "result": {"output": "B"}}, workdir), runtime="fixture")
        rb = await b
        assert rb.output == "B"
        assert not a.done(), "the first run was still streaming when the second finished"
        ra = await a
        assert ra.output == "A"


@async_test
async def test_many_megabyte_lines_and_unicode_line_separators(workdir: Path) -> None:
    big = "x" * (6 * 1024 * 1024)
    tricky = "before\u2028middle\u2029after \r\n end"
    script = {
        "steps": [{"event": "agent.message", "data": {"text": tricky}}],
        "result": {"output": big},
    }
    async with client() as ark:
        run = ark.run(scripted("go", script, workdir), runtime="fixture",
                      options=RunOptions(max_field_bytes=16 * 1024 * 1024))
        events = await collect(run)
        result = await run
    messages = [e.data.text for e in events if isinstance(e.data, TextData)]
    assert messages == [tricky]
    assert len(result.output) == len(big) and result.output == big


@async_test
async def test_stderr_is_drained_and_reported(workdir: Path) -> None:
    lines: List[str] = []
    # Debug logging writes plenty to stderr; a client that did not drain it would stall the sidecar.
    async with client(args=["--log-level", "debug"], on_stderr=lines.append) as ark:
        for _ in range(3):
            r = await ark.run(AgentTask("x", working_directory=str(workdir)), runtime="fixture")
            assert r.finish_reason == "completed"
    assert lines and ark.stderr_tail


@async_test
async def test_a_crash_fails_every_pending_call_instead_of_hanging(workdir: Path) -> None:
    slow = {"steps": [{"event": "agent.output.delta", "data": {"text": "a"}}, {"delayMs": 30000}]}
    async with client() as ark:
        run = ark.run(scripted("go", slow, workdir), runtime="fixture")
        it = run.__aiter__()
        assert (await it.__anext__()).type == "agent.task.started"
        other = ark.run(scripted("go", slow, workdir), runtime="fixture")
        assert ark.pid is not None
        os.kill(ark.pid, signal.SIGKILL)
        with pytest.raises(SidecarExited) as e:
            async for _ in it:
                pass
        assert e.value.returncode == -signal.SIGKILL
        assert "killed by signal 9" in str(e.value)
        with pytest.raises(SidecarExited):
            await run
        with pytest.raises(SidecarExited):
            await other
        with pytest.raises(SidecarExited):
            await ark.capabilities()


@async_test
async def test_closing_cancels_running_tasks_and_their_runs_still_get_results(workdir: Path) -> None:
    slow = {"steps": [{"delayMs": 30000}]}
    ark = await client().start()
    run = ark.run(scripted("go", slow, workdir), runtime="fixture")
    it = run.__aiter__()
    await it.__anext__()
    await ark.close()
    result = await run
    assert result.finish_reason == "cancelled"
    assert ark.returncode == 0


@async_test
async def test_binary_lookup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(SidecarNotFound):
        await Client(tmp_path / "nope").start()
    monkeypatch.setenv("AGENT_RUNTIME_KIT_BIN", sidecar_bin())
    async with Client(args=["--log-level", "warn"]) as ark:
        assert (await ark.capabilities()).protocol_version == 2
    monkeypatch.delenv("AGENT_RUNTIME_KIT_BIN")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SidecarNotFound):
        await Client().start()
    os.symlink(sidecar_bin(), tmp_path / "agent-runtime-kit")
    async with Client(args=["--log-level", "warn"]) as ark:
        assert (await ark.capabilities()).protocol_version == 2

"""Live sessions through the client, against the real sidecar and its fixture runtime (which keeps
a live "vendor" whose unscripted turns echo every earlier goal)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, List

import pytest

from agent_runtime_kit import (
    SESSION_BUSY,
    TASK_NOT_FOUND,
    UNSUPPORTED_TASK_INPUT,
    SessionTask,
    Client,
    RpcError,
    SessionBusy,
    SessionClosed,
    SessionNotFound,
)

from conftest import async_test, sidecar_bin


def client(**kw: Any) -> Client:
    kw.setdefault("args", ["--log-level", "warn"])
    return Client(sidecar_bin(), **kw)


def slow_turns(ms: int, n: int) -> Dict[str, Any]:
    """Fixture options whose first `n` turns each wait `ms` (so a test can act during a turn)."""
    turn = {
        "steps": [{"delayMs": ms}, {"event": "agent.output.delta", "data": {"text": "done"}}],
        "result": {"output": "done"},
    }
    return {"fixture": {"turns": [turn] * n}}


@async_test
async def test_two_turns_where_the_second_sees_the_first(workdir: Path) -> None:
    async with client() as ark:
        async with ark.session("fixture", SessionTask(working_directory=str(workdir))) as s:
            # The fixture declares prewarm: the session is open (and listed) before any turn.
            assert s.prewarmed and s.session_id
            listed = await ark.sessions()
            assert [(i.session_id, i.state, i.turns) for i in listed] == [(s.session_id, "idle", 0)]

            first = await s.send("My name is Ada.")
            assert first.finish_reason == "completed"
            assert first.session_source == "live" and first.session_live
            assert first.session_id == s.session_id

            run = s.send("What is my name?")
            types = [e.type async for e in run]
            assert types[0] == "agent.task.started" and types[-1] == "agent.task.completed"
            second = await run
            assert "Turn 2" in second.output, second.output
            assert '["My name is Ada."]' in second.output, "turn 2 saw turn 1: " + second.output
            assert (await ark.sessions())[0].turns == 2
            sid = s.session_id
        # Leaving the block closed it: the notification came, the sidecar no longer has it.
        note = await asyncio.wait_for(s.closed, 5)
        assert note == SessionClosed(session_id=sid or "", reason="closed")
        assert await ark.sessions() == []
        with pytest.raises(SessionNotFound) as e:
            await ark.close_session(sid or "")
        assert e.value.data["sessionId"] == sid


@async_test
async def test_without_prewarm_the_first_send_keeps_the_session_alive(workdir: Path) -> None:
    async with client() as ark:
        async with ark.session(
            "fixture", SessionTask(working_directory=str(workdir)), prewarm=False
        ) as s:
            assert not s.prewarmed and s.session_id is None
            first = await s.send("remember 42")
            assert first.session_source == "new" and first.session_live
            assert s.session_id == first.session_id
            second = await s.send("what number?")
            assert second.session_source == "live"
            assert '["remember 42"]' in second.output, second.output
        assert (await asyncio.wait_for(s.closed, 5)).reason == "closed"


@async_test
async def test_a_second_turn_while_one_runs_is_a_typed_busy_error(workdir: Path) -> None:
    async with client() as ark:
        task = SessionTask(working_directory=str(workdir), runtime_options=slow_turns(1500, 1))
        async with ark.session("fixture", task) as s:
            running = s.send("take your time")
            with pytest.raises(SessionBusy) as e:
                await s.send("me too")
            assert e.value.code == SESSION_BUSY and e.value.kind == "sessionBusy"
            assert e.value.data["sessionId"] == s.session_id
            assert isinstance(e.value, RpcError)
            assert (await running).output == "done"
            # Once the turn ended the session takes the next one.
            assert (await s.send("now")).session_source == "live"

        # Before the session id is known (keepAlive on the first send) the client refuses alike.
        async with ark.session("fixture", task, prewarm=False) as s2:
            first = s2.send("first")
            with pytest.raises(SessionBusy):
                await s2.send("second")
            assert (await first).session_live


@async_test
async def test_steer_joins_the_running_turn_and_the_conversation(workdir: Path) -> None:
    async with client() as ark:
        task = SessionTask(working_directory=str(workdir), runtime_options=slow_turns(1500, 1))
        async with ark.session("fixture", task) as s:
            with pytest.raises(RpcError) as nothing:
                await s.steer("no turn yet")
            assert nothing.value.code == TASK_NOT_FOUND
            run = s.send("write a poem")
            # Sent at once: the client retries until the sidecar has admitted the turn.
            accepted = await s.steer("make it rhyme")
            assert accepted.accepted is True
            deltas = [e.data.text async for e in run if e.type == "agent.output.delta"]
            assert "[steer] make it rhyme\n" in deltas, deltas
            assert "make it rhyme" in (await run).output
            with pytest.raises(RpcError) as late:
                await s.steer("too late")
            assert late.value.code == TASK_NOT_FOUND
            after = await s.send("and now?")
            assert '["write a poem","make it rhyme"]' in after.output, after.output


@async_test
async def test_cancel_interrupts_a_turn_and_keeps_the_session(workdir: Path) -> None:
    async with client() as ark:
        task = SessionTask(working_directory=str(workdir), runtime_options=slow_turns(5000, 1))
        async with ark.session("fixture", task) as s:
            run = s.send("a long one")
            await run.cancel()
            cancelled = await run
            assert cancelled.finish_reason == "cancelled" and cancelled.session_live
            assert not s.closed.done()
            follow = await s.send("still there?")
            assert follow.session_source == "live", follow


@async_test
async def test_an_idle_session_closes_with_a_notification_and_the_next_send_resumes(
    workdir: Path,
) -> None:
    seen: List[SessionClosed] = []
    async with client(on_session_closed=seen.append) as ark:
        mine: List[SessionClosed] = []
        task = SessionTask(working_directory=str(workdir))
        async with ark.session("fixture", task, idle_timeout_ms=300, on_closed=mine.append) as s:
            sid = s.session_id
            await s.send("hello")
            note = await asyncio.wait_for(s.closed, 10)
            assert note.reason == "idle" and note.session_id == sid
            assert seen == [note] and mine == [note]
            assert await ark.sessions() == []
            # Not live any more: the next turn resumes it cold and keeps it alive again.
            again = await s.send("back again")
            assert again.session_source == "resumed" and again.session_live
            assert not s.closed.done()
        assert (await asyncio.wait_for(s.closed, 5)).reason == "closed"


@async_test
async def test_per_turn_fields_apply_and_fixed_ones_are_refused(workdir: Path, tmp_path: Path) -> None:
    async with client() as ark:
        async with ark.session("fixture", SessionTask(working_directory=str(workdir))) as s:
            r = await s.send("first", max_turns=3, metadata={"turn": 1})
            assert r.metadata == {"turn": 1}
            other = tmp_path / "elsewhere"
            other.mkdir()
            with pytest.raises(RpcError) as e:
                await s.send("moved", working_directory=str(other))
            assert e.value.code == UNSUPPORTED_TASK_INPUT
            assert e.value.data["field"] == "task.workingDirectory"


@async_test
async def test_a_runtime_without_live_sessions_refuses() -> None:
    # claude declares no live sessions on this sidecar yet (or, once it does, has no binary at
    # this path): either way opening it is refused before anything runs, with a typed error.
    env_args = ["--log-level", "warn", "--claude-path", "/nonexistent/claude"]
    async with client(args=env_args) as ark:
        caps = (await ark.capabilities("claude")).runtimes[0].capabilities
        with pytest.raises(RpcError) as e:
            async with ark.session("claude", SessionTask(working_directory=".")) as s:
                await s.send("hi")
        if not caps.live_sessions:
            assert e.value.code == UNSUPPORTED_TASK_INPUT, e.value
            assert e.value.data["field"] in ("task.session.keepAlive", "session/open")

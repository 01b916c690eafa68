#!/usr/bin/env python3
"""A two-turn conversation with a coding agent, through any runtime.

Turn 1 tells the agent a fact, turn 2 asks for it back: the answer shows that the agent saw the
first turn. Where the runtime declares live sessions (`capabilities.liveSessions`), the two turns go
through one live session (`ark.session(...)`): the vendor process stays between them and turn 2
runs in it (`sessionSource: "live"`), opened ahead of the first turn where the runtime can prewarm.
Elsewhere turn 2 resumes turn 1's session cold (`task.session.resume`: a new vendor process that
reloads the conversation). A runtime that `diagnose` reports not ready is skipped, with the reason.

    python examples/python/conversation.py                  # the built-in fixture runtime
    python examples/python/conversation.py claude codex     # real vendors (their CLIs and logins)
    python examples/python/conversation.py --cold fixture   # resume cold, to compare
    AGENT_RUNTIME_KIT_BIN=target/debug/agent-runtime-kit python examples/python/conversation.py
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Optional

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent
try:
    import agent_runtime_kit  # noqa: F401
except ImportError:  # run from a checkout without installing the client
    sys.path.insert(0, str(EXAMPLES.parent / "clients" / "python" / "src"))

from agent_runtime_kit import (  # noqa: E402
    UNKNOWN_RUNTIME,
    AgentResult,
    AgentTask,
    SessionTask,
    Client,
    RpcError,
    Run,
    SessionRef,
)

TURNS = [
    "My favourite colour is teal. Acknowledge it in one short sentence, no tools.",
    "What is my favourite colour? One word, no tools.",
]


async def availability(ark: Client, runtime: str) -> Optional[str]:
    """None when the runtime is ready, else why it is skipped."""
    try:
        (diagnosis,) = await ark.diagnose(runtime)
    except RpcError as e:
        if e.code == UNKNOWN_RUNTIME:
            return f"not built into this sidecar ({e.code}: known {', '.join(e.data.get('known', []))})"
        raise
    if diagnosis.status != "ready":
        reason = f"{diagnosis.status}: {diagnosis.message.rstrip('.')}."
        return f"{reason} Remedy: {diagnosis.remedy}" if diagnosis.remedy else reason
    return None


async def show(runtime: str, n: int, run: Run) -> AgentResult:
    """Streams one turn's text and prints its summary line (with the time to its first delta)."""
    start = time.monotonic()
    first: Optional[float] = None
    async for event in run:
        if event.type == "agent.output.delta" and first is None:
            first = time.monotonic() - start
    result = await run
    took = "no delta" if first is None else f"first delta {first * 1000:.0f} ms"
    print(f"[{runtime}] turn {n} ({result.session_source or '-'}, {took}): {result.output.strip()[:300]}")
    return result


async def converse(
    ark: Client, runtime: str, workdir: Path, model: Optional[str], cold: bool
) -> Optional[bool]:
    """Two turns; True when both completed, None when the runtime is skipped."""
    why = await availability(ark, runtime)
    if why is not None:
        print(f"skipped {runtime}: {why}")
        return None
    task = SessionTask(working_directory=str(workdir), model=model, timeout_ms=5 * 60 * 1000)
    (info,) = (await ark.capabilities(runtime)).runtimes
    results: List[AgentResult] = []
    if info.capabilities.live_sessions and not cold:
        how = "prewarmed live session" if info.capabilities.prewarm else "live session"
        async with ark.session(runtime, task) as s:
            print(f"[{runtime}] {how}{f' {s.session_id}' if s.session_id else ''}")
            for n, goal in enumerate(TURNS, 1):
                results.append(await show(runtime, n, s.send(goal)))
                if results[-1].finish_reason != "completed":
                    break
        note = await s.closed
        print(f"[{runtime}] session {note.session_id} closed ({note.reason})")
    else:
        why_cold = "asked for --cold" if cold else "no live sessions here"
        print(f"[{runtime}] {why_cold}: turn 2 resumes turn 1's session cold")
        send: Callable[[str], Run] = lambda goal: ark.run(  # noqa: E731
            AgentTask(goal, working_directory=task.working_directory, model=model), runtime=runtime
        )
        results.append(await show(runtime, 1, send(TURNS[0])))
        if results[0].finish_reason == "completed" and results[0].session_id:
            follow = AgentTask(
                TURNS[1],
                working_directory=task.working_directory,
                model=model,
                session=SessionRef(results[0].session_id),
            )
            results.append(await show(runtime, 2, ark.run(follow, runtime=runtime)))
    ok = len(results) == 2 and all(r.finish_reason == "completed" for r in results)
    if not ok:
        last = results[-1]
        print(f"[{runtime}] stopped: {last.finish_reason} {last.error.message if last.error else ''}")
    return ok


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runtime", nargs="*", default=["fixture"], help="default: fixture")
    ap.add_argument("--binary", help="the sidecar (default: $AGENT_RUNTIME_KIT_BIN or PATH)")
    ap.add_argument("--model", help="the model for the vendor runtimes (default: each one's own)")
    ap.add_argument("--cold", action="store_true", help="resume cold even where sessions can stay live")
    a = ap.parse_args()
    ran: List[Optional[bool]] = []
    with tempfile.TemporaryDirectory(prefix="ark-conversation-") as tmp:
        async with Client(a.binary, args=["--log-level", "warn"]) as ark:
            for rt in a.runtime:
                workdir = Path(tmp) / rt
                shutil.copytree(EXAMPLES / "sample-project", workdir)
                try:
                    model = a.model if rt != "fixture" else None
                    ran.append(await converse(ark, rt, workdir, model, a.cold))
                except RpcError as e:  # refused before it started (e.g. -32011, -32012)
                    print(f"refused {rt}: {e}")
                    ran.append(False)
    # 0 when at least one runtime held the conversation and none that ran failed.
    held = [r for r in ran if r is not None]
    return 0 if held and all(held) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

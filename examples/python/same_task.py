#!/usr/bin/env python3
"""The same coding task through every runtime, side by side.

Each runtime gets a fresh copy of examples/sample-project and the same AgentTask; the runs go
concurrently through one sidecar. Runtimes that this sidecar does not know (-32010) or that
`diagnose` reports not ready are skipped, with the reason. At the end a table compares finish
reason, turns, tokens, cost and files changed.

    python examples/python/same_task.py                      # fixture, claude, codex, antigravity
    python examples/python/same_task.py --runtime fixture    # just one
    AGENT_RUNTIME_KIT_BIN=target/debug/agent-runtime-kit python examples/python/same_task.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

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
    Client,
    RpcError,
)

GOAL = (
    "Add a function subtract(a, b) to calc.py, next to add, and a test for it in test_calc.py. "
    "Run the tests with `python -m pytest -q` if you can. Reply with one sentence saying what you did."
)
RUNTIMES = ["fixture", "claude", "codex", "antigravity"]


@dataclass
class Row:
    runtime: str
    skipped: Optional[str] = None
    result: Optional[AgentResult] = None
    error: Optional[str] = None


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


async def run_one(ark: Client, runtime: str, workdir: Path, model: Optional[str]) -> Row:
    why = await availability(ark, runtime)
    if why is not None:
        return Row(runtime, skipped=why)
    task = AgentTask(
        GOAL,
        working_directory=str(workdir),
        model=model if runtime != "fixture" else None,
        timeout_ms=10 * 60 * 1000,
        idle_timeout_ms=3 * 60 * 1000,
        # Read only by the fixture runtime: a replayed script instead of a model.
        runtime_options={"fixture": {"script": json.loads((EXAMPLES / "fixture-script.json").read_text())}},
    )
    run = ark.run(task, runtime=runtime)
    try:
        async for event in run:
            data = event.data
            if event.type == "agent.task.started":
                print(f"[{runtime}] started (model {data.model}, session {data.session_id})")
            elif event.type == "agent.tool.requested":
                print(f"[{runtime}] tool {data.name} {json.dumps(data.input)[:80]}")
            elif event.type == "agent.tool.completed" and data.status != "ok":
                print(f"[{runtime}] tool {data.name} {data.status}")
            elif event.type == "agent.message":
                print(f"[{runtime}] says: {data.text[:120]}")
        return Row(runtime, result=await run)
    except RpcError as e:  # refused before it started (e.g. -32011, -32012)
        return Row(runtime, error=f"{e.code} {e.kind}: {e.message}")


def table(rows: List[Row]) -> str:
    head = ["runtime", "finish", "turns", "tokens in/out", "cost USD", "files changed", "session"]
    lines = []
    for r in rows:
        if r.result is None:
            continue
        u = r.result.usage
        files = ", ".join(f"{a.path} ({a.change})" for a in r.result.artifacts) or "none"
        lines.append(
            [
                r.runtime,
                r.result.finish_reason + (f" ({r.result.error.kind})" if r.result.error else ""),
                str(r.result.turns),
                f"{u.input_tokens}/{u.output_tokens}",
                "n/a" if u.cost_usd is None else f"{u.cost_usd:.4f}",
                files,
                (r.result.session_id or "")[:24],
            ]
        )
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [fmt(head), fmt(["-" * w for w in widths]), *(fmt(line) for line in lines)]
    for r in rows:
        if r.skipped:
            out.append(f"skipped {r.runtime}: {r.skipped}")
        if r.error:
            out.append(f"refused {r.runtime}: {r.error}")
    return "\n".join(out)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runtime", action="append", help=f"repeatable; default: {' '.join(RUNTIMES)}")
    ap.add_argument("--binary", help="the sidecar (default: $AGENT_RUNTIME_KIT_BIN or PATH)")
    ap.add_argument("--model", help="the model for the vendor runtimes (default: each one's own)")
    a = ap.parse_args()
    runtimes = a.runtime or RUNTIMES
    with tempfile.TemporaryDirectory(prefix="ark-same-task-") as tmp:
        dirs = {}
        for rt in runtimes:
            dirs[rt] = Path(tmp) / rt
            shutil.copytree(EXAMPLES / "sample-project", dirs[rt])
        async with Client(a.binary, args=["--log-level", "warn"]) as ark:
            rows = await asyncio.gather(*(run_one(ark, rt, dirs[rt], a.model) for rt in runtimes))
    print()
    print(table(list(rows)))
    return 0 if any(r.result is not None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

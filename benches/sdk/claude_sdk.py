"""Reads the fake claude CLI through the official claude-agent-sdk (ClaudeAgentOptions.cli_path):
one warm-up query, then ROUNDS timed queries (default 1); prints one line per timed query,
{"messages": N, "seconds": S, "streamingSeconds": F} (S: query begun → last message; F: first
message → last message).
Usage: python claude_sdk.py FAKE_CLI WORKDIR LINES WARMUP_LINES [ROUNDS]"""
import json
import sys
import time

import anyio
from claude_agent_sdk import ClaudeAgentOptions, query


async def once(cli: str, cwd: str, lines: str) -> tuple[int, float, float]:
    options = ClaudeAgentOptions(
        cli_path=cli, cwd=cwd, include_partial_messages=True, env={"ARK_BENCH_CLAUDE_LINES": lines}
    )
    began = time.perf_counter()
    n = 0
    first = None
    async for _ in query(prompt="bench", options=options):
        if first is None:
            first = time.perf_counter()
        n += 1
    end = time.perf_counter()
    return n, end - began, end - (first or end)


async def main() -> None:
    cli, cwd, lines, warmup = sys.argv[1:5]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    await once(cli, cwd, warmup)  # warm-up: imports, first spawn
    for _ in range(rounds):
        n, seconds, streaming = await once(cli, cwd, lines)
        print(json.dumps({"messages": n, "seconds": seconds, "streamingSeconds": streaming}), flush=True)


anyio.run(main)

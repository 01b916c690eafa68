"""Reads the fake claude CLI through the official claude-agent-sdk (ClaudeAgentOptions.cli_path):
one warm-up query, then one timed query; prints {"messages": N, "seconds": S, "streamingSeconds": F}
for the timed one (S: query begun → last message; F: first message → last message).
Usage: python claude_sdk.py FAKE_CLI WORKDIR LINES WARMUP_LINES"""
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
    await once(cli, cwd, warmup)  # warm-up: imports, first spawn
    n, seconds, streaming = await once(cli, cwd, lines)
    print(json.dumps({"messages": n, "seconds": seconds, "streamingSeconds": streaming}))


anyio.run(main)

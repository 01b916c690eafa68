#!/usr/bin/env python3
"""A fake `codex` for the relay benchmark. Never calls a model. Speaks two protocols:

- `codex app-server` (what the sidecar's codex runtime drives): answers `initialize`,
  `thread/start` and `turn/start` (ids as in the pre-made lines), then writes the pre-made lines in
  $ARK_BENCH_CODEX_LINES (turn/started, N `item/agentMessage/delta`, item/completed,
  thread/tokenUsage/updated, turn/completed) as fast as the pipe takes them, then waits for stdin
  to close, as app-server does.
- `codex exec --experimental-json` (what @openai/codex-sdk spawns): reads the prompt from stdin to
  EOF, writes the pre-made lines in $ARK_BENCH_CODEX_EXEC_LINES (thread.started, turn.started, N
  `item.updated` agent_message events, item.completed, turn.completed) and exits 0.

Also answers `--version` and `login status` (our runtime's preflight)."""
import json
import os
import shutil
import sys

THREAD = "019a0000-0000-7000-8000-00000000be01"
TURN = "019a0000-0000-7000-8000-00000000be02"

argv = sys.argv[1:]
out = sys.stdout.buffer
if argv[:1] == ["--version"]:
    print("codex-cli 0.171.0")
    sys.exit(0)
if argv[:2] == ["login", "status"]:
    sys.stderr.write("Logged in using an API key\n")
    sys.exit(0)


def copy(var):
    with open(os.environ[var], "rb") as f:
        shutil.copyfileobj(f, out, 1 << 20)
    out.flush()


def emit(obj):
    out.write(json.dumps(obj).encode() + b"\n")
    out.flush()


if argv[:1] == ["exec"]:
    sys.stdin.buffer.read()  # the prompt
    copy("ARK_BENCH_CODEX_EXEC_LINES")
    sys.exit(0)

for raw in sys.stdin.buffer:
    msg = json.loads(raw)
    method, mid = msg.get("method"), msg.get("id")
    if method == "initialize":
        emit({"id": mid, "result": {"userAgent": "fake-codex/0.171.0", "platformFamily": "unix",
                                    "platformOs": "linux"}})
    elif method in ("thread/start", "thread/resume", "thread/fork"):
        emit({"id": mid, "result": {"thread": {"id": THREAD, "sessionId": THREAD, "cliVersion": "0.171.0"},
                                    "model": "gpt-5.5", "modelProvider": "openai",
                                    "approvalPolicy": "never", "sandbox": {"type": "readOnly"}}})
    elif method == "turn/start":
        emit({"id": mid, "result": {"turn": {"id": TURN, "status": "inProgress", "items": []}}})
        copy("ARK_BENCH_CODEX_LINES")
    elif method == "turn/interrupt":
        emit({"id": mid, "result": {}})
    elif mid is not None:
        emit({"id": mid, "result": {}})

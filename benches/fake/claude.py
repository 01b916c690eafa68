#!/usr/bin/env python3
"""A fake `claude` CLI for the relay benchmark: answers `initialize`, then writes the pre-made
stream-json lines in $ARK_BENCH_CLAUDE_LINES as fast as the pipe takes them (the lines end with a
`result`), then waits for stdin to close, as the real CLI does in `--input-format stream-json`.
Also answers `--version` and `auth status` (our runtime's preflight). Never calls a model.

With $ARK_BENCH_CLAUDE_HANG set to a file, it instead starts two grandchildren (`sleep`, one in
its process group, one in a session of its own), writes its pid and theirs to that file, streams
one text delta and then waits: the cancel benchmark. It answers an `interrupt` control request
as the real CLI does (control_response, then a `result` error_during_execution) and exits when
stdin closes, leaving the grandchildren behind; with ARK_BENCH_CLAUDE_DEAF=1 it reads nothing more
and sleeps (a vendor that ignores the interrupt)."""
import json
import os
import shutil
import sys

argv = sys.argv[1:]
if "--version" in argv:
    print("2.1.332 (Claude Code)")
    sys.exit(0)
if argv[:2] == ["auth", "status"]:
    print(json.dumps({"loggedIn": True, "authMethod": "apiKey", "apiProvider": "firstParty"}))
    sys.exit(0)

out = sys.stdout.buffer
streamed = False
for raw in sys.stdin.buffer:
    msg = json.loads(raw)
    if msg.get("type") == "control_request" and msg.get("request", {}).get("subtype") == "interrupt":
        out.write(json.dumps({"type": "control_response", "response": {
            "subtype": "success", "request_id": msg.get("request_id"), "response": {"still_queued": []}}}).encode()
            + b"\n")
        out.write(json.dumps({"type": "result", "subtype": "error_during_execution", "is_error": True,
            "terminal_reason": "aborted_streaming", "stop_reason": None, "duration_ms": 1, "num_turns": 2,
            "session_id": "bench-cancel", "total_cost_usd": 0, "usage": {"input_tokens": 1, "output_tokens": 1},
            "errors": []}).encode() + b"\n")
        out.flush()
    elif msg.get("type") == "control_request":
        out.write(json.dumps({"type": "control_response", "response": {
            "subtype": "success", "request_id": msg.get("request_id"), "response": {}}}).encode() + b"\n")
        out.flush()
    elif msg.get("type") == "user" and not streamed and os.environ.get("ARK_BENCH_CLAUDE_HANG"):
        import subprocess
        import time
        kids = [subprocess.Popen(["sleep", "1000"]),
                subprocess.Popen(["sleep", "1000"], start_new_session=True)]
        with open(os.environ["ARK_BENCH_CLAUDE_HANG"], "w") as f:
            f.write(" ".join(str(p) for p in [os.getpid()] + [k.pid for k in kids]))
        out.write(json.dumps({"type": "stream_event", "event": {"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": "working"}}, "session_id": "bench-cancel",
            "parent_tool_use_id": None}).encode() + b"\n")
        out.flush()
        streamed = True
        while os.environ.get("ARK_BENCH_CLAUDE_DEAF"):
            time.sleep(1000)
    elif msg.get("type") == "user" and not streamed:
        streamed = True
        with open(os.environ["ARK_BENCH_CLAUDE_LINES"], "rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)
        out.flush()

#!/usr/bin/env python3
"""A fake `claude` CLI for the relay benchmark: answers `initialize`, then writes the pre-made
stream-json lines in $ARK_BENCH_CLAUDE_LINES as fast as the pipe takes them (the lines end with a
`result`), then waits for stdin to close, as the real CLI does in `--input-format stream-json`.
Also answers `--version` and `auth status` (our runtime's preflight). Never calls a model."""
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
    if msg.get("type") == "control_request":
        out.write(json.dumps({"type": "control_response", "response": {
            "subtype": "success", "request_id": msg.get("request_id"), "response": {}}}).encode() + b"\n")
        out.flush()
    elif msg.get("type") == "user" and not streamed:
        streamed = True
        with open(os.environ["ARK_BENCH_CLAUDE_LINES"], "rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)
        out.flush()

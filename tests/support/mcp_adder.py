"""A tiny MCP server over stdio for the tests (stdlib only): one tool, `add(a, b)`.

JSON-RPC 2.0, one message per line: initialize, tools/list, tools/call; notifications are
ignored. Each tools/call is appended to the file named by the first argument, if given, with the value
of the ADDER_MARK environment variable, so a test can check that the call really reached the
server and that the server got the environment its task configured.
"""
import json
import os
import sys

LOG = sys.argv[1] if len(sys.argv) > 1 else None

TOOL = {
    "name": "add",
    "description": "Adds two integers.",
    "inputSchema": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}


def reply(msg_id, result=None, error=None):
    out = {"jsonrpc": "2.0", "id": msg_id}
    if error is not None:
        out["error"] = error
    else:
        out["result"] = result
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    msg = json.loads(line)
    method, msg_id = msg.get("method"), msg.get("id")
    if msg_id is None:
        continue  # a notification
    if method == "initialize":
        reply(msg_id, {
            "protocolVersion": msg["params"].get("protocolVersion", "2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "adder", "version": "1.0.0"},
        })
    elif method == "tools/list":
        reply(msg_id, {"tools": [TOOL]})
    elif method == "tools/call":
        args = msg["params"].get("arguments") or {}
        total = int(args.get("a", 0)) + int(args.get("b", 0))
        if LOG:
            with open(LOG, "a") as f:
                f.write(json.dumps({"args": args, "mark": os.environ.get("ADDER_MARK")}) + "\n")
        reply(msg_id, {"content": [{"type": "text", "text": f"the sum is {total}"}]})
    elif method == "ping":
        reply(msg_id, {})
    else:
        reply(msg_id, error={"code": -32601, "message": f"unknown method {method}"})

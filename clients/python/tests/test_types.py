"""The generated types match the schema, and convert to and from the camelCase wire."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from agent_runtime_kit import (
    ERROR_CODES,
    AgentResult,
    AgentTask,
    Event,
    McpHttpServer,
    McpStdioServer,
    Permissions,
    SessionRef,
    TaskStarted,
    TextData,
)

from conftest import REPO

GEN = Path(__file__).resolve().parents[1] / "scripts" / "gen_types.py"
SCHEMA = REPO / "protocol" / "schema" / "protocol.schema.json"


def test_generated_types_are_up_to_date_with_the_schema():
    r = subprocess.run([sys.executable, str(GEN), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_every_schema_object_has_a_class_with_every_field():
    import agent_runtime_kit._types as t

    schema = json.loads(SCHEMA.read_text())
    for name in ["AgentTask", "AgentResult", "Usage", "Permissions", "Diagnosis", "Capabilities"]:
        wire = {w for _py, w, _s in t._FIELDS[name]}
        assert wire == set(schema["$defs"][name]["properties"]), name
    assert {e["kind"]: e["code"] for e in schema["errors"]} == ERROR_CODES


def test_task_goes_out_in_camel_case_without_unset_fields():
    task = AgentTask(
        "Fix the test",
        working_directory="/repo",
        output_schema={"type": "object", "properties": {"ok": {"type": "boolean"}}},
        permissions=Permissions(sandbox="read-only", allowed_tools=["Read"]),
        session=SessionRef("s-1", fork=True),
        mcp_servers={
            "fs": McpStdioServer("npx", args=["-y", "server"], env={"K": "v"}),
            "web": McpHttpServer("http://127.0.0.1:1/mcp"),
        },
        runtime_options={"fixture": {"script": {"steps": []}}},
        max_turns=3,
    )
    assert task.to_wire() == {
        "goal": "Fix the test",
        "workingDirectory": "/repo",
        "outputSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
        "permissions": {"sandbox": "read-only", "approvals": "deny", "allowedTools": ["Read"]},
        "session": {"resume": "s-1", "fork": True, "keepAlive": False},
        "mcpServers": {
            "fs": {"command": "npx", "args": ["-y", "server"], "env": {"K": "v"}},
            "web": {"url": "http://127.0.0.1:1/mcp", "headers": {}},
        },
        # Opaque JSON (runtime options, schemas, metadata) is passed through untouched.
        "runtimeOptions": {"fixture": {"script": {"steps": []}}},
        "maxTurns": 3,
    }
    back = AgentTask.from_wire(task.to_wire())
    assert back == task
    assert isinstance(back.mcp_servers["web"], McpHttpServer)


def test_result_and_events_decode_into_typed_values_and_ignore_unknown_fields():
    r = AgentResult.from_wire(
        {
            "taskId": "t",
            "runtime": "fixture",
            "finishReason": "error",
            "error": {"kind": "rateLimit", "message": "slow down", "vendorCode": 429},
            "usage": {"inputTokens": 3, "outputTokens": 4, "costUsd": 0.5},
            "toolCalls": [{"id": "1", "name": "Bash", "input": {}, "status": "ok"}],
            "aFieldFromTheFuture": 1,
        }
    )
    assert r.error.kind == "rateLimit" and r.error.vendor_code == 429
    assert r.usage.input_tokens == 3 and r.usage.cost_usd == 0.5 and r.usage.cached_input_tokens == 0
    assert r.tool_calls[0].name == "Bash" and r.output == "" and r.artifacts == []

    e = Event.from_wire({"taskId": "t", "seq": 0, "time": "x", "type": "agent.message", "data": {"text": "hi"}})
    assert isinstance(e.data, TextData) and e.data.text == "hi"
    s = Event.from_wire(
        {
            "taskId": "t",
            "seq": 1,
            "time": "x",
            "type": "agent.task.started",
            "data": {"runtime": "r", "workingDirectory": "/", "permissions": {}},
        }
    )
    assert isinstance(s.data, TaskStarted) and s.data.permissions.sandbox == "workspace-write"
    # An event type this client does not know keeps its data as plain JSON.
    u = Event.from_wire({"taskId": "t", "seq": 2, "time": "x", "type": "agent.new.kind", "data": {"a": 1}})
    assert u.data == {"a": 1}

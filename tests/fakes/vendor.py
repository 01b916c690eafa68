#!/usr/bin/env python3
"""A fake vendor CLI that speaks just enough of Claude Code's stream-json protocol (`claude -p ...`)
or of `codex app-server` to get a task going, then misbehaves the way FAKE_MODE says.

Linked as `fake-claude` / `fake-codex` (the name picks the protocol). Used by tests/faults.rs, tests/security.rs and tests/hostile_input.rs through `--claude-path` /
`--codex-path`. The mode comes from the environment (the tests set it per task through
`runtimeOptions.<runtime>.env`), so one sidecar can run a misbehaving task beside a healthy one.

Environment:
  FAKE_MODE   ok | crash | noresult | hang | silent | garbage | hugeline | stderrflood | split |
              grandkids | grandkids_crash | grandkids_hang | nostdin | stream | leak | argv |
              ctlflood | endless
  FAKE_STATE  a directory; the fake writes `<pid>.pids` there: its own pid, then any grandchild's
              (the tests check that every one of them is gone after the run), and `<pid>.env`:
              the environment it was given, as JSON (tests/security.rs checks the allowlist),
              and `<pid>.argv`: its argv, as JSON
  FAKE_SECRET a credential the `leak` mode prints everywhere it can
  FAKE_STDERR_PAD  characters the `leak` mode writes before the credential on its stderr lines
  FAKE_COUNT  how many deltas the `stream` mode writes (default 2000)
  FAKE_PIECES a JSON list of texts the `split` mode streams as one delta each
"""

import json
import os
import signal
import subprocess
import sys
import time

MODE = os.environ.get("FAKE_MODE", "ok")
STATE = os.environ.get("FAKE_STATE")
SECRET = os.environ.get("FAKE_SECRET", "")
PAD = "x" * int(os.environ.get("FAKE_STDERR_PAD", "0"))
OUT = sys.stdout


def emit(obj):
    OUT.write(json.dumps(obj) + "\n")
    OUT.flush()


def raw(text):
    OUT.write(text)
    OUT.flush()


def note_pids(*pids):
    if STATE:
        with open(os.path.join(STATE, "%d.pids" % os.getpid()), "a") as f:
            for p in pids:
                f.write("%d\n" % p)


if STATE:
    with open(os.path.join(STATE, "%d.env" % os.getpid()), "w") as f:
        json.dump(dict(os.environ), f)
    with open(os.path.join(STATE, "%d.argv" % os.getpid()), "w") as f:
        json.dump(sys.argv, f)


def sleep_forever():
    while True:
        time.sleep(1000)


def grandchildren():
    """One grandchild in our process group and one in its own session; both keep our stdout and
    stderr open, so the vendor's pipes do not reach EOF when the vendor itself exits."""
    same_group = subprocess.Popen(["sleep", "1000.4242"])
    own_session = subprocess.Popen(["sleep", "1000.4243"], start_new_session=True)
    note_pids(same_group.pid, own_session.pid)


def flood_stderr(total):
    chunk = ("e" * 1023 + "\n").encode()
    err = sys.stderr.buffer
    written = 0
    while written < total:
        err.write(chunk * 64)
        written += len(chunk) * 64
    err.flush()


# ---------------------------------------------------------------- claude (stream-json) ---------


def claude_read_goal():
    """Reads stdin up to the user message; answers `initialize`. Returns the prompt."""
    for line in sys.stdin:
        msg = json.loads(line)
        if msg.get("type") == "control_request":
            emit({"type": "control_response", "response": {
                "subtype": "success", "request_id": msg.get("request_id"), "response": {}}})
        elif msg.get("type") == "user":
            content = msg["message"]["content"]
            if isinstance(content, list):
                return "".join(b.get("text", "") for b in content)
            return content
    return ""


def claude_init():
    emit({"type": "system", "subtype": "init", "session_id": "fake-%d" % os.getpid(),
          "model": "fake-model", "permissionMode": "acceptEdits", "claude_code_version": "2.1.332"})


def claude_text(text):
    emit({"type": "stream_event", "parent_tool_use_id": None, "event": {
        "type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}})
    emit({"type": "assistant", "parent_tool_use_id": None, "message": {
        "id": "msg-%d" % time.time_ns(), "role": "assistant",
        "content": [{"type": "text", "text": text}]}})


def claude_result(text):
    emit({"type": "result", "subtype": "success", "is_error": False, "result": text,
          "num_turns": 1, "session_id": "fake-%d" % os.getpid(), "total_cost_usd": 0.001,
          "usage": {"input_tokens": 3, "output_tokens": 5}})


def claude():
    if sys.argv[1:2] == ["--version"]:
        print("2.1.332 (Claude Code)")
        return
    if sys.argv[1:2] == ["auth"]:
        print(json.dumps({"loggedIn": True, "apiProvider": "firstParty", "authMethod": "fake"}))
        return
    note_pids(os.getpid())
    if MODE in ("hang", "silent", "nostdin"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if MODE == "hang":
            claude_init()
        # Never reads stdin: the prompt stays in the pipe (or blocks our writer, when it is big).
        sleep_forever()
    goal = claude_read_goal()
    claude_init()
    if MODE == "ok":
        claude_text("echo: " + goal[:200])
        claude_result("echo: " + goal[:200])
    elif MODE == "crash":
        claude_text("partial answer before the crash")
        sys.stderr.write("fatal: the fake vendor fell over (segfault-ish)\n")
        sys.stderr.flush()
        os._exit(3)
    elif MODE == "noresult":
        claude_text("first words")
        claude_text("last words")
        os._exit(0)
    elif MODE == "garbage":
        raw("Warning: this is not JSON\n")
        raw("{broken json\n")
        raw("\x1b[31mcolours\x1b[0m\n")
        # A JSON string with a raw newline in it (the line is split in two).
        raw('{"type":"assistant","parent_tool_use_id":null,"message":{"id":"m1","role":"assistant",'
            '"content":[{"type":"text","text":"line one\nline two"}]}}\n')
        raw('{"type":"result","subtype":"success","is_error":false,"result":"final\nanswer",'
            '"num_turns":1,"session_id":"fake-garbage","usage":{"input_tokens":1,"output_tokens":1}}\n')
    elif MODE == "hugeline":
        claude_text("before the huge line")
        # 100 MB on one line, written in pieces (it starts like JSON, to defeat re-assembly too).
        piece = "x" * (1024 * 1024)
        raw('{"type":"assistant","message":{"content":[{"type":"text","text":"')
        for _ in range(100):
            raw(piece)
        raw('"}]}}\n')
        claude_text("after the huge line")
        claude_result("survived the huge line")
    elif MODE == "stderrflood":
        flood_stderr(100 * 1024 * 1024)
        sys.stderr.write("the last stderr line\n")
        sys.stderr.flush()
        claude_text("after the flood")
        claude_result("survived the flood")
    elif MODE == "grandkids":
        grandchildren()
        claude_text("forked two")
        claude_result("forked two")
        os._exit(0)
    elif MODE == "grandkids_hang":
        grandchildren()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        claude_text("forked two, now hanging")
        sleep_forever()
    elif MODE == "ctlflood":
        # Stops reading stdin and floods control requests we do not serve: our replies pile up
        # in front of a pipe nobody reads.
        n = int(os.environ.get("FAKE_COUNT", "200000"))
        pad = "p" * 200
        for i in range(n):
            emit({"type": "control_request", "request_id": "flood-%d" % i,
                  "request": {"subtype": "mystery_%d" % i, "pad": pad}})
        claude_result("flooded %d" % n)
        os._exit(0)
    elif MODE == "grandkids_crash":
        grandchildren()
        claude_text("forked two, then crashed")
        sys.stderr.write("crashing with grandchildren holding the pipes\n")
        sys.stderr.flush()
        os._exit(5)
    elif MODE == "stream":
        n = int(os.environ.get("FAKE_COUNT", "2000"))
        for i in range(n):
            emit({"type": "stream_event", "parent_tool_use_id": None, "event": {
                "type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": "d%05d " % i}}})
        claude_result("streamed %d" % n)
    elif MODE == "endless":
        # Text deltas as fast as the pipe takes them, until an interrupt comes on stdin (read by
        # a second thread); answered as the CLI does: the control response, then a `result`.
        # Capped (5M deltas, then a success) so that a sidecar that never interrupts fails the
        # test instead of hanging it.
        import threading
        interrupt = threading.Event()
        asked = {}

        def watch_stdin():
            for line in sys.stdin:
                msg = json.loads(line)
                if msg.get("type") == "control_request" and \
                        msg.get("request", {}).get("subtype") == "interrupt":
                    asked["id"] = msg.get("request_id")
                    interrupt.set()
                    return

        threading.Thread(target=watch_stdin, daemon=True).start()
        chunk = "".join(json.dumps({"type": "stream_event", "parent_tool_use_id": None, "event": {
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": "more "}}}) + "\n" for _ in range(1000))
        sent = 0
        while not interrupt.is_set() and sent < 5_000_000:
            raw(chunk)
            sent += 1000
        if interrupt.is_set():
            emit({"type": "control_response", "response": {
                "subtype": "success", "request_id": asked["id"], "response": {}}})
            emit({"type": "result", "subtype": "error_during_execution", "is_error": True,
                  "num_turns": 1, "session_id": "fake-%d" % os.getpid(),
                  "usage": {"input_tokens": 3, "output_tokens": sent}})
        else:
            claude_result("never interrupted after %d deltas" % sent)
    elif MODE == "split":
        # Streams the pieces in FAKE_PIECES (a JSON list) as text deltas, one line each.
        for piece in json.loads(os.environ["FAKE_PIECES"]):
            emit({"type": "stream_event", "parent_tool_use_id": None, "event": {
                "type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": piece}}})
        claude_result("split")
    elif MODE == "leak":
        # The task's MCP configuration (its env values may be secrets) echoed back as model output.
        if "--mcp-config" in sys.argv:
            with open(sys.argv[sys.argv.index("--mcp-config") + 1]) as f:
                config = json.load(f)
            values = [v for s in config["mcpServers"].values() for v in s.get("env", {}).values()]
            claude_text("mcp env: " + " ".join(values))
        sys.stderr.write("debug: using key %s%s for the request\n" % (PAD, SECRET))
        sys.stderr.flush()
        emit({"type": "assistant", "parent_tool_use_id": None, "message": {
            "id": "m-leak", "role": "assistant", "content": [
                {"type": "text", "text": "the key is %s" % SECRET},
                {"type": "tool_use", "id": "tu1", "name": "Bash",
                 "input": {"command": "echo %s" % SECRET}}]}})
        emit({"type": "user", "message": {"content": [{"type": "tool_result", "tool_use_id": "tu1",
              "content": "output: %s" % SECRET}]}})
        raw("not json but has the key %s\n" % SECRET)
        sys.stderr.write("fatal: auth with %s%s failed\n" % (PAD, SECRET))
        sys.stderr.flush()
        os._exit(7)
    elif MODE == "argv":
        # Stays alive until told to go, so the test can read every process's command line.
        claude_text("waiting")
        for line in sys.stdin:
            msg = json.loads(line)
            if msg.get("type") == "control_request" and msg["request"].get("subtype") == "interrupt":
                emit({"type": "control_response", "response": {
                    "subtype": "success", "request_id": msg.get("request_id"), "response": {}}})
                emit({"type": "result", "subtype": "error_during_execution", "is_error": True,
                      "num_turns": 1, "session_id": "fake-argv", "usage": {}})
                break
    else:
        sys.stderr.write("unknown FAKE_MODE %s\n" % MODE)
        os._exit(64)


# ---------------------------------------------------------------- codex (app-server) -----------


def codex():
    if sys.argv[1:2] == ["--version"]:
        print("codex-cli 0.171.0")
        return
    if sys.argv[1:3] == ["login", "status"]:
        sys.stderr.write("Logged in using an API key\n")
        return
    note_pids(os.getpid())
    if MODE in ("hang", "nostdin"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if MODE == "nostdin":
        sleep_forever()
    thread = "fake-thread-%d" % os.getpid()
    turn = "fake-turn-1"
    for line in sys.stdin:
        msg = json.loads(line)
        method, mid = msg.get("method"), msg.get("id")
        if method == "initialize":
            emit({"id": mid, "result": {"userAgent": "fake"}})
        elif method in ("thread/start", "thread/resume", "thread/fork"):
            if STATE:
                with open(os.path.join(STATE, "%d.thread.json" % os.getpid()), "w") as f:
                    json.dump(msg.get("params"), f)
            emit({"id": mid, "result": {"thread": {"id": thread}, "model": "fake-model"}})
        elif method == "turn/start":
            emit({"id": mid, "result": {"turn": {"id": turn}}})
            emit({"method": "turn/started", "params": {"threadId": thread, "turn": {"id": turn}}})
            break
    delta = {"method": "item/agentMessage/delta",
             "params": {"threadId": thread, "turnId": turn, "itemId": "i1", "delta": "partial "}}
    if MODE == "ok":
        emit(delta)
        emit({"method": "item/completed", "params": {"threadId": thread, "turnId": turn, "item": {
            "type": "agentMessage", "id": "i1", "text": "codex ok"}}})
        emit({"method": "turn/completed", "params": {"threadId": thread, "turn": {
            "id": turn, "status": "completed", "items": []}}})
        # app-server exits when its stdin closes.
        for _ in sys.stdin:
            pass
    elif MODE == "crash":
        emit(delta)
        emit({"method": "item/completed", "params": {"threadId": thread, "turnId": turn, "item": {
            "type": "agentMessage", "id": "i1", "text": "partial answer before the crash"}}})
        sys.stderr.write("thread 'main' panicked: the fake codex fell over\n")
        sys.stderr.flush()
        os._exit(101)
    elif MODE == "hang":
        emit(delta)
        sleep_forever()
    elif MODE in ("grandkids", "grandkids_crash"):
        grandchildren()
        emit(delta)
        if MODE == "grandkids":
            emit({"method": "turn/completed", "params": {"threadId": thread, "turn": {
                "id": turn, "status": "completed", "items": [
                    {"type": "agentMessage", "id": "i1", "text": "forked two"}]}}})
            for _ in sys.stdin:
                pass
        os._exit(5 if MODE == "grandkids_crash" else 0)
    elif MODE == "argv":
        emit(delta)
        for line in sys.stdin:
            msg = json.loads(line)
            if msg.get("method") == "turn/interrupt":
                emit({"id": msg["id"], "result": {}})
                emit({"method": "turn/completed", "params": {"threadId": thread, "turn": {
                    "id": turn, "status": "interrupted", "items": []}}})
        # stdin closed: exit like app-server does.
    else:
        sys.stderr.write("unknown FAKE_MODE %s\n" % MODE)
        os._exit(64)


if __name__ == "__main__":
    # The tests link this file as `fake-claude` and `fake-codex`.
    if "codex" in os.path.basename(sys.argv[0]):
        codex()
    else:
        claude()

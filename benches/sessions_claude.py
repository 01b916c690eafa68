"""Issue 16's claude figures, each beside its same-run baseline, against the real pinned Claude Code
CLI and a mock Messages API started here on 127.0.0.1 (no network):

1. cold start: bare `claude -p` (stream-json, prompt on stdin) spawn → first text delta and →
   result, vs a fresh sidecar spawn → the first run's first `agent.output.delta` and → response.
   Target: the sidecar adds ≤ 50 ms.
2. prewarm: `session/open`, then a `run` on it: request → first delta. Target ≤ 0.5× the bare
   CLI's cold first delta.
3. follow-up: the next `run` on the live session: request → first delta, vs a cold `resume` run
   of the same session in a fresh sidecar. Target ≤ 0.3× the cold resume.

Rounds are interleaved (bare, sidecar, bare, …) so that machine load hits both sides alike;
medians are reported. Standard library only.
Usage: python3 benches/sessions_claude.py  (env: ARK_TEST_CLAUDE = the pinned claude, from
tests/vendors/install.sh; BENCH_BIN = the sidecar, default target/release/agent-runtime-kit;
BENCH_ROUNDS, default 5)."""
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Mock(http.server.BaseHTTPRequestHandler):
    """A Messages API that streams a short answer at once (SSE, chunked)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_one_request(self):
        # A CLI that is killed or exits mid-connection is normal here, not an error to print.
        try:
            super().handle_one_request()
        except (ConnectionResetError, BrokenPipeError):
            self.close_connection = True

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        if not body.get("stream"):
            out = json.dumps({"id": "msg_x", "type": "message", "role": "assistant",
                              "model": body.get("model", "m"),
                              "content": [{"type": "text", "text": "ok"}],
                              "stop_reason": "end_turn", "stop_sequence": None,
                              "usage": {"input_tokens": 1, "output_tokens": 1}}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def event(d):
            s = ("event: %s\ndata: %s\n\n" % (d["type"], json.dumps(d))).encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(s), s))

        event({"type": "message_start", "message": {
            "id": "msg_%d" % time.time_ns(), "type": "message", "role": "assistant",
            "model": body.get("model", "m"), "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": {"input_tokens": 100, "output_tokens": 1}}})
        event({"type": "content_block_start", "index": 0,
               "content_block": {"type": "text", "text": ""}})
        for word in ["Hello ", "from ", "the ", "mock."]:
            event({"type": "content_block_delta", "index": 0,
                   "delta": {"type": "text_delta", "text": word}})
        event({"type": "content_block_stop", "index": 0})
        event({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
               "usage": {"output_tokens": 4}})
        event({"type": "message_stop"})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def start_mock():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % server.server_address[1]


def environment(url, home):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "CLAUDE_CODE_"))}
    env.update({
        "HOME": home, "CLAUDE_CONFIG_DIR": os.path.join(home, ".claude"),
        "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "dummy-bench-key-0123456789",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1", "CLAUDE_CODE_MAX_RETRIES": "0",
    })
    return env


def user_line(text):
    return json.dumps({"type": "user", "session_id": "", "parent_tool_use_id": None,
                       "message": {"role": "user", "content": [{"type": "text", "text": text}]}})


def bare(claude, env, work):
    """Bare CLI, as the sidecar starts it: spawn → first text delta, → result."""
    argv = [claude, "-p", "--input-format", "stream-json", "--output-format", "stream-json",
            "--verbose", "--permission-prompt-tool", "stdio", "--include-partial-messages",
            "--permission-mode", "acceptEdits", "--setting-sources", ""]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=work, env=env)
    p.stdin.write((user_line("say hello") + "\n").encode())
    p.stdin.flush()
    first = None
    for line in p.stdout:
        if first is None and b'"text_delta"' in line:
            first = time.perf_counter() - t0
        # Key order varies between lines: parse what may be the result.
        if b'"result"' in line and json.loads(line).get("type") == "result":
            break
    done = time.perf_counter() - t0
    p.stdin.close()
    p.wait(timeout=30)
    return first, done


class Sidecar:
    def __init__(self, binary, claude, env, work):
        self.t0 = time.perf_counter()
        self.p = subprocess.Popen([binary, "--claude-path", claude], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=work,
                                  env=env)
        self.work = work
        self.next_id = 0

    def send(self, method, params):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        self.p.stdin.write((json.dumps(msg) + "\n").encode())
        self.p.stdin.flush()
        return self.next_id

    def wait_for(self, rid):
        """(seconds to the first output delta or None, the response)."""
        first = None
        for line in self.p.stdout:
            if first is None and b'"agent.output.delta"' in line:
                first = time.perf_counter()
            msg = json.loads(line)
            if msg.get("id") == rid and "method" not in msg:
                return first, msg

    def run(self, task_id, session=None, since=None):
        task = {"goal": "say hello", "workingDirectory": self.work}
        if session:
            task["session"] = session
        t0 = time.perf_counter() if since is None else since
        rid = self.send("run", {"taskId": task_id, "runtime": "claude", "task": task})
        first, resp = self.wait_for(rid)
        if "result" not in resp:
            raise SystemExit("run failed: %s" % resp)
        return (first - t0 if first else None), time.perf_counter() - t0, resp["result"]

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) * 1000 if xs else float("nan")


def main():
    claude = os.environ.get("ARK_TEST_CLAUDE")
    if not claude:
        raise SystemExit("ARK_TEST_CLAUDE unset: eval \"$(bash tests/vendors/install.sh)\"")
    binary = os.environ.get("BENCH_BIN") or os.path.join(ROOT, "target/release/agent-runtime-kit")
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    url = start_mock()
    tmp = tempfile.mkdtemp(prefix="ark-bench-sessions-")
    home, work = os.path.join(tmp, "home"), os.path.join(tmp, "work")
    os.makedirs(os.path.join(home, ".claude"))
    os.makedirs(work)
    env = environment(url, home)
    fig = {k: [] for k in ("bare_first", "bare_done", "side_first", "side_done",
                           "prewarm_first", "follow_first", "cold_resume_first")}
    try:
        bare(claude, env, work)  # warm the page cache for both sides
        for i in range(rounds):
            f, d = bare(claude, env, work)
            fig["bare_first"].append(f)
            fig["bare_done"].append(d)
            s = Sidecar(binary, claude, env, work)
            f, d, _ = s.run("cold-%d" % i, since=s.t0)
            s.close()
            fig["side_first"].append(f)
            fig["side_done"].append(d)

            # Prewarm, then a follow-up in the live session.
            s = Sidecar(binary, claude, env, work)
            rid = s.send("session/open", {"runtime": "claude", "task": {"workingDirectory": work}})
            _, opened = s.wait_for(rid)
            sid = opened["result"]["sessionId"]
            f, _, r = s.run("pre-%d" % i, {"resume": sid})
            assert r.get("sessionSource") == "live", r
            fig["prewarm_first"].append(f)
            f, _, r = s.run("follow-%d" % i, {"resume": sid})
            assert r.get("sessionSource") == "live", r
            fig["follow_first"].append(f)
            s.close()

            # The same session resumed cold by a fresh sidecar (its first run: preflight included).
            s = Sidecar(binary, claude, env, work)
            f, _, r = s.run("cold-resume-%d" % i, {"resume": sid})
            s.close()
            fig["cold_resume_first"].append(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    m = {k: med(v) for k, v in fig.items()}
    checks = [
        ("first delta, fresh sidecar vs bare claude -p (≤ +50 ms)",
         m["side_first"] - m["bare_first"], m["side_first"] - m["bare_first"] <= 50, "ms"),
        ("result, fresh sidecar vs bare claude -p (≤ +50 ms)",
         m["side_done"] - m["bare_done"], m["side_done"] - m["bare_done"] <= 50, "ms"),
        ("prewarmed first delta / bare cold first delta (≤ 0.5)",
         m["prewarm_first"] / m["bare_first"], m["prewarm_first"] <= 0.5 * m["bare_first"], "x"),
        ("live follow-up first delta / cold resume first delta (≤ 0.3)",
         m["follow_first"] / m["cold_resume_first"],
         m["follow_first"] <= 0.3 * m["cold_resume_first"], "x"),
    ]
    version = subprocess.run([claude, "--version"], capture_output=True, text=True, env=env)
    print("claude live sessions (real CLI %s, mock API, median of %d interleaved rounds):"
          % (version.stdout.strip(), rounds))
    print("  bare claude -p cold:        first delta %7.0f ms   result %7.0f ms"
          % (m["bare_first"], m["bare_done"]))
    print("  fresh sidecar, first run:   first delta %7.0f ms   response %5.0f ms"
          % (m["side_first"], m["side_done"]))
    print("  prewarmed (session/open):   first delta %7.0f ms" % m["prewarm_first"])
    print("  live follow-up:             first delta %7.0f ms" % m["follow_first"])
    print("  cold resume, fresh sidecar: first delta %7.0f ms" % m["cold_resume_first"])
    for label, value, ok, unit in checks:
        shown = ("%+.0f ms" % value) if unit == "ms" else ("%.2f×" % value)
        print("  %s %s: %s" % ("ok  " if ok else "MISS", label, shown))
    return 0


if __name__ == "__main__":
    sys.exit(main())

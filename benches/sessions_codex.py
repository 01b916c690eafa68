#!/usr/bin/env python3
"""Codex live sessions against the bare CLI (issue 16), every figure beside a baseline measured in
the same run, rounds interleaved:

  1. no cold-start tax: bare `codex exec` cold (its agent message, its exit) against the first run
     through a fresh sidecar (first `agent.output.delta`, the response): target <= +50 ms at both;
  2. prewarm: a run on a session opened with `session/open`, first delta, against bare `codex exec`'s
     cold first text: target <= 0.5x;
  3. follow-up: the next turn on a live session, first delta, against a cold `resume` run (a fresh
     sidecar resuming the same thread from codex's store): target <= 0.3x; beside it the floor,
     a follow-up `turn/start` written straight into a bare `codex app-server`.

Everything runs against a mock OpenAI Responses API on 127.0.0.1 (no network), with the pinned
codex (`ARK_TEST_CODEX`, from tests/vendors/install.sh) and a private CODEX_HOME per round.
  BENCH_ROUNDS=N   timed rounds (default 5)     BENCH_BIN=path   the sidecar (default target/release)
"""

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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
BIN = os.environ.get("BENCH_BIN") or os.path.join(ROOT, "target", "release", "agent-runtime-kit")
CODEX = os.environ.get("ARK_TEST_CODEX")
MODEL = "gpt-5.5"
DELTAS = ["Hello ", "from ", "the ", "mock."]


def sse(event):
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


class Responses(http.server.BaseHTTPRequestHandler):
    """POST /v1/responses: a short streamed assistant message."""

    protocol_version = "HTTP/1.1"
    count = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        Responses.count += 1
        rid = f"resp_{Responses.count}"
        mid = f"msg_{rid}"
        events = [
            {"type": "response.created", "response": {"id": rid}},
            {"type": "response.output_item.added", "output_index": 0,
             "item": {"type": "message", "role": "assistant", "id": mid, "content": []}},
            {"type": "response.content_part.added", "item_id": mid, "output_index": 0,
             "content_index": 0, "part": {"type": "output_text", "text": ""}},
        ]
        events += [{"type": "response.output_text.delta", "item_id": mid, "output_index": 0,
                    "content_index": 0, "delta": d} for d in DELTAS]
        events += [
            {"type": "response.output_item.done", "output_index": 0,
             "item": {"type": "message", "role": "assistant", "id": mid,
                      "content": [{"type": "output_text", "text": "".join(DELTAS)}]}},
            {"type": "response.completed", "response": {"id": rid, "usage": {
                "input_tokens": 100, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 105}}},
        ]
        body = "".join(sse(e) for e in events).encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_mock():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Responses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


class Home:
    """A private CODEX_HOME, HOME and working directory for one round."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="ark-bench-codex-")
        for d in ("home", "codex-home", "work"):
            os.mkdir(os.path.join(self.root, d))
        self.work = os.path.join(self.root, "work")
        self.env = dict(os.environ, HOME=os.path.join(self.root, "home"),
                        CODEX_HOME=os.path.join(self.root, "codex-home"),
                        OPENAI_API_KEY="bench-not-a-key")
        self.env.pop("CODEX_API_KEY", None)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def provider_flags(base_url):
    """The mock as codex's model provider: the `-c` flags the sidecar gives app-server."""
    return [
        "-c", 'model_provider="mock"', "-c", 'model_providers.mock.name="mock"',
        "-c", f'model_providers.mock.base_url="{base_url}"',
        "-c", 'model_providers.mock.env_key="OPENAI_API_KEY"',
        "-c", 'model_providers.mock.wire_api="responses"',
        "-c", "model_providers.mock.request_max_retries=0",
        "-c", "model_providers.mock.stream_max_retries=0",
    ]


def bare_exec(home, base_url):
    """`codex exec --json` with the same provider and flags the sidecar gives app-server: seconds
    to its agent message (exec streams no deltas) and to its exit."""
    cmd = [CODEX, "exec", "--json", "--skip-git-repo-check", "--disable", "plugins", "--disable",
           "remote_plugin", "--disable", "apps", "-c", "analytics.enabled=false",
           *provider_flags(base_url),
           "-m", MODEL, "say hello"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=home.work, env=home.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = None
    for line in p.stdout:
        if first is None and '"agent_message"' in line and "item.completed" in line:
            first = time.perf_counter() - t0
    p.wait()
    done = time.perf_counter() - t0
    if first is None:
        raise RuntimeError("codex exec wrote no agent message")
    return first, done


def bare_app_server(home, base_url):
    """`codex app-server` driven directly (no sidecar): a thread, then two turns; seconds from
    the second `turn/start` to its first delta, the floor under a live follow-up."""
    cmd = [CODEX, "app-server", "--disable", "plugins", "--disable", "remote_plugin", "--disable",
           "apps", "-c", "analytics.enabled=false", *provider_flags(base_url)]
    p = subprocess.Popen(cmd, cwd=home.work, env=home.env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    n = 0

    def request(method, params):
        nonlocal n
        n += 1
        p.stdin.write(json.dumps({"id": n, "method": method, "params": params}) + "\n")
        p.stdin.flush()
        return n

    def until(pred):
        while True:
            line = p.stdout.readline()
            if not line:
                raise RuntimeError("codex app-server closed its output")
            m = json.loads(line)
            if pred(m):
                return m

    i = request("initialize", {"clientInfo": {"name": "bench", "title": None, "version": "0"},
                               "capabilities": {"experimentalApi": False}})
    until(lambda m: m.get("id") == i)
    p.stdin.write(json.dumps({"method": "initialized"}) + "\n")
    i = request("thread/start", {"cwd": home.work, "approvalPolicy": "never",
                                 "sandbox": "workspace-write", "model": MODEL})
    thread = until(lambda m: m.get("id") == i)["result"]["thread"]["id"]
    first = None
    for _ in range(2):
        t0 = time.perf_counter()
        request("turn/start", {"threadId": thread, "input": [{"type": "text", "text": "hi"}]})
        until(lambda m: m.get("method") == "item/agentMessage/delta")
        first = time.perf_counter() - t0
        until(lambda m: m.get("method") == "turn/completed")
    p.stdin.close()
    p.wait(timeout=30)
    return first


class Sidecar:
    def __init__(self, home):
        self.p = subprocess.Popen([BIN, "--codex-path", CODEX], cwd=home.work, env=home.env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.next_id = 0

    def send(self, method, params):
        self.next_id += 1
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method,
                                       "params": params}) + "\n")
        self.p.stdin.flush()
        return self.next_id

    def until(self, rid, t0, on_first_delta=None):
        """Reads to the response to `rid`: (seconds to the first delta, to the response, it)."""
        first = None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("the sidecar closed its output")
            m = json.loads(line)
            if first is None and m.get("method") == "event" and \
                    m["params"]["type"] == "agent.output.delta":
                first = time.perf_counter() - t0
            if m.get("id") == rid:
                return first, time.perf_counter() - t0, m

    def call(self, method, params):
        t0 = time.perf_counter()
        return self.until(self.send(method, params), t0)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def task(home, base_url, goal="say hello", session=None):
    t = {"goal": goal, "workingDirectory": home.work, "model": MODEL, "timeoutMs": 60000,
         "runtimeOptions": {"codex": {"provider": {
             "id": "mock", "baseUrl": base_url, "envKey": "OPENAI_API_KEY",
             "requestMaxRetries": 0, "streamMaxRetries": 0}}}}
    if session:
        t["session"] = session
    return t


def result_of(m):
    if "result" not in m or m["result"].get("finishReason") != "completed":
        raise RuntimeError(f"not completed: {json.dumps(m)[:400]}")
    return m["result"]


def sidecar_cold(home, base_url):
    """A fresh sidecar's first run: (first delta, response, session id)."""
    s = Sidecar(home)
    first, done, m = s.call("run", {"taskId": "cold", "runtime": "codex",
                                    "task": task(home, base_url)})
    s.close()
    return first, done, result_of(m)["sessionId"]


def cold_resume(home, base_url, session_id):
    s = Sidecar(home)
    first, _, m = s.call("run", {"taskId": "resume", "runtime": "codex",
                                 "task": task(home, base_url, "and again",
                                              {"resume": session_id})})
    r = result_of(m)
    s.close()
    return first, r.get("sessionSource")


def prewarmed(home, base_url):
    """session/open, then a first turn and a follow-up: their first deltas."""
    s = Sidecar(home)
    try:
        _, _, opened = s.call("session/open", {"runtime": "codex", "task": task(home, base_url)})
        if "result" not in opened:
            return None
        sid = opened["result"]["sessionId"]
        first, _, m = s.call("run", {"taskId": "warm", "runtime": "codex",
                                     "task": task(home, base_url, "say hello", {"resume": sid})})
        result_of(m)
        follow, _, m = s.call("run", {"taskId": "next", "runtime": "codex",
                                      "task": task(home, base_url, "and again", {"resume": sid})})
        source = result_of(m).get("sessionSource")
        return first, follow, source
    finally:
        s.close()


def ms(xs):
    return statistics.median(xs) * 1000


def main():
    if not CODEX or not os.path.exists(CODEX):
        sys.exit("ARK_TEST_CODEX is not set: eval \"$(bash tests/vendors/install.sh)\" first")
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} does not exist: cargo build --release (or set BENCH_BIN)")
    base_url = start_mock()
    # One untimed round each: page cache, codex's first-run files.
    warm = Home()
    bare_exec(warm, base_url)
    sidecar_cold(warm, base_url)
    warm.close()

    cols = {k: [] for k in ("exec_first", "exec_done", "side_first", "side_done", "resume_first",
                            "warm_first", "follow_first", "bare_follow")}
    sources = set()
    live = True
    for _ in range(ROUNDS):
        home = Home()
        f, d = bare_exec(home, base_url)
        cols["exec_first"].append(f)
        cols["exec_done"].append(d)
        f, d, sid = sidecar_cold(home, base_url)
        cols["side_first"].append(f)
        cols["side_done"].append(d)
        cols["bare_follow"].append(bare_app_server(home, base_url))
        f, src = cold_resume(home, base_url, sid)
        cols["resume_first"].append(f)
        sources.add(f"cold resume: {src}")
        if live:
            w = prewarmed(home, base_url)
            if w is None:
                live = False
            else:
                cols["warm_first"].append(w[0])
                cols["follow_first"].append(w[1])
                sources.add(f"follow-up: {w[2]}")
        home.close()

    e_first, e_done = ms(cols["exec_first"]), ms(cols["exec_done"])
    s_first, s_done = ms(cols["side_first"]), ms(cols["side_done"])
    r_first = ms(cols["resume_first"])
    print(f"codex sessions, median of {ROUNDS} interleaved rounds (mock Responses API; "
          f"{', '.join(sorted(sources))})")
    rows = [
        ("bare `codex exec` cold: agent message / exit", f"{e_first:.0f} / {e_done:.0f} ms", "", ""),
        ("fresh sidecar, first run: first delta / response", f"{s_first:.0f} / {s_done:.0f} ms",
         f"{s_first - e_first:+.0f} / {s_done - e_done:+.0f} ms",
         "<= +50 ms: " + ("met" if s_first - e_first <= 50 and s_done - e_done <= 50 else "MISSED")),
        ("cold `resume` run (fresh sidecar): first delta", f"{r_first:.0f} ms", "", ""),
    ]
    if live:
        w_first, f_first = ms(cols["warm_first"]), ms(cols["follow_first"])
        rows += [
            ("prewarmed (session/open) run: first delta", f"{w_first:.0f} ms",
             f"{w_first / e_first:.2f}x bare cold", "<= 0.5x: " + ("met" if w_first <= 0.5 * e_first else "MISSED")),
            ("live follow-up turn: first delta", f"{f_first:.0f} ms",
             f"{f_first / r_first:.2f}x cold resume", "<= 0.3x: " + ("met" if f_first <= 0.3 * r_first else "MISSED")),
            ("  the floor: bare app-server follow-up, first delta", f"{ms(cols['bare_follow']):.0f} ms",
             f"sidecar adds {f_first - ms(cols['bare_follow']):+.0f} ms", ""),
        ]
    else:
        rows.append(("prewarm / follow-up", "n/a: this sidecar has no session/open", "", ""))
    width = max(len(r[0]) for r in rows)
    for name, value, vs, target in rows:
        print(f"  {name:<{width}}  {value:>16}  {vs:>22}  {target}")


if __name__ == "__main__":
    main()

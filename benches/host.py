"""The host end of the relay benchmark, written as a Python program that embeds the sidecar would
be: it spawns the sidecar (subprocess.Popen, default buffering), writes `run` requests on its
stdin and reads stdout one line at a time until the run's response, counting the event
notifications. Two ways of reading, both timed each round on the same sidecar:

- parse: `json.loads` on every line, as a host that uses the events does, and as the vendor SDKs
  it is compared with (claude-agent-sdk in Python, @openai/codex-sdk in Node) do with the
  vendor's lines;
- lines: reads every line but parses only those that are not event notifications (the response):
  the host issue 14's relay figures were stated with ("a Python host reading lines"), whose own
  cost per line is small next to the sidecar's.

Standard library only. Usage: python host.py CONFIG.json, where CONFIG is
  {"command": [sidecar, args...], "warmup": <run params>, "run": <run params>,
   "rounds": N, "cat": <file of vendor lines>}
One warm-up run (the runtime's preflight is cached after it), then per round a timed run of each
way and, right after, `cat <file>` read each way: this host's ceiling on the vendor's own lines.
Prints one JSON object per round, {"parse": {...}, "lines": {...}}, each
  {"events": E, "seconds": S, "streamingSeconds": F, "catLines": L, "catSeconds": C}
S: request written → response read; F: first event → response (the streaming rate's time);
C: first line → end of cat's output."""
import json
import subprocess
import sys
import time


EVENT = b'"method":"event"'


def timed_run(proc, rid, params, parse=True):
    request = {"jsonrpc": "2.0", "id": rid, "method": "run", "params": params}
    readline = proc.stdout.readline
    began = time.perf_counter()
    proc.stdin.write(json.dumps(request).encode() + b"\n")
    proc.stdin.flush()
    events = 0
    first = None
    while True:
        line = readline()
        if not line:
            raise SystemExit("the sidecar closed its output")
        if not parse and EVENT in line:
            if first is None:
                first = time.perf_counter()
            events += 1
            continue
        msg = json.loads(line)
        if "id" in msg and "method" not in msg:
            if msg["id"] != rid:
                continue
            end = time.perf_counter()
            reason = (msg.get("result") or {}).get("finishReason")
            if reason != "completed":
                raise SystemExit(f"run {rid} did not complete: {line[:500]!r}")
            return events, end - began, end - (first or end)
        if msg.get("method") == "event":
            if first is None:
                first = time.perf_counter()
            events += 1


def read_cat(path, parse=True):
    cat = subprocess.Popen(["cat", path], stdout=subprocess.PIPE)
    lines = 0
    first = None
    for line in cat.stdout:
        if parse:
            json.loads(line)
        if first is None:
            first = time.perf_counter()
        lines += 1
    end = time.perf_counter()
    cat.wait()
    return lines, end - (first or end)


def main():
    with open(sys.argv[1]) as f:
        config = json.load(f)
    proc = subprocess.Popen(
        config["command"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    timed_run(proc, 1, config["warmup"])
    rid = 2
    for _ in range(config["rounds"]):
        report = {}
        for way, parse in (("parse", True), ("lines", False)):
            events, seconds, streaming = timed_run(proc, rid, config["run"], parse)
            rid += 1
            cat_lines, cat_seconds = read_cat(config["cat"], parse)
            report[way] = {"events": events, "seconds": seconds, "streamingSeconds": streaming,
                           "catLines": cat_lines, "catSeconds": cat_seconds}
        print(json.dumps(report), flush=True)
    proc.stdin.close()
    proc.wait()


main()

"""Runs `agent-runtime-kit run ...` with stdin and stderr on a pseudo-terminal and answers its
prompts like a person: each (expected prompt text, reply) pair in order. Prints the child's
stdout, then a line `EXIT <code>`, then everything the terminal showed (for the test to check)."""

import json
import os
import select
import subprocess
import sys
import time

binary, args, replies = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
master, slave = os.openpty()
child = subprocess.Popen([binary, *args], stdin=slave, stderr=slave, stdout=subprocess.PIPE)
os.close(slave)
seen = b""
deadline = time.time() + 30


def read_until(text: bytes) -> None:
    global seen
    while text not in seen:
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {text!r}; saw {seen!r}")
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                seen += os.read(master, 4096)
            except OSError:
                raise SystemExit(f"terminal closed before {text!r}; saw {seen!r}")


for expect, reply in replies:
    read_until(expect.encode())
    seen = seen.replace(expect.encode(), b"<asked>", 1)
    os.write(master, (reply + "\n").encode())
out = child.stdout.read().decode()
code = child.wait(timeout=30)
try:
    while select.select([master], [], [], 0.1)[0]:
        seen += os.read(master, 4096)
except OSError:
    pass
print(out)
print(f"EXIT {code}")
print(seen.decode(errors="replace"))

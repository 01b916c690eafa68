#!/usr/bin/env python3
"""Regenerates link/startup.ld: the functions the sidecar runs from spawn to its first
`capabilities` reply (and exit on EOF), grouped at the start of the code by the linker.

Why: the kernel maps a binary's code in whole page-cache folios (64-128 KiB) on each fault. The
~1,000 functions a start runs total ~0.8 MiB but are spread over the 8 MiB of code, so a start
used to fault in ~5 MiB of it. Grouped, they fault in ~2 MiB (docs/benchmarks.md).

How: runs the release binary under valgrind's callgrind (exact, unlike sampling), maps every
executed instruction to its function with `nm`, and writes one linker-script pattern per function.
A pattern leaves out what changes between builds (the legacy-mangling hash `17h<16 hex>E`, the
v0 crate disambiguators `Cs…_`, ThinLTO's `.llvm.<n>` suffixes), so the list stays valid across
rebuilds, profiles and checkouts; it also matches the other instances of a generic function,
which the cluster then carries along. A function renamed since the last run simply stays in
place: the link never fails over a stale entry. Rerun this after large changes to the start-up
path (CLI, registry, transport), then rebuild:

    cargo build --release && python3 link/startup-order.py && cargo build --release

Needs valgrind and binutils (`nm`).
"""

import bisect
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUEST = b'{"jsonrpc":"2.0","id":1,"method":"capabilities"}\n'
# Threads interleave differently from run to run (lock slow paths, wake-ups): take the union.
RUNS = 3


def executed_addresses(binary: str, out_file: str) -> set:
    """Instruction addresses inside `binary` from a callgrind profile made with --dump-instr=yes."""
    addresses, last, obj, objects = set(), 0, None, {}
    for line in open(out_file):
        if line.startswith(("ob=", "cob=")):
            m = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line.strip())
            if m.group(2):
                objects[m.group(1)] = m.group(2)
            if line.startswith("ob="):
                obj = objects[m.group(1)]
            continue
        if not line or line[0] not in "0123456789+-*":
            continue
        token = line.split()[0]
        try:
            if token.startswith("0x"):
                address = int(token, 16)
            elif token[0] in "+-":
                address = last + int(token[0] + str(int(token[1:], 0)))
            elif token == "*":
                address = last
            else:
                address = int(token)
        except ValueError:
            continue
        last = address
        # Valgrind names only the object's `.text` after it: code already grouped in
        # `.text.ark_startup` shows as "???". The binary is not PIE, so its addresses are its own.
        if obj in (binary, "???"):
            addresses.add(address)
    return addresses


def functions(binary: str) -> list:
    out = subprocess.run(["nm", "-S", binary], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            syms.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    return sorted(syms)


def pattern(name: str):
    """The function's name without the parts that change between builds."""
    name = re.sub(r"\.llvm\.\d+$", "", name)
    if name.startswith("_ZN"):
        return re.sub(r"17h[0-9a-f]{16}E$", "17h*", name)
    if name.startswith("_R"):
        return re.sub(r"Cs[0-9A-Za-z]+_", "Cs*_", name) + "*"
    # C names (`main`, compiler builtins) are stable; the C runtime's own code is in `.text`.
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) else None


def main() -> None:
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ROOT / "target/release/agent-runtime-kit")
    header = subprocess.run(["readelf", "-h", binary], capture_output=True, text=True, check=True).stdout
    if "EXEC" not in header:
        sys.exit(f"{binary} is position-independent; build the (non-PIE) release binary first")
    addresses = set()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(RUNS):
            out = os.path.join(tmp, f"callgrind.{i}")
            # Pipes for stdin and stdout, as a host gives (the server reads and writes them
            # through the reactor then, not through tokio's blocking pool); RUST_LOG as the bench.
            subprocess.run(
                ["valgrind", "--tool=callgrind", "--dump-instr=yes", f"--callgrind-out-file={out}", binary],
                input=REQUEST,
                capture_output=True,
                env={**os.environ, "RUST_LOG": "warn"},
                cwd=tmp,
                check=True,
            )
            addresses |= executed_addresses(binary, out)
    syms = functions(binary)
    starts = [s[0] for s in syms]

    executed = {}
    for a in addresses:
        i = bisect.bisect_right(starts, a) - 1
        if i >= 0 and syms[i][0] <= a < syms[i][0] + syms[i][1]:
            executed[syms[i][2]] = syms[i][1]
    patterns = sorted({p for p in map(pattern, executed) if p})
    if not patterns:
        sys.exit(f"no Rust function of {binary} ran under callgrind")
    # LLVM may put a function in .text.unlikely.* (cold) or .text.hot.* instead of .text.*.
    lines = [
        "/* Generated by link/startup-order.py; see there. Do not edit by hand. */",
        f"/* {len(executed)} functions ({sum(executed.values()) // 1024} KiB) ran from spawn to the first capabilities reply. */",
        "SECTIONS",
        "{",
        "  .text.ark_startup : {",
    ]
    for p in patterns:
        lines.append(f"    *(.text.{p} .text.unlikely.{p} .text.hot.{p} .text.startup.{p})")
    lines += ["  }", "}", "INSERT BEFORE .text;", ""]
    (ROOT / "link/startup.ld").write_text("\n".join(lines))
    print(f"link/startup.ld: {len(patterns)} patterns for {len(executed)} functions", file=sys.stderr)


if __name__ == "__main__":
    main()

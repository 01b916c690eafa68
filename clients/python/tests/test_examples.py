"""The same-task example runs through the fixture and skips runtimes it cannot use, with the reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import REPO, sidecar_bin


def test_same_task_example_runs_fixture_and_skips_the_rest() -> None:
    env = dict(os.environ, AGENT_RUNTIME_KIT_BIN=sidecar_bin())
    # Vendor runtimes pointed at binaries that do not exist: skipped whether this sidecar has them
    # (diagnose says missingBinary) or not (-32010), never run against a real account.
    env.update(
        AGENT_RUNTIME_KIT_CLAUDE_PATH="/nonexistent/claude",
        AGENT_RUNTIME_KIT_CODEX_PATH="/nonexistent/codex",
        AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON="/nonexistent/python3",
    )
    r = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "same_task.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^fixture\s+completed\s+3\s+1200/180\s+0\.0000\s+none", r.stdout, re.M), r.stdout
    for vendor in ["claude", "codex", "antigravity"]:
        assert re.search(rf"^skipped {vendor}: \S", r.stdout, re.M), r.stdout

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


def _conversation(*args: str) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, AGENT_RUNTIME_KIT_BIN=sidecar_bin())
    env.update(
        AGENT_RUNTIME_KIT_CLAUDE_PATH="/nonexistent/claude",
        AGENT_RUNTIME_KIT_CODEX_PATH="/nonexistent/codex",
        AGENT_RUNTIME_KIT_ANTIGRAVITY_PYTHON="/nonexistent/python3",
    )
    return subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "conversation.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_conversation_example_holds_two_turns_in_a_live_session() -> None:
    r = _conversation("fixture", "claude", "codex", "antigravity")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^\[fixture\] prewarmed live session \S+", r.stdout, re.M), r.stdout
    assert re.search(r"^\[fixture\] turn 1 \(live, first delta \d+ ms\): Turn 1 ", r.stdout, re.M), r.stdout
    # Turn 2 ran in the same live "vendor" and saw turn 1.
    turn2 = re.search(r"^\[fixture\] turn 2 \(live, .*$", r.stdout, re.M)
    assert turn2 and "Earlier in this conversation: [\"My favourite colour is teal." in turn2.group(0), r.stdout
    assert re.search(r"^\[fixture\] session \S+ closed \(closed\)$", r.stdout, re.M), r.stdout
    for vendor in ["claude", "codex", "antigravity"]:
        assert re.search(rf"^skipped {vendor}: \S", r.stdout, re.M), r.stdout


def test_conversation_example_resumes_cold_and_fails_when_nothing_ran() -> None:
    r = _conversation("--cold")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^\[fixture\] turn 1 \(new, ", r.stdout, re.M), r.stdout
    assert re.search(r"^\[fixture\] turn 2 \(resumed, ", r.stdout, re.M), r.stdout
    only_skipped = _conversation("claude")
    assert only_skipped.returncode == 1, only_skipped.stdout
    assert re.search(r"^skipped claude: \S", only_skipped.stdout, re.M), only_skipped.stdout

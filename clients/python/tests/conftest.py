"""Tests run against the real sidecar binary: $AGENT_RUNTIME_KIT_BIN (tests/run.sh sets it to the
debug build), else the repository's target/debug/agent-runtime-kit."""

from __future__ import annotations

import asyncio
import functools
import os
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

REPO = Path(__file__).resolve().parents[3]
# Every test is bounded: a hang is a failure, not a stuck CI job.
TEST_TIMEOUT = 60


def sidecar_bin() -> str:
    env = os.environ.get("AGENT_RUNTIME_KIT_BIN")
    path = Path(env) if env else REPO / "target" / "debug" / "agent-runtime-kit"
    if not path.exists():
        pytest.fail(f"no sidecar binary at {path}: run `cargo build` or set AGENT_RUNTIME_KIT_BIN")
    return str(path)


def async_test(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Runs an async test in its own event loop, with a deadline."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(asyncio.wait_for(fn(*args, **kwargs), TEST_TIMEOUT))

    return wrapper


@pytest.fixture
def bin_path() -> str:
    return sidecar_bin()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "README.md").write_text("# sample\n")
    return tmp_path

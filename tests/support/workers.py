"""The worker processes of a mock started with ``--workers``, seen through /proc (Linux)."""

from __future__ import annotations

import time
from pathlib import Path


def children_of(parent: int) -> list[int]:
    """The child processes of ``parent``'s main thread (uvicorn's supervisor starts its workers
    there)."""
    listing = Path(f"/proc/{parent}/task/{parent}/children").read_text()
    return [int(child) for child in listing.split()]


def workers_of(parent: int) -> list[int]:
    """The uvicorn workers among the children of ``parent`` (not multiprocessing's tracker)."""
    return [
        child for child in children_of(parent) if b"spawn_main" in _read(f"/proc/{child}/cmdline")
    ]


def holds_open(pid: int, path: Path) -> bool:
    """Whether the process ``pid`` has ``path`` open (a worker has opened its state file)."""
    target = str(path.resolve())
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # it has just ended
        return False
    for descriptor in descriptors:
        try:
            if str(descriptor.readlink()) == target:
                return True
        except OSError:
            continue
    return False


def wait_until_workers_hold(parent: int, path: Path, count: int, timeout: float = 30) -> list[int]:
    """Wait until ``count`` workers of ``parent`` have ``path`` open; returns their pids.

    The port answers once the first worker listens; the others may still be starting, and open
    their state file only then. A test that changes that file under the workers waits here first,
    or the late worker meets the change at its start instead of while serving.
    """
    deadline = time.monotonic() + timeout
    while True:
        holding = [pid for pid in workers_of(parent) if holds_open(pid, path)]
        if len(holding) >= count:
            return holding
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(holding)} of {count} workers opened {path} in {timeout} s")
        time.sleep(0.05)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:  # the process has just ended
        return b""

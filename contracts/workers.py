"""How many processes a contract run uses, and the lock between them.

A run with more than one process is still one pytest run with one report. Once the suite is
collected, the run's process (the *coordinator*) forks its *workers*: each inherits everything
loaded so far, loads the schema while the coordinator starts the target and runs the preflight,
waits for the coordinator to hand it the target once that has passed (it sends nothing before),
opens its own connection to the target and runs its share of the
Hypothesis-generated schema cases (:data:`WORKER_TESTS`, the most CPU-hungry part of the suite:
drawing requests from the schema), while the coordinator runs everything else. A worker sends
its tests' reports and findings back through a pipe, and the coordinator replays them as if it
had run the tests itself (:mod:`zitadel_contract.fanout`).

The tests may overlap in time because none of them needs the app to itself but one, the
coordinator's token-endpoint check that the previous secret dies and the new one works. It
holds :class:`RotationLock` exclusively for each example, while a worker holds it shared for each
call it sends (any call may rotate the app), so no rotation of a worker falls between that
test's rotations and its questions to the token endpoint.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Literal

WORKERS_VARIABLE: Final = "ZITADEL_CONTRACT_WORKERS"
# The tests the workers run (by function name); every other test is the coordinator's.
WORKER_TESTS: Final = frozenset({"test_generated_cases_keep_the_schema"})

Role = Literal["coordinator", "worker"]


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_workers() -> int:
    """Two processes where this process may use two CPUs or more, else one. A third would pay
    the schema tests' warm-up once more and find no CPU free (the target, on the same machine
    in CI, needs its share too)."""
    return min(2, usable_cpus())


def parse_workers(text: str) -> int:
    """``--workers``: a positive number (1: everything in one process), or ``auto`` (or 0) for
    :func:`default_workers`, which the run decides then. Raises ValueError."""
    if text.strip().lower() in ("auto", "0"):
        return 0
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 1:
        raise ValueError(f"{text!r} is not a number of processes (or auto)")
    return value


def can_fork() -> bool:
    """Only where fork exists, and before anything a fork would break: another thread (a fork
    copies only the caller) or gRPC's core (native gRPC transports), whose threads are its own."""
    return hasattr(os, "fork") and threading.active_count() == 1 and "grpc" not in sys.modules


class RotationLock:
    """An advisory ``flock`` on a file each process opens itself (after the fork: a lock on an
    inherited open file would be the same lock in both)."""

    def __init__(self, path: str, role: Role) -> None:
        import fcntl  # noqa: PLC0415 - POSIX only, like fork, and only in a split run

        self._fcntl = fcntl
        self.role = role
        self._fd = os.open(path, os.O_RDONLY)

    @contextmanager
    def hold(self, mode: Literal["exclusive", "shared"]) -> Iterator[None]:
        flag = self._fcntl.LOCK_EX if mode == "exclusive" else self._fcntl.LOCK_SH
        self._fcntl.flock(self._fd, flag)
        try:
            yield
        finally:
            self._fcntl.flock(self._fd, self._fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

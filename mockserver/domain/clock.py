"""Time, injected: the system's clock, or a reproducible one for seeded runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

Clock = Callable[[], datetime]
SEEDED_EPOCH: Final = datetime(2025, 1, 1, tzinfo=UTC)


def system_clock() -> datetime:
    return datetime.now(UTC)


class SteppingClock:
    """A reproducible clock: starts at ``start`` and moves ``step`` forward on every reading."""

    def __init__(self, start: datetime = SEEDED_EPOCH, step: timedelta = timedelta(milliseconds=1)):
        self._now = start
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self._now += self._step
            return self._now

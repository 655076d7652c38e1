"""The access log's text lines are logging's own format, whatever it caches."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st

from zitadel_mock.server.logs import TextFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def record_at(created: float) -> logging.LogRecord:
    record = logging.LogRecord("zitadel_mock.access", logging.INFO, __file__, 0, "x", None, None)
    record.created = created
    record.msecs = (created - int(created)) * 1000 // 1
    return record


@given(instants=st.lists(st.floats(0, 4e9), min_size=1, max_size=20))
def test_a_line_is_written_as_logging_formatter_writes_it(instants: list[float]) -> None:
    ours, logging_own = TextFormatter(FORMAT), logging.Formatter(FORMAT)
    for created in sorted(instants) + instants:  # in order (cached seconds), then any order
        assert ours.format(record_at(created)) == logging_own.format(record_at(created))

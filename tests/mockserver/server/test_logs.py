"""The access log's text lines are logging's own format, whatever it caches."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st

from zitadel_mock.server.logs import ACCESS_LOGGER, AccessLog, TextFormatter

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


def test_an_access_record_has_every_field_log_info_would_give_it() -> None:
    """The access log copies what stays the same from line to line; the record must still be
    the one ``log.info(..., extra=fields)`` makes (time fields aside, which differ by when)."""
    access = AccessLog(lambda scope, receive, send: None)  # type: ignore[arg-type,return-value]
    scope = {"method": "POST", "path": "/p", "headers": [(b"x-request-id", b"r-1")]}
    made = [access._record(scope, 200, 1.5) for _ in range(2)][-1]
    fields = {
        "request_id": "r-1",
        "method": "POST",
        "path": "/p",
        "status": 200,
        "duration_ms": 1.5,
        "http_version": None,
    }
    expected = access.log.makeRecord(
        ACCESS_LOGGER,
        logging.INFO,
        made.pathname,
        0,
        "%s %s %s %.1fms request_id=%s",
        ("POST", "/p", 200, 1.5, "r-1"),
        None,
        extra=fields,
    )
    timed = {"created", "msecs", "relativeCreated"}
    assert {k: v for k, v in vars(made).items() if k not in timed} == {
        k: v for k, v in vars(expected).items() if k not in timed
    }
    assert abs(made.created - expected.created) < 5
    assert made.msecs == int((made.created - int(made.created)) * 1000)
    assert made.getMessage() == "POST /p 200 1.5ms request_id=r-1"

"""The access log's lines are logging's own, whatever it caches and whichever path writes them."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zitadel_mock.server.logs import (
    ACCESS_LOGGER,
    FORMATS,
    HOLD_LINES,
    TEXT_FORMAT,
    AccessLog,
    HeldStreamHandler,
    LineWriter,
    TextFormatter,
    _fields,
    direct_writer,
    log_config,
    request_id,
)

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
    made = [access._record(_fields(scope, 200, 1.5)) for _ in range(2)][-1]
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


# A request id the client may send and the line keeps (printable, 1 to 64 latin-1 characters).
SENT_ID = st.text(
    st.characters(min_codepoint=32, max_codepoint=255).filter(str.isprintable),
    min_size=1,
    max_size=64,
)
SCOPES = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST", "OPTIONS", "PATCH"]),
        "path": st.text(max_size=80),
        "headers": st.lists(
            st.tuples(
                st.sampled_from([b"x-request-id", b"accept"]),
                SENT_ID.map(lambda text: text.encode("latin-1")),
            )
        ),
        "http_version": st.none() | st.sampled_from(["1.0", "1.1", "2"]),
    }
)


@pytest.mark.parametrize("log_format", FORMATS)
@given(
    scope=SCOPES,
    status=st.none() | st.integers(100, 599),
    duration=st.floats(0, 1e6, allow_nan=False),
    created=st.floats(0, 4e9),
)
def test_the_direct_line_is_the_line_logging_writes(
    log_format: str, scope: dict[str, Any], status: int | None, duration: float, created: float
) -> None:
    """AccessLog writes its line itself where the set-up is log_config's: byte for byte the line
    ``log.handle(record)`` writes through the configured handler. The request always sends a
    request id (the first of its own, else the last one here): with none, each path would draw
    a random one of its own."""
    scope = {**scope, "headers": [*scope["headers"], (b"x-request-id", b"last")]}
    with configured(log_format) as (log, stream):
        writer = direct_writer(log)
        assert writer is not None
        fields = _fields(scope, status, duration)
        log.handle(AccessLog(None)._record(fields, created))  # type: ignore[arg-type]
        through_logging = stream.getvalue()
        stream.seek(0)
        stream.truncate()
        writer(created, scope, status, duration)
        assert stream.getvalue() == through_logging


def test_a_set_up_other_than_log_configs_gets_loggings_own_path() -> None:
    with configured("text") as (log, _stream):
        assert direct_writer(log) is not None
        handler = logging.getLogger("zitadel_mock").handlers[0]
        handler.addFilter(lambda record: True)
        assert direct_writer(log) is None  # a filter: logging's path applies it
        handler.filters.clear()
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        assert direct_writer(log) is None  # not our formatter
        handler.setFormatter(TextFormatter("%(levelname)s %(message)s"))
        assert direct_writer(log) is None  # our formatter, another format
        handler.setFormatter(TextFormatter(TEXT_FORMAT))
        log.addHandler(logging.NullHandler())
        assert direct_writer(log) is None  # two handlers


class CountingStream(io.StringIO):
    """A stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def access_scope(n: int) -> dict[str, Any]:
    """A request whose access line's message is :func:`access_message` of ``n``."""
    return {
        "method": "POST",
        "path": "/p",
        "headers": [(b"x-request-id", f"r-{n}".encode())],
        "http_version": "1.1",
    }


def access_message(n: int) -> str:
    return f"POST /p 200 1.0ms request_id=r-{n}"


@contextlib.contextmanager
def held_lines(
    hold_seconds: float,
) -> Iterator[tuple[CountingStream, LineWriter]]:
    """log_config's text set-up, its handler holding lines ``hold_seconds`` into a counting
    stream (given back), and the access log's direct writer."""
    with configured("text") as (log, _stream):
        stream = CountingStream()
        handler = logging.getLogger("zitadel_mock").handlers[0]
        assert isinstance(handler, HeldStreamHandler)
        handler.setStream(stream)
        handler.hold_seconds = hold_seconds
        writer = direct_writer(log)
        assert writer is not None
        yield stream, writer


def messages(written: str) -> list[str]:
    return [line.split(": ")[1] for line in written.splitlines()]


def test_access_lines_of_many_turns_leave_in_one_write_once_held_long_enough() -> None:
    with held_lines(0.05) as (stream, writer):

        async def turns() -> tuple[str, str]:
            for n in range(3):
                writer(1e9, access_scope(n), 200, 1.0)
                await asyncio.sleep(0)  # each in a turn of its own
            during = stream.getvalue()
            await asyncio.sleep(0.15)  # its timer, due first, has run by then
            return during, stream.getvalue()

        during, after = asyncio.run(turns())
    assert during == ""  # held for a moment
    assert messages(after) == [access_message(0), access_message(1), access_message(2)]
    assert stream.writes == 1


def test_as_many_lines_as_are_held_at_most_leave_at_once() -> None:
    with held_lines(60.0) as (stream, writer):

        async def burst() -> str:
            for n in range(HOLD_LINES + 1):
                writer(1e9, access_scope(n), 200, 1.0)
            return stream.getvalue()

        written = asyncio.run(burst())
    assert messages(written) == [access_message(n) for n in range(HOLD_LINES)]
    assert stream.writes == 1  # the last line waits for the next write


def test_a_line_held_when_its_loop_ended_leaves_with_the_next_loops_lines() -> None:
    with held_lines(0.05) as (stream, writer):

        async def one_line(n: int, then: float) -> None:
            writer(1e9, access_scope(n), 200, 1.0)
            await asyncio.sleep(then)

        asyncio.run(one_line(0, 0))  # the loop ends with its timer still set
        held = stream.getvalue()
        asyncio.run(one_line(1, 0.15))
    assert held == ""
    assert messages(stream.getvalue()) == [access_message(0), access_message(1)]


def test_outside_an_event_loop_a_line_is_written_at_once() -> None:
    with held_lines(60.0) as (stream, writer):
        writer(1e9, access_scope(0), 200, 1.0)
        assert messages(stream.getvalue()) == [access_message(0)]


def test_another_record_and_a_flush_write_the_held_lines_first() -> None:
    with configured("text") as (log, stream):
        writer = direct_writer(log)
        assert writer is not None

        async def turn() -> str:
            writer(1e9, access_scope(1), 200, 1.0)
            logging.getLogger("zitadel_mock.test").warning("a warning")
            writer(1e9, access_scope(2), 200, 1.0)
            logging.getLogger("zitadel_mock").handlers[0].flush()  # as logging.shutdown does
            return stream.getvalue()

        written = asyncio.run(turn())
    assert messages(written) == [access_message(1), "a warning", access_message(2)]


def test_a_failing_stream_is_reported_as_logging_reports_it() -> None:
    reported: list[logging.LogRecord] = []
    with configured("text") as (log, stream):
        handler = logging.getLogger("zitadel_mock").handlers[0]
        handler.handleError = reported.append  # type: ignore[method-assign,assignment]
        writer = direct_writer(log)
        assert writer is not None
        stream.close()  # writing to it raises ValueError
        writer(1e9, access_scope(1), 200, 1.0)
    assert [record.name for record in reported] == [ACCESS_LOGGER]


def test_a_random_request_id_is_16_hex_digits_and_new_each_time() -> None:
    ids = [request_id([]) for _ in range(1200)]  # more than one pool of 4 KiB
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == len(ids)
    assert request_id([(b"X-Request-Id", b"r-7")]) == "r-7"


@contextlib.contextmanager
def configured(log_format: str) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """log_config's set-up, its handler writing to a string; logging as it was afterwards."""
    names = ("zitadel_mock", ACCESS_LOGGER)
    saved = {name: logging.getLogger(name).__dict__.copy() for name in names}
    stream = io.StringIO()
    config = log_config(log_format, "info")
    config["handlers"]["main"]["stream"] = stream
    config["loggers"] = {"zitadel_mock": config["loggers"]["zitadel_mock"]}
    try:
        logging.config.dictConfig(config)
        yield logging.getLogger(ACCESS_LOGGER), stream
    finally:
        for name, state in saved.items():
            logger = logging.getLogger(name)
            logger.__dict__.clear()
            logger.__dict__.update(state)

"""ServerConnection reads a client's frames as h2 reads them: the same events, state and answers.

Each test feeds h2's own connection and ours the same bytes (and the same calls of the
server in between) and compares, after every step, the events (their classes and every
field), what each would send, the error raised, and the state: the connection's and every
stream's state machine, the flow-control windows, the content-length count, the forgotten
streams, the frame buffer, the HPACK table and the settings. The plain frames take our path,
every other frame h2's; the generated sequences mix both, cut at any byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import hpack
import pytest
from h2.errors import ErrorCodes
from hyperframe.frame import Frame
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import fuzz_examples
from zitadel_mock.server.h2_protocol import h2_config
from zitadel_mock.server.h2_sending import ServerConnection

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
REQUEST = [
    (b":method", b"POST"),
    (b":scheme", b"http"),
    (b":authority", b"localhost"),
    (b":path", b"/svc/Method"),
    (b"content-type", b"application/grpc"),
    (b"te", b"trailers"),
]
BODY = b"\0\0\0\0\5hello"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0x0,
    0x1,
    0x2,
    0x3,
    0x4,
    0x6,
    0x7,
    0x8,
    0x9,
)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    return (
        len(payload).to_bytes(3, "big")
        + bytes((kind, flags))
        + stream_id.to_bytes(4, "big")
        + payload
    )


def settings_frame(*pairs: tuple[int, int]) -> bytes:
    body = b"".join(code.to_bytes(2, "big") + value.to_bytes(4, "big") for code, value in pairs)
    return frame(SETTINGS, 0, 0, body)


CLIENT_START = PREFACE + settings_frame() + frame(SETTINGS, ACK, 0)


PROFILES = ("served", "tight", "narrow")


def connection(kind: type[h2.connection.H2Connection], profile: str) -> Any:
    """A server connection set up as H2Protocol sets up its own ("served"); "tight": stream
    windows of 40 bytes and 2 concurrent streams; "narrow": the connection's window left at
    65,535 bytes. (The last two so that short inputs reach the limits.)"""
    tight = profile == "tight"
    conn = kind(h2_config())
    codes = h2.settings.SettingCodes
    conn.local_settings = h2.settings.Settings(
        client=False,
        initial_values={
            codes.MAX_CONCURRENT_STREAMS: 2 if tight else 256,
            codes.INITIAL_WINDOW_SIZE: 40 if tight else 1 << 20,
            codes.MAX_HEADER_LIST_SIZE: 8192,
            codes.HEADER_TABLE_SIZE: 4096,
        },
    )
    conn.decoder.max_header_list_size = 8192
    conn.initiate_connection()
    if profile == "served":
        conn.increment_flow_control_window((1 << 24) - 65535)
    return conn


def described(value: Any) -> Any:
    """A value as comparable data: an event's class and fields, a header tuple's class."""
    if isinstance(value, h2.events.Event | h2.settings.ChangedSetting):
        return (type(value).__name__, {k: described(v) for k, v in sorted(vars(value).items())})
    if isinstance(value, Frame):
        return (type(value).__name__, repr(value))
    if isinstance(value, dict):
        return {described(k): described(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return (type(value).__name__, [described(v) for v in value])
    return value


def state(conn: Any) -> Any:
    """Everything of the connection that receiving a frame may change."""
    streams = {}
    for stream_id, stream in conn.streams.items():
        streams[stream_id] = (
            vars(stream.state_machine).copy(),
            stream.outbound_flow_control_window,
            vars(stream._inbound_window_manager).copy(),
            stream._expected_content_length,
            stream._actual_content_length,
            stream.max_outbound_frame_size,
            stream.request_method,
        )
    buffer = conn.incoming_buffer
    table = conn.decoder.header_table
    return (
        conn.state_machine.state,
        conn.highest_inbound_stream_id,
        conn.highest_outbound_stream_id,
        conn.outbound_flow_control_window,
        vars(conn._inbound_flow_control_window_manager).copy(),
        conn.max_inbound_frame_size,
        conn.max_outbound_frame_size,
        list(conn.streams),
        streams,
        dict(conn._closed_streams),
        bytes(buffer._data),
        [(type(f).__name__, f.stream_id, bytes(f.data)) for f in buffer._headers_buffer],
        buffer._preamble_len,
        buffer.max_frame_size,
        list(table.dynamic_entries),
        table.maxsize,
        conn.decoder.max_allowed_table_size,
        {k: list(v) for k, v in conn.local_settings._settings.items()},
        {k: list(v) for k, v in conn.remote_settings._settings.items()},
    )


Step = bytes | Callable[[Any], Any]


def outcomes(kind: type[h2.connection.H2Connection], steps: list[Step], profile: str) -> list[Any]:
    conn = connection(kind, profile)
    seen: list[Any] = [conn.data_to_send()]
    for step in steps:
        result: tuple[Any, ...]
        try:
            if callable(step):
                result = ("call", described(step(conn)))
            else:
                result = ("events", described(conn.receive_data(step)))
        except (h2.exceptions.ProtocolError, ValueError) as exc:
            # (a message may name a memoryview by its address)
            result = ("error", type(exc).__name__, re.sub(r"0x[0-9a-f]+", "0x", str(exc)))
        seen.append((result, conn.data_to_send(), state(conn)))
    return seen


def received_alike(*steps: Step, profile: str = "served") -> list[Any]:
    """Run ``steps`` on h2's connection and ours; assert every outcome is the same."""
    theirs = outcomes(h2.connection.H2Connection, list(steps), profile)
    ours = outcomes(ServerConnection, list(steps), profile)
    for number, (mine, expected) in enumerate(zip(ours, theirs, strict=True)):
        assert mine == expected, f"step {number} differs"
    return ours


def request(
    stream_id: int,
    encoder: hpack.Encoder | None = None,
    *,
    headers: list[tuple[bytes, bytes]] = REQUEST,
    body: bytes | None = BODY,
) -> bytes:
    block = (encoder or hpack.Encoder()).encode(headers)
    flags = END_HEADERS | (END_STREAM if body is None else 0)
    out = frame(HEADERS, flags, stream_id, block)
    if body is not None:
        out += frame(DATA, END_STREAM, stream_id, body)
    return out


def events_of(result: list[Any], step: int) -> list[str]:
    return [name for name, _ in result[step][0][1][1]]


# -- the plain frames, taken by our path ----------------------------------------------------


def test_a_call_is_received_as_h2_receives_it() -> None:
    result = received_alike(CLIENT_START, request(1))
    assert events_of(result, 2) == ["RequestReceived", "DataReceived", "StreamEnded"]


def test_calls_after_calls_with_one_hpack_encoder_are_received_alike() -> None:
    encoder = hpack.Encoder()
    received_alike(CLIENT_START, *(request(sid, encoder) for sid in (1, 3, 5, 7)))


def test_calls_in_one_read_are_received_alike() -> None:
    encoder = hpack.Encoder()
    received_alike(CLIENT_START + b"".join(request(sid, encoder) for sid in range(1, 40, 2)))


def test_a_call_cut_at_every_byte_is_received_alike() -> None:
    data = request(1)
    received_alike(CLIENT_START, *(data[i : i + 1] for i in range(len(data))))


def test_headers_that_end_the_stream_are_received_alike() -> None:
    result = received_alike(CLIENT_START, request(1, body=None))
    assert events_of(result, 2) == ["RequestReceived", "StreamEnded"]


def test_a_body_in_several_frames_is_received_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        frame(DATA, 0, 1, b"abc"),
        frame(DATA, 0, 1, b""),
        frame(DATA, END_STREAM, 1, b"def"),
    )


def test_a_body_of_the_announced_length_is_received_alike() -> None:
    headers = [*REQUEST, (b"content-length", b"10")]
    received_alike(CLIENT_START, request(1, headers=headers))


def test_split_cookies_are_joined_alike() -> None:
    headers = [*REQUEST, (b"cookie", b"a=1"), (b"x-other", b"y"), (b"cookie", b"b=2")]
    result = received_alike(CLIENT_START, request(1, headers=headers))
    received = result[2][0][1][1][0]  # the first event of the request's read
    assert received[1]["headers"][1][-1] == ("NeverIndexedHeaderTuple", [b"cookie", b"a=1; b=2"])


def test_window_updates_pings_and_a_settings_ack_are_received_alike() -> None:
    received_alike(
        CLIENT_START,
        frame(WINDOW_UPDATE, 0, 0, (1 << 20).to_bytes(4, "big")),
        request(1),
        frame(PING, 0, 0, b"12345678"),
        frame(PING, ACK, 0, b"87654321"),
        frame(SETTINGS, ACK, 0),
    )


def test_a_window_update_for_an_open_stream_is_received_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        frame(WINDOW_UPDATE, 0, 1, (1000).to_bytes(4, "big")),
    )


def test_a_window_update_for_a_stream_ended_both_ways_is_received_alike() -> None:
    def answer(conn: Any) -> None:
        conn.send_headers(1, [(b":status", b"200")], end_stream=True)

    received_alike(
        CLIENT_START,
        request(1),
        answer,
        frame(WINDOW_UPDATE, 0, 1, (1000).to_bytes(4, "big")),
    )


def test_a_stream_window_past_the_largest_is_reset_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        frame(WINDOW_UPDATE, 0, 1, (2**31 - 1).to_bytes(4, "big")),
    )


def test_data_the_server_acknowledges_is_received_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        frame(DATA, 0, 1, b"x" * 30),
        lambda conn: conn.acknowledge_received_data(30, 1),
        frame(DATA, 0, 1, b"x" * 30),
        profile="tight",
    )


def test_acknowledged_data_gives_the_connection_window_back_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        frame(DATA, 0, 1, b"x" * 16384) * 2,
        lambda conn: conn.acknowledge_received_data(32768, 1),
        profile="narrow",
    )


def test_acknowledgements_on_closed_and_bad_streams_are_alike() -> None:
    received_alike(
        CLIENT_START,
        request(1),
        lambda conn: conn.send_headers(1, [(b":status", b"200")], end_stream=True),
        request(3),
        lambda conn: conn.acknowledge_received_data(10, 1),
        lambda conn: conn.acknowledge_received_data(10, 3),
        lambda conn: conn.acknowledge_received_data(10, 0),
        lambda conn: conn.acknowledge_received_data(-1, 3),
        lambda conn: conn.acknowledge_received_data(10, 99),
    )


# -- what our path leaves to h2 --------------------------------------------------------------


def refused(*steps: Step, profile: str = "served") -> tuple[str, ...]:
    """The steps' outcomes are alike and the last one is an error: its class and message."""
    result = received_alike(*steps, profile=profile)
    last = result[-1][0]
    assert last[0] == "error", last
    return last[1], last[2]


def test_a_body_longer_than_announced_is_refused_alike() -> None:
    headers = [*REQUEST, (b"content-length", b"3")]
    assert refused(CLIENT_START, request(1, headers=headers))[0] == "InvalidBodyLengthError"


def test_a_body_shorter_than_announced_is_refused_alike() -> None:
    headers = [*REQUEST, (b"content-length", b"30")]
    assert refused(CLIENT_START, request(1, headers=headers))[0] == "InvalidBodyLengthError"


def test_a_content_length_that_is_no_number_is_refused_alike() -> None:
    headers = [*REQUEST, (b"content-length", b"x1")]
    assert refused(CLIENT_START, request(1, headers=headers))[0] == "ProtocolError"


def test_data_past_the_stream_window_is_refused_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    steps = (CLIENT_START, frame(HEADERS, END_HEADERS, 1, block), frame(DATA, 0, 1, b"x" * 41))
    assert refused(*steps, profile="tight")[0] == "FlowControlError"


def test_data_past_the_connection_window_is_refused_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    steps = [CLIENT_START, frame(HEADERS, END_HEADERS, 1, block)]
    steps += [frame(DATA, 0, 1, b"x" * 16384)] * 4  # 65,536 bytes: one past the window
    assert refused(*steps, profile="narrow")[0] == "FlowControlError"


def test_padded_data_is_received_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        frame(DATA, PADDED | END_STREAM, 1, b"\x03abc\0\0\0"),
    )


def test_bad_padding_is_refused_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    steps = (CLIENT_START, frame(HEADERS, END_HEADERS, 1, block), frame(DATA, PADDED, 1, b"\x09ab"))
    assert refused(*steps)[0] == "ProtocolError"


def test_headers_with_priority_and_padding_are_received_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    priority = (0).to_bytes(4, "big") + b"\x10"
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS | PRIORITY_FLAG, 1, priority + block),
        frame(HEADERS, END_HEADERS | PADDED | END_STREAM, 3, b"\x02" + block + b"\0\0"),
    )


def test_a_header_block_in_continuation_frames_is_received_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, 0, 1, block[:5]) + frame(CONTINUATION, 0, 1, block[5:9]),
        frame(CONTINUATION, END_HEADERS, 1, block[9:]),
        frame(DATA, END_STREAM, 1, BODY),
    )


def test_a_frame_inside_a_header_block_is_refused_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    steps = (CLIENT_START, frame(HEADERS, 0, 1, block[:5]), frame(PING, 0, 0, b"12345678"))
    assert refused(*steps)[0] == "ProtocolError"


def test_a_bad_header_block_is_refused_alike() -> None:
    assert refused(CLIENT_START, frame(HEADERS, END_HEADERS, 1, b"\xff\xff\xff\xff"))


def test_a_header_list_past_the_limit_is_refused_alike() -> None:
    headers = [*REQUEST, (b"x-big", b"v" * 9000)]
    assert refused(CLIENT_START, request(1, headers=headers))[0] == "DenialOfServiceError"


def test_streams_past_the_concurrent_limit_are_refused_alike() -> None:
    encoder = hpack.Encoder()
    steps = [CLIENT_START, *(request(sid, encoder, body=b"") for sid in (1, 3))]
    steps.append(frame(HEADERS, END_HEADERS, 5, encoder.encode(REQUEST)))
    assert refused(*steps, profile="tight")[0] == "TooManyStreamsError"


def test_streams_that_ended_make_room_alike() -> None:
    def answer(sid: int) -> Callable[[Any], None]:
        return lambda conn: conn.send_headers(sid, [(b":status", b"200")], end_stream=True)

    encoder = hpack.Encoder()
    steps: list[Step] = [CLIENT_START]
    for sid in (1, 3, 5, 7):
        steps += [request(sid, encoder, body=b""), answer(sid)]
    received_alike(*steps, profile="tight")


def test_a_stream_id_below_the_newest_is_refused_alike() -> None:
    assert refused(CLIENT_START, request(5), request(3))


def test_an_even_stream_id_is_refused_alike() -> None:
    assert refused(CLIENT_START, request(2))


def test_a_stream_id_with_the_reserved_bit_is_read_as_h2_reads_it() -> None:
    received_alike(CLIENT_START, request(0x80000001))


def test_headers_on_stream_zero_are_refused_alike() -> None:
    assert refused(CLIENT_START, frame(HEADERS, END_HEADERS, 0, hpack.Encoder().encode(REQUEST)))


def test_trailers_from_the_client_are_received_alike() -> None:
    encoder = hpack.Encoder()
    block = encoder.encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        frame(DATA, 0, 1, BODY),
        frame(HEADERS, END_HEADERS | END_STREAM, 1, encoder.encode([(b"x-t", b"1")])),
    )


def test_data_on_a_stream_we_reset_is_answered_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        lambda conn: conn.reset_stream(1, ErrorCodes.CANCEL),
        frame(DATA, END_STREAM, 1, BODY),
    )


def test_data_after_the_end_of_the_stream_is_answered_alike() -> None:
    result = received_alike(CLIENT_START, request(1), frame(DATA, 0, 1, b"late"))
    assert events_of(result, 3) == ["StreamReset"]  # h2's RST_STREAM(STREAM_CLOSED)


def test_data_on_an_idle_stream_is_refused_alike() -> None:
    assert refused(CLIENT_START, frame(DATA, 0, 1, b"early"))


@pytest.mark.parametrize(
    "bad",
    [
        frame(WINDOW_UPDATE, 0, 0, (0).to_bytes(4, "big")),
        frame(WINDOW_UPDATE, 0, 0, (2**31).to_bytes(4, "big")),
        frame(WINDOW_UPDATE, 0, 0, (2**31 - 1).to_bytes(4, "big")),
        frame(WINDOW_UPDATE, 0, 0, b"\0\0\1"),
        frame(WINDOW_UPDATE, 0, 9, (5).to_bytes(4, "big")),
        frame(PING, 0, 0, b"1234567"),
        frame(PING, 0, 1, b"12345678"),
        frame(SETTINGS, ACK, 0, b"\0\4\0\0\0\1"),
        frame(SETTINGS, ACK, 1),
        frame(0x20, 0, 0, b"unknown"),
    ],
    ids=[
        "zero increment",
        "increment with the reserved bit",
        "connection window past the largest",
        "short window update",
        "window update on an idle stream",
        "short ping",
        "ping on a stream",
        "settings ack with settings",
        "settings ack on a stream",
        "unknown frame type",
    ],
)
def test_odd_control_frames_are_handled_alike(bad: bytes) -> None:
    received_alike(CLIENT_START, request(1), bad)


def test_a_frame_past_the_largest_frame_size_is_refused_alike() -> None:
    assert refused(CLIENT_START, frame(DATA, 0, 1, b"x" * 16385))[0] == "FrameTooLargeError"


def test_settings_from_the_client_are_received_alike() -> None:
    block = hpack.Encoder().encode(REQUEST)
    received_alike(
        CLIENT_START,
        frame(HEADERS, END_HEADERS, 1, block),
        settings_frame((0x4, 100), (0x5, 20000)),
        frame(WINDOW_UPDATE, 0, 1, (10).to_bytes(4, "big")),
    )


def test_a_bad_preface_is_refused_alike() -> None:
    assert refused(b"PRI * HTTP/1.1\r\n\r\n")


def test_frames_after_a_goaway_are_handled_alike() -> None:
    received_alike(
        CLIENT_START,
        lambda conn: conn.close_connection(),
        request(1),
        frame(PING, 0, 0, b"12345678"),
    )


# -- the comparison has teeth --------------------------------------------------------------


def test_a_path_that_forgets_the_connection_window_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def careless(  # noqa: PLR0917 - the signature of the method it stands in for
        self: Any, data: bytearray, end: int, flags: int, sid: int, events: Any
    ) -> bool:
        stream = self.streams.get(sid)
        if stream is None or flags & ~END_STREAM:
            return False
        body = bytes(data[9:end])
        del data[:end]
        events += stream.receive_data(body, bool(flags & END_STREAM), end - 9)[1]
        return True

    monkeypatch.setattr(ServerConnection, "_take_data", careless)
    with pytest.raises(AssertionError, match="step 2 differs"):
        received_alike(CLIENT_START, request(1))


# -- generated input -----------------------------------------------------------------------

HEADER_LISTS = [
    REQUEST,
    [*REQUEST, (b"content-length", b"4")],
    [*REQUEST, (b"cookie", b"a=1"), (b"cookie", b"b=2")],
    [(b":status", b"100")],
    [(b"x-trailer", b"1")],
    [],
]
STREAM_IDS = [0, 1, 2, 3, 5, 7, 9, 0x80000003]


@st.composite
def client_frames(draw: st.DrawFn) -> list[Any]:
    """A client's frames, mostly plausible (a new stream's id, the newest stream's), some not,
    with server calls in between."""
    encoder = hpack.Encoder()
    out: list[Any] = []
    newest, following = 0, 1

    def stream_id() -> int:
        nonlocal newest, following
        choice = draw(st.sampled_from(["new", "new", "newest", "newest", "any"]))
        if choice == "new":
            newest, following = following, following + 2 * draw(st.sampled_from([1, 1, 2]))
            return newest
        return newest if choice == "newest" else draw(st.sampled_from(STREAM_IDS))

    def some(*choices: Any) -> Any:
        return draw(st.sampled_from(choices))

    for _ in range(draw(st.integers(1, 16))):
        kind = some("headers", "data", "data", "window", "ping", "ack", "call", "odd")
        if kind == "headers":
            sid = stream_id()
            flags = some(END_HEADERS, END_HEADERS, END_HEADERS | END_STREAM, END_HEADERS | 0x2, 0)
            flags |= some(0, 0, 0, PADDED)
            if draw(st.integers(0, 5)):
                block = encoder.encode(some(REQUEST, REQUEST, *HEADER_LISTS))
            else:
                block = draw(st.binary(max_size=6))
            if flags & PADDED:
                block = b"\x01" + block + b"\0"
            out.append(frame(HEADERS, flags, sid, block))
            if not flags & END_HEADERS and draw(st.booleans()):
                out.append(frame(CONTINUATION, END_HEADERS, sid, b""))
            if not flags & END_STREAM and draw(st.integers(0, 3)):  # a body, as calls have
                out.append(frame(DATA, some(END_STREAM, END_STREAM, 0), sid, some(b"", BODY)))
        elif kind == "data":
            sid = newest if newest and draw(st.integers(0, 4)) else some(*STREAM_IDS)
            flags = some(0, 0, END_STREAM, END_STREAM, PADDED, 0x20)
            body = b"x" * draw(st.integers(0, 50))
            if flags & PADDED:
                body = b"\x00" + body
            out.append(frame(DATA, flags, sid, body))
        elif kind == "window":
            sid = some(0, 0, newest, 1)
            increment = some(1, 100, 65535, 65535, 0, 2**31 - 1, 2**31)
            out.append(frame(WINDOW_UPDATE, some(0, 0, 0, 1), sid, increment.to_bytes(4, "big")))
        elif kind == "ping":
            ping = b"p" * some(8, 8, 8, 7)
            out.append(frame(PING, some(0, 0, ACK, 0x4), some(0, 0, 0, 1), ping))
        elif kind == "ack":
            out.append(frame(SETTINGS, ACK, some(0, 0, 0, 1), some(b"", b"", b"\0\4\0\0\0\1")))
        elif kind == "call":
            out.append(some("acknowledge", "answer", "reset") + f" {some(newest, newest, 1)}")
        else:
            sid = some(newest, *STREAM_IDS)
            out.append(
                some(
                    frame(RST_STREAM, 0, sid, (8).to_bytes(4, "big")),
                    frame(PRIORITY, 0, sid, b"\0\0\0\0\x10"),
                    settings_frame((0x4, 10)),
                    settings_frame((0x5, 16385)),
                    frame(GOAWAY, 0, 0, bytes(8)),
                    frame(0x20, 0, sid, b"?"),
                )
            )
    return out


@st.composite
def client_calls(draw: st.DrawFn) -> list[Any]:
    """Calls as clients make them, some at once: a new stream's HEADERS, its body in DATA
    frames, WINDOW_UPDATE and PING frames between, server calls (reading a body, answering,
    resetting) in between."""
    encoder = hpack.Encoder()
    out: list[Any] = []
    pending: dict[int, list[bytes]] = {}
    following = 1

    def some(*choices: Any) -> Any:
        return draw(st.sampled_from(choices))

    for _ in range(draw(st.integers(1, 30))):
        kind = some("open", "open", "next", "next", "next", "control", "call")
        if kind == "open" or (kind == "next" and not pending):
            sid, following = following, following + 2
            body = [b"x" * draw(st.integers(0, 30)) for _ in range(draw(st.integers(0, 3)))]
            length = sum(map(len, body)) + some(0, 0, 0, 1, -1)
            headers = some(
                REQUEST,
                [*REQUEST, (b"content-length", str(length).encode())],
                [*REQUEST, (b"cookie", b"a=1"), (b"x-b", b"2"), (b"cookie", b"c=3")],
            )
            flags = END_HEADERS | (0 if body else some(END_STREAM, END_STREAM, 0))
            out.append(frame(HEADERS, flags, sid, encoder.encode(headers)))
            if flags & END_STREAM:
                continue
            pending[sid] = [
                frame(DATA, END_STREAM if n == len(body) - 1 else 0, sid, part)
                for n, part in enumerate(body)
            ] or [frame(DATA, END_STREAM, sid, b"")]
        elif kind == "next":
            sid = some(*pending)
            out.append(pending[sid].pop(0))
            if not pending[sid]:
                del pending[sid]
        elif kind == "control":
            sid = some(0, 0, following - 2 if following > 1 else 0)
            out.append(
                some(
                    frame(WINDOW_UPDATE, 0, sid, some(1, 30, 65535, 1 << 20).to_bytes(4, "big")),
                    frame(PING, 0, 0, draw(st.binary(min_size=8, max_size=8))),
                    frame(PING, ACK, 0, b"\0" * 8),
                    frame(SETTINGS, ACK, 0),
                )
            )
        else:
            chosen = bool(pending) and draw(st.booleans())
            sid = some(*pending) if chosen else max(1, following - 2)
            out.append(some("acknowledge", "answer", "reset") + f" {sid}")
    return out


def server_call(text: str) -> Callable[[Any], Any]:
    what, sid = text.split()
    stream_id = int(sid) or 1

    def call(conn: Any) -> Any:
        if what == "acknowledge":
            return conn.acknowledge_received_data(10, stream_id)
        if what == "answer":
            return conn.send_headers(stream_id, [(b":status", b"200")], end_stream=True)
        return conn.reset_stream(stream_id, ErrorCodes.CANCEL)

    return call


def steps_of(parts: list[Any], cuts: list[int]) -> list[Step]:
    """The reads and the server calls of ``parts``: the frames between two calls in one read,
    the last read cut at ``cuts`` (frame boundaries or not)."""
    steps: list[Step] = [CLIENT_START]
    pending = b""
    for part in parts:
        if isinstance(part, str):
            steps.append(pending)
            pending = b""
            steps.append(server_call(part))
        else:
            pending += part
    start = 0
    for cut in sorted(set(cuts)):
        if start < cut < len(pending):
            steps.append(pending[start:cut])
            start = cut
    steps.append(pending[start:])
    return steps


@settings(max_examples=fuzz_examples(150), deadline=None)
@given(
    parts=client_calls(),
    cuts=st.lists(st.integers(0, 600), max_size=6),
    profile=st.sampled_from(PROFILES),
)
def test_generated_calls_are_received_as_h2_receives_them(
    parts: list[Any], cuts: list[int], profile: str
) -> None:
    received_alike(*steps_of(parts, cuts), profile=profile)


@settings(max_examples=fuzz_examples(150), deadline=None)
@given(
    parts=client_frames(),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    profile=st.sampled_from(PROFILES),
)
def test_generated_odd_input_is_received_as_h2_receives_it(
    parts: list[Any], cuts: list[int], profile: str
) -> None:
    received_alike(*steps_of(parts, cuts), profile=profile)

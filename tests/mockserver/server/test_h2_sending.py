"""ServerConnection writes an answer's frames as h2 writes them and moves h2's state the same way.

Each test runs the same client bytes and the same sends through h2's own connection and ours
and compares what each would put on the wire, and what each refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import hpack
import pytest
from h2.errors import ErrorCodes
from hyperframe.frame import DataFrame, Frame, HeadersFrame

from zitadel_mock.server.h2_protocol import h2_config
from zitadel_mock.server.h2_sending import ServerConnection

REQUEST = [
    (b":method", b"POST"),
    (b":scheme", b"http"),
    (b":authority", b"localhost"),
    (b":path", b"/svc/Method"),
    (b"content-type", b"application/grpc"),
]
ANSWER = [(b":status", b"200"), (b"content-type", b"application/grpc")]
TRAILERS = [(b"grpc-status", b"0")]
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def client_bytes(streams: int = 1, *, reset: bool = False) -> bytes:
    client = h2.connection.H2Connection()
    client.initiate_connection()
    for number in range(streams):
        client.send_headers(1 + 2 * number, REQUEST)
        client.send_data(1 + 2 * number, b"\0\0\0\0\0", end_stream=True)
    if reset:
        client.reset_stream(1, ErrorCodes.CANCEL)
    return client.data_to_send()


def both(data: bytes) -> tuple[h2.connection.H2Connection, ServerConnection]:
    pair = (h2.connection.H2Connection(h2_config()), ServerConnection(h2_config()))
    for conn in pair:
        conn.initiate_connection()
        conn.receive_data(data)
        conn.data_to_send()
    return pair


def same(sends: Callable[[Any], None], data: bytes | None = None) -> bytes:
    """Run ``sends`` on both connections; their output, which must be the same."""
    plain, ours = both(client_bytes() if data is None else data)
    sends(plain)
    sends(ours)
    out = plain.data_to_send()
    assert ours.data_to_send() == out
    assert plain.outbound_flow_control_window == ours.outbound_flow_control_window
    for sid, stream in plain.streams.items():
        mine = ours.streams[sid]
        assert mine.state_machine.state == stream.state_machine.state
        assert mine.outbound_flow_control_window == stream.outbound_flow_control_window
    return out


def test_a_grpc_answer_is_written_as_h2_writes_it() -> None:
    def sends(conn: Any) -> None:
        conn.send_headers(1, list(ANSWER))
        conn.send_data(1, b"\0\0\0\0\2hi")
        conn.send_headers(1, list(TRAILERS), end_stream=True)

    assert same(sends)


def test_a_second_answer_on_the_connection_is_written_as_h2_writes_it() -> None:
    def sends(conn: Any) -> None:
        for sid in (1, 3):
            conn.send_headers(sid, list(ANSWER))
            conn.send_data(sid, b"\0\0\0\0\2hi")
            conn.send_headers(sid, list(TRAILERS), end_stream=True)

    assert same(sends, client_bytes(2))


def test_headers_that_end_the_stream_are_written_as_h2_writes_them() -> None:
    assert same(lambda conn: conn.send_headers(1, [(b":status", b"404")], end_stream=True))


def test_data_that_ends_the_stream_is_written_as_h2_writes_it() -> None:
    def sends(conn: Any) -> None:
        conn.send_headers(1, list(ANSWER))
        conn.send_data(1, b"body", end_stream=True)

    assert same(sends)


def test_a_header_block_past_one_frame_goes_on_in_continuation_frames() -> None:
    big = [*ANSWER, (b"x-big", b"v" * 40000)]

    def sends(conn: Any) -> None:
        conn.send_headers(1, list(big), end_stream=True)

    out = same(sends)
    assert out[3] == 0x1  # HEADERS
    assert out[9 + 16384 + 3] == 0x9  # then CONTINUATION


def refusal(sends: Callable[[Any], None], data: bytes | None = None) -> list[type[Exception]]:
    kinds: list[type[Exception]] = []
    for conn in both(client_bytes() if data is None else data):
        with pytest.raises(h2.exceptions.ProtocolError) as caught:
            sends(conn)
        kinds.append(type(caught.value))
    return kinds


def test_trailers_that_do_not_end_the_stream_are_refused_as_h2_refuses_them() -> None:
    def sends(conn: Any) -> None:
        conn.send_headers(1, list(ANSWER))
        conn.send_headers(1, list(TRAILERS))

    first, second = refusal(sends)
    assert first is second


def test_data_past_the_window_is_refused_as_h2_refuses_it() -> None:
    def sends(conn: Any) -> None:
        conn.send_headers(1, list(ANSWER))
        conn.send_data(1, b"x" * 70000)

    first, second = refusal(sends)
    assert first is second is h2.exceptions.FlowControlError


def test_an_answer_on_a_stream_the_peer_reset_is_refused_as_h2_refuses_it() -> None:
    first, second = refusal(
        lambda conn: conn.send_headers(1, list(ANSWER)), client_bytes(reset=True)
    )
    assert first is second is h2.exceptions.StreamClosedError


def test_data_after_the_end_of_the_stream_is_refused_as_h2_refuses_it() -> None:
    def sends(conn: Any) -> None:
        conn.send_headers(1, list(ANSWER), end_stream=True)
        conn.send_data(1, b"late")

    first, second = refusal(sends)
    assert first is second


def frames(*parts: Frame) -> bytes:
    return b"".join(part.serialize() for part in parts)


def request_frames(stream_id: int, *, end: bool = True) -> bytes:
    headers = HeadersFrame(stream_id, hpack.Encoder().encode(REQUEST))
    headers.flags.add("END_HEADERS")
    data = DataFrame(stream_id, b"\0\0\0\0\0")
    if end:
        data.flags.add("END_STREAM")
    return frames(headers, data)


def received_alike(*steps: bytes | Callable[[Any], None]) -> None:
    """Feed both connections the same bytes and calls; the same events, output and errors."""
    outcomes = []
    for conn in (h2.connection.H2Connection(h2_config()), ServerConnection(h2_config())):
        conn.initiate_connection()
        seen: list[Any] = []
        try:
            conn.receive_data(PREFACE)
            for step in steps:
                if callable(step):
                    step(conn)
                else:
                    seen += [type(e).__name__ for e in conn.receive_data(step)]
        except h2.exceptions.ProtocolError as exc:
            seen.append(type(exc).__name__)
        seen.append(conn.data_to_send())
        outcomes.append(seen)
    assert outcomes[0] == outcomes[1]


def test_a_request_is_received_as_h2_receives_it() -> None:
    received_alike(request_frames(1), request_frames(3))


def late_headers(stream_id: int) -> bytes:
    headers = HeadersFrame(stream_id, hpack.Encoder().encode([(b"x-late", b"1")]))
    headers.flags.add("END_HEADERS")
    headers.flags.add("END_STREAM")
    return frames(headers)


# HEADERS on a closed stream reach the connection's handling of it (DATA has its own).


def test_headers_on_a_stream_we_reset_are_answered_as_h2_answers_them() -> None:
    received_alike(
        request_frames(1, end=False),
        lambda conn: conn.reset_stream(1, ErrorCodes.CANCEL),
        late_headers(1),
    )


def test_headers_on_a_forgotten_stream_we_reset_are_answered_as_h2_answers_them() -> None:
    received_alike(
        request_frames(1, end=False),
        lambda conn: conn.reset_stream(1, ErrorCodes.CANCEL),
        request_frames(3),  # h2 forgets the closed stream 1 as it opens 3
        late_headers(1),
    )


def test_headers_on_a_stream_ended_both_ways_are_refused_as_h2_refuses_them() -> None:
    def answer(conn: Any) -> None:
        conn.send_headers(1, [(b":status", b"200")], end_stream=True)

    received_alike(request_frames(1), answer, request_frames(3), late_headers(1))


def test_headers_on_a_stream_below_the_newest_are_refused_as_h2_refuses_them() -> None:
    received_alike(request_frames(5), request_frames(3))

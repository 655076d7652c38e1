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
import pytest
from h2.errors import ErrorCodes

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


def config() -> h2.config.H2Configuration:
    return h2.config.H2Configuration(
        client_side=False,
        header_encoding=None,
        validate_inbound_headers=False,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
    )


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
    pair = (h2.connection.H2Connection(config()), ServerConnection(config()))
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

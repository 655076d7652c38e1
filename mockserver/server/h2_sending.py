"""h2's server connection, with our own writing of the HEADERS and DATA frames of an answer.

Why: h2 builds every frame it sends as a hyperframe object (flags as a set, padding and
priority fields a response never has) and serializes it again; for a gRPC call's three frames
(the answer's HEADERS, its DATA, the trailers' HEADERS) that was about a sixth of the HTTP/2
layer's CPU. :class:`ServerConnection` keeps h2 as the one owner of the connection's state: it
makes the same state-machine steps h2's ``send_headers`` and ``send_data`` make, in the same
order (so a call h2 would refuse raises h2's own error), counts the same flow-control windows,
and codes the headers with the connection's HPACK encoder; only the frame bytes are written
here, as RFC 9113 4.1 lays them out (and as h2 writes them: no padding, no priority). Anything
else (a new stream, an informational answer, a header block larger than one frame, padding)
goes through h2 as before. ``tests/mockserver/server/test_h2_sending.py`` holds both paths to
the same bytes and states.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import h2.config
import h2.connection
from h2.errors import ErrorCodes
from h2.events import Event
from h2.exceptions import (
    FlowControlError,
    FrameTooLargeError,
    ProtocolError,
    StreamClosedError,
    StreamIDTooLowError,
)
from hpack.struct import HeaderWeaklyTyped
from hyperframe.frame import Frame, RstStreamFrame

from zitadel_mock.server import h2_steps as steps
from zitadel_mock.server.h2_hpack import RememberingDecoder, RememberingEncoder
from zitadel_mock.server.h2_receiving import (
    DATA,
    END_HEADERS,
    END_STREAM,
    HEADERS,
    ReceivingConnection,
)
from zitadel_mock.server.h2_steps import advance, advance_connection


def frame_head(length: int, kind: int, flags: int, stream_id: int) -> bytes:
    """The 9 bytes before a frame's payload (RFC 9113 4.1)."""
    return (
        (length << 8 | kind).to_bytes(4, "big")
        + bytes((flags,))
        + (stream_id & 0x7FFFFFFF).to_bytes(4, "big")
    )


class ServerConnection(ReceivingConnection):
    """An h2 server connection whose answers' HEADERS and DATA frames are written directly,
    with HPACK coders that remember repeated blocks (:mod:`~zitadel_mock.server.h2_hpack`)."""

    encoder: RememberingEncoder
    decoder: RememberingDecoder

    def __init__(self, config: h2.config.H2Configuration | None = None) -> None:
        super().__init__(config)
        self.encoder = RememberingEncoder()
        self.decoder = RememberingDecoder(self.decoder.max_header_list_size)

    def has_output(self) -> bool:
        """Whether frames are queued that :meth:`data_to_send` would hand over."""
        return bool(self._data_to_send)

    def _receive_frame(self, frame: Frame) -> list[Event]:
        """h2's handling of one received frame, without the text of the frame h2 makes first
        for a trace log that goes nowhere (``repr`` of every frame: about 7% of the HTTP/2
        layer's CPU). The same dispatch, and the same answers to a frame on a closed stream:
        RST_STREAM if the stream was reset, else h2's connection error."""
        try:
            frames: list[Frame]
            events: list[Event]
            frames, events = self._frame_dispatch_table[frame.__class__](frame)
        except StreamClosedError as exc:
            if not self._stream_is_closed_by_reset(exc.stream_id):
                raise
            self._send_reset(exc.stream_id, exc.error_code)
            return exc._events  # as h2 returns them
        except StreamIDTooLowError as exc:
            if self._stream_is_closed_by_reset(exc.stream_id):
                self._send_reset(exc.stream_id, ErrorCodes.STREAM_CLOSED)
                return []
            if self._stream_is_closed_by_end(exc.stream_id):
                raise StreamClosedError(exc.stream_id) from exc
            raise  # closed when a higher stream opened: h2's PROTOCOL_ERROR
        self._prepare_for_sending(frames)
        return events

    def _send_reset(self, stream_id: int, code: ErrorCodes) -> None:
        reset = RstStreamFrame(stream_id)
        reset.error_code = code
        self._prepare_for_sending([reset])

    def send_headers(  # noqa: PLR0917 - h2's own signature
        self,
        stream_id: int,
        headers: Iterable[HeaderWeaklyTyped],
        end_stream: bool = False,
        priority_weight: int | None = None,
        priority_depends_on: int | None = None,
        priority_exclusive: bool | None = None,
    ) -> None:
        stream = self.streams.get(stream_id)
        if (
            stream is None
            or type(headers) is not list
            or priority_weight is not None
            or priority_depends_on is not None
            or priority_exclusive is not None
            or not all(type(n) is bytes and type(v) is bytes for n, v in headers)
            or (headers and headers[0][0] == b":status" and headers[0][1][:1] == b"1")
        ):
            super().send_headers(
                stream_id,
                headers,
                end_stream,
                priority_weight,
                priority_depends_on,
                priority_exclusive,
            )
            return
        self._send_block(stream, headers, end_stream)

    def send_answer_headers(
        self, stream_id: int, headers: list[tuple[bytes, bytes]], end_stream: bool
    ) -> None:
        """:meth:`send_headers` for headers we built: (bytes, bytes) tuples of a final answer
        (no 1xx) or of trailers, so the checks of what h2 would take otherwise are skipped."""
        stream = self.streams.get(stream_id)
        if stream is None:
            super().send_headers(stream_id, headers, end_stream)
            return
        self._send_block(stream, headers, end_stream)

    def _send_block(self, stream: Any, headers: list[tuple[bytes, bytes]], end: bool) -> None:
        advance_connection(self.state_machine, steps.CONNECTION_SEND_HEADERS)
        advance(stream.state_machine, steps.SEND_HEADERS)
        block = self.encoder.encode_plain(headers)
        if len(block) > (stream.max_outbound_frame_size or 0):
            # CONTINUATION frames: too rare to write twice. The block is coded already (the
            # encoder's table moved on), so the frames are cut from it here.
            self._send_long_block(stream, block, end)
            return
        flags = END_HEADERS
        if end:
            advance(stream.state_machine, steps.SEND_END_STREAM)
            flags |= END_STREAM
        if stream.state_machine.trailers_sent and not end:
            raise ProtocolError("Trailers must have END_STREAM set.")
        stream.request_method = None  # as h2 notes it from an answer's headers (none there)
        self._data_to_send += frame_head(len(block), HEADERS, flags, stream.stream_id) + block

    def _send_long_block(self, stream: Any, block: bytes, end_stream: bool) -> None:
        size = stream.max_outbound_frame_size
        parts = [block[i : i + size] for i in range(0, len(block), size)]
        out = bytearray()
        for number, part in enumerate(parts):
            kind = HEADERS if number == 0 else 0x9  # CONTINUATION
            flags = END_HEADERS if number == len(parts) - 1 else 0
            if number == 0 and end_stream:
                flags |= END_STREAM
            out += frame_head(len(part), kind, flags, stream.stream_id) + part
        if end_stream:
            advance(stream.state_machine, steps.SEND_END_STREAM)
        if stream.state_machine.trailers_sent and not end_stream:
            raise ProtocolError("Trailers must have END_STREAM set.")
        stream.request_method = None
        self._data_to_send += out

    def send_data(
        self,
        stream_id: int,
        data: bytes | memoryview,
        end_stream: bool = False,
        pad_length: Any = None,
    ) -> None:
        stream = self.streams.get(stream_id)
        if stream is None or pad_length is not None:
            super().send_data(stream_id, data, end_stream, pad_length)
            return
        size = len(data)
        window = min(self.outbound_flow_control_window, stream.outbound_flow_control_window)
        if size > 0 and size > window:
            raise FlowControlError(f"Cannot send {size} bytes, flow control window is {window}")
        if size > self.max_outbound_frame_size:
            raise FrameTooLargeError(
                f"Cannot send frame size {size}, max frame size is {self.max_outbound_frame_size}"
            )
        advance_connection(self.state_machine, steps.CONNECTION_SEND_DATA)
        advance(stream.state_machine, steps.SEND_DATA)
        flags = 0
        if end_stream:
            advance(stream.state_machine, steps.SEND_END_STREAM)
            flags = END_STREAM
        stream.outbound_flow_control_window -= size
        self.outbound_flow_control_window -= size
        self._data_to_send += frame_head(size, DATA, flags, stream_id) + data

"""h2's server connection, with our own reading of the frames a client sends call after call.

Why: for each frame it receives, h2 builds a hyperframe object (flags parsed into a set,
padding and priority fields looked at) and dispatches it through handlers written for every
case; for a gRPC call (a HEADERS frame opening a stream, a DATA frame ending it) that was
about half of the HTTP/2 layer's CPU. :class:`ReceivingConnection` reads the 9 bytes of a
frame's head itself and, for the plain cases (HEADERS with END_HEADERS on a new stream, DATA
within the windows on an open stream, WINDOW_UPDATE, PING, a SETTINGS acknowledgement), makes
the same steps h2's handlers make, in the same order: the same connection and stream state
machine inputs, the same window accounting, the same events (h2's own classes), the same
answers (a PING's acknowledgement). Every other frame (padded, with priority, a header block
in CONTINUATION frames, an unknown type, one past a window, the content length or the
concurrent streams, on a stream in any other state...) is left in h2's frame buffer, where
h2 reads and handles it as before, so what h2 answers to bad input is unchanged.
``tests/mockserver/server/test_h2_receiving.py`` feeds h2's connection and ours the same
bytes and compares events, states, windows, output and errors.
"""

from __future__ import annotations

import struct
from typing import Any, Final

import h2.connection
from h2.connection import ConnectionInputs, _decode_headers
from h2.errors import ErrorCodes
from h2.events import (
    Event,
    PingAckReceived,
    PingReceived,
    SettingsAcknowledged,
    WindowUpdated,
)
from h2.exceptions import ProtocolError, StreamClosedError
from h2.stream import STREAM_OPEN, H2Stream, StreamInputs, StreamState
from h2.utilities import is_informational_response
from hpack import NeverIndexedHeaderTuple
from hyperframe.exceptions import InvalidPaddingError
from hyperframe.frame import WindowUpdateFrame

from zitadel_mock.server import h2_steps as steps
from zitadel_mock.server.h2_steps import advance, advance_connection

_HEAD: Final = struct.Struct(">BHBBL")  # length (24 bits), type, flags, R + stream id
_INCREMENT: Final = struct.Struct(">L")
LARGEST_WINDOW: Final = 2**31 - 1

DATA: Final = 0x0
HEADERS: Final = 0x1
SETTINGS: Final = 0x4
PING: Final = 0x6
WINDOW_UPDATE: Final = 0x8

END_STREAM: Final = 0x1
ACK: Final = 0x1
END_HEADERS: Final = 0x4

# The stream states in which DATA is received without an error: h2's transitions for
# RECV_DATA that lead to ``data_received``.
RECEIVING: Final = frozenset({StreamState.OPEN, StreamState.HALF_CLOSED_LOCAL})
CLOSED: Final = StreamState.CLOSED


class ReceivingConnection(h2.connection.H2Connection):
    """An h2 connection that reads the plain frames of a client's calls itself."""

    def receive_data(self, data: Any) -> list[Event]:
        """h2's ``receive_data``: the same buffer, the same handling of errors; a frame at the
        head of the buffer is taken here when :meth:`_take_plain_frame` can, else by h2."""
        config = self.config
        if config.client_side or config.validate_inbound_headers or config.header_encoding:
            return super().receive_data(data)
        events: list[Event] = []
        buffer = self.incoming_buffer
        buffer.add_data(data)
        buffer.max_frame_size = self.max_inbound_frame_size
        try:
            while True:
                if not buffer._headers_buffer and self._take_plain_frame(buffer._data, events):
                    continue
                if len(buffer._data) < 9:
                    break  # as h2's buffer stops there (without raising StopIteration)
                frame = next(buffer, None)
                if frame is None:
                    break
                events.extend(self._receive_frame(frame))
        except InvalidPaddingError as exc:
            self._terminate_connection(ErrorCodes.PROTOCOL_ERROR)
            msg = "Received frame with invalid padding."
            raise ProtocolError(msg) from exc
        except ProtocolError as exc:
            self._terminate_connection(exc.error_code)
            raise
        return events

    def acknowledge_received_data(self, acknowledged_size: int, stream_id: int) -> None:
        """h2's ``acknowledge_received_data`` for a stream h2 still holds: the same window
        accounting and WINDOW_UPDATE frames (h2's own), without its lookups and log lines."""
        stream = self.streams.get(stream_id)
        if stream is None or stream_id <= 0 or acknowledged_size < 0:
            super().acknowledge_received_data(acknowledged_size, stream_id)
            return
        frames: list[Any] = []
        increment = self._inbound_flow_control_window_manager.process_bytes(acknowledged_size)
        if increment:
            frame = WindowUpdateFrame(0)
            frame.window_increment = increment
            frames.append(frame)
        if STREAM_OPEN[stream.state_machine.state]:
            increment = stream._inbound_window_manager.process_bytes(acknowledged_size)
            if increment:
                frame = WindowUpdateFrame(stream_id)
                frame.window_increment = increment
                frames.append(frame)
        if frames:
            self._prepare_for_sending(frames)

    def _take_plain_frame(self, data: bytearray, events: list[Event]) -> bool:
        """Handle the frame at the head of ``data`` and remove it, if it is one of the plain
        cases; False (and nothing changed) for anything else or an incomplete frame."""
        if len(data) < 9:
            return False
        high, low, kind, flags, stream_id = _HEAD.unpack_from(data)
        length = high << 16 | low
        end = 9 + length
        if len(data) < end or length > self.incoming_buffer.max_frame_size or stream_id >> 31:
            return False  # (a stream id with the reserved bit set: h2's to mask)
        if kind == HEADERS:
            return self._take_request_headers(data, end, flags, stream_id, events)
        if kind == DATA:
            return self._take_data(data, end, flags, stream_id, events)
        if kind == WINDOW_UPDATE:
            return self._take_window_update(data, length, flags, stream_id, events)
        if kind == PING:
            return self._take_ping(data, length, flags, stream_id, events)
        if kind == SETTINGS and flags == ACK and length == 0 and stream_id == 0:
            del data[:9]
            events += self.state_machine.process_input(ConnectionInputs.RECV_SETTINGS)
            acknowledged = SettingsAcknowledged()
            acknowledged.changed_settings = self._local_settings_acked()
            events.append(acknowledged)
            return True
        return False

    def _open_inbound(self) -> int:
        """h2's ``open_inbound_streams`` for a server: the open client streams, forgetting the
        closed ones (into ``_closed_streams``, as h2 does) on the way."""
        count = 0
        closed = []
        for stream_id, stream in self.streams.items():
            state = stream.state_machine.state
            if STREAM_OPEN[state] and stream_id % 2 == 1:
                count += 1
            elif state == CLOSED:
                closed.append(stream_id)
        for stream_id in closed:
            self._closed_streams[stream_id] = self.streams.pop(stream_id).closed_by
        return count

    def _take_request_headers(
        self, data: bytearray, end: int, flags: int, stream_id: int, events: list[Event]
    ) -> bool:
        """A HEADERS frame opening a new client stream, its whole block in it (no padding,
        no priority): h2's ``_receive_headers_frame`` and the stream's ``receive_headers``."""
        if (
            flags & ~(END_STREAM | END_HEADERS)
            or not flags & END_HEADERS
            or stream_id % 2 != 1
            or stream_id <= self.highest_inbound_stream_id
            or stream_id in self.streams
        ):
            return False
        if self._open_inbound() + 1 > self.local_settings.max_concurrent_streams:
            return False  # h2 counts again (finding nothing more to forget) and refuses
        block = bytes(data[9:end])
        del data[:end]
        headers = _decode_headers(self.decoder, block)
        events += advance_connection(self.state_machine, steps.CONNECTION_RECV_HEADERS)
        # h2's _begin_new_stream, its checks made above, without its debug log lines.
        stream = H2Stream(
            stream_id,
            config=self.config,
            inbound_window_size=self.local_settings.initial_window_size,
            outbound_window_size=self.remote_settings.initial_window_size,
        )
        stream.max_outbound_frame_size = self.max_outbound_frame_size
        self.streams[stream_id] = stream
        self.highest_inbound_stream_id = stream_id
        # The stream's receive_headers, without the validation flags nothing here reads,
        # and what looks for a field skipped if no field has its name.
        names = {name for name, _ in headers}
        machine = stream.state_machine
        if b":status" in names and is_informational_response(headers):
            if flags & END_STREAM:
                msg = "Cannot set END_STREAM on informational responses"
                raise ProtocolError(msg)
            stream_events = machine.process_input(StreamInputs.RECV_INFORMATIONAL_HEADERS)
        else:
            stream_events = advance(machine, steps.RECV_HEADERS)
        received: Any = stream_events[0]  # RequestReceived, or what h2 refuses below
        if flags & END_STREAM:
            ended = advance(machine, steps.RECV_END_STREAM)
            received.stream_ended = ended[0]
            stream_events += ended
        if b"content-length" in names:  # (a new stream has no request method: no HEAD)
            stream._initialize_content_length(headers)
        if b"cookie" in names and self.config.normalize_inbound_headers:
            received.headers = combine_cookies(headers)
        else:
            received.headers = list(headers)
        events += stream_events
        return True

    def _take_data(
        self, data: bytearray, end: int, flags: int, stream_id: int, events: list[Event]
    ) -> bool:
        """A DATA frame without padding on an open stream, within both windows and the
        request's content length: h2's ``_receive_data_frame`` and the stream's
        ``receive_data``."""
        if flags & ~END_STREAM:
            return False
        stream = self.streams.get(stream_id)
        if stream is None or stream.state_machine.state not in RECEIVING:
            return False
        size = end - 9
        connection_window = self._inbound_flow_control_window_manager
        stream_window = stream._inbound_window_manager
        if size > connection_window.current_window_size or (
            size > stream_window.current_window_size
        ):
            return False
        expected = stream._expected_content_length
        if expected is not None:
            actual = stream._actual_content_length + size
            if actual > expected or (flags & END_STREAM and actual != expected):
                return False
        body = bytes(data[9:end])
        del data[:end]
        events += advance_connection(self.state_machine, steps.CONNECTION_RECV_DATA)
        connection_window.current_window_size -= size  # window_consumed, checked above
        # The stream's receive_data, its checks made above.
        machine = stream.state_machine
        received: Any = advance(machine, steps.RECV_DATA)[0]  # DataReceived
        stream_window.current_window_size -= size
        stream._actual_content_length += size
        events.append(received)
        if flags & END_STREAM:
            ended = advance(machine, steps.RECV_END_STREAM)
            received.stream_ended = ended[0]
            events += ended
        received.data = body
        received.flow_controlled_length = size
        return True

    def _take_window_update(
        self, data: bytearray, length: int, flags: int, stream_id: int, events: list[Event]
    ) -> bool:
        """A WINDOW_UPDATE for the connection, or for a stream h2 still holds:
        h2's ``_receive_window_update_frame``."""
        if length != 4 or flags:
            return False
        (increment,) = _INCREMENT.unpack_from(data, 9)
        if not 1 <= increment <= LARGEST_WINDOW:
            return False
        if stream_id == 0:
            if self.outbound_flow_control_window + increment > LARGEST_WINDOW:
                return False  # h2's FlowControlError, a connection error
            del data[:13]
            events += advance_connection(self.state_machine, steps.CONNECTION_RECV_WINDOW_UPDATE)
            self.outbound_flow_control_window += increment
            events.append(WindowUpdated(stream_id=0, delta=increment))
            return True
        stream = self.streams.get(stream_id)
        if stream is None:
            return False
        del data[:13]
        events += advance_connection(self.state_machine, steps.CONNECTION_RECV_WINDOW_UPDATE)
        try:
            frames, stream_events = stream.receive_window_update(increment)
        except StreamClosedError:
            return True  # as h2: the connection's events (none), not the stream's
        self._prepare_for_sending(frames)
        events += stream_events
        return True

    def _take_ping(
        self, data: bytearray, length: int, flags: int, stream_id: int, events: list[Event]
    ) -> bool:
        """A PING or its acknowledgement: h2's ``_receive_ping_frame``, the answer written as
        h2 serializes it."""
        if length != 8 or stream_id != 0 or flags & ~ACK:
            return False
        opaque = bytes(data[9:17])
        del data[:17]
        events += advance_connection(self.state_machine, steps.CONNECTION_RECV_PING)
        if flags & ACK:
            events.append(PingAckReceived(ping_data=opaque))
        else:
            events.append(PingReceived(ping_data=opaque))
            self._data_to_send += b"\x00\x00\x08\x06\x01\x00\x00\x00\x00" + opaque
        return True


def combine_cookies(headers: Any) -> list[Any]:
    """h2's ``normalize_inbound_headers``: the cookie fields joined into one, last."""
    cookies = [value for name, value in headers if name == b"cookie"]
    if not cookies:
        return list(headers)
    out: list[Any] = [header for header in headers if header[0] != b"cookie"]
    out.append(NeverIndexedHeaderTuple(b"cookie", b"; ".join(cookies)))
    return out

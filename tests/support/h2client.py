"""A blocking raw HTTP/2 client over a socket, for requests no ordinary client would send.

It speaks prior-knowledge cleartext HTTP/2 through the h2 state machine, sends whatever frames a
test asks for, and collects the server's answers per stream.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings

Headers = list[tuple[bytes, bytes]]


@dataclass
class Answer:
    """What came back on one stream."""

    headers: Headers = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)
    trailers: Headers = field(default_factory=list)
    ended: bool = False
    reset: int | None = None  # the RST_STREAM error code

    @property
    def done(self) -> bool:
        return self.ended or self.reset is not None

    def header(self, name: str) -> str | None:
        for key, value in [*self.headers, *self.trailers]:
            if key == name.encode():
                return value.decode("latin-1")
        return None

    @property
    def status(self) -> int:
        return int(self.header(":status") or 0)


class H2Client:
    def __init__(self, port: int, window: int | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None)
        )
        if window is not None:
            self.conn.local_settings = h2.settings.Settings(
                client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window}
            )
        self.conn.initiate_connection()
        self.answers: dict[int, Answer] = {}
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.closed = False
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def start(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        method: str = "POST",
        end_stream: bool = False,
    ) -> int:
        stream_id: int = self.conn.get_next_available_stream_id()
        block = [
            (b":method", method.encode()),
            (b":path", path.encode()),
            (b":scheme", b"http"),
            (b":authority", b"127.0.0.1"),
            *[(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        ]
        self.conn.send_headers(stream_id, block, end_stream=end_stream)
        self.answers[stream_id] = Answer()
        self.flush()
        return stream_id

    def send(self, stream_id: int, data: bytes, end_stream: bool = True) -> None:
        """Send ``data`` in as many DATA frames as the windows allow, reading while blocked."""
        view = memoryview(data)
        while view:
            window = min(
                self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size
            )
            if window <= 0:
                self.read_once()
                if self.answers[stream_id].done:
                    return
                continue
            chunk, view = view[:window], view[window:]
            self.conn.send_data(stream_id, chunk.tobytes(), end_stream=end_stream and not view)
            self.flush()
        if not data and end_stream:
            self.conn.end_stream(stream_id)
            self.flush()

    def request(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        stream_id = self.start(path, headers)
        self.send(stream_id, body)
        return self.wait(stream_id)

    def read_once(self, timeout: float = 10) -> None:
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            raise ConnectionError("the server closed the connection")
        for event in self.conn.receive_data(data):
            self.handle(event)
        self.flush()

    def handle(self, event: Any) -> None:
        answer = self.answers.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.ResponseReceived) and answer is not None:
            answer.headers = list(event.headers)
        elif isinstance(event, h2.events.TrailersReceived) and answer is not None:
            answer.trailers = list(event.headers)
        elif isinstance(event, h2.events.DataReceived) and answer is not None:
            answer.data += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded) and answer is not None:
            answer.ended = True
        elif isinstance(event, h2.events.StreamReset) and answer is not None:
            answer.reset = int(event.error_code)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event

    def wait(self, *stream_ids: int, timeout: float = 10) -> Answer:
        deadline = time.monotonic() + timeout
        while not all(self.answers[s].done for s in stream_ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"streams {stream_ids} unanswered after {timeout} s")
            self.read_once(timeout)
        return self.answers[stream_ids[0]]

    def read_until_closed(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.read_once(timeout)
        except (ConnectionError, OSError):
            return
        raise TimeoutError("the server kept the connection open")

    def close(self) -> None:
        self.sock.close()

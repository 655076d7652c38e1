"""The port's limits (issue 12, rows 3, 5, 6 and 7): each past its limit, answered as the protocol
would, logged, and a probe client served meanwhile.

Sizes are small in ``make test``; ``make fuzz`` (which sets ZITADEL_FUZZ_EXAMPLES) runs the tests
marked ``fuzz`` at the sizes the issue reported.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from h2.errors import ErrorCodes

from tests.conftest import (
    PORTAL,
    ROOT,
    WEB,
    LiveServer,
    free_port,
    raw_request,
    rotate_path,
    start_server,
)
from tests.support.h2client import H2Client
from zitadel_mock.server.limits import ServerLimits
from zitadel_proto.wire import METHOD_PATH

REST = rotate_path(PORTAL, WEB)
JSON_AUTH = {"authorization": "Bearer admin-pat", "content-type": "application/json"}
GRPC = {"authorization": "Bearer admin-pat", "content-type": "application/grpc", "te": "trailers"}
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
PING_TYPE, GOAWAY_TYPE = 0x6, 0x7
FULL = "ZITADEL_FUZZ_EXAMPLES" in os.environ  # make fuzz: the sizes of the table

SMALL = {
    "MAX_REQUEST_LINE": "2048",
    "MAX_HEADER_BYTES": "8192",
    "MAX_HEADER_COUNT": "30",
    "MAX_HEADER_LIST_SIZE": "8192",
    "MAX_STREAM_BUFFER": str(256 << 10),
    "MAX_TOTAL_BUFFER": str(1 << 20),
    "MAX_QUEUED_CONTROL_FRAMES": "200",
    "MAX_OUTPUT_BUFFER": str(1 << 20),
}
TIMEOUTS = {
    "HEADER_TIMEOUT": "1",
    "KEEP_ALIVE_TIMEOUT": "1",
    "H2_IDLE_TIMEOUT": "1",
    "MAX_CONNECTIONS": "16",
}


def limit_env(values: dict[str, str]) -> dict[str, str]:
    return {f"ZITADEL_MOCK_LIMIT_{name}": value for name, value in values.items()}


@pytest.fixture(scope="module")
def small() -> Iterator[LiveServer]:
    """A mock with small size limits (and the default timeouts); full sizes under make fuzz."""
    live = start_server(env=limit_env({} if FULL else SMALL))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def timeouts() -> Iterator[LiveServer]:
    live = start_server(env=limit_env(TIMEOUTS))
    yield live
    live.stop()


def rss_kib(server: LiveServer) -> int:
    with open(f"/proc/{server.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def probe(server: LiveServer) -> None:
    """Another client, on each protocol, is answered as usual."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        answer = client.post(REST, headers=JSON_AUTH, json={})
    assert answer.status_code == 200, answer.text
    h2 = H2Client(server.port)
    try:
        assert h2.request(REST, JSON_AUTH, b"{}").status == 200
    finally:
        h2.close()


def head(target: str = "/nowhere", headers: list[tuple[str, str]] | None = None) -> bytes:
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def frames(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(type, payload) of each whole HTTP/2 frame in ``data``."""
    at = 0
    while at + 9 <= len(data):
        length = int.from_bytes(data[at : at + 3], "big")
        kind = data[at + 3]
        if at + 9 + length > len(data):
            return
        yield kind, data[at + 9 : at + 9 + length]
        at += 9 + length


def read_to_end(sock: socket.socket) -> bytes:
    chunks = []
    sock.settimeout(30)
    try:
        while chunk := sock.recv(1 << 20):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


# -- row 3: the request head --------------------------------------------------------------------


def test_a_request_target_past_max_request_line_is_answered_414(small: LiveServer) -> None:
    limit = 8192 if FULL else 2048
    assert status_of(raw_request(small.port, head("/" + "a" * (limit - 10)))) == 404
    assert status_of(raw_request(small.port, head("/" + "a" * limit))) == 414
    assert "limit max_request_line hit" in small.stderr()
    probe(small)


def test_headers_past_max_header_bytes_are_answered_431(small: LiveServer) -> None:
    limit = 65536 if FULL else 8192
    fits = head("/nowhere", [("x-pad", "p" * (limit - 100))])
    assert status_of(raw_request(small.port, fits)) == 404
    assert status_of(raw_request(small.port, head("/nowhere", [("x-pad", "p" * limit)]))) == 431
    probe(small)


def test_more_headers_than_max_header_count_are_answered_431(small: LiveServer) -> None:
    limit = 100 if FULL else 30
    many = [(f"x-h{i}", "v") for i in range(limit - 5)]
    assert status_of(raw_request(small.port, head("/nowhere", many))) == 404
    too_many = [(f"x-h{i}", "v") for i in range(limit + 1)]
    assert status_of(raw_request(small.port, head("/nowhere", too_many))) == 431
    assert "limit max_header_count hit" in small.stderr()
    probe(small)


def test_a_header_that_never_ends_is_cut_off_with_431_before_it_is_read_whole(
    small: LiveServer,
) -> None:
    """httptools buffers a header until its end: the raw head is counted as it arrives."""
    with socket.create_connection(("127.0.0.1", small.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nx-endless: ")
        sent = 0
        try:
            while sent < 64 << 20:  # the server must stop this long before 64 MiB
                sock.sendall(b"v" * 65536)
                sent += 65536
        except OSError:
            pass
        answer = read_to_end(sock)
    assert sent < 64 << 20
    assert status_of(answer) == 431
    probe(small)


def test_an_h2_header_list_past_max_header_list_size_ends_the_connection_calmly(
    small: LiveServer,
) -> None:
    limit = 65536 if FULL else 8192
    client = H2Client(small.port)
    try:
        fits = client.start(REST, {**JSON_AUTH, "x-pad": "p" * (limit // 2)})
        client.send(fits, b"{}")
        assert client.wait(fits).status == 200
        client.start(REST, {**JSON_AUTH, "x-pad": "p" * limit})
        client.read_until_closed()
    finally:
        client.close()
    assert client.goaway is not None
    assert client.goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
    probe(small)


def test_an_h2_request_with_too_many_headers_gets_431_and_the_connection_goes_on(
    small: LiveServer,
) -> None:
    limit = 100 if FULL else 30
    client = H2Client(small.port)
    try:
        many = {f"x-h{i}": "v" for i in range(limit + 1)}
        refused = client.start(REST, {**JSON_AUTH, **many}, end_stream=True)
        assert client.wait(refused).status == 431
        assert client.request(REST, JSON_AUTH, b"{}").status == 200
    finally:
        client.close()


@pytest.mark.fuzz
def test_many_requests_with_huge_headers_leave_memory_bounded(small: LiveServer) -> None:
    """Row 3 at size: 500 requests with a 1 MiB header (RSS grew by 650 MB before)."""
    count, size = (500, 1 << 20) if FULL else (50, 64 << 10)
    before = rss_kib(small)
    request = head("/nowhere", [("x-pad", "p" * size)])
    for _ in range(count):
        assert status_of(raw_request(small.port, request)) == 431
    after = rss_kib(small)
    print(f"FIGURE row 3: {count} x {size} B header -> 431; RSS {before} -> {after} KiB")
    assert after - before < 64 << 10  # KiB: well under the 650 MB of the report
    probe(small)


# -- row 5: request bytes buffered by HTTP/2 streams ---------------------------------------------


def drain(client: H2Client) -> None:
    """Read what the server has sent so far (until it is quiet for a moment)."""
    try:
        while True:
            client.read_once(0.5)
    except (TimeoutError, ConnectionError):
        pass


def grpc_frame_head(length: int) -> bytes:
    return b"\x00" + struct.pack(">I", length)


def test_a_stream_past_max_stream_buffer_is_refused_with_resource_exhausted(
    small: LiveServer,
) -> None:
    limit = 8 << 20 if FULL else 256 << 10
    client = H2Client(small.port)
    try:
        stream = client.start(METHOD_PATH, GRPC)
        client.send(stream, grpc_frame_head(limit + 1024) + b"x" * (limit + 1024), False)
        answer = client.wait(stream)
        assert answer.header("grpc-status") == "8"
        rest = client.start(REST, JSON_AUTH)
        client.send(rest, b"x" * (limit + 1), end_stream=False)
        assert client.wait(rest).status == 413
        assert client.request(REST, JSON_AUTH, b"{}").status == 200  # same connection
    finally:
        client.close()
    assert "limit max_stream_buffer hit" in small.stderr()
    probe(small)


@pytest.mark.fuzz
def test_streams_past_max_total_buffer_together_are_refused_and_memory_stays_bounded(
    small: LiveServer,
) -> None:
    """Row 5: streams that each announce a large gRPC message and send all but its last byte.
    Under their total the process holds them; past it the next one is refused (RESOURCE_EXHAUSTED)
    and a probe is served; once they go, their bytes are free again."""
    total, each, count = (64 << 20, 4 << 20, 100) if FULL else (1 << 20, 200 << 10, 8)
    # Every deferred app built first (the admin API is the last): else their imports count as
    # growth when this test runs first on the module's server.
    assert small.client.get("/__mock/errors").status_code == 200
    probe(small)
    before = rss_kib(small)
    clients = [H2Client(small.port) for _ in range(count)]
    refused = 0
    try:
        for client in clients:
            stream = client.start(METHOD_PATH, GRPC)
            client.send(stream, grpc_frame_head(each) + b"x" * (each - 1), end_stream=False)
        for client in clients:
            drain(client)  # an answer comes back only on refusal
            refused += any(a.header("grpc-status") == "8" for a in client.answers.values())
        # streams arrive interleaved, so which ones are cut is not fixed; how many at least is
        assert count - total // each <= refused < count
        probe(small)
        grown = rss_kib(small) - before
        print(f"FIGURE row 5: {count} streams x {each} B, {refused} refused; RSS +{grown} KiB")
    finally:
        for client in clients:
            client.close()
    assert grown < (total >> 10) * 3  # KiB: the total cap, with room for Python's overhead
    assert "limit max_total_buffer hit" in small.stderr()
    probe(small)  # the bytes of the closed streams were given back


# -- row 6: control frames from a peer that never reads ------------------------------------------


def ping_batch(count: int) -> bytes:
    return b"".join(
        struct.pack(">I", 8)[1:] + bytes([PING_TYPE, 0]) + b"\0\0\0\0" + struct.pack(">Q", n)
        for n in range(count)
    )


def test_a_ping_flood_from_a_peer_that_never_reads_ends_in_goaway_enhance_your_calm(
    small: LiveServer,
) -> None:
    before = rss_kib(small)
    batch = ping_batch(1000)
    sent = 0
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills fast; read nothing
        sock.connect(("127.0.0.1", small.port))
        sock.sendall(PREFACE + EMPTY_SETTINGS)
        sock.settimeout(2)  # a send blocked this long: the server no longer reads
        try:
            while sent < 1 << 30:
                sock.sendall(batch)
                sent += len(batch)
        except (TimeoutError, OSError):
            pass
        grown = rss_kib(small) - before
        probe(small)
        answer = read_to_end(sock)
    assert sent < 1 << 30
    goaways = [payload for kind, payload in frames(answer) if kind == GOAWAY_TYPE]
    assert goaways, "no GOAWAY"
    assert struct.unpack(">I", goaways[-1][4:8])[0] == ErrorCodes.ENHANCE_YOUR_CALM
    print(f"FIGURE row 6: {sent} B of PING sent before the server stopped; RSS +{grown} KiB")
    assert grown < 32 << 10  # KiB
    assert "limit max_queued_control_frames hit" in small.stderr() or (
        "limit max_output_buffer hit" in small.stderr()
    )


def test_a_peer_that_reads_its_ping_acks_may_ping_as_much_as_it_likes(small: LiveServer) -> None:
    """The broken variant: a limit on PINGs alone would end this connection too."""
    client = H2Client(small.port)
    try:
        for _ in range(3):
            client.sock.sendall(ping_batch(400))  # twice the limit each time, all read
            acks = 0
            while acks < 400:
                for event in client.conn.receive_data(client.sock.recv(65536)):
                    acks += type(event).__name__ == "PingAckReceived"
        assert client.goaway is None
        assert client.request(REST, JSON_AUTH, b"{}").status == 200
    finally:
        client.close()


# -- row 7: timeouts and the connection cap -------------------------------------------------------


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(30)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def test_a_connection_that_sends_nothing_is_closed_after_header_timeout(
    timeouts: LiveServer,
) -> None:
    with socket.create_connection(("127.0.0.1", timeouts.port)) as silent:
        probe(timeouts)
        assert closed_by_server(silent)
    assert "limit header_timeout hit" in timeouts.stderr()


def test_a_partial_http2_preface_times_out(timeouts: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", timeouts.port)) as partial:
        partial.sendall(PREFACE[:12])
        probe(timeouts)
        assert closed_by_server(partial)


def test_a_partial_http1_request_head_times_out(timeouts: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", timeouts.port)) as partial:
        partial.sendall(b"POST " + REST.encode() + b" HTTP/1.1\r\nHost: x\r\n")
        probe(timeouts)
        assert closed_by_server(partial)


def test_an_idle_http1_keep_alive_connection_is_closed(timeouts: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", timeouts.port)) as sock:
        sock.sendall(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_to_end(sock).startswith(
            b"HTTP/1.1 404"
        )  # and closed, with no Connection: close


def test_an_http1_connection_is_not_idle_while_requests_come_or_one_outlasts_the_timeout(
    timeouts: LiveServer,
) -> None:
    """Requests that come and go move the keep-alive deadline; one still being answered holds
    it off; once idle for the whole timeout the connection is closed."""
    conn = http.client.HTTPConnection("127.0.0.1", timeouts.port, timeout=30)
    try:
        for _ in range(3):  # each within the 1 s timeout of the last answer: 1.8 s in all
            conn.request("POST", REST, body=b"{}", headers=JSON_AUTH)
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 200
            time.sleep(0.6)
        conn.request("POST", REST, body=b"{}", headers={**JSON_AUTH, "prefer": "delay=1800"})
        answer = conn.getresponse()  # answered 1.8 s later, past the timeout
        answer.read()
        assert answer.status == 200
        assert conn.sock is not None
        assert closed_by_server(conn.sock)
    finally:
        conn.close()


def test_an_idle_http2_connection_gets_goaway_no_error_and_is_closed(
    timeouts: LiveServer,
) -> None:
    client = H2Client(timeouts.port)
    try:
        assert client.request(REST, JSON_AUTH, b"{}").status == 200
        client.read_until_closed(timeout=30)
    finally:
        client.close()
    assert client.goaway is not None
    assert client.goaway.error_code == ErrorCodes.NO_ERROR


def test_an_http2_connection_is_not_idle_while_a_stream_outlasts_the_idle_timeout(
    timeouts: LiveServer,
) -> None:
    """Streams that come and go move the idle deadline; one still open holds it off."""
    client = H2Client(timeouts.port)
    try:
        for _ in range(3):  # each ends before the timeout: the connection stays
            assert client.request(REST, JSON_AUTH, b"{}").status == 200
            time.sleep(0.6)
        slow = {**JSON_AUTH, "prefer": "delay=1800"}  # open past the 1 s idle timeout
        assert client.request(REST, slow, b"{}").status == 200
        goaway_while_busy = client.goaway
        client.read_until_closed(timeout=30)  # idle from now: closed after about 1 s
    finally:
        client.close()
    assert goaway_while_busy is None
    assert client.goaway is not None
    assert client.goaway.error_code == ErrorCodes.NO_ERROR


def hold_connections(port: int, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        socks.append(sock)
    return socks


@pytest.mark.fuzz
def test_connections_past_max_connections_are_closed_logged_and_freed_by_the_timeout(
    timeouts: LiveServer,
) -> None:
    """Row 7: idle sockets fill the cap; one more is closed at once with a log line; the idle
    ones time out, and a probe is served again."""
    cap = int(TIMEOUTS["MAX_CONNECTIONS"])
    count = cap + (2000 if FULL else 4)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count + 256)), hard))
    hogs = hold_connections(timeouts.port, cap)
    extra: list[socket.socket] = []
    try:
        extra = hold_connections(timeouts.port, count - cap)
        assert all(closed_by_server(sock) for sock in extra)
        print(f"FIGURE row 7: {len(extra)} connections past a cap of {cap} closed")
        assert "limit max_connections hit" in timeouts.stderr()
        assert all(closed_by_server(sock) for sock in hogs)  # the header timeout
        probe(timeouts)
    finally:
        for sock in hogs + extra:
            sock.close()


# -- row 13: workers die with their supervisor ---------------------------------------------------


def alive(pid: int) -> bool:
    """The process runs (a zombie waiting for its reaper does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


def serve_on(port: int, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "zitadel_mock", "serve", "--port", str(port), *args]
    return subprocess.Popen(
        [*command, "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {timeout} s")
        time.sleep(0.05)


def answers(port: int) -> bool:
    try:
        return httpx.post(
            f"http://127.0.0.1:{port}{REST}", headers=JSON_AUTH, json={}, timeout=2
        ).is_success
    except httpx.TransportError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_supervisor_and_the_port_is_free_again() -> None:
    port = free_port()
    supervisor = serve_on(port, "--workers", "2")
    workers: list[int] = []
    try:
        wait_for(lambda: answers(port), "serving")
        workers = [pid for pid in children(supervisor.pid) if alive(pid)]
        assert len(workers) >= 2
        supervisor.kill()  # SIGKILL: no handler runs, nothing is passed on by the supervisor
        supervisor.wait()
        wait_for(lambda: not any(alive(pid) for pid in workers), "gone (orphaned workers)")
        assert not answers(port)
        again = serve_on(port, "--workers", "2")
        try:
            wait_for(lambda: answers(port), "serving again")
            assert again.poll() is None
        finally:
            os.killpg(again.pid, signal.SIGTERM)
            again.wait(30)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        for pid in workers:  # orphans, if the check failed
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# -- the settings ---------------------------------------------------------------------------------


def test_every_limit_is_a_setting_read_from_the_environment() -> None:
    defaults = ServerLimits()
    env = {
        name: str(float(value) * 2).removesuffix(".0") for name, value in defaults.to_env().items()
    }
    doubled = ServerLimits.from_env(env)
    for field in dataclasses.fields(ServerLimits):
        assert getattr(doubled, field.name) == getattr(defaults, field.name) * 2, field.name
    with pytest.raises(ValueError, match="MAX_HEADER_BYTES"):
        ServerLimits.from_env({"ZITADEL_MOCK_LIMIT_MAX_HEADER_BYTES": "lots"})
    with pytest.raises(ValueError, match="positive"):
        ServerLimits.from_env({"ZITADEL_MOCK_LIMIT_HEADER_TIMEOUT": "0"})

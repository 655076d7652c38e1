"""Servers under test as processes: start, time to the first expected answer, peak RSS, stop.

Each server runs in a process group of its own, so that stopping it stops its workers too and
nothing else. Peak RSS is the kernel's high-water mark (``VmHWM``) of the server process and of
each of its descendants, read just before the stop.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from bench.load.loadgen import Request, ResponseParser

PROBE_INTERVAL_S: Final = 0.005
CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def probe(port: int, request: Request, timeout: float = 5.0) -> tuple[int, bytes] | None:
    """One request on a new connection: the status and the raw answer, or None if refused."""
    payload = request.encode("127.0.0.1", port)
    parser = ResponseParser()
    received = bytearray()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(payload)
            while chunk := sock.recv(65536):
                received += chunk
                statuses = parser.feed(chunk)
                if statuses:
                    return statuses[0], bytes(received)
    except OSError:
        return None
    return None


@dataclass
class Server:
    """A started server process (the leader of its own process group)."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    started: float
    log_path: Path
    log: IO[bytes]

    def wait_for(self, request: Request, expected: int, timeout: float = 60.0) -> float:
        """Seconds from the process start to the first answer with status ``expected``."""
        deadline = self.started + timeout
        last: str = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            answer = probe(self.port, request)
            if answer is not None:
                if answer[0] == expected:
                    return time.monotonic() - self.started
                last = f"status {answer[0]}"
            time.sleep(PROBE_INTERVAL_S)
        raise RuntimeError(f"{self.name}: no {expected} within {timeout:.0f} s (last: {last})")

    def pids(self) -> list[int]:
        return [self.process.pid, *descendants(self.process.pid)]

    def peak_rss_kib(self) -> tuple[int, int]:
        """(sum, largest) of VmHWM over the server process and its descendants, in KiB."""
        peaks = [peak for pid in self.pids() if (peak := vm_hwm_kib(pid)) is not None]
        return sum(peaks), max(peaks, default=0)

    def cpu_seconds(self) -> float:
        """User plus system CPU time used so far by the server process and its descendants."""
        return sum(cpu_seconds(pid) for pid in self.pids())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def start(
    name: str,
    argv: list[str],
    port: int,
    log_dir: Path,
    env: dict[str, str] | None = None,
    *,
    cwd: Path | None = None,
) -> Server:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-')}.log"
    log = log_path.open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        start_new_session=True,
    )
    return Server(name, process, port, started, log_path, log)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields start after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def vm_hwm_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None

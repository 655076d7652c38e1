"""Drive wrk (HTTP/1.1, closed loop) with a Lua script that counts every answer's status.

wrk's own error counts treat any status of 400 and above as an error and say nothing of which
status came back; the script tallies statuses per thread in ``response()`` (and, when the case
asks for it, answers whose body matches a Lua pattern, e.g. a gRPC-web trailer with
``grpc-status:0``) and prints one ``BENCH {json}`` line from ``done()``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Final

from bench.load.loadgen import Request, Summary

THREADS: Final = 1

_SCRIPT: Final = """
wrk.method = {method}
wrk.body = {body}
{headers}
local marker = {marker}
local threads = {{}}
statuses = {{}}
marked = 0

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if marker ~= nil and body ~= nil and string.find(body, marker) then
    marked = marked + 1
  end
end

function done(summary, latency, requests)
  local counts, hits = {{}}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    hits = hits + thread:get("marked")
  end
  local parts = {{}}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"marked": %d, "errors": %d, "statuses": {{%s}}}}\\n',
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
    hits, e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def lua_string(value: bytes | str | None) -> str:
    """A Lua string literal for any bytes (decimal escapes), or ``nil``."""
    if value is None:
        return "nil"
    data = value.encode() if isinstance(value, str) else value
    return '"' + "".join(_lua_char(c) for c in data) + '"'


def _lua_char(c: int) -> str:
    return chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\{c:03d}"


def script(request: Request, marker: str | None = None) -> str:
    headers = "\n".join(
        f"wrk.headers[{lua_string(name)}] = {lua_string(value)}" for name, value in request.headers
    )
    return _SCRIPT.format(
        method=lua_string(request.method),
        body=lua_string(request.body),
        headers=headers,
        marker=lua_string(marker),
    )


def run(
    port: int,
    request: Request,
    *,
    connections: int,
    duration: float,
    work_dir: Path,
    marker: str | None = None,
) -> Summary:
    """One closed-loop pass of wrk against 127.0.0.1:``port``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    script_path = work_dir / "case.lua"
    script_path.write_text(script(request, marker))
    seconds = max(1, round(duration))
    completed = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script_path),
            f"http://127.0.0.1:{port}{request.path}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    )
    summary = parse(completed.stdout, completed.stderr)
    return summary if marker is not None else dataclasses.replace(summary, marked=None)


def parse(stdout: str, stderr: str = "") -> Summary:
    for line in stdout.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[len("BENCH ") :])
            return Summary(
                tool="wrk",
                duration=data["duration_us"] / 1e6,
                statuses=Counter({int(k): int(v) for k, v in data["statuses"].items()}),
                p50=data["p50_us"] / 1e6,
                p99=data["p99_us"] / 1e6,
                errors=int(data["errors"]),
                marked=int(data["marked"]),
            )
    raise RuntimeError(f"wrk printed no result:\n{stdout}\n{stderr}")

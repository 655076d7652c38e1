"""A contract run split over two processes reports exactly as one process does.

The worker runs the generated schema cases and the coordinator the rest (zitadel_contract.workers);
against a server that breaks promises in both halves, the split run's JSON report, exit code and
JUnit failures must be those of the run in one process, so the merge is shown to carry the
worker's failures (and the coordinator's) into the one report.
"""

from __future__ import annotations

import asyncio
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.support import broken_servers as broken
from zitadel_contract.workers import RotationLock, parse_workers

SPLIT_LINE = "zitadel contract: 2 processes"


def verify(deployment: broken.Deployment, folder: Path, workers: str) -> tuple[int, str]:
    result = deployment.verify(
        *("--examples", "4", "--seed", "20261127", "--workers", workers),
        *("--json-report", str(folder / "report.json"), "--junit", str(folder / "j.xml")),
    )
    return result.returncode, result.stdout + result.stderr


def failures(junit: Path) -> dict[str, str]:
    """Each failed test case: its first line ("broken: ...")."""
    found = {}
    for case in ET.parse(junit).iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            found[case.get("name", "")] = (failure.text or "").strip().splitlines()[0]
    return found


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, Path]]:
    """One run in one process and one split in two, one after the other, against the same
    server whose errors are problem+json (broken in the error probes and in the schema cases)."""
    runs = {}
    with broken.serve(lambda app, _token, _viewer: broken.ProblemJsonErrors(app)) as deployment:
        for workers in ("1", "2"):
            folder = tmp_path_factory.mktemp(f"workers-{workers}")
            code, output = verify(deployment, folder, workers)
            runs[workers] = (code, output, folder)
    return runs


def report(folder: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((folder / "report.json").read_text())
    return document


@pytest.mark.skipif(not hasattr(os, "fork"), reason="a split run needs fork")
def test_a_split_run_reports_what_one_process_reports(
    both: dict[str, tuple[int, str, Path]],
) -> None:
    (one_code, one_output, one), (two_code, two_output, two) = both["1"], both["2"]
    assert SPLIT_LINE not in one_output
    assert SPLIT_LINE in two_output, two_output
    assert (one_code, two_code) == (1, 1), one_output + two_output
    assert report(two) == report(one)
    assert failures(two / "j.xml") == failures(one / "j.xml")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="a split run needs fork")
def test_the_split_report_carries_failures_of_both_processes(
    both: dict[str, tuple[int, str, Path]],
) -> None:
    _code, output, folder = both["2"]
    tests = {test for cause in report(folder)["causes"] for test in cause["tests"]}
    # The worker's tests (generated schema cases) and the coordinator's (the error probes).
    assert any("test_generated_cases_keep_the_schema" in test for test in tests), output
    assert any("test_errors.py" in test for test in tests), output
    failed = failures(folder / "j.xml")
    assert "test_generated_cases_keep_the_schema[negative]" in failed
    assert "test_unknown_project_or_app_gives_not_found" in failed
    counts = report(folder)["counts"]
    assert counts["failed"] == len(failed)
    assert counts["cases"] == report(both["1"][2])["counts"]["cases"] > 0


class SlowRequests:
    """Not a defect: remembers the method and path of every HTTP request the server gets, and
    answers each a fifth of a second late (a preflight that takes longer than a worker's start)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
            await asyncio.sleep(0.2)
        await self.app(scope, receive, send)


def test_a_run_its_preflight_stops_sends_no_more_in_two_processes_than_in_one() -> None:
    """The worker is forked before the preflight: it must wait for it, and end with it."""
    servers: list[SlowRequests] = []

    def wrap(app: ASGIApp, _token: str, _viewer: str) -> ASGIApp:
        servers.append(SlowRequests(app))
        return servers[-1]

    sent, codes = {}, {}
    with broken.serve(wrap) as deployment:
        for workers in ("1", "2"):
            before = len(servers[0].seen)
            result = deployment.verify(
                *("--client-id", "not-the-apps-client@portal", "--workers", workers),
                *("--examples", "4", "--seed", "20261127"),
            )
            codes[workers] = result.returncode
            sent[workers] = servers[0].seen[before:]
    assert codes == {"1": 4, "2": 4}  # credentials or app wrong: the preflight's stop
    assert sent["1"]  # the preflight's own requests
    assert sent["2"] == sent["1"]


def test_the_rotation_lock_keeps_a_shared_holder_out_while_it_is_held_exclusively(
    tmp_path: Path,
) -> None:
    """Two holders of one lock file, as the coordinator and a worker open it."""
    path = tmp_path / "rotation.lock"
    path.touch()
    coordinator = RotationLock(str(path), "coordinator")
    worker = RotationLock(str(path), "worker")
    try:
        import fcntl  # noqa: PLC0415 - POSIX, like the lock

        with coordinator.hold("exclusive"):
            fd = os.open(path, os.O_RDONLY)
            try:
                with pytest.raises(BlockingIOError):
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            finally:
                os.close(fd)
        with worker.hold("shared"), coordinator.hold("shared"):
            pass  # shared holders do not exclude each other
    finally:
        coordinator.close()
        worker.close()


def test_workers_are_a_positive_number_or_auto() -> None:
    assert parse_workers("1") == 1
    assert parse_workers("auto") == 0  # decided from the CPUs this process may use
    with pytest.raises(ValueError, match="not a number of processes"):
        parse_workers("-1")
    with pytest.raises(ValueError, match="not a number of processes"):
        parse_workers("many")

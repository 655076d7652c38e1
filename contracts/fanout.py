"""A contract run in several processes, with one report: the workers stream, the coordinator
replays (the split itself, and why it is safe: :mod:`zitadel_contract.workers`).

A worker is forked once the suite is collected, before the target is started or checked: while
the coordinator starts it (or names it) and runs the preflight, the worker loads the schema its
tests need. It sends nothing until the coordinator hands it the target, which the coordinator
does only once the preflight has passed (a run that stops there stops its workers, which have
sent nothing). It then opens its own connection to the target, runs its share of the tests, and
sends every report of them (already redacted, as every report of a contract run is) with what
the run learnt meanwhile: cases sent, rotations seen, findings filed, and the fingerprints of the
secrets it received (never a secret). Its own terminal output goes nowhere, and it writes no
report file.

The coordinator runs the other tests and, after each, replays the reports of the tests the
workers have finished through pytest's own hooks, so that its terminal, progress line, JUnit XML,
summary, JSON report and exit code take in the workers' tests exactly as they take in its own;
the findings are then put back in the suite's collection order
(:meth:`zitadel_contract.verdict.Run.in_collection_order`), so that the causes come out as from
one process. A secret two processes both received is a ``secret_is_new`` finding as in one
process. A worker's test that never reports back (the worker died) is run by the coordinator
itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import pytest
from _pytest._code.code import ReprFileLocation
from _pytest.junitxml import xml_key
from _pytest.reports import TestReport

from zitadel_contract.provision import Target
from zitadel_contract.session import Finding, Session
from zitadel_contract.terminal import RedactedRepr, redact_report
from zitadel_contract.verdict import Run
from zitadel_contract.workers import WORKER_TESTS, RotationLock, can_fork, default_workers

# The transports over which the workers' tests run (the suite's schema cases: the others skip
# them); a run over any other transport stays in one process. None of these loads grpcio, which
# a fork would break (:func:`zitadel_contract.workers.can_fork`).
SPLIT_TRANSPORTS: Final = frozenset({"rest", "connect"})


def for_worker(item: pytest.Item) -> bool:
    """Whether a worker runs this test of the suite, in a split run."""
    return getattr(item, "originalname", item.name) in WORKER_TESTS


def roomy(call: Callable[..., Any], /, **kwargs: Any) -> Any:
    """``call(**kwargs)`` from a frame with room for the frames below it: see ROOM."""
    return call(**kwargs)


# CPython 3.11 keeps frames in chunks of 16 KiB that it maps and unmaps as the stack grows past
# their ends and shrinks back. A test whose hottest calls go back and forth across such an end
# (Hypothesis drawing a schemathesis case does, at some depths of the stack and not others)
# maps and unmaps one for every crossing: in a measured run, four times the page faults and a
# third more CPU. A frame too big for the chunk it is pushed on gets a chunk of its own, twice
# its size (or more), and the frames it calls go in the rest: with room for 16,000 values (the
# frame's stack, which nothing uses), 128 KiB, deeper than any test of the suite reaches.
ROOM: Final = 16_000
roomy.__code__ = roomy.__code__.replace(co_stacksize=ROOM)


def run_tests(
    session: pytest.Session,
    items: Sequence[pytest.Item],
    after_each: Callable[[], None] = lambda: None,
) -> None:
    """pytest's own test loop, over ``items``."""
    for index, current in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        roomy(current.config.hook.pytest_runtest_protocol, item=current, nextitem=following)
        after_each()
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)


class Worker:
    """A worker's end of its pipe, and its test loop."""

    def __init__(self, fd: int, control: int, run: Run, tests: set[str], lock_path: str) -> None:
        self.out = os.fdopen(fd, "w", encoding="utf-8")
        self.control = control
        self.run = run
        self.tests = tests
        self.lock_path = lock_path
        self.findings_sent = len(run.recorder.findings)
        self.secrets_sent: frozenset[str] = frozenset()

    def wait_for_target(self) -> Target:
        """The target, once the coordinator's preflight has passed; if the run stopped there
        instead, this process ends (it has sent nothing)."""
        with os.fdopen(self.control, encoding="utf-8") as control:
            line = control.readline()
        if not line:
            os._exit(0)
        return Target(**json.loads(line))

    def attach(self, session: Session) -> None:
        """The worker's own session (its own connection), before its first test."""
        session.rotation_lock = RotationLock(self.lock_path, "worker")
        self.secrets_sent = session.ledger.seen()

    def send(self, config: pytest.Config, report: TestReport) -> None:
        run = self.run
        assert run.session is not None
        findings = run.recorder.findings[self.findings_sent :]
        self.findings_sent += len(findings)
        seen = run.session.ledger.seen()
        secrets, self.secrets_sent = sorted(seen - self.secrets_sent), seen
        crash = getattr(report.longrepr, "reprcrash", None)
        record = {
            "report": config.hook.pytest_report_to_serializable(config=config, report=report),
            "crash": None if crash is None else [crash.path, crash.lineno, crash.message],
            "cases": run.recorder.cases,
            "rotations": run.session.ledger.rotations,
            "findings": [asdict(finding) for finding in findings],
            "secrets": secrets,
            "lost": run.lost,
        }
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    def run_tests(self, session: pytest.Session) -> None:
        run_tests(session, [item for item in session.items if item.nodeid in self.tests])

    def finish(self) -> None:
        """The last line; then the process ends at once: everything it inherited (the
        connections and files) is the coordinator's, and so is the report."""
        self.out.write(json.dumps({"end": True}) + "\n")
        self.out.close()
        os._exit(0)


class WorkerStream:
    """The pytest hooks of a worker: its tests' reports, sent on."""

    def __init__(self, config: pytest.Config, run: Run, worker: Worker) -> None:
        self.config = config
        self.run = run
        self.worker = worker

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: TestReport) -> None:
        if report.nodeid in self.run.suite:
            self.worker.send(self.config, report)


@dataclass
class Child:
    """One worker, as the coordinator sees it."""

    pid: int
    tests: set[str]
    cases: int  # its counts so far, as last reported (at first: the run's at the fork)
    rotations: int
    control: int = -1  # the pipe the target goes down, until it has
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    pending: list[dict[str, Any]] = field(default_factory=list)  # of a test not finished yet
    ended: bool = False
    reaped: bool = False


class Coordinator:
    """The coordinator's end: its test loop, and every worker read as it writes and
    replayed."""

    def __init__(self, folder: str, lock_path: str) -> None:
        self.folder = folder
        self.lock_path = lock_path
        self.children: list[Child] = []
        self.done: set[str] = set()  # the workers' tests replayed

    @property
    def remote(self) -> set[str]:
        return {test for child in self.children for test in child.tests}

    def start_reading(self, fds: Sequence[int]) -> None:
        """After the last fork (a fork copies only the thread that calls it)."""
        for child, fd in zip(self.children, fds, strict=True):
            threading.Thread(
                target=_read, args=(fd, child.lines), name="zitadel-contract-worker", daemon=True
            ).start()

    def start(self, session: Session) -> None:
        """The preflight has passed: each worker gets the target and starts its tests."""
        session.rotation_lock = RotationLock(self.lock_path, "coordinator")
        line = json.dumps(asdict(session.target)) + "\n"
        for child in self.children:
            with os.fdopen(child.control, "w", encoding="utf-8") as control:
                control.write(line)
            child.control = -1

    def _hang_up(self, child: Child) -> None:
        if child.control >= 0:
            os.close(child.control)  # a worker still waiting for the target ends
            child.control = -1

    def run_tests(self, session: pytest.Session, run: Run) -> None:
        """Every test no worker runs, the workers' finished tests replayed after each; then the
        rest of theirs as they finish, and any test of theirs that never did."""
        config = session.config
        remote = self.remote
        run_tests(
            session,
            [item for item in session.items if item.nodeid not in remote],
            lambda: self.replay(config, run, wait=False),
        )
        self.replay(config, run, wait=True)
        run_tests(session, [i for i in session.items if i.nodeid in remote - self.done])

    def replay(self, config: pytest.Config, run: Run, *, wait: bool) -> None:
        """The workers' finished tests, each whole, through pytest's hooks; with ``wait``,
        until every worker has ended."""
        for child in self.children:
            while child.tests and not child.ended:
                try:
                    line = child.lines.get(block=wait)
                except queue.Empty:
                    break
                record = None if line is None else json.loads(line)
                if record is None or record.get("end"):
                    child.ended = True
                    self._reap(child, stop=False)
                    break
                child.pending.append(record)
                if record["report"]["when"] == "teardown":
                    group, child.pending = child.pending, []
                    for each in group:
                        self._replay_one(config, run, child, each)

    def _replay_one(
        self, config: pytest.Config, run: Run, child: Child, record: dict[str, Any]
    ) -> None:
        report = _report(config, record)
        self._merge(run, child, record, report)
        hook = config.hook
        location = report.location
        if report.when == "setup":
            hook.pytest_runtest_logstart(nodeid=report.nodeid, location=location)
        hook.pytest_runtest_logreport(report=report)
        if report.when == "teardown":
            hook.pytest_runtest_logfinish(nodeid=report.nodeid, location=location)
            self.done.add(report.nodeid)

    def _merge(self, run: Run, child: Child, record: dict[str, Any], report: TestReport) -> None:
        assert run.session is not None
        ledger = run.session.ledger
        cases, rotations = int(record["cases"]), int(record["rotations"])
        run.recorder.cases += cases - child.cases
        ledger.rotations += rotations - child.rotations
        child.cases, child.rotations = cases, rotations
        run.recorder.findings.extend(Finding(**found) for found in record["findings"])
        # What only the processes together see: a secret that two of them received.
        for mark in ledger.remember_elsewhere(record["secrets"]):
            message = f"secret {mark} was already returned in this run"
            run.recorder.findings.append(Finding("secret_is_new", message, "", report.nodeid))
            if report.when == "call" and report.passed:
                report.outcome = "failed"
                report.longrepr = RedactedRepr.restored(  # type: ignore[assignment]
                    f"broken: secret_is_new\n[secret_is_new] {message}", None
                )
        if record["lost"] is not None and run.lost is None:
            run.lost = str(record["lost"])

    def _reap(self, child: Child, *, stop: bool) -> None:
        if child.reaped:
            return
        if stop:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
        os.waitpid(child.pid, 0)
        child.reaped = True

    def close(self) -> None:
        """Workers still running (the run ended early) are stopped; the lock file goes."""
        for child in self.children:
            self._hang_up(child)
            self._reap(child, stop=not child.ended)
        shutil.rmtree(self.folder, ignore_errors=True)


def _read(fd: int, lines: queue.Queue[str | None]) -> None:
    with os.fdopen(fd, encoding="utf-8") as stream:
        for line in stream:
            lines.put(line)
    lines.put(None)


def _report(config: pytest.Config, record: dict[str, Any]) -> TestReport:
    report = config.hook.pytest_report_from_serializable(config=config, data=record["report"])
    assert isinstance(report, TestReport)
    # JSON made the tuples lists; pytest's readers want them as they were.
    report.location = tuple(report.location)  # type: ignore[assignment]
    longrepr: object = report.longrepr
    if isinstance(longrepr, list):
        path, line, reason = longrepr
        report.longrepr = (str(path), line, str(reason))
    elif isinstance(report.longrepr, str) and record["crash"] is not None:
        path, lineno, message = record["crash"]
        crash = ReprFileLocation(path, lineno, message)
        report.longrepr = RedactedRepr.restored(report.longrepr, crash)  # type: ignore[assignment]
    report.sections = [(str(title), str(text)) for title, text in report.sections]
    redact_report(report)
    return report


def fork_workers(session: pytest.Session, run: Run) -> Coordinator | Worker | None:
    """Split the run, if its settings and this machine call for it (see workers), before its
    target is started or checked: in the coordinator, its end of the split (which then starts
    the target, runs the preflight and calls :meth:`Coordinator.start`); in a worker, the
    worker's (which waits for the target: :meth:`Worker.wait_for_target`); None: one process."""
    settings = run.settings
    assert settings is not None
    count = settings.workers or default_workers()
    remote = [i for i in session.items if i.nodeid in run.suite and for_worker(i)]
    if count < 2 or not remote or session.config.option.collectonly:
        return None
    if settings.transport not in SPLIT_TRANSPORTS or not can_fork():
        return None
    shares = [remote[index :: count - 1] for index in range(min(count - 1, len(remote)))]
    folder = tempfile.mkdtemp(prefix="zitadel-contract-")
    lock_path = os.path.join(folder, "rotation.lock")
    os.close(os.open(lock_path, os.O_CREAT | os.O_WRONLY))
    _flush(session.config)
    coordinator = Coordinator(folder, lock_path)
    fds: list[int] = []
    for share in shares:
        tests = {item.nodeid for item in share}
        read, write = os.pipe()  # the worker's reports, up
        control_read, control_write = os.pipe()  # the target, down
        pid = os.fork()
        if pid == 0:
            for fd in (*fds, *(c.control for c in coordinator.children), read, control_write):
                os.close(fd)
            return _become_worker(
                session, run, write, control_read, tests=tests, lock_path=lock_path
            )
        os.close(write)
        os.close(control_read)
        fds.append(read)
        coordinator.children.append(
            Child(pid, tests, cases=run.recorder.cases, rotations=0, control=control_write)
        )
    coordinator.start_reading(fds)
    return coordinator


def _load_schema(api: str, url: str | None) -> None:
    """What a worker loads at its first schema case (the document, as schemathesis reads it; the
    rate limiter its transport imports on its first request), loaded while the coordinator
    starts the target and runs the preflight."""
    from schemathesis.core.rate_limit import ratelimit  # noqa: PLC0415 - schema cases only

    from zitadel_contract import schema  # noqa: PLC0415 - collected with the suite by now

    schema.operation(api)
    with ratelimit(None, url):
        pass


def _become_worker(
    session: pytest.Session, run: Run, fd: int, control: int, *, tests: set[str], lock_path: str
) -> Worker:
    config = session.config
    _silence(config)
    xml = config.stash.get(xml_key, None)
    if xml is not None:  # the coordinator writes the run's one JUnit report
        config.pluginmanager.unregister(xml)
        del config.stash[xml_key]
    settings = run.settings
    assert settings is not None
    _load_schema(settings.api, settings.url)
    worker = Worker(fd, control, run, tests, lock_path)
    config.pluginmanager.register(WorkerStream(config, run, worker), "zitadel-contract-worker")
    return worker


def _flush(config: pytest.Config) -> None:
    """Nothing written before the fork may come out twice."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is not None:
        writer.flush()
    sys.stdout.flush()
    sys.stderr.flush()


def _silence(config: pytest.Config) -> None:
    """A worker's terminal output (and pytest's, when its capture writes to the terminal it
    saved) goes to /dev/null: what it found reaches the user through the coordinator."""
    targets = {1, 2}
    capture = config.pluginmanager.get_plugin("capturemanager")
    capturing = getattr(capture, "_global_capturing", None)
    for stream in ("out", "err"):
        saved = getattr(getattr(capturing, stream, None), "targetfd_save", None)
        if isinstance(saved, int):
            targets.add(saved)
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in targets:
        os.dup2(devnull, fd)
    os.close(devnull)

"""What a contract run saw and what it concludes: the :class:`Run`, its exit code, the closing
summary (causes most basic first, counts, skips, verdict) and the JSON report.

Exit codes: :data:`zitadel_contract.preflight.EXIT_CODES`. Everything written is redacted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest

from zitadel_contract import disposable, preflight, report
from zitadel_contract.preflight import EXIT_CODES, Stop
from zitadel_contract.provision import LocalMock, Target
from zitadel_contract.redaction import REDACTOR
from zitadel_contract.session import Recorder, Session
from zitadel_contract.settings import Settings

NOT_RUN: Final = "not run: "  # the skip reason of the tests after the target went away


@dataclass
class Run:
    """One contract run inside a pytest session."""

    suite: set[str]  # node ids of the tests that use the fixture
    settings: Settings | None = None
    recorder: Recorder = field(default_factory=Recorder)
    session: Session | None = None
    mock: LocalMock | None = None
    stop: Stop | None = None
    notes: tuple[str, ...] = ()
    outcomes: dict[str, str] = field(default_factory=dict)  # node id -> passed/failed/skipped
    skips: dict[str, str] = field(default_factory=dict)  # node id -> reason
    deselected: int = 0
    not_rotating: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    last_progress: float = 0.0
    verdict: int | None = None
    lost: str | None = None  # set when the target stopped answering mid-run
    disposable: Target | None = None  # the app --disposable-app made, removed by close()
    removal: str | None = None  # what close() did with it
    order: dict[str, int] = field(default_factory=dict)  # node id -> place in the collection

    def in_collection_order(self) -> None:
        """Findings and skips in the order of the tests they belong to (a run in two processes
        learns them out of that order; within a test, the order is kept)."""
        last = len(self.order)
        self.recorder.findings.sort(key=lambda finding: self.order.get(finding.test, last))
        self.skips = dict(sorted(self.skips.items(), key=lambda kv: self.order.get(kv[0], last)))

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        if self.disposable is not None and self.settings is not None:
            made, self.disposable = self.disposable, None
            failed = disposable.remove(
                made.url, made.token, made.org_id or "", made.project_id, self.settings.timeout
            )
            self.removal = failed or (
                f"the disposable project {made.project_id} (app {made.app_id}) was removed"
            )
        if self.mock is not None:
            self.mock.stop()
            self.mock = None


def verdict_of(run: Run, exitstatus: int) -> int:
    """The run's exit code (see EXIT_CODES) from pytest's and what the run saw."""
    if run.stop is not None:
        return run.stop.code
    if run.lost is not None:
        return preflight.UNREACHABLE
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        return preflight.NOTHING_RAN if run.recorder.cases == 0 else preflight.HOLDS
    if exitstatus == pytest.ExitCode.USAGE_ERROR:
        return preflight.USAGE
    return int(exitstatus)


def counts(run: Run) -> dict[str, int]:
    values = list(run.outcomes.values())
    return {
        "tests": len(run.suite),
        "passed": values.count("passed"),
        "failed": values.count("failed"),
        "skipped": values.count("skipped"),
        "deselected": run.deselected,
        "cases": run.recorder.cases,
        "rotations": run.session.ledger.rotations if run.session is not None else 0,
    }


def write_json(path: Path, run: Run, found: list[report.Cause]) -> None:
    settings = run.settings
    assert settings is not None
    verdict = run.verdict if run.verdict is not None else preflight.NOTHING_RAN
    document = {
        "exit_code": verdict,
        "verdict": EXIT_CODES.get(verdict, "pytest's own exit code"),
        "stopped": run.stop.line if run.stop is not None else run.lost,
        "target": run.session.target.describe() if run.session is not None else settings.url,
        "transport": settings.transport,
        "seed": settings.seed,
        "no_rotate": settings.no_rotate,
        "preflight": list(run.notes),
        "counts": counts(run),
        "causes": report.as_json(found),
        "skipped": [{"test": test, "reason": reason} for test, reason in run.skips.items()],
        "variables": report.variables_used(c.reproduce for c in found),
    }
    text = REDACTOR.redact(json.dumps(document, indent=2, ensure_ascii=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


def summary(run: Run, exitstatus: int) -> list[str]:
    """The closing lines of a run."""
    verdict = run.verdict if run.verdict is not None else verdict_of(run, exitstatus)
    lines: list[str] = []
    write = lines.append
    if run.removal is not None:
        write(run.removal)
    if run.stop is not None:
        write(run.stop.line)
        write(f"nothing was checked (exit code {verdict}: {EXIT_CODES.get(verdict, '')})")
        return lines
    session = run.session
    if session is not None:
        write(f"target: {session.target.describe()} over {session.settings.transport}")
    numbers = counts(run)
    elapsed = max(time.monotonic() - run.started, 1e-9)
    write(
        f"tests: {numbers['passed']} passed, {numbers['failed']} failed, {numbers['skipped']} "
        f"skipped, {numbers['deselected']} deselected; cases run: {numbers['cases']} "
        f"({numbers['cases'] / elapsed:.0f} cases/s); rotations seen: {numbers['rotations']}"
        + (f"; seed {run.settings.seed}" if run.settings is not None else "")
    )
    if run.settings is not None and run.settings.no_rotate:
        write(
            f"--no-rotate: the app's secret was not rotated; {len(run.not_rotating)} test(s) "
            "that rotate were skipped, every check that cannot rotate ran"
        )
    if run.lost is not None:
        skipped = sum(1 for reason in run.skips.values() if reason.startswith(NOT_RUN))
        write(f"the run stopped: {run.lost}; the {skipped} test(s) after it were skipped")
    found = report.causes(run.recorder.findings)
    if found:
        write(f"broken promises: {len(found)} root cause(s), the most basic first")
        for line in report.summary_lines(found, whole=False):
            write("  " + line)
        names = report.variables_used(c.reproduce for c in found)
        suite_mock = session is not None and session.target.started_by_suite
        for line in report.export_lines(names, suite_mock=suite_mock):
            write("  " + line)
    for test, reason in run.skips.items():
        if test not in run.not_rotating and not reason.startswith(NOT_RUN):
            write(f"not checked: {test.split('::')[-1]}: {reason}")
    if verdict == preflight.HOLDS:
        write("the contract holds")
    elif verdict == preflight.NOTHING_RAN:
        write(f"nothing was checked: no case ran (exit code {verdict})")
    elif verdict == preflight.BROKEN:
        write(f"the contract does NOT hold (exit code {verdict}: {EXIT_CODES[verdict]})")
    else:
        meaning = EXIT_CODES.get(verdict, "pytest's own exit code")
        write(f"the run did not complete (exit code {verdict}: {meaning})")
    return lines

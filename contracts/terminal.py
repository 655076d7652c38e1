"""What the plugin writes while a run goes on: lines on the terminal (output capture or not),
the progress line (tests done, cases, cases/s), and every test report redacted.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Final

import pytest
from _pytest.reports import TestReport

from zitadel_contract.redaction import REDACTOR
from zitadel_contract.verdict import Run

PROGRESS_EVERY_SECONDS: Final = 3.0


def say(config: pytest.Config, line: str) -> None:
    """A line on the terminal now, even from inside a test (output capture or not)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


def progress(config: pytest.Config, run: Run, *, force: bool) -> None:
    now = time.monotonic()
    if not force and now - run.last_progress < PROGRESS_EVERY_SECONDS:
        return
    if not run.last_progress and not force:
        run.last_progress = now  # the first case starts the clock for the next line
        return
    run.last_progress = now
    elapsed = max(now - run.started, 1e-9)
    done = len(run.outcomes)
    cases = run.recorder.cases
    say(
        config,
        f"zitadel contract: {done}/{len(run.suite) - run.deselected} tests done, {cases} cases, "
        f"{cases / elapsed:.0f} cases/s",
    )


class RedactedRepr:
    """A failure's text after redaction, shaped the way reporters read a longrepr."""

    def __init__(self, original: Any) -> None:
        self.text = REDACTOR.redact(str(original))
        crash = getattr(original, "reprcrash", None)
        self.reprcrash = (
            replace(crash, message=REDACTOR.redact(crash.message)) if crash is not None else None
        )

    @classmethod
    def restored(cls, text: str, crash: Any) -> RedactedRepr:
        """One made again from its text and crash line (a worker's report, see fanout)."""
        made = cls.__new__(cls)
        made.text = text
        made.reprcrash = crash
        return made

    def toterminal(self, out: Any) -> None:
        for line in self.text.splitlines():
            out.line(line)

    def __str__(self) -> str:
        return self.text


def redact_report(report: TestReport) -> None:
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        report.longrepr = RedactedRepr(report.longrepr)  # type: ignore[assignment]
    elif isinstance(report.longrepr, tuple):
        path, line, reason = report.longrepr
        report.longrepr = (path, line, REDACTOR.redact(reason))
    report.sections = [(title, REDACTOR.redact(text)) for title, text in report.sections]

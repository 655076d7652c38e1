"""The pytest plugin (entry point ``pytest11``): options, the ``zitadel_contract`` fixture, summary.

The plugin is loaded into every pytest run of an environment that has the package installed and
does nothing there until a collected test uses the ``zitadel_contract`` fixture (the suite's tests:
``pytest --pyargs contracts``). From then on it resolves the options (refusing an unsafe target
before any call), announces which app the run will rotate, gives each test a place to file
findings (a test with findings fails, listing them by check), redacts secrets from every report
(JUnit included), and ends with a summary grouped by check.
"""

from __future__ import annotations

import os
import random
from collections.abc import Generator, Iterator
from dataclasses import replace
from typing import Any, Final

import pytest
from _pytest.junitxml import xml_key
from _pytest.reports import TestReport

from zitadel_contract.provision import APP, PROJECT, LocalMock, given_target
from zitadel_contract.redaction import REDACTOR
from zitadel_contract.session import Recorder, Session, format_findings
from zitadel_contract.settings import OPTIONS, Settings, SettingsError, resolve
from zitadel_contract.transports.registry import TRANSPORTS, open_transport

FIXTURE: Final = "zitadel_contract"
JUNIT_VARIABLE: Final = "ZITADEL_CONTRACT_JUNIT"
SETTINGS_KEY: Final = pytest.StashKey[Settings]()
RECORDER_KEY: Final = pytest.StashKey[Recorder]()
SESSION_KEY: Final = pytest.StashKey[Session]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zitadel-contract", "ZITADEL contract (see zitadel-mock verify)")
    for option in OPTIONS:
        help_text = f"{option.help} [env {option.env}]"
        if option.is_flag:
            group.addoption(
                option.pytest_flag,
                action="store_true",
                default=None,
                dest=_dest(option.name),
                help=help_text,
            )
        else:
            group.addoption(
                option.pytest_flag,
                default=None,
                dest=_dest(option.name),
                metavar=option.metavar or option.name.upper(),
                help=help_text,
            )


def _dest(name: str) -> str:
    return f"zitadel_contract_{name}"


def _given(config: pytest.Config) -> dict[str, object | None]:
    return {o.name: config.getoption(_dest(o.name)) for o in OPTIONS}


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """A JUnit path from ``--zitadel-junit`` or its variable, unless ``--junitxml`` is given."""
    junit = config.getoption(_dest("junit")) or os.environ.get(JUNIT_VARIABLE)
    if junit and not config.option.xmlpath:
        config.option.xmlpath = junit


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Resolve and check the options, once the suite is known to run; announce the target."""
    if not any(FIXTURE in getattr(item, "fixturenames", ()) for item in items):
        return
    try:
        settings = resolve(_given(config))
    except SettingsError as exc:
        raise pytest.UsageError(f"zitadel contract: {exc}") from None
    if settings.transport not in TRANSPORTS:
        known = ", ".join(sorted(TRANSPORTS))
        raise pytest.UsageError(
            f"zitadel contract: unknown transport {settings.transport!r} (known: {known})"
        )
    if settings.seed is None:
        settings = replace(settings, seed=random.randrange(2**31))
    config.stash[SETTINGS_KEY] = settings
    config.stash[RECORDER_KEY] = Recorder()
    REDACTOR.add(settings.token, "token")
    REDACTOR.add(settings.no_permission_token, "no-permission-token")
    if settings.url is None:
        what = f"app {APP} (project {PROJECT}) on a mock the suite starts itself"
    else:
        org = f", org {settings.org_id}" if settings.org_id else ""
        what = f"app {settings.app_id} (project {settings.project_id}{org}) at {settings.url}"
    _say(config, f"zitadel contract: will rotate the client secret of {what}")
    _say(
        config,
        f"zitadel contract: transport {settings.transport}, {settings.examples} examples per "
        f"property, seed {settings.seed} (ZITADEL_CONTRACT_SEED={settings.seed} repeats it)",
    )
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        xml.add_global_property("zitadel_contract_seed", str(settings.seed))
        xml.add_global_property("zitadel_contract_transport", settings.transport)


def _say(config: pytest.Config, line: str) -> None:
    """A line on the terminal now, even from inside a test's setup (output capture or not)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.fixture(scope="session")
def zitadel_contract(request: pytest.FixtureRequest) -> Iterator[Session]:
    """The run: its target (started here if the suite provisions its own mock) and transport."""
    config = request.config
    settings = config.stash[SETTINGS_KEY]
    mock = LocalMock() if settings.url is None else None
    try:
        target = mock.start() if mock is not None else given_target(settings)
        transport = open_transport(settings.transport, target, settings.timeout)
        session = Session(settings, target, transport, config.stash[RECORDER_KEY])
        config.stash[SESSION_KEY] = session
        _say(config, f"zitadel contract: rotating the client secret of {target.describe()}")
        yield session
        session.close()
    finally:
        if mock is not None:
            mock.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """A test of the suite fails when it filed findings, listed by check."""
    recorder = item.config.stash.get(RECORDER_KEY, None)
    if recorder is None or FIXTURE not in getattr(item, "fixturenames", ()):
        return (yield)
    recorder.current_test = item.nodeid
    result = yield
    findings = recorder.of(item.nodeid)
    if findings:
        broken = sorted({f.check for f in findings})
        pytest.fail(f"broken: {', '.join(broken)}\n{format_findings(findings)}", pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, object]:
    """Redact every report of a contract run before anyone (terminal, JUnit) reads it."""
    report = yield
    if RECORDER_KEY in item.config.stash and isinstance(report, TestReport):
        redact_report(report)
    return report


class RedactedRepr:
    """A failure's text after redaction, shaped the way reporters read a longrepr."""

    def __init__(self, original: Any) -> None:
        self.text = REDACTOR.redact(str(original))
        crash = getattr(original, "reprcrash", None)
        self.reprcrash = (
            replace(crash, message=REDACTOR.redact(crash.message)) if crash is not None else None
        )

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


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Cases run, failures grouped by check with a curl line each, skips with their reasons."""
    recorder = config.stash.get(RECORDER_KEY, None)
    if recorder is None:
        return
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "ZITADEL contract")
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        write(f"target: {session.target.describe()} over {session.settings.transport}")
        others = "schemathesis cases and " if session.settings.transport == "rest" else ""
        write(
            f"cases run: {recorder.cases} ({session.transport.requests} sent by the suite's "
            f"{session.settings.transport} transport, the others {others}token-endpoint "
            f"questions); rotations seen: {session.ledger.rotations}; seed {session.settings.seed}"
        )
    grouped = recorder.by_check()
    if grouped:
        write(f"broken promises: {len(grouped)} check(s)")
        for line in format_findings(recorder.findings, examples=1, whole=False).splitlines():
            write("  " + line)
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            write(f"not checked: {report.nodeid.split('::')[-1]}: {report.longrepr[2]}")
    verdict = "holds" if exitstatus == 0 else f"does NOT hold (exit code {int(exitstatus)})"
    write(f"the contract {verdict}")

"""The pytest plugin (entry point ``pytest11``): options, preflight, the ``zitadel_contract``
fixture, progress, the summary and the reports.

The plugin is loaded into every pytest run of an environment that has the package installed and
does nothing there until a collected test uses the ``zitadel_contract`` fixture (the suite's tests:
``pytest --pyargs zitadel_contract.suite``). Then, once collection is done and before any test
runs, it resolves the options (refusing an unsafe target), starts the suite's own mock if no
target is named, and runs the preflight (:mod:`zitadel_contract.preflight`): a target that does
not answer, a token it refuses, an app it does not hold end the run there, with one line and
the exit code of that kind. Each test gets a place to file findings (a test with findings fails,
listing them by root cause); every report is redacted (JUnit included); the run ends with a
summary grouped by root cause and, if asked, a JSON report.

Exit codes, the same as ``zitadel-mock verify``: :data:`zitadel_contract.preflight.EXIT_CODES`.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import time
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import requests
from _pytest.junitxml import xml_key
from _pytest.reports import TestReport

from zitadel_contract import (
    collector,
    disposable,
    fanout,
    local_constants,
    preflight,
    report,
    unicode_table,
)
from zitadel_contract.preflight import Stop
from zitadel_contract.provision import (
    APP,
    PROJECT,
    SERVER_EXTRA_HINT,
    LocalMock,
    Target,
    given_target,
    mock_installed,
)
from zitadel_contract.redaction import REDACTOR
from zitadel_contract.session import Session, format_findings
from zitadel_contract.settings import OPTIONS, Settings, SettingsError, resolve
from zitadel_contract.terminal import progress, redact_report, say
from zitadel_contract.transports.http_client import http_client
from zitadel_contract.transports.registry import TRANSPORTS, open_transport
from zitadel_contract.verdict import NOT_RUN, Run, summary, verdict_of, write_json

FIXTURE: Final = "zitadel_contract"
ROTATES_MARK: Final = "zitadel_rotates"
API_MARK: Final = "zitadel_api"
JUNIT_VARIABLE: Final = "ZITADEL_CONTRACT_JUNIT"
RUN_KEY: Final = pytest.StashKey["Run"]()
# In a run split over processes (zitadel_contract.workers), this process' end of the split.
SPLIT_KEY: Final = pytest.StashKey["fanout.Coordinator | fanout.Worker"]()


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
    config.addinivalue_line(
        "markers", f"{ROTATES_MARK}: a contract test that rotates the app's secret (--no-rotate)"
    )
    config.addinivalue_line(
        "markers", f"{API_MARK}(*versions): a contract test only for these API versions"
    )
    junit = config.getoption(_dest("junit")) or os.environ.get(JUNIT_VARIABLE)
    if junit and not config.option.xmlpath:
        config.option.xmlpath = junit


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, object, object]:
    """pytest's own usage errors in a contract run (a bad ``-k`` expression) exit with 2, not
    pytest's 4, which here means wrong credentials."""
    try:
        return (yield)
    except pytest.UsageError as exc:
        if RUN_KEY not in config.stash:
            raise
        for message in exc.args:
            sys.stderr.write(f"ERROR: {message}\n")
        return preflight.USAGE


def _for_api(item: pytest.Item, api: str) -> bool:
    marker = item.get_closest_marker(API_MARK)
    return marker is None or api in marker.args


def _uses_fixture(item: pytest.Item) -> bool:
    return FIXTURE in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Resolve and check the options, once the suite is known to be collected."""
    suite = {item.nodeid for item in items if _uses_fixture(item)}
    if not suite:
        return
    run = Run(suite)
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(RunHooks(config, run), "zitadel-contract-run")
    try:
        settings = resolve(_given(config))
        if settings.transport not in TRANSPORTS:
            known = ", ".join(sorted(TRANSPORTS))
            raise SettingsError(f"unknown transport {settings.transport!r} (known: {known})")
    except SettingsError as exc:
        run.stop = Stop(preflight.USAGE, f"zitadel contract: {exc}")
        items[:] = []
        return
    # Tests of other API versions (marked zitadel_api) are not part of this run's suite.
    items[:] = [item for item in items if _for_api(item, settings.api)]
    run.suite &= {item.nodeid for item in items}
    if settings.seed is None:
        settings = replace(settings, seed=random.randrange(2**31))
    run.settings = settings
    # Spares Hypothesis its scan of every code point (about 1.4 s) in a fresh storage directory.
    unicode_table.seed_utf8_table()
    # One seed, the same cases, whatever local modules this process has imported.
    local_constants.ignore_local_constants()
    REDACTOR.add(settings.token, "token")
    REDACTOR.add(settings.no_permission_token, "no-permission-token")
    if settings.no_rotate:
        reason = "rotates the app's secret, and the run has --no-rotate"
        for item in items:
            if _uses_fixture(item) and item.get_closest_marker(ROTATES_MARK) is not None:
                item.add_marker(pytest.mark.skip(reason=reason))
                run.not_rotating.append(item.nodeid)
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        xml.add_global_property("zitadel_contract_seed", str(settings.seed))
        xml.add_global_property("zitadel_contract_transport", settings.transport)
        xml.add_global_property("zitadel_contract_api", settings.api)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if not items:
        return
    run = items[0].config.stash.get(RUN_KEY, None)
    if run is not None:
        run.deselected += sum(1 for item in items if item.nodeid in run.suite)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the target if the suite provisions one, then the preflight; before any test."""
    run = session.config.stash.get(RUN_KEY, None)
    if run is None or run.stop is not None or run.settings is None:
        return
    if not any(_uses_fixture(item) for item in session.items):
        return  # everything deselected: nothing ran, and nothing was started
    run.order = {item.nodeid: index for index, item in enumerate(session.items)}
    settings = run.settings
    config = session.config
    # A split run (zitadel_contract.workers) forks its workers here, each with its share of the
    # tests: they load what their tests need while this process starts the target and runs the
    # preflight, and send nothing before it has passed.
    split = fanout.fork_workers(session, run)
    if isinstance(split, fanout.Worker):
        target = split.wait_for_target()
        transport = open_transport(settings.transport, target, settings.timeout)
        run.session = Session(settings, target, transport, run.recorder)
        split.attach(run.session)
        config.stash[SPLIT_KEY] = split
    elif not _start_and_check(session, run, settings, split):
        return
    # What is loaded by now (pytest, schemathesis, hypothesis, the specs) lives as long as the
    # process: frozen, it is left out of the collector's full passes, which the run's many
    # short-lived objects set off (about 0.3 s of a run against a local mock). What is frozen is
    # never collected; the run's own objects are collected as before.
    gc.freeze()
    collector.resume()  # paused by verify for start-up (zitadel_contract.collector)
    run.started = time.monotonic()  # cases/s counts from the first test on
    run.recorder.on_case = lambda: progress(config, run, force=False)


def _start_and_check(
    session: pytest.Session, run: Run, settings: Settings, split: fanout.Coordinator | None
) -> bool:
    """The run's target, started or named, and its preflight; then its workers start. False:
    the run stops here, and its workers (which have sent nothing) with it."""
    config = session.config
    if settings.url is None:
        what = f"app {APP} (project {PROJECT}) on a mock the suite starts itself"
    elif settings.disposable_app:
        what = f"a disposable app it makes in org {settings.org_id} at {settings.url}"
    else:
        org = f", org {settings.org_id}" if settings.org_id else ""
        what = f"app {settings.app_id} (project {settings.project_id}{org}) at {settings.url}"
    verb = "check, without rotating," if settings.no_rotate else "rotate"
    say(config, f"zitadel contract: will {verb} the client secret of {what}")
    say(
        config,
        f"zitadel contract: API {settings.api}, transport {settings.transport}, "
        f"{settings.examples} examples per "
        f"property, seed {settings.seed} (ZITADEL_CONTRACT_SEED={settings.seed} repeats it)",
    )
    try:
        target = replace(_target(run, settings), api=settings.api)
        transport = open_transport(settings.transport, target, settings.timeout)
        http = http_client(target.url, settings.timeout)
        try:
            outcome = preflight.run(
                target, transport, http, settings.timeout, rotate=not settings.no_rotate
            )
        except Stop:
            transport.close()
            raise
        finally:
            http.close()
    except Stop as stop:
        if split is not None:
            split.close()
        run.stop = _redacted(stop)
        session.items[:] = []
        run.close()
        return False
    run.notes = outcome.notes
    for note in outcome.notes:
        say(config, f"zitadel contract: preflight: {note}")
    run.session = Session(settings, target, transport, run.recorder)
    if split is not None:
        split.start(run.session)
        config.stash[SPLIT_KEY] = split
        say(
            config,
            f"zitadel contract: {len(split.children) + 1} processes, one report: the generated "
            "schema cases run beside the rest (--workers 1: one process)",
        )
    return True


def _redacted(stop: Stop) -> Stop:
    return Stop(stop.code, REDACTOR.redact(stop.line))


def _target(run: Run, settings: Settings) -> Target:
    if settings.url is not None and settings.disposable_app:
        preflight.reach(settings.url, settings.timeout)
        target = disposable.create(settings)
        run.disposable = target
        return target
    if settings.url is not None:
        return given_target(settings)
    if not mock_installed():
        raise Stop(preflight.USAGE, f"zitadel contract: {SERVER_EXTRA_HINT}")
    run.mock = LocalMock()
    try:
        return run.mock.start()
    except RuntimeError as exc:
        raise Stop(preflight.UNREACHABLE, f"the suite's own mock did not start: {exc}") from None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """pytest's test loop, each test called from a frame with room below it (see
    zitadel_contract.fanout.ROOM); in a split run, a worker runs its share and nothing else,
    and the coordinator runs the rest and replays the workers' tests."""
    split = session.config.stash.get(SPLIT_KEY, None)
    run = session.config.stash.get(RUN_KEY, None)
    if isinstance(split, fanout.Worker):
        split.run_tests(session)
        return True
    if run is None or session.config.option.collectonly:
        return None  # pytest's own loop
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        raise session.Interrupted(f"{session.testsfailed} error(s) during collection")
    if isinstance(split, fanout.Coordinator) and split.remote:
        split.run_tests(session, run)
    else:
        fanout.run_tests(session, session.items)
    return True


@pytest.fixture(scope="session")
def zitadel_contract(request: pytest.FixtureRequest) -> Session:
    """The run: its target (started by the plugin if the suite provisions its own mock) and
    transport, checked by the preflight before any test."""
    run = request.config.stash.get(RUN_KEY, None)
    if run is None or run.session is None:
        pytest.fail("the zitadel contract run was not prepared", pytrace=False)
    return run.session


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """A test of the suite fails when it filed findings, listed by root cause."""
    run = item.config.stash.get(RUN_KEY, None)
    if run is None or not _uses_fixture(item):
        return (yield)
    run.recorder.current_test = item.nodeid
    if run.lost is not None:
        pytest.skip(f"{NOT_RUN}{run.lost}")
    try:
        result = yield
    except (httpx.TransportError, requests.ConnectionError, requests.Timeout) as exc:
        # The target stopped answering mid-run: one line, and the rest of the run is skipped.
        name = type(exc).__name__
        target = run.session.target.url if run.session is not None else "the target"
        run.lost = f"{target} stopped answering ({name}: {str(exc)[:160]})"
        pytest.fail(run.lost, pytrace=False)
    findings = run.recorder.of(item.nodeid)
    if findings:
        broken = report.order(f.check for f in findings)
        pytest.fail(f"broken: {', '.join(broken)}\n{format_findings(findings)}", pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, object]:
    """Redact every report of a contract run before anyone (terminal, JUnit) reads it."""
    report_ = yield
    if RUN_KEY in item.config.stash and isinstance(report_, TestReport):
        redact_report(report_)
    return report_


class RunHooks:
    """The hooks that need the run: registered once the suite is known to be collected."""

    def __init__(self, config: pytest.Config, run: Run) -> None:
        self.config = config
        self.run = run

    def pytest_runtest_logreport(self, report: TestReport) -> None:
        """Outcomes of the suite's tests; a progress line as each ends."""
        run = self.run
        if report.nodeid not in run.suite:
            return
        if report.skipped and isinstance(report.longrepr, tuple):
            run.skips[report.nodeid] = report.longrepr[2].removeprefix("Skipped: ")
        if report.failed:
            run.outcomes[report.nodeid] = "failed"
        elif report.skipped:
            run.outcomes.setdefault(report.nodeid, "skipped")
        elif report.when == "call":
            run.outcomes.setdefault(report.nodeid, "passed")
        if report.when == "teardown":
            progress(self.config, run, force=True)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: TestReport) -> Generator[None, Any, Any]:
        """No dots for the suite's tests: its progress lines say more."""
        result = yield
        if report.nodeid in self.run.suite and isinstance(result, tuple) and len(result) == 3:
            category, _letter, word = result
            return category, "", word
        return result


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The verdict becomes the exit code; the JUnit and JSON reports get the causes."""
    split = session.config.stash.get(SPLIT_KEY, None)
    if isinstance(split, fanout.Worker):
        split.finish()  # and the worker ends here: the coordinator reports
    if isinstance(split, fanout.Coordinator):
        split.close()
    run = session.config.stash.get(RUN_KEY, None)
    if run is None:
        return
    run.in_collection_order()
    run.verdict = verdict_of(run, int(exitstatus))
    session.exitstatus = run.verdict
    run.close()
    found = report.causes(run.recorder.findings)
    xml = session.config.stash.get(xml_key, None)
    if xml is not None:
        xml.add_global_property("zitadel_contract_exit_code", str(run.verdict))
        for number, cause in enumerate(found, 1):
            implied = ", ".join(check for check, _ in cause.implies) or "-"
            xml.add_global_property(
                f"zitadel_contract_cause_{number}",
                f"{cause.check}: {cause.cases} case(s); likely consequences: {implied}",
            )
    if run.settings is not None and run.settings.json_report:
        write_json(Path(run.settings.json_report), run, found)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Target and counts, causes most basic first with a reproduce line each, skips, verdict."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    terminalreporter.write_sep("=", "ZITADEL contract")
    for line in summary(run, exitstatus):
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    """A coordinator that ended before its session did (a usage error) stops its workers."""
    split = config.stash.get(SPLIT_KEY, None)
    if isinstance(split, fanout.Coordinator):
        split.close()

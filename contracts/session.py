"""One contract run: the target, the transport, what was seen, and what was found.

Every call of the suite goes through :meth:`Session.send`, which checks the reply against the
promises that hold for every reply (wire format, ErrorDetail, and the ledger of earlier
successes) and files what breaks them as :class:`Finding` s of the running test. Secrets the run
receives are kept in memory by the redactor only, to be replaced wherever they would be shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

import requests
from hypothesis import HealthCheck, Phase, seed
from hypothesis import settings as hypothesis_settings

from zitadel_contract import report
from zitadel_contract.checks import CHECKS, Ledger, Shape, fingerprint, status_violations
from zitadel_contract.model import NONEXISTENT_PREFIX, Call, Reply, Violation
from zitadel_contract.provision import Target
from zitadel_contract.redaction import REDACTOR
from zitadel_contract.settings import Settings
from zitadel_contract.transports import token_endpoint
from zitadel_contract.transports.http_client import http_client
from zitadel_contract.transports.registry import Transport
from zitadel_contract.workers import Role, RotationLock

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Finding:
    """A violation as reported: redacted, with the test it happened in."""

    check: str
    message: str
    reproduce: str
    test: str

    @property
    def description(self) -> str:
        return CHECKS.get(self.check, "schemathesis check")


class Recorder:
    """Findings of the whole run, by test; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.findings: list[Finding] = []
        self.current_test = ""
        self.cases = 0
        self.on_case: Callable[[], None] | None = None

    def add(self, violation: Violation) -> None:
        finding = Finding(
            violation.check,
            REDACTOR.redact(violation.message),
            REDACTOR.redact(violation.reproduce),
            self.current_test,
        )
        with self._lock:
            self.findings.append(finding)

    def count_case(self) -> None:
        with self._lock:
            self.cases += 1
        if self.on_case is not None:
            self.on_case()

    def of(self, test: str) -> list[Finding]:
        with self._lock:
            return [f for f in self.findings if f.test == test]

    def by_check(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        with self._lock:
            for finding in self.findings:
                grouped.setdefault(finding.check, []).append(finding)
        return grouped


def format_findings(findings: list[Finding], examples: int = 3) -> str:
    """Findings by root cause (most basic first): each cause with its first few messages and a
    reproduce line, then the broken checks that likely follow from it."""
    lines = []
    for cause in report.causes(findings):
        lines.append(f"[{cause.check}] {cause.description}: {cause.cases} case(s)")
        shown: set[str] = set()
        for item in findings:
            if item.check != cause.check or item.message in shown or len(shown) >= examples:
                continue
            shown.add(item.message)
            first, *rest = item.message.strip().splitlines() or [""]
            lines.append(f"    - {first}")
            lines.extend(f"      {line}" for line in rest if line.strip())
            if item.reproduce:
                lines.append(f"      reproduce: {item.reproduce}")
        for check, cases in cause.implies:
            implied = [f for f in findings if f.check == check]
            lines.append(
                f"    likely follows: [{check}] {CHECKS.get(check, 'schemathesis check')}: "
                f"{cases} case(s), e.g. {implied[0].message.strip().splitlines()[0]}"
            )
    return "\n".join(lines)


def environment_once(http: requests.Session, url: str) -> None:
    """What requests reads from the environment for every request it sends (proxies, a CA bundle,
    ``~/.netrc``; a fifth of its CPU per request against a local target), read once for the
    target and kept on the session, which then reads the environment no more. The run's
    requests all go to that target, and the environment does not change during a run."""
    if not http.trust_env:
        return
    found = http.merge_environment_settings(url, {}, None, None, None)
    http.proxies = found["proxies"]
    http.verify = found["verify"]
    if http.auth is None:
        http.auth = requests.utils.get_netrc_auth(url)
    http.trust_env = False


class Session:
    """The run's state and the suite's only way to reach the server."""

    def __init__(
        self, settings: Settings, target: Target, transport: Transport, recorder: Recorder
    ) -> None:
        self.settings = settings
        self.target = target
        self.transport = transport
        self.recorder = recorder
        self.ledger = Ledger(
            Shape(settings.secret_length, settings.secret_alphabet, settings.clock_skew)
        )
        self.http = http_client(target.url, settings.timeout)
        # schemathesis sends its cases with requests: one pool for the run, not one per case.
        self.schema_http = requests.Session()
        environment_once(self.schema_http, target.url)
        # With two workers (zitadel_contract.workers): the lock between their rotations.
        self.rotation_lock: RotationLock | None = None
        REDACTOR.add(target.token, "token")
        REDACTOR.add(target.no_permission_token, "no-permission-token")

    def close(self) -> None:
        self.http.close()
        self.schema_http.close()
        self.transport.close()
        if self.rotation_lock is not None:
            self.rotation_lock.close()

    # -- the app to itself -------------------------------------------------------------------

    def app_to_itself(self) -> AbstractContextManager[None]:
        """No other process of the run rotates the app meanwhile (one process: nothing to do)."""
        return self._rotation_lock_as("coordinator", "exclusive")

    def may_rotate(self) -> AbstractContextManager[None]:
        """Around a call of a worker that may rotate the app: never while the coordinator has
        it to itself (one process: nothing to do)."""
        return self._rotation_lock_as("worker", "shared")

    @contextmanager
    def _rotation_lock_as(self, role: Role, mode: Literal["exclusive", "shared"]) -> Iterator[None]:
        """The run's rotation lock held in ``mode`` by a process of ``role``; by any other
        process (or in a run of one process), nothing."""
        lock = self.rotation_lock
        if lock is None or lock.role != role:
            yield
            return
        with lock.hold(mode):
            yield

    # -- calls -------------------------------------------------------------------------------

    @property
    def app_id(self) -> str:
        """The app calls name: the given one, or with ``--no-rotate`` one no ZITADEL has, so
        that not even a server too lenient to refuse a probe can rotate the given app."""
        if self.settings.no_rotate:
            return f"{NONEXISTENT_PREFIX}app"
        return self.target.app_id

    def call_on_app(self, **changes: Any) -> Call:
        """A call on the app (see :attr:`app_id`), in its org, with the given token;
        ``changes`` alter it."""
        base = Call(self.target.project_id, self.app_id, org_id=self.target.org_id)
        return replace(base, **changes)

    def send(self, call: Call) -> Reply:
        """Send ``call``; file every violation of the always-true promises."""
        with self.may_rotate():
            reply = self.transport.call(call)
        self.recorder.count_case()
        self.observe(call, reply, lambda: self.transport.reproduce(call))
        return reply

    def observe(self, call: Call, reply: Reply, reproduce: Callable[[], str]) -> None:
        """Check a reply (however it was obtained) against the promises every reply keeps."""
        if reply.rotation is not None:
            secret = reply.rotation.client_secret
            REDACTOR.add(secret, f"secret {fingerprint(secret)}")
        found = [*reply.problems, *status_violations(reply), *self.ledger.observe(call, reply)]
        if found:
            line = reproduce()
            for violation in found:
                self.recorder.add(replace(violation, reproduce=violation.reproduce or line))

    def expect(
        self,
        check: str,
        holds: bool,
        message: str,
        call: Call | None = None,
        token_call: tuple[str, token_endpoint.Method] | None = None,
    ) -> bool:
        """File a finding of ``check`` unless ``holds``; returns ``holds``.

        ``call`` or ``token_call`` (which secret, which method) makes the reproduce line.
        """
        if not holds:
            line = ""
            if call is not None:
                line = self.transport.reproduce(call)
            elif token_call is not None:
                line = token_endpoint.reproduce(self.target.url, *token_call)
            self.recorder.add(Violation(check, message, line))
        return holds

    def ask_token_endpoint(
        self, secret: str, method: token_endpoint.Method
    ) -> token_endpoint.TokenAnswer:
        assert self.target.client_id is not None
        self.recorder.count_case()
        return token_endpoint.ask(self.http, self.target.client_id, secret, method)

    # -- generation --------------------------------------------------------------------------

    def hypothesis(self, examples: int | None = None) -> Callable[[F], F]:
        """Settings and seed for a property: bounded, reproducible, no example database."""
        chosen = hypothesis_settings(
            max_examples=examples or self.settings.examples,
            database=None,
            deadline=None,
            derandomize=False,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )

        def apply(test: F) -> F:
            return seed(self.settings.seed or 0)(chosen(test))

        return apply

"""The control plane, transport-neutral: namespaces, forced outcomes, the seed and the journal.

Every transport does the same for each request (README "Control plane"):

1. ``call = control.begin(transport=..., method=..., path=..., headers=..., app_id=...)``:
   validates ``X-Mock-Namespace`` and ``Prefer``, creates the namespace on first use, and decides
   the outcome (``Prefer`` first, else the next queued outcome for this app or any app).
2. Answer ``call.error`` at once if set (a bad mock header). Otherwise wait ``call.delay_seconds``,
   then apply ``call.fault``, else answer ``call.forced_error()``, else run the call in ``call.ns``.
3. ``control.finish(call, status=..., grpc_code=..., message=...)`` records it in the journal.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from zitadel_mock.control.journal import (
    FLUSH_DELAY,
    MIN_SECRET,
    IsSecret,
    Journal,
    holds_secret,
    redact_headers,
    redact_live,
)
from zitadel_mock.control.outcomes import Fault, Outcome, parse_prefer
from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import (
    IssuedSecrets,
    SecretHash,
    seeded_random_bytes,
    system_random_bytes,
    token_digest,
)
from zitadel_mock.domain.clock import Clock, SteppingClock, system_clock
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.headers import NAMESPACE_HEADER
from zitadel_mock.domain.model import Fixtures
from zitadel_mock.operations.service import SecretService
from zitadel_mock.state.control_store import ControlStore, NamespaceUse, Pulse, Queued
from zitadel_mock.state.store import Credentials, to_micros

PREFER_HEADER: Final = "prefer"
NAMESPACE_NAME: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
DEFAULT_NAMESPACE_TTL: Final = 3600.0
DEFAULT_JOURNAL_SIZE: Final = 1000
DEFAULT_MAX_STALL: Final = 30.0
MAX_NAMESPACES: Final = 1000


@dataclass(frozen=True, slots=True)
class ControlSettings:
    namespace_ttl: float = DEFAULT_NAMESPACE_TTL  # seconds a namespace may sit unused
    journal_size: int = DEFAULT_JOURNAL_SIZE  # entries kept per namespace; 0 records nothing
    max_stall: float = DEFAULT_MAX_STALL  # seconds a stalled response is held at most
    max_namespaces: int = MAX_NAMESPACES


class Call(NamedTuple):
    """One request as the control plane sees it, and what it decided for it (a tuple: built for
    every request, it costs a quarter of a frozen dataclass)."""

    transport: str
    method: str
    path: str
    headers: dict[str, str]  # already redacted; left out of the repr
    project_id: str | None
    app_id: str | None
    started: float
    ns: str = ""
    error: MockError | None = None  # a bad mock header: answer this at once
    outcome: Outcome | None = None
    source: str | None = None  # "prefer" or "queue"
    delay_ms: int = 0
    api: str = "v1"  # the API version the path belongs to: v1, v2 or v2beta

    @property
    def delay_seconds(self) -> float:
        return self.delay_ms / 1000

    @property
    def fault(self) -> Fault | None:
        return self.outcome.fault if self.outcome is not None else None

    def forced_error(self) -> MockError | None:
        return self.outcome.forced_error() if self.outcome is not None else None

    def __repr__(self) -> str:  # without the headers, as before
        pairs = zip(self._fields, self, strict=True)
        return f"Call({', '.join(f'{k}={v!r}' for k, v in pairs if k != 'headers')})"


class ControlPlane:
    """One per worker process; what workers share lives in the :class:`ControlStore`."""

    def __init__(
        self,
        service: SecretService,
        fixtures: Fixtures,
        fixtures_digest: str,
        *,
        settings: ControlSettings = ControlSettings(),
        seed: int | None = None,
        clock: Clock = system_clock,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.settings = settings
        self.store = ControlStore(service.store)
        self.journal = Journal(self.store, settings.journal_size)
        self.rng = random.Random(seed)
        self._clock = clock
        self._monotonic = monotonic
        self.store.set_baseline(fixtures, fixtures_digest)
        self.store.set_seed(seed, announce=False)
        pulse = self.store.pulse("")
        self._pulse = pulse
        self._epoch, self._seed_version = pulse.epoch, pulse.seed_version
        self._known: dict[str, float] = {}  # namespace -> when this worker last marked it used
        self._live: dict[str, _LiveSecrets] = {}  # namespace -> its live credentials, for redaction
        ttl = settings.namespace_ttl
        self._touch_every = min(10.0, ttl / 4)
        self._sweep_every = min(60.0, max(0.5, ttl / 10))
        self._last_sweep = monotonic()

    # -- per request -----------------------------------------------------------------------

    def begin(
        self,
        *,
        transport: str,
        method: str,
        path: str,
        headers: Iterable[tuple[str, str]],
        project_id: str | None = None,
        app_id: str | None = None,
        operation: bool = True,
        api: str = "v1",
    ) -> Call:
        """Decide what this request gets. Never raises: a refusal is ``Call.error``.

        ``operation`` is False for requests that are not RegenerateOIDCClientSecret (unknown
        paths, wrong methods): they get a namespace and a journal entry, never a forced outcome.
        """
        pairs = list(headers)
        names: list[str] = []
        prefer: list[str] = []
        for name, value in pairs:
            lower = name.lower()
            if lower == NAMESPACE_HEADER:
                names.append(value)
            elif lower == PREFER_HEADER:
                prefer.append(value)
        ns, error, outcome, source = "", None, None, None
        try:
            if len(set(names)) > 1:
                # Transports read the first value, HTTP libraries often the last: refuse both.
                raise MockError(errors.BAD_NAMESPACE, reason="given more than once, differently")
            ns = self.namespace(names[0] if names else "")
            if operation:
                outcome, source = parse_prefer(prefer), "prefer"
                if outcome is None and self._pulse.queued:
                    spec = self.store.consume(ns, app_id)
                    outcome, source = (parse_prefer([spec]) if spec else None), "queue"
        except MockError as refusal:
            ns, error, outcome = "", refusal, None
        recorded: dict[str, str] = {}
        if self.journal.enabled:
            holds = self.live_secrets(ns)
            recorded = redact_headers(pairs, holds)
            path = redact_live(path, holds)
        return Call(
            transport,
            method,
            path,
            recorded,
            project_id,
            app_id,
            started=self._monotonic(),
            ns=ns,
            error=error,
            outcome=outcome,
            source=source if outcome is not None else None,
            delay_ms=outcome.draw_delay_ms(self.rng) if outcome is not None else 0,
            api=api,
        )

    def finish(
        self,
        call: Call,
        *,
        status: int | None,
        grpc_code: int | None = None,
        message: str | None = None,
    ) -> None:
        """Record ``call`` in the journal: ``status`` as sent (None if no status line went out),
        ``grpc_code`` and ``message`` of an error (never of a success: it holds the secret)."""
        if not self.journal.enabled:
            return
        if call.fault is not None:
            outcome = "fault"
        elif call.outcome is not None and call.outcome.row is not None:
            outcome = "forced"
        elif call.error is None and status is not None and status < 400:
            outcome = "success"
        else:
            outcome = "error"
        entry: dict[str, Any] = {
            "time": to_micros(self._clock()),  # formatted when read
            "namespace": call.ns,
            "transport": call.transport,
            "api": call.api,
            "method": call.method,
            "path": call.path,
            "projectId": call.project_id,
            "appId": call.app_id,
            "headers": call.headers,
            "status": status,
            "grpcCode": grpc_code,
            "message": message,
            "durationMs": round((self._monotonic() - call.started) * 1000, 3),
            "outcome": outcome,
            "forced": None
            if call.outcome is None
            else {"source": call.source, "prefer": call.outcome.spec, "delayMs": call.delay_ms},
        }
        if self.journal.add(entry):
            try:
                asyncio.get_running_loop().call_later(FLUSH_DELAY, self.journal.flush)
            except RuntimeError:  # no event loop in this thread: write at once
                self.journal.flush()

    # -- namespaces ------------------------------------------------------------------------

    def live_secrets(self, ns: str) -> IsSecret:
        """Whether a value is, or holds as a word, a client secret or a bearer token of namespace
        ``ns`` now (:func:`~zitadel_mock.control.journal.holds_secret`)."""
        try:
            credentials = self.service.store.credentials(ns)
        except MockError:  # the state cannot be read (lost, busy): redact every value
            return _redact_all
        live = self._live.get(ns)
        if live is None:
            if len(self._live) > 2 * self.settings.max_namespaces:
                self._live.clear()
            service = self.service
            live = self._live[ns] = _LiveSecrets(
                credentials, service.issued, lambda: service.generator.predictable
            )
        else:
            live.refresh(credentials)  # a rotation or an admin change, if any
        return live

    def namespace(self, raw: str | None) -> str:
        """The namespace a header names, created on first use; raises BAD_NAMESPACE."""
        if not raw:
            self._follow(self.store.pulse(""))
            return ""
        if not NAMESPACE_NAME.fullmatch(raw):
            raise MockError(
                errors.BAD_NAMESPACE,
                reason=f"{raw[:80]!r} is not 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'",
            )
        self._follow(self.store.pulse(raw))
        self._sweep_if_due()
        now = self._monotonic()
        last = self._known.get(raw)
        if last is None or now - last >= self._touch_every:
            self.store.touch(raw, to_micros(self._clock()), self.settings.max_namespaces)
            self._known[raw] = now
        return raw

    def namespaces(self) -> list[NamespaceUse]:
        self._sweep_if_due(force=True)
        return self.store.namespaces()

    def _follow(self, pulse: Pulse) -> None:
        """Drop what this worker cached if another one reset, reloaded, expired or reseeded."""
        self._pulse = pulse
        if pulse.epoch != self._epoch:
            self._epoch = pulse.epoch
            self._known.clear()
        if pulse.seed_version != self._seed_version:
            self._seed_version = pulse.seed_version
            self._apply_seed(self.store.seed())

    def _sweep_if_due(self, force: bool = False) -> None:
        now = self._monotonic()
        if not force and now - self._last_sweep < self._sweep_every:
            return
        self._last_sweep = now
        self.journal.flush()  # entries still buffered for a namespace must go with it
        idle_before = to_micros(self._clock()) - int(self.settings.namespace_ttl * 1_000_000)
        for name in self.store.expire(idle_before):
            self._known.pop(name, None)

    # -- changes from the admin API and the watcher ----------------------------------------

    def reset(self, ns: str | None) -> list[str]:
        """Reset one namespace (all if None) to the start fixtures; clear its queue and journal."""
        self.journal.flush()
        names = self.store.reset(ns)
        self._known.clear()
        return names

    def delete_namespace(self, ns: str) -> bool:
        """Forget namespace ``ns`` at once, as expiry would; False if it is not in use."""
        self.journal.flush()  # entries still buffered for it must go with it
        deleted = self.store.delete(ns)
        self._known.pop(ns, None)
        return deleted

    def reload(self, fixtures: Fixtures, digest: str) -> list[str]:
        """New start fixtures (watch mode): every namespace is reset to them."""
        names = self.store.reload_baseline(fixtures, digest)
        self._known.clear()
        return names

    def set_seed(self, seed: int | None) -> None:
        self.store.set_seed(seed, announce=True)
        self._follow(self.store.pulse(""))

    def seed(self) -> int | None:
        return self.store.seed()

    def enqueue(self, ns: str, app_id: str | None, times: int, outcome: Outcome) -> Queued:
        return self.store.enqueue(ns, app_id, times, outcome.spec)

    def _apply_seed(self, seed: int | None) -> None:
        service = self.service
        if seed is None:
            service.generator.reseed(system_random_bytes())
            service.clock = system_clock
        else:
            service.generator.reseed(seeded_random_bytes(seed))
            service.clock = SteppingClock()
        self.rng.seed(seed)


def _redact_all(_value: str) -> bool:
    return True


class _LiveSecrets:
    """What a namespace's credentials are recognised by, for the journal's redaction: its token
    digests, the secrets this process issued (:class:`IssuedSecrets`, one keyed hash of a word),
    and the salted hashes of the live secrets issued elsewhere (fixtures, another worker); and
    what each header value asked about turned out to be. Values are remembered by their keyed
    digest, never as text: a header value may be a secret.

    A remembered "no" stays right while no credential joins that it was not checked against.
    The secrets this process issues do not count: one drawn from the operating system's CSPRNG
    cannot have been sent before it existed. Under a seed they can (the next secret is known in
    advance), so then every secret issued here forgets the answers, as a token or a secret
    issued elsewhere that joins always does. A credential that leaves is still redacted where
    it was: that errs on the safe side."""

    __slots__ = (
        "_count",
        "_foreign",
        "_issued",
        "_predictable",
        "_seen",
        "_tokens",
        "credentials",
    )
    MAX_SEEN: Final = 4096

    def __init__(
        self, credentials: Credentials, issued: IssuedSecrets, predictable: Callable[[], bool]
    ) -> None:
        self._issued = issued
        self._predictable = predictable  # whether the secrets issued here can be foreseen
        self._count = issued.count
        self._seen: dict[int, bool] = {}
        self._tokens: frozenset[str] = frozenset()
        self._foreign: dict[str, Callable[[str], bool]] = {}  # stored hash -> its matcher
        self.credentials = credentials
        self._follow(credentials)

    def refresh(self, credentials: Credentials) -> None:
        """Follow the namespace's credentials as the store now reads them."""
        if credentials is not self.credentials:
            self.credentials = credentials
            self._follow(credentials)

    def _follow(self, credentials: Credentials) -> None:
        covers = self._issued.covers
        known = self._foreign
        foreign = {
            h: known.get(h) or SecretHash(h).matcher()
            for h in credentials.secret_hashes.values()
            if not covers(h)
        }
        tokens = credentials.token_digests
        if not (tokens <= self._tokens and foreign.keys() <= known.keys()):
            self._seen.clear()  # a credential joined that a remembered answer did not know
        self._foreign = foreign
        self._tokens = tokens

    def __call__(self, value: str) -> bool:
        """:func:`holds_secret` of ``value``, remembered while it cannot change."""
        if len(value) < MIN_SECRET:
            return False
        issued = self._issued
        if issued.count != self._count:
            self._count = issued.count
            if self._predictable():
                self._seen.clear()
        digest = issued.digest(value)
        known = self._seen.get(digest)
        if known is None:
            known = holds_secret(value, self._is_secret)
            if len(self._seen) >= self.MAX_SEEN:
                self._seen.clear()
            self._seen[digest] = known
        return known

    def _is_secret(self, word: str) -> bool:
        return (
            self._issued.holds(self._issued.digest(word))
            or token_digest(word) in self._tokens
            or any(match(word) for match in self._foreign.values())
        )

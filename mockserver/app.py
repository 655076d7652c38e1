"""Wiring: settings to service to the one ASGI app that answers every request on the port.

The outer app does what ZITADEL's HTTP front does before any handler: CORS for browsers, the
path kept as grpc-gateway matches it (``%2F`` stays inside an id), and dispatch by Content-Type.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zitadel_mock.control.plane import (
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_MAX_STALL,
    DEFAULT_NAMESPACE_TTL,
    ControlSettings,
)
from zitadel_mock.domain.client_secrets import (
    SecretGenerator,
    seeded_random_bytes,
    system_random_bytes,
)
from zitadel_mock.domain.clock import SteppingClock, system_clock
from zitadel_mock.fixtures.loader import demo_fixtures, load_fixtures_file
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.docs_overlay import DocsOverlay
from zitadel_mock.protocols.gateway import build_rest_app
from zitadel_mock.protocols.grpc_app import GrpcApp
from zitadel_mock.protocols.grpc_codec import GrpcAdapter
from zitadel_mock.protocols.rest_control import remember_connection, with_control
from zitadel_mock.protocols.rest_operation import with_rest_operations
from zitadel_mock.protocols.token_endpoint import with_token_endpoint
from zitadel_mock.state.store import Store
from zitadel_proto.wire import wire_of

ENV_PREFIX: Final = "ZITADEL_MOCK_"
EXPOSED_HEADERS: Final = (
    "grpc-status, grpc-message, grpc-status-details-bin, www-authenticate, x-mock-namespace"
)
ALLOWED_METHODS: Final = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
DEFAULT_ALLOWED_HEADERS: Final = (
    "authorization, content-type, x-zitadel-orgid, x-grpc-web, x-user-agent, grpc-timeout, "
    "prefer, x-mock-namespace"
)


@dataclass(frozen=True, slots=True)
class Settings:
    """What ``zitadel-mock serve`` was asked for. ``fixtures`` None means the demo fixtures."""

    fixtures: Path | None = None
    seed: int | None = None
    cors_origins: tuple[str, ...] = ("*",)
    state: Path | None = None
    busy_timeout_ms: int = 1000
    watch: bool = False
    namespace_ttl: float = DEFAULT_NAMESPACE_TTL
    journal_size: int = DEFAULT_JOURNAL_SIZE
    max_stall: float = DEFAULT_MAX_STALL

    def control(self) -> ControlSettings:
        return ControlSettings(self.namespace_ttl, self.journal_size, self.max_stall)

    def to_env(self) -> dict[str, str]:
        """The settings as environment variables, for worker processes."""
        env = {f"{ENV_PREFIX}CORS_ORIGINS": ",".join(self.cors_origins)}
        if self.fixtures is not None:
            env[f"{ENV_PREFIX}FIXTURES"] = str(self.fixtures)
        if self.seed is not None:
            env[f"{ENV_PREFIX}SEED"] = str(self.seed)
        if self.state is not None:
            env[f"{ENV_PREFIX}STATE"] = str(self.state)
        env[f"{ENV_PREFIX}BUSY_TIMEOUT_MS"] = str(self.busy_timeout_ms)
        env[f"{ENV_PREFIX}WATCH"] = "1" if self.watch else ""
        env[f"{ENV_PREFIX}NAMESPACE_TTL"] = str(self.namespace_ttl)
        env[f"{ENV_PREFIX}JOURNAL_SIZE"] = str(self.journal_size)
        env[f"{ENV_PREFIX}MAX_STALL"] = str(self.max_stall)
        return env

    @classmethod
    def from_env(cls) -> Settings:
        get = os.environ.get
        fixtures, seed, state = (
            get(f"{ENV_PREFIX}FIXTURES"),
            get(f"{ENV_PREFIX}SEED"),
            get(f"{ENV_PREFIX}STATE"),
        )
        origins = get(f"{ENV_PREFIX}CORS_ORIGINS", "*")
        return cls(
            fixtures=Path(fixtures) if fixtures else None,
            seed=int(seed) if seed else None,
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            state=Path(state) if state else None,
            busy_timeout_ms=int(get(f"{ENV_PREFIX}BUSY_TIMEOUT_MS", "1000")),
            watch=bool(get(f"{ENV_PREFIX}WATCH")),
            namespace_ttl=float(get(f"{ENV_PREFIX}NAMESPACE_TTL", DEFAULT_NAMESPACE_TTL)),
            journal_size=int(get(f"{ENV_PREFIX}JOURNAL_SIZE", DEFAULT_JOURNAL_SIZE)),
            max_stall=float(get(f"{ENV_PREFIX}MAX_STALL", DEFAULT_MAX_STALL)),
        )


def open_state(settings: Settings) -> tuple[Store, bool]:
    """Open the state and load the fixtures into it, unless a state file already holds state.

    Returns the store and whether the fixtures were loaded.
    """
    fixtures = load_fixtures_file(settings.fixtures) if settings.fixtures else demo_fixtures()
    store = Store(settings.state, settings.busy_timeout_ms)
    loaded = store.load(fixtures, only_if_empty=settings.state is not None)
    return store, loaded


def build_service(settings: Settings, store: Store | None = None) -> SecretService:
    """The service over ``store`` (opened from the settings when not given)."""
    if store is None:
        store, _ = open_state(settings)
    if settings.seed is None:
        return SecretService(store, SecretGenerator(system_random_bytes()), system_clock)
    return SecretService(
        store, SecretGenerator(seeded_random_bytes(settings.seed)), SteppingClock()
    )


class MockApp:
    """The outermost ASGI app: CORS, path normalisation, then gRPC (by Content-Type) or REST."""

    def __init__(self, service: SecretService, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        # The operations' REST paths first; connexion answers every other path.
        rest = with_rest_operations(
            DocsOverlay(with_token_endpoint(build_rest_app(), service)), service
        )
        controlled = with_control(
            rest,
            service,
            fixtures_path=settings.fixtures,
            seed=settings.seed,
            settings=settings.control(),
            watch=settings.watch,
        )
        self.control = (
            controlled.control
        )  # what the gRPC adapter calls (zitadel_mock.control.plane)
        self.rest: ASGIApp = controlled
        self.grpc: ASGIApp = GrpcApp(GrpcAdapter(service), self.control)
        self._any_origin = "*" in settings.cors_origins
        self._origins = {o.encode() for o in settings.cors_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.rest(scope, receive, send)
            return
        scope = keep_encoded_slashes(scope)
        remember_connection(scope, send)
        headers = dict(scope["headers"])
        app = self.rest if wire_of(headers.get(b"content-type")) is None else self.grpc
        origin = headers.get(b"origin")
        if origin is None:
            await app(scope, receive, send)
            return
        preflight = scope["method"] == "OPTIONS" and b"access-control-request-method" in headers
        if not (self._any_origin or origin in self._origins):
            if preflight:  # answered, without CORS headers: the browser refuses (as rs/cors)
                await _refused_preflight(send)
                return
            await app(scope, receive, send)  # no CORS headers: the browser refuses
            return
        if preflight:
            await self._preflight(origin, headers, send)
            return
        await app(scope, receive, _with_cors(send, origin))

    @staticmethod
    async def _preflight(origin: bytes, headers: dict[bytes, bytes], send: Send) -> None:
        requested = headers.get(b"access-control-request-headers", DEFAULT_ALLOWED_HEADERS.encode())
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"access-control-allow-origin", origin),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                    (b"access-control-allow-headers", requested),
                    (b"access-control-max-age", b"600"),
                    (b"vary", b"Origin"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


async def _refused_preflight(send: Send) -> None:
    vary = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    await send({"type": "http.response.start", "status": 204, "headers": [(b"vary", vary)]})
    await send({"type": "http.response.body", "body": b""})


def _with_cors(send: Send, origin: bytes) -> Send:
    async def cors_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", origin),
                    (b"access-control-allow-credentials", b"true"),
                    (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
                    (b"vary", b"Origin"),
                ],
            }
        await send(message)

    return cors_send


def keep_encoded_slashes(scope: Scope) -> Scope:
    """Match routes the way grpc-gateway does: ``%2F`` inside a segment stays part of the id."""
    raw: bytes | None = scope.get("raw_path")
    if not raw or b"%2f" not in raw.lower():
        return scope
    segments = raw.split(b"?", 1)[0].decode("latin-1").split("/")
    path = "/".join(unquote(s).replace("/", "%2F") for s in segments)
    return {**scope, "path": path}


def build_app(settings: Settings, store: Store | None = None) -> MockApp:
    return MockApp(build_service(settings, store), settings)


def create_app() -> MockApp:
    """Factory for server workers: settings come from the environment (Settings.to_env)."""
    return build_app(Settings.from_env())

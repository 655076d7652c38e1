"""Wiring: settings to service to the one ASGI app that answers every request on the port.

:class:`MockApp` assembles the whole stack, in one place: what wraps what.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.types import ASGIApp, Scope

from zitadel_mock.control.admin.guard import DEFAULT_MAX_BODY, served_names
from zitadel_mock.control.plane import (
    DEFAULT_JOURNAL_SIZE,
    DEFAULT_MAX_STALL,
    DEFAULT_NAMESPACE_TTL,
    ControlPlane,
    ControlSettings,
)
from zitadel_mock.control.watch import FixtureWatcher, file_digest
from zitadel_mock.domain.client_secrets import (
    SecretGenerator,
    seeded_random_bytes,
    system_random_bytes,
)
from zitadel_mock.domain.clock import SteppingClock, system_clock
from zitadel_mock.domain.ids import IdGenerator
from zitadel_mock.domain.model import Fixtures
from zitadel_mock.fixtures.loader import demo_fixtures, load_fixtures_file
from zitadel_mock.operations.management_projects import ManagementCommands
from zitadel_mock.operations.service import SecretService
from zitadel_mock.protocols.connect_wire import is_v2_path
from zitadel_mock.protocols.connection import RememberConnection
from zitadel_mock.protocols.deferred import Deferred, build_in_background
from zitadel_mock.protocols.docs_overlay import DocsOverlay
from zitadel_mock.protocols.front import (
    ByContentType,
    ByPath,
    Cors,
    KeepEncodedSlashes,
    Lifespan,
)
from zitadel_mock.protocols.rest_control import RestControl
from zitadel_mock.protocols.rest_management import ManagementRest
from zitadel_mock.protocols.rest_operation import RestRoutes, with_rest_operations
from zitadel_mock.protocols.token_endpoint import ServeTokenEndpoint
from zitadel_mock.server.logs import AccessLog
from zitadel_mock.state.store import Store

ENV_PREFIX: Final = "ZITADEL_MOCK_"
ADMIN_PREFIX: Final = "/__mock"
ADMIN_BODY_ENV: Final = "ZITADEL_MOCK_LIMIT_MAX_ADMIN_BODY"  # bytes; see docs/limits.md


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
    admin_token: str | None = None
    admin_hosts: tuple[str, ...] = ()  # host names /__mock answers under besides loopback's

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
        env[f"{ENV_PREFIX}ADMIN_TOKEN"] = self.admin_token or ""
        env[f"{ENV_PREFIX}ADMIN_HOSTS"] = ",".join(self.admin_hosts)
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
            admin_token=get(f"{ENV_PREFIX}ADMIN_TOKEN") or None,
            admin_hosts=tuple(h for h in get(f"{ENV_PREFIX}ADMIN_HOSTS", "").split(",") if h),
        )


def open_state(settings: Settings) -> tuple[Store, bool]:
    """Open the state and load the fixtures into it, unless a state file already holds state.

    Returns the store and whether the fixtures were loaded.
    """
    fixtures = load_fixtures_file(settings.fixtures) if settings.fixtures else demo()
    store = Store(settings.state, settings.busy_timeout_ms)
    loaded = store.load(fixtures, only_if_empty=settings.state is not None)
    return store, loaded


@functools.cache
def demo() -> Fixtures:
    """The built-in demo fixtures, parsed once per process (the state's load and the control
    plane's baseline both read them; package data, frozen records)."""
    return demo_fixtures()


def build_service(settings: Settings, store: Store | None = None) -> SecretService:
    """The service over ``store`` (opened from the settings when not given)."""
    if store is None:
        store, _ = open_state(settings)
    if settings.seed is None:
        return SecretService(store, SecretGenerator(system_random_bytes()), system_clock)
    return SecretService(
        store, SecretGenerator(seeded_random_bytes(settings.seed)), SteppingClock()
    )


class MockApp(RememberConnection):
    """The one ASGI app that answers every request on the port; the stack is assembled here.

    From the outside in (each layer is starlette-style middleware, ``Layer(app, ...)``):

    1. ``RememberConnection``: the server's way to drop an exchange, for the faults (MockApp
       is this layer, so that it costs no call of its own). Just inside it, when
       :meth:`log_access` asked for it, the access log (``server/logs.AccessLog``).
    2. ``KeepEncodedSlashes``, then ``ByPath`` for the v2 and v2beta prefixes to ``ConnectApp``
       (Connect, gRPC and gRPC-web as connect-go serves them, with their own CORS), then
       ``Cors``: ZITADEL's HTTP front.
    3. ``ByContentType``: gRPC and gRPC-web to ``GrpcApp`` (which goes through the control
       plane's driver itself); everything else is REST:
    4. ``ByPath``: ``/__mock`` (and ``GET /``, its link to the page) to the control plane's admin
       API and page, outside the control plane.
    5. ``RestControl``: every other request through the control plane's driver.
    6. ``RestOperation``, one per operation with a REST path: ``POST`` on that path, compiled
       from the spec.
       Below them ``ManagementRest``: AddProject, AddOIDCApp and RemoveProject (no rotation
       reaches it).
    7. ``Lifespan``: the fixture watcher from startup to shutdown; the journal flushed at the
       end. Lifespan messages pass every layer above untouched; here no request of an
       operation passes it.
    8. ``DocsOverlay``: ``/openapi.json`` for the Swagger UI.
    9. ``ServeTokenEndpoint``: ``/oauth/v2/token``.
    10. connexion: the spec's other paths, 404 and 405, the docs pages.

    The apps that REST's operations never reach are :class:`Deferred`: built in a background
    thread from the lifespan's startup on (or from the first request for one, without a
    lifespan), so that the port answers before they are even imported; a request for one of
    them waits until it is built. In order: ``GrpcApp`` (3) and ``ConnectApp`` (2), small, then
    connexion's two apps (10, and the admin API's in 4). ``when_built`` adds what to run once
    all are.
    """

    def __init__(self, service: SecretService, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self.control, watcher = build_control(service, settings)
        routes = RestRoutes()  # the operations' REST paths, matched once per request (5 and 6)
        connexion = Deferred(_rest_app, "connexion's app of openapi.yaml")
        admin = Deferred(
            _admin_builder(
                self.control, settings, int(os.environ.get(ADMIN_BODY_ENV, DEFAULT_MAX_BODY))
            ),
            "the admin API",
        )
        grpc = Deferred(lambda: _grpc_app(service, self.control), "the gRPC and gRPC-web app")
        connect = Deferred(
            lambda: _connect_app(service, self.control, settings.cors_origins),
            "the v2 and v2beta paths",
        )
        self.deferred = (grpc, connect, connexion, admin)
        self.built: list[Callable[[], None]] = []  # run once all are built (when_built)
        self.failed: list[Callable[[], None]] = []  # run if one could not be (when_failed)
        # Lifespan messages pass every layer to connexion's place, which answers them: Lifespan
        # sits just outside it, where no request of an operation has to pass it.
        served: ASGIApp = Lifespan(
            DocsOverlay(ServeTokenEndpoint(connexion, service)),
            background=[self._build_deferred, *([watcher.run] if watcher is not None else [])],
            on_shutdown=[self.control.journal.flush],
        )
        # AddProject, AddOIDCApp, RemoveProject: below the operations, off the rotation's path.
        served = ManagementRest(served, ManagementCommands(service, management_ids(settings)))
        self.rest: ASGIApp = with_rest_operations(served, service, routes)  # under the plane
        rest: ASGIApp = RestControl(self.rest, self.control, ids=routes.ids)
        rest = ByPath(rest, to=admin, when=for_admin)
        app: ASGIApp = ByContentType(rest, grpc=grpc)
        app = Cors(app, settings.cors_origins, by_name_only=for_admin)
        # The v2 and v2beta paths: connect-go's, for Connect, gRPC and gRPC-web alike, with
        # rs/cors in front as ZITADEL mounts them (protocols/connect.py).
        app = ByPath(app, to=connect, when=for_v2)
        app = KeepEncodedSlashes(app)
        # MockApp is the outermost layer itself (RememberConnection's __call__): no call of its
        # own per request.
        super().__init__(app)

    def log_access(self) -> None:
        """Write an access line for every HTTP request (:class:`AccessLog`), just inside this
        outermost layer. Not around it: the access log passes its own ``send`` on, and this
        layer must see the server's, or a fault that drops the connection finds no way to."""
        self.app = AccessLog(self.app)

    def when_built(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in the build thread) once the deferred apps are built."""
        self.built.append(callback)

    def when_failed(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in the build thread) if a deferred app could not be built: a bug,
        logged with its traceback; a request for that app gets the exception."""
        self.failed.append(callback)

    async def _build_deferred(self) -> None:
        build_in_background(self.deferred, then=self.built, failed=self.failed)


# The deferred apps' builders import their modules themselves (PLC0415): in the build thread,
# not on the way to the first answer.


def _grpc_app(service: SecretService, control: ControlPlane) -> ASGIApp:
    from zitadel_mock.protocols.grpc_app import GrpcApp  # noqa: PLC0415
    from zitadel_mock.protocols.grpc_codec import GrpcAdapter  # noqa: PLC0415

    return GrpcApp(GrpcAdapter(service), control)


def _connect_app(
    service: SecretService, control: ControlPlane, origins: tuple[str, ...]
) -> ASGIApp:
    from zitadel_mock.protocols.connect import ConnectApp  # noqa: PLC0415
    from zitadel_mock.protocols.connect_grpc import ConnectGrpc  # noqa: PLC0415

    return ConnectApp(service, control, ConnectGrpc(service, control), origins)


def _rest_app() -> ASGIApp:
    from zitadel_mock.protocols.gateway_app import build_rest_app  # noqa: PLC0415

    app: ASGIApp = build_rest_app()
    return app


def _admin_builder(
    control: ControlPlane, settings: Settings, max_body: int
) -> Callable[[], ASGIApp]:
    names = served_names(settings.admin_hosts)

    def build() -> ASGIApp:
        from zitadel_mock.control.admin.api import build_admin_app  # noqa: PLC0415

        return build_admin_app(
            control,
            token=settings.admin_token,
            origins=settings.cors_origins,
            names=names,
            max_body=max_body,
        )

    return build


def management_ids(settings: Settings) -> IdGenerator:
    """Ids of new projects and apps: reproducible with a seed (not the secrets' stream)."""
    if settings.seed is None:
        return IdGenerator(system_random_bytes())
    return IdGenerator(seeded_random_bytes(settings.seed + 1))


def for_v2(scope: Scope) -> bool:
    """The v2 and v2beta service prefixes, whatever the method or Content-Type."""
    return is_v2_path(scope["path"])


def for_admin(scope: Scope) -> bool:
    """The admin app's requests: ``/__mock`` and below, and ``GET /`` (a link to the page)."""
    path: str = scope["path"]
    if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
        return True
    return path == "/" and scope["method"] in ("GET", "HEAD")


def build_control(
    service: SecretService, settings: Settings
) -> tuple[ControlPlane, FixtureWatcher | None]:
    """The control plane over ``service``, its baseline the fixture file (or the demo), and the
    file's watcher if asked for."""
    path = settings.fixtures
    fixtures = load_fixtures_file(path) if path else demo()
    digest = file_digest(path)
    control = ControlPlane(
        service, fixtures, digest, settings=settings.control(), seed=settings.seed
    )
    watcher = FixtureWatcher(path, control, digest) if settings.watch and path is not None else None
    return control, watcher


def build_app(settings: Settings, store: Store | None = None) -> MockApp:
    return MockApp(build_service(settings, store), settings)


def create_app() -> MockApp:
    """Factory for server workers: settings come from the environment (Settings.to_env)."""
    return build_app(Settings.from_env())

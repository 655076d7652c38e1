"""The admin API under ``/__mock``: connexion serves ``admin.yaml`` with validation both ways.

Every change to the records goes through the fixture parser (:meth:`ControlStore.change`), so
the admin API refuses exactly what a fixture file would refuse, with the same words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import connexion
from connexion import request
from connexion.lifecycle import ConnexionResponse
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.validators import VALIDATOR_MAP
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zitadel_mock.control.admin.guard import DEFAULT_MAX_BODY, AdminGuard
from zitadel_mock.control.admin.page import PageApp
from zitadel_mock.control.admin.stream import JournalStream
from zitadel_mock.control.admin.validators import AdminParameterValidator
from zitadel_mock.control.admin.views import VIEWS, Body, queued_view, time_text
from zitadel_mock.control.outcomes import (
    DEFAULT_ROWS,
    FORCIBLE,
    Fault,
    Outcome,
    OutcomeError,
    outcome_of,
)
from zitadel_mock.control.plane import NAMESPACE_NAME, ControlPlane
from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.headers import NAMESPACE_HEADER
from zitadel_mock.domain.model import Fixtures
from zitadel_mock.fixtures.documents import Document
from zitadel_mock.fixtures.loader import FixtureError, parse_fixtures
from zitadel_mock.operations.operation import load_spec
from zitadel_mock.protocols.gateway_app import install_error_handlers
from zitadel_mock.state.store import from_micros

HTTP_METHODS: Final = frozenset({"get", "put", "post", "delete", "patch", "options", "head"})
SPEC_PATH: Final = Path(__file__).resolve().parent / "admin.yaml"
Answer = tuple[Body, int]

# Per kind of record: the document's list, the key field, and what people call one.
KINDS: Final = {
    "orgs": ("id", "org"),
    "projects": ("id", "project"),
    "apps": ("id", "app"),
    "tokens": ("name", "token"),
}
# A new plaintext replaces the stored hash (the parser takes one or the other).
HASHED: Final = {"secret": "secretHash", "token": "tokenSha256"}


class AdminHandlers:
    """One method per operationId of admin.yaml."""

    def __init__(self, control: ControlPlane) -> None:
        self.control = control

    def _ns(self) -> str:
        return self.control.namespace(request.headers.get(NAMESPACE_HEADER))

    def _state(self, ns: str) -> Body:
        fixtures = self.control.service.store.fixtures(ns)
        return {
            "namespace": ns,
            "seed": self.control.seed(),
            **{kind: [VIEWS[kind](r) for r in getattr(fixtures, kind)] for kind in KINDS},
            "outcomes": [queued_view(q) for q in self.control.store.queued(ns)],
        }

    # -- state -----------------------------------------------------------------------------

    async def get_state(self) -> Answer:
        return self._state(self._ns()), 200

    async def list_namespaces(self) -> Answer:
        ttl = self.control.settings.namespace_ttl
        names: list[Body] = [{"name": "", "lastUsed": None, "expiresAt": None}]
        for use in self.control.namespaces():
            last = from_micros(use.last_used_us)
            names.append(
                {
                    "name": use.name,
                    "lastUsed": time_text(last),
                    "expiresAt": time_text(last + timedelta(seconds=ttl)),
                }
            )
        return {"ttlSeconds": ttl, "namespaces": names}, 200

    async def delete_namespace(self, name: str) -> ConnexionResponse:
        if not NAMESPACE_NAME.fullmatch(name) or not self.control.delete_namespace(name):
            raise MockError(errors.ADMIN_NOT_FOUND, what=f"namespace {name[:80]!r}")
        return ConnexionResponse(status_code=204)

    async def reset(self, all_: bool = False) -> Answer:
        ns = self._ns()
        return {"reset": self.control.reset(None if all_ else ns)}, 200

    async def load_fixtures(self, body: Any) -> Answer:
        ns = self._ns()
        # YAML arrives as the bytes sent; JSON as connexion decoded it (already an object).
        if "content-type" not in request.headers:  # connexion hands over {} for no body at all
            raise MockError(
                errors.ADMIN_REFUSED,
                reason="the document is missing: send it as application/yaml or application/json",
            )
        json_sent = "json" in request.headers["content-type"]
        empty = not body.strip() if isinstance(body, bytes) else not (body or json_sent)
        if body is None or empty:
            raise MockError(
                errors.ADMIN_REFUSED,
                reason="the document is empty; to empty the namespace on purpose, send {}",
            )
        raw = (
            body
            if isinstance(body, bytes)
            else json.dumps(body, indent=1, ensure_ascii=False).encode()
        )
        try:
            fixtures = parse_fixtures(raw.decode("utf-8"), "the document")
        except UnicodeDecodeError:
            raise MockError(errors.ADMIN_REFUSED, reason="the document is not UTF-8") from None
        except FixtureError as exc:
            # Lines only mean something in the text that was sent.
            where = str(exc) if isinstance(body, bytes) else f"the document: {exc.problem}"
            raise MockError(errors.ADMIN_REFUSED, reason=where) from None
        with _characters_only():
            self.control.service.store.load(fixtures, ns)
        return self._state(ns), 200

    async def set_seed(self, body: Body) -> Answer:
        self.control.set_seed(body["seed"])
        return {"seed": self.control.seed()}, 200

    # -- records ---------------------------------------------------------------------------

    def _create(self, kind: str, body: Body) -> Answer:
        key_field, noun = KINDS[kind]
        key = str(body[key_field])

        def edit(document: Document) -> str:
            if any(item.get(key_field) == key for item in document[kind]):
                raise MockError(errors.ADMIN_EXISTS, what=f"{noun} {key!r}")
            document[kind].append(dict(body))
            return f"creating {noun} {key!r}"

        with _characters_only():
            changed = self.control.store.change(self._ns(), edit)
        return self._view(kind, key, changed), 201

    def _change(self, kind: str, key: str, body: Body) -> Answer:
        _, noun = KINDS[kind]

        def edit(document: Document) -> str:
            item = _find(document, kind, key)
            for name, value in body.items():
                item.pop(HASHED.get(name, name), None)
                item.pop(name, None)
                if value is not None:
                    item[name] = value
            return f"changing {noun} {key!r}"

        with _characters_only():
            changed = self.control.store.change(self._ns(), edit)
        return self._view(kind, key, changed), 200

    def _delete(self, kind: str, key: str) -> ConnexionResponse:
        _, noun = KINDS[kind]

        def edit(document: Document) -> str:
            document[kind].remove(_find(document, kind, key))
            return f"deleting {noun} {key!r}"

        self.control.store.change(self._ns(), edit)
        return ConnexionResponse(status_code=204)

    @staticmethod
    def _view(kind: str, key: str, fixtures: Fixtures) -> Body:
        key_field, _ = KINDS[kind]
        attribute = "label" if key_field == "name" else "id"
        record = next(r for r in getattr(fixtures, kind) if getattr(r, attribute) == key)
        return VIEWS[kind](record)

    async def create_org(self, body: Body) -> Answer:
        return self._create("orgs", body)

    async def change_org(self, org_id: str, body: Body) -> Answer:
        return self._change("orgs", org_id, body)

    async def delete_org(self, org_id: str) -> ConnexionResponse:
        return self._delete("orgs", org_id)

    async def create_project(self, body: Body) -> Answer:
        return self._create("projects", body)

    async def change_project(self, project_id: str, body: Body) -> Answer:
        return self._change("projects", project_id, body)

    async def delete_project(self, project_id: str) -> ConnexionResponse:
        return self._delete("projects", project_id)

    async def create_app(self, body: Body) -> Answer:
        return self._create("apps", body)

    async def change_app(self, app_id: str, body: Body) -> Answer:
        return self._change("apps", app_id, body)

    async def delete_app(self, app_id: str) -> ConnexionResponse:
        return self._delete("apps", app_id)

    async def create_token(self, body: Body) -> Answer:
        return self._create("tokens", body)

    async def change_token(self, name: str, body: Body) -> Answer:
        return self._change("tokens", name, body)

    async def delete_token(self, name: str) -> ConnexionResponse:
        return self._delete("tokens", name)

    # -- outcomes and journal --------------------------------------------------------------

    async def list_outcomes(self) -> Answer:
        return {"outcomes": [queued_view(q) for q in self.control.store.queued(self._ns())]}, 200

    async def queue_outcome(self, body: Body) -> Answer:
        ns = self._ns()
        app_id = body.get("app")
        params = {k: str(v) for k, v in body.items() if k not in ("app", "times")}
        try:
            outcome = outcome_of(params)
        except OutcomeError as exc:
            raise MockError(errors.ADMIN_REFUSED, reason=f"invalid outcome: {exc}") from None
        if app_id is not None and not any(
            a.id == app_id for a in self.control.service.store.fixtures(ns).apps
        ):
            raise MockError(errors.ADMIN_NOT_FOUND, what=f"app {app_id!r}")
        entry = self.control.enqueue(ns, app_id, int(body.get("times", 1)), outcome)
        return queued_view(entry), 201

    async def list_errors(self) -> Answer:
        rows = []
        for row in FORCIBLE:
            forced = Outcome(row=row).forced_error()
            assert forced is not None
            rows.append(
                {
                    "name": row.name,
                    "zitadelId": row.zitadel_id,
                    "status": row.status,
                    "grpcCode": int(row.code),
                    "message": forced.message,
                    "defaultFor": DEFAULT_ROWS.get(row.status) is row,
                }
            )
        return {"errors": rows, "faults": [fault.value for fault in Fault]}, 200

    async def clear_outcomes(self) -> ConnexionResponse:
        self.control.store.clear_queue(self._ns())
        return ConnexionResponse(status_code=204)

    async def read_journal(
        self, app: str | None = None, status: int | None = None, limit: int = 100
    ) -> Answer:
        entries = self.control.journal.read(self._ns(), app, status, limit)
        return {"entries": entries}, 200

    async def stream_journal(self) -> Answer:
        """Never reached: :class:`JournalStream` answers this path before connexion."""
        raise MockError(errors.ADMIN_NOT_FOUND, what="the journal stream")

    async def clear_journal(self) -> ConnexionResponse:
        self.control.journal.clear(self._ns())
        return ConnexionResponse(status_code=204)


@contextmanager
def _characters_only() -> Iterator[None]:
    """A string with a lone surrogate (a YAML escape such as "\\ud800") cannot be stored."""
    try:
        yield
    except UnicodeEncodeError:
        raise MockError(
            errors.ADMIN_REFUSED,
            reason="a string holds a lone surrogate (\\ud800-\\udfff), not a character",
        ) from None


def _find(document: Document, kind: str, key: str) -> dict[str, Any]:
    key_field, noun = KINDS[kind]
    for item in document[kind]:
        if item.get(key_field) == key:
            return item
    raise MockError(errors.ADMIN_NOT_FOUND, what=f"{noun} {key!r}")


class AllowFromSpec:
    """A 405 names in ``Allow`` every method the spec has on that path (connexion names only the
    methods of the first route that matched the path)."""

    def __init__(self, app: ASGIApp, spec_path: Path, prefix: str = "/__mock") -> None:
        self.app = app
        spec = load_spec(spec_path)
        self.paths: list[tuple[re.Pattern[str], bytes]] = []
        for template, item in spec["paths"].items():
            methods = [m.upper() for m in item if m in HTTP_METHODS]
            if "GET" in methods:
                methods.append("HEAD")
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(prefix + template))
            self.paths.append((re.compile(pattern), ", ".join(sorted(methods)).encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        allow = next((m for p, m in self.paths if p.fullmatch(path)), None)
        if allow is None:
            await self.app(scope, receive, send)
            return

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow)]}
            await send(message)

        await self.app(scope, receive, send_allow)


def build_admin_app(
    control: ControlPlane,
    spec_path: Path = SPEC_PATH,
    *,
    token: str | None = None,
    origins: tuple[str, ...] = (),
    names: Iterable[str] = (),
    max_body: int = DEFAULT_MAX_BODY,
) -> ASGIApp:
    """The admin API behind the page's files (:mod:`zitadel_mock.control.admin.page`), behind
    its gate (:mod:`zitadel_mock.control.admin.guard`)."""
    handlers = AdminHandlers(control)
    app = connexion.AsyncApp(
        __name__,
        specification_dir=spec_path.parent,
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/docs"),
        validator_map={**VALIDATOR_MAP, "parameter": AdminParameterValidator},
    )
    app.add_api(
        load_spec(spec_path),  # read by libyaml here: connexion's own reading takes 0.1 s
        resolver=Resolver(function_resolver=lambda name: getattr(handlers, name)),
        validate_responses=True,
        strict_validation=True,
        pythonic_params=True,
    )
    install_error_handlers(app)
    return AdminGuard(
        PageApp(JournalStream(AllowFromSpec(app, spec_path), control)),
        token=token,
        origins=origins,
        names=names,
        max_body=max_body,
    )

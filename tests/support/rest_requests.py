"""REST requests sent to the mock in process, and hypothesis strategies that draw them.

Requests go as ASGI calls with the raw headers and bodies a server would hand over; the mock is
built with the demo fixtures and two more tokens (one expired, the owner of the other org).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from hypothesis import strategies as st
from starlette.types import Message

from tests.conftest import (
    ACME,
    BACKEND,
    GLOBEX,
    PORTAL,
    SHOP,
    SPA,
    SSO,
    STOREFRONT,
    WEB,
    rotate_path,
)
from zitadel_mock.app import MockApp, Settings, build_app
from zitadel_mock.protocols.gateway import MAX_BODY_BYTES

DEMO = Path(__file__).resolve().parents[2] / "mockserver" / "fixtures" / "demo-fixtures.yaml"
# The demo fixtures, and two more tokens: one expired, and the owner of the other org.
EXTRA_TOKENS = """\
  - token: expired-pat
    name: expired
    user: "319487700415488006"
    org: "319487622871056385"
    expiresAt: "2024-01-01T00:00:00Z"
    memberships: [{scope: instance, roles: [IAM_OWNER]}]
  - token: globex-owner-pat
    name: globex-owner
    user: "319487700415488007"
    org: "319487622871056386"
    memberships: [{scope: org, id: "319487622871056386", roles: [ORG_OWNER]}]
"""
TOKENS = (
    "admin-pat",
    "acme-owner-pat",
    "portal-owner-pat",
    "acme-viewer-pat",
    "nobody-pat",
    "expired-pat",
    "globex-owner-pat",
)


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str  # percent-encoded path, and query if any
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:  # hypothesis' reports
        printer.text(repr(self))

    def __repr__(self) -> str:  # keep failure reports short: a 1 MiB body is not shown
        body = self.body if len(self.body) <= 80 else self.body[:40] + b"..." + self.body[-20:]
        size = len(self.body)
        return f"Request({self.method} {self.target} {list(self.headers)} {body!r} [{size} B])"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]  # sorted: the order of headers carries no meaning
    body: bytes


def write_fixtures(directory: Path) -> Path:
    path = directory / "rest-fixtures.yaml"
    path.write_text(DEMO.read_text(encoding="utf-8") + EXTRA_TOKENS, encoding="utf-8")
    return path


def build_mock(fixtures: Path, seed: int = 7) -> MockApp:
    return build_app(Settings(fixtures=fixtures, seed=seed))


async def call(app: MockApp, request: Request) -> Answer:
    raw_path, _, query = request.target.encode("ascii").partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": list(request.headers),
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
    }
    step = 64 * 1024
    chunks = [request.body[i : i + step] for i in range(0, len(request.body), step)] or [b""]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    assert start["type"] == "http.response.start", sent
    headers: list[tuple[bytes, bytes]] = list(start.get("headers", []))
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return Answer(start["status"], tuple(sorted(headers)), body)


# -- what to send ---------------------------------------------------------------------------

ODD_IDS = (
    "",
    "1" * 200,
    "9" * 201,
    "é" * 200,
    "é" * 201,
    "日本",
    " ",
    "a b",
    "..",
    "-1",
    "0",
    "319487671630840321 ",
    "\x00",
    "a\nb",
    "\r",
)
known_ids = st.sampled_from((PORTAL, SHOP, WEB, SPA, BACKEND, SSO, STOREFRONT, "999"))
segments = st.one_of(
    known_ids,
    known_ids,
    st.sampled_from(ODD_IDS).map(lambda s: quote(s, safe="")),
    st.just("a%2Fb"),
    st.just("%2F"),
    st.text(max_size=8).map(lambda s: quote(s, safe="")),
)


PAIRS = ((PORTAL, WEB), (PORTAL, SPA), (PORTAL, BACKEND), (PORTAL, SSO), (SHOP, STOREFRONT))


@st.composite
def targets(draw: st.DrawFn) -> str:
    pair = draw(st.sampled_from(PAIRS * 3) | st.tuples(segments, segments))
    path = rotate_path(*pair)
    odd = (path + "/", path + "x", path + "%0A", path.upper(), "/management/v1/x")
    path = draw(st.sampled_from((path,) * 12 + odd))
    query: str = draw(st.sampled_from(("", "", "", "?a=b", "?projectId=1", "?")))
    return f"{path}{query}"


def latin1(max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=max_size)


authorizations = st.one_of(
    st.just("Bearer admin-pat"),
    st.sampled_from([f"Bearer {t}" for t in TOKENS]),
    st.sampled_from([f"Bearer {t}" for t in TOKENS]),
    st.sampled_from(
        (
            "",
            "Bearer ",
            "Bearer  admin-pat",
            "bearer admin-pat",
            "Basic YWRtaW46eA==",
            "Bearer admin-pat Bearer x",
            "Bearer unknown",
            "Bearer admin-pat ",
            "Bearer \xe9",
        )
    ),
    latin1().map(lambda s: "Bearer " + s),
    latin1(),
)
orgs = st.one_of(st.sampled_from((ACME, GLOBEX, "42", "")), latin1())
content_types = st.sampled_from(
    (
        "application/json",
        "application/json; charset=iso-8859-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    )
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
FIXED_BODIES = (
    b"",
    b"{}",
    b" \n\t",
    b"\x0c{}",
    b"[]",
    b"null",
    b'"x"',
    b"1",
    b"{",
    b"\xff",
    b"\xef\xbb\xbf{}",
    b'{"a": NaN}',
    b'{"projectId": 1}',
    b'{"appId": "other", "app_id": null}',
    b'{"a": "\xe9"}',
    b"[" * 100_000,
    b" " * MAX_BODY_BYTES + b"{}",
    b"{" + b" " * (MAX_BODY_BYTES - 2) + b"}",
)
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(
    lambda v: json.dumps(v).encode()
)
bodies = st.one_of(
    st.sampled_from((b"{}", b"")),
    st.sampled_from((b"{}", b"")),
    objects,
    objects,
    st.sampled_from(FIXED_BODIES),
    st.binary(max_size=32),
    json_values.map(lambda v: json.dumps(v).encode()),
)


ASPECTS = (
    "method",
    "target",
    "authorization",
    "org",
    "namespace",
    "content-type",
    "body",
    "origin",
    "prefer",
)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    """A rotation that succeeds, with none, one or a few of its aspects drawn anew."""
    changed = draw(st.sets(st.sampled_from(ASPECTS), max_size=3))

    def pick(aspect: str, usual: object, strategy: st.SearchStrategy[object]) -> object:
        return draw(strategy) if aspect in changed else usual

    method = pick("method", "POST", st.sampled_from(("POST", "GET", "PUT", "DELETE", "PATCH")))
    target = pick("target", rotate_path(PORTAL, WEB), targets())
    headers: list[tuple[bytes, bytes]] = []

    def add(name: str, value: object) -> None:
        if isinstance(value, str):
            headers.append((name.encode(), value.encode("latin-1")))
        elif isinstance(value, list):
            for item in value:
                add(name, item)

    add("content-type", pick("content-type", "application/json", st.none() | content_types))
    add(
        "authorization",
        pick("authorization", "Bearer admin-pat", st.lists(authorizations, max_size=2)),
    )
    add("x-zitadel-orgid", pick("org", None, st.none() | orgs))
    add("x-mock-namespace", pick("namespace", None, st.sampled_from(("generated", "bad name!"))))
    add("origin", pick("origin", None, st.just("http://localhost:3000")))
    add("prefer", pick("prefer", None, st.sampled_from(("code=404", "code=16", "nonsense"))))
    body = pick("body", b"{}", bodies)
    assert isinstance(body, bytes)
    add("content-length", str(len(body)))
    order = draw(st.permutations(range(len(headers))))
    return Request(str(method), str(target), tuple(headers[i] for i in order), body)

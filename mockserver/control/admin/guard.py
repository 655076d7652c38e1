"""The gate in front of ``/__mock``: the control plane is no web page's toy.

A page on another site must not drive the mock through the user's browser, and a name that
resolves to loopback only for a while (DNS rebinding) must not reach it. So, for every request
to the admin API and its page:

- the ``Host`` must be one the mock is served under: an IP literal, ``localhost`` (or a name
  under ``.localhost``), the bound host, or this machine's name; else 421;
- an optional admin token (``--admin-token``): every request but the page's static files and
  the docs carries it in ``X-Mock-Admin-Token``; else 401;
- a request that changes something (any method but GET, HEAD, OPTIONS) coming from a browser
  must come from the page itself or from an origin the user allowed by name (``--cors-origin``,
  ``*`` does not count here): its ``Origin`` must be the request's own, ``Sec-Fetch-Site`` must
  not be ``cross-site``/``same-site``, and a body a plain HTML form can send (``text/plain``,
  form encodings) is refused unless the request carries ``X-Mock-Admin`` or the token; else 403.

Requests without any of these headers (curl, test clients) are served as before: browsers always
send ``Origin`` on such requests.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import socket
from collections.abc import Iterable
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_HEADER: Final = b"x-mock-admin-token"
CUSTOM_HEADER: Final = b"x-mock-admin"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
# What a form (or a fetch without preflight) may send as its Content-Type.
SIMPLE_TYPES: Final = frozenset(
    {b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"}
)
PREFIX: Final = "/__mock"
# The largest request body the admin API reads (a fixture document is the largest there is).
DEFAULT_MAX_BODY: Final = 4 * 1024 * 1024
JSON_TYPES: Final = frozenset({b"application/json"})


def served_names(bound: Iterable[str] = ()) -> frozenset[str]:
    """The host names (lower case, no port) the admin API answers under, besides IP literals."""
    names = {"localhost", *(b.lower().strip("[]") for b in bound if b)}
    with contextlib.suppress(OSError):  # no name at all
        names.add(socket.gethostname().lower())
    return frozenset(n for n in names if n and n not in ("0.0.0.0", "::"))


def host_name(host: bytes) -> str:
    """``Host`` without its port, lower case, IPv6 brackets removed."""
    text = host.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_public_file(scope: Scope) -> bool:
    """The page's static files, the note at ``/`` and the docs: served without the token."""
    if scope["method"] not in ("GET", "HEAD"):
        return False
    path: str = scope["path"]
    return path in (
        "/",
        PREFIX,
        PREFIX + "/",
        PREFIX + "/openapi.json",
        PREFIX + "/openapi.yaml",
    ) or path.startswith((PREFIX + "/page/", PREFIX + "/docs"))


Refusal = tuple[int, int, str]  # HTTP status, gRPC code, message


class AdminGuard:
    """The checks above, in front of the admin app ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None = None,
        origins: Iterable[str] = (),
        names: Iterable[str] = (),
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.token = token.encode() if token else None
        self.origins = frozenset(o.encode() for o in origins if o != "*")
        self.names = frozenset(names) or served_names()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None and scope["method"] not in ("GET", "HEAD"):
            body, refusal = await self.read(scope, receive)
            if refusal is None:
                receive = _replay(body, receive)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, message = refusal
        await _refuse(send, status, code, message)

    async def read(self, scope: Scope, receive: Receive) -> tuple[bytes, Refusal | None]:
        """The whole body, at most ``max_body`` bytes: a longer one is refused 413 as soon as it
        is known to be (its announced length, or the first chunk past the limit), unread; JSON
        that is not UTF-8 or holds a lone surrogate is refused 400 before any handler sees it."""
        headers = dict(scope["headers"])
        too_large = (413, 8, f"the request body is larger than {self.max_body} bytes")
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_body:
            return b"", too_large
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", (400, 1, "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return b"", too_large
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        kind = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        if body and (kind in JSON_TYPES or kind.endswith(b"+json")):
            return body, _json_problem(body)
        return body, None

    def refusal(self, scope: Scope) -> Refusal | None:
        """Why ``scope`` is refused, as (HTTP status, gRPC code, message), or None."""
        headers: dict[bytes, bytes] = {}
        for key, value in scope["headers"]:
            headers[key] = value
        host = headers.get(b"host") or headers.get(b":authority") or b""
        name = host_name(host)
        if not (_is_ip(name) or name in self.names or name.endswith(".localhost")):
            return 421, 7, f"the mock is not served under the host {name[:80]!r}"
        if self.token is not None and not is_public_file(scope):
            given = headers.get(TOKEN_HEADER, b"")
            if not hmac.compare_digest(given, self.token):
                return 401, 16, "the admin API needs the admin token in X-Mock-Admin-Token"
        if scope["method"] in SAFE_METHODS:
            return None
        origin = headers.get(b"origin")
        allowed = origin is not None and origin in self.origins
        if origin is not None and not allowed and not _same_origin(scope, origin, host):
            return 403, 7, "cross-site requests to the admin API are refused"
        site = headers.get(b"sec-fetch-site")
        if site in (b"cross-site", b"same-site") and not allowed:
            return 403, 7, "cross-site requests to the admin API are refused"
        kind = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        vouched = CUSTOM_HEADER in headers or self.token is not None
        if kind in SIMPLE_TYPES and not vouched:
            return (
                403,
                7,
                (
                    f"a {kind.decode('latin-1')} body is refused by the admin API (a form could "
                    "send it); send JSON or YAML, or add the header X-Mock-Admin: 1"
                ),
            )
        return None


def _json_problem(body: bytes) -> Refusal | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return 400, 3, f"the JSON body is not UTF-8 (byte {exc.start})"
    try:
        value = json.loads(text)
    except ValueError:
        return None  # connexion answers that one, naming the problem
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return 400, 3, "the JSON body holds a lone surrogate (\\ud800-\\udfff), not a character"
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _same_origin(scope: Scope, origin: bytes, host: bytes) -> bool:
    scheme: bytes = str(scope.get("scheme", "http")).encode()
    return origin.lower() == scheme + b"://" + host.lower()


async def _refuse(send: Send, status: int, code: int, message: str) -> None:
    body = json.dumps({"code": code, "message": message, "details": []}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"vary", b"Origin"),
                *([(b"connection", b"close")] if status == 413 else []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

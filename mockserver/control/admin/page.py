"""The page for people at ``/__mock/``: static files shipped in the package, no build step.

The page is only a client of the admin API (``admin.yaml``); this module serves its three files
and, at ``/``, a short HTML note linking to it. Everything else goes to the admin API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

PAGE_DIR: Final = Path(__file__).resolve().parent / "page"
PREFIX: Final = "/__mock"
TYPES: Final = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
}
# The page loads nothing from elsewhere: the policy says so to the browser too.
POLICY: Final = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
ROOT_NOTE: Final = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zitadel-mock</title></head>
<body><h1>zitadel-mock</h1>
<p>A mock of ZITADEL's Generate New OIDC Client Secret call.</p>
<ul>
<li><a href="/__mock/">The mock's page</a>: apps, tokens, the live journal, forced errors</li>
<li><a href="/docs/">The API (Swagger UI)</a></li>
<li><a href="/__mock/docs/">The control plane's API (Swagger UI)</a></li>
</ul></body></html>
"""


def _files() -> dict[str, tuple[bytes, bytes]]:
    """URL path to (content type, bytes), read once."""
    files = {f"{PREFIX}/": ("index.html", PAGE_DIR / "index.html")}
    for path in sorted(PAGE_DIR.iterdir()):
        if path.suffix in TYPES:
            files[f"{PREFIX}/page/{path.name}"] = (path.name, path)
    return {url: (TYPES[path.suffix], path.read_bytes()) for url, (_, path) in files.items()}


class PageApp:
    """Serves the page's files and the note at ``/``; hands every other request to ``admin``."""

    def __init__(self, admin: ASGIApp) -> None:
        self.admin = admin
        self.files = _files()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.admin(scope, receive, send)
            return
        if path == PREFIX:
            await _send(send, 308, b"", [(b"location", f"{PREFIX}/".encode())])
        elif path == "/":
            await _send(send, 200, ROOT_NOTE, [(b"content-type", TYPES[".html"])], scope)
        elif path in self.files:
            kind, body = self.files[path]
            headers = [
                (b"content-type", kind),
                (b"content-security-policy", POLICY),
                (b"x-content-type-options", b"nosniff"),
                (b"cache-control", b"no-cache"),
            ]
            await _send(send, 200, body, headers, scope)
        else:
            await self.admin(scope, receive, send)


async def _send(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    scope: Scope | None = None,
) -> None:
    length = str(len(body)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", length)],
        }
    )
    head = scope is not None and scope["method"] == "HEAD"
    await send({"type": "http.response.body", "body": b"" if head else body})

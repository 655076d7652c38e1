"""The bare baselines: the success answer's JSON with nothing else, on the mock's server settings.

``python -m bench.servers.baseline --port N --kind starlette`` serves one bare Starlette route (the
baseline that ratios are taken to, as the issue names it); ``--kind asgi`` serves a few lines of
raw ASGI (the ceiling of the server itself); ``--sniffing`` runs it on the mock's own protocol,
which tells HTTP/1.1 from HTTP/2 per connection. Both read the body and answer 200 with the same
fields, headers and size as the mock's success; a new JSON text is encoded for every request.
uvicorn runs as ``mockserver/server.py`` runs it: httptools, uvloop, no access log, no server
header.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

ROTATE_PATH: Final = (
    "/management/v1/projects/{projectId}/apps/{appId}/oidc_config/_generate_client_secret"
)
SECRET: Final = "x" * 64
HEADERS: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def answer(sequence: int) -> dict[str, object]:
    return {
        "clientSecret": SECRET,
        "details": {
            "sequence": str(sequence),
            "changeDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "resourceOwner": "319487622871056385",
        },
    }


def starlette_app() -> Starlette:
    counter = iter(range(1, 1 << 62))

    async def rotate(request: Request) -> Response:
        await request.body()
        return JSONResponse(answer(next(counter)), headers=HEADERS)

    return Starlette(routes=[Route(ROTATE_PATH, rotate, methods=["POST"])])


def asgi_app() -> ASGIApp:
    counter = iter(range(1, 1 << 62))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body", False):
            pass
        body = json.dumps(answer(next(counter)), separators=(",", ":")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                    (b"pragma", b"no-cache"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers.baseline")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kind", choices=["starlette", "asgi"], default="starlette")
    parser.add_argument(
        "--sniffing", action="store_true", help="the mock's protocol (mockserver/sniff.py)"
    )
    args = parser.parse_args(argv)
    app: ASGIApp = starlette_app() if args.kind == "starlette" else asgi_app()
    http: Any = "httptools"
    if args.sniffing:
        from zitadel_mock.server.sniff import SniffingProtocol  # noqa: PLC0415

        http = SniffingProtocol
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        http=http,
        loop="uvloop",
        log_level="warning",
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()

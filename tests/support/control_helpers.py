"""Helpers for control-plane tests: each test works in a namespace of its own on a live server."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import PORTAL, WEB, LiveServer, rotate_path


def fresh_ns() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"


def rotate(
    server: LiveServer,
    ns: str,
    *,
    project: str = PORTAL,
    app: str = WEB,
    token: str | None = "admin-pat",
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    sent = {"X-Mock-Namespace": ns, **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return (client or server.client).post(rotate_path(project, app), json={}, headers=sent)


def admin(
    server: LiveServer, method: str, path: str, ns: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if ns is not None:
        headers["X-Mock-Namespace"] = ns
    return server.client.request(method, f"/__mock{path}", headers=headers, **kwargs)


def state(server: LiveServer, ns: str) -> dict[str, Any]:
    response = admin(server, "GET", "/state", ns)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sequence(server: LiveServer, ns: str, project: str = PORTAL) -> int:
    return int(next(p["sequence"] for p in state(server, ns)["projects"] if p["id"] == project))


def journal(server: LiveServer, ns: str, **params: Any) -> list[dict[str, Any]]:
    response = admin(server, "GET", "/journal", ns, params=params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries

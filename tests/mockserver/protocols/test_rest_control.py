"""The control plane over REST: the operation's path is matched once per request, by one matcher,
and its project and app ids are what the journal records."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from starlette.types import Message

from tests.conftest import PORTAL, WEB, rotate_path
from zitadel_mock.app import MockApp, Settings, build_app
from zitadel_mock.protocols.rest_operation import OperationSpec


class CountingPattern:
    """The operation's compiled path, counting how often it is matched."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.matched = 0

    def fullmatch(self, path: str) -> re.Match[str] | None:
        self.matched += 1
        return self.pattern.fullmatch(path)


def post(app: MockApp, path: str) -> int:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", b"Bearer admin-pat"),
            (b"content-type", b"application/json"),
        ],
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
    }
    messages: list[Message] = [{"type": "http.request", "body": b"{}", "more_body": False}]
    statuses: list[int] = []

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(app(scope, receive, send))
    return statuses[0]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[MockApp, list[CountingPattern]]:
    """The mock, each operation's compiled REST path counting its matches."""
    patterns: list[CountingPattern] = []
    original = OperationSpec.__init__

    def counting_init(self: OperationSpec, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        patterns.append(CountingPattern(self.path))
        self.path = patterns[-1]  # type: ignore[assignment]

    monkeypatch.setattr(OperationSpec, "__init__", counting_init)
    return build_app(Settings()), patterns


def test_the_operations_path_is_matched_once_per_request(
    counted: tuple[MockApp, list[CountingPattern]],
) -> None:
    app, patterns = counted
    assert post(app, rotate_path(PORTAL, WEB)) == 200
    assert [p.matched for p in patterns] == [1]


def test_the_journal_records_the_ids_of_the_one_match(
    counted: tuple[MockApp, list[CountingPattern]],
) -> None:
    app, _ = counted
    post(app, rotate_path(PORTAL, WEB))
    entry = app.control.journal.read("")[0]
    assert (entry["projectId"], entry["appId"]) == (PORTAL, WEB)


def test_another_path_is_no_operation_for_the_control_plane(
    counted: tuple[MockApp, list[CountingPattern]],
) -> None:
    app, _ = counted
    assert post(app, "/management/v1/projects/1/apps") == 404
    entry = app.control.journal.read("")[0]
    assert (entry["projectId"], entry["appId"], entry["outcome"]) == (None, None, "error")

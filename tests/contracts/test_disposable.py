"""``--disposable-app`` end to end, offline: ``zitadel-mock verify URL --org-id ...
--disposable-app`` against the plain mock, which answers ZITADEL's AddProject, AddOIDCApp and
RemoveProject itself. The run makes a project and an OIDC app, checks the contract against it
and removes the project, whatever it found; afterwards the mock knows neither.

What the run did is read from the mock's own journal (``GET /__mock/journal``) and from its
state: no stand-in answers any call.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conftest import rotate_path
from tests.contracts.test_verify import VERIFY, run
from tests.support import broken_servers as broken
from zitadel_contract.provision import APP_ORG

REMOVED = re.compile(r"the disposable project (\d+) \(app (\d+)\) was removed")
NOT_REMOVED = re.compile(r"the disposable project (\d+) was not removed \(HTTP 403\); remove it:")
PROJECTS = "/management/v1/projects"
# The paths of AddProject, AddOIDCApp and RemoveProject (the contract's own cases rotate).
MANAGEMENT_CALL = re.compile(r"/management/v1/projects(/[0-9]+(/apps/oidc)?)?")
Wrap = Callable[[ASGIApp, str, str], ASGIApp]


@dataclass(frozen=True)
class Outcome:
    """A finished run, and what the mock it ran against says afterwards."""

    code: int
    output: str
    journal: list[tuple[str, str]]  # (method, path) of each Management API call, oldest first
    after: Callable[[str, str], tuple[int, int]]  # (rotation status, removal status) of a project


def verify_disposable(wrap: Wrap = lambda app, _token, _viewer: app) -> Outcome:
    with broken.serve(wrap) as deployment:
        result = run(
            [*VERIFY, deployment.url, "--org-id", APP_ORG, "--disposable-app", "--examples", "2"],
            env={"ZITADEL_CONTRACT_TOKEN": deployment.token},
        )
        with httpx.Client(base_url=deployment.url, timeout=10) as client:
            entries: list[dict[str, Any]] = client.get(
                "/__mock/journal", params={"limit": 1000}
            ).json()["entries"]
            headers = {"Authorization": f"Bearer {deployment.token}", "x-zitadel-orgid": APP_ORG}
            seen = {}
            for project, app in _made(result.stdout + result.stderr):
                rotated = client.post(rotate_path(project, app), json={}, headers=headers)
                removed = client.delete(f"{PROJECTS}/{project}", headers=headers)
                seen[project, app] = (rotated.status_code, removed.status_code)
    calls = [(e["method"], e["path"]) for e in entries if MANAGEMENT_CALL.fullmatch(e["path"])]
    return Outcome(
        result.returncode,
        result.stdout + result.stderr,
        calls,
        lambda project, app: seen[project, app],
    )


def _made(output: str) -> list[tuple[str, str]]:
    announced = set(re.findall(r"target: app (\d+) \(project (\d+)", output))
    return sorted((project, app) for app, project in announced)


def made(outcome: Outcome) -> tuple[str, str]:
    found = _made(outcome.output)
    assert len(found) == 1, outcome.output
    return found[0]


def test_a_disposable_app_is_made_checked_and_removed_by_the_mock() -> None:
    outcome = verify_disposable()
    assert outcome.code == 0, outcome.output
    project, app = made(outcome)
    assert outcome.journal == [
        ("POST", PROJECTS),
        ("POST", f"{PROJECTS}/{project}/apps/oidc"),
        ("DELETE", f"{PROJECTS}/{project}"),
    ]
    assert REMOVED.search(outcome.output).groups() == (project, app)  # type: ignore[union-attr]
    # Gone from the mock: its app's rotation is ZITADEL's not-found, the project's removal too.
    assert outcome.after(project, app) == (404, 404)


def test_the_disposable_app_is_removed_when_the_contract_breaks() -> None:
    outcome = verify_disposable(lambda app, _token, _viewer: broken.RepeatedSecret(app))
    assert outcome.code == 1, outcome.output
    project, app = made(outcome)
    assert outcome.journal[-1] == ("DELETE", f"{PROJECTS}/{project}")
    assert outcome.after(project, app) == (404, 404)


class RemovalRefused:
    """A mock in front of which RemoveProject is refused with 403, as a token allowed to create
    but not to delete projects would be: the run cannot remove its project."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "DELETE":
            body = b'{"code":7,"message":"No matching permissions found (AUTH-5mWD2)"}'
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_a_project_the_server_will_not_remove_is_reported_with_the_removal_by_hand() -> None:
    outcome = verify_disposable(lambda app, _token, _viewer: RemovalRefused(app))
    project, app = made(outcome)
    assert NOT_REMOVED.search(outcome.output).group(1) == project  # type: ignore[union-attr]
    assert "curl -sS -X DELETE http" in outcome.output
    assert REMOVED.search(outcome.output) is None
    # Still there: its app still rotates (the refused DELETE of the probe is 403 too).
    assert outcome.after(project, app) == (200, 403)


class WithoutManagementApi:
    """A server that answers only the generate-secret calls: AddProject is an unknown path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PROJECTS:
            body = b'{"code":5,"message":"Not Found"}'
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def test_a_server_without_the_management_api_is_refused_in_one_line() -> None:
    outcome = verify_disposable(lambda app, _token, _viewer: WithoutManagementApi(app))
    assert outcome.code == 2, outcome.output
    assert "does not create a project as ZITADEL's Management API does" in outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.journal == []

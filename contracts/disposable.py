"""A throwaway project and OIDC app for one run, made and removed with ZITADEL's Management API.

``--disposable-app`` asks ZITADEL (``AddProject``, ``AddOIDCApp``) for a project of its own in
the org of ``--org-id`` and a web app in it that authenticates with its client secret (BASIC),
checks against that app, and removes the project (``RemoveProject``) when the run ends, whatever
it found. The token must be allowed to create projects in that org (an ORG_OWNER's). The secret
ZITADEL returns with the new app is never kept: the run rotates it anyway.
"""

from __future__ import annotations

import json
import secrets
import shlex
from typing import Final

import httpx

from zitadel_contract.preflight import CREDENTIALS, USAGE, Stop
from zitadel_contract.provision import Target
from zitadel_contract.redaction import REDACTOR
from zitadel_contract.settings import Settings
from zitadel_contract.transports.http_client import http_client
from zitadel_contract.transports.token_endpoint import REDIRECT_URI

PROJECTS_PATH: Final = "/management/v1/projects"
NAME_PREFIX: Final = "zitadel-contract-disposable-"
OIDC_APP: Final = {
    "redirectUris": [REDIRECT_URI],
    "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
    "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
    "appType": "OIDC_APP_TYPE_WEB",
    "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
}


def _client(url: str, token: str, org_id: str, timeout: float) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}", "x-zitadel-orgid": org_id}
    return http_client(url, timeout, headers=headers, follow_redirects=False)


def _refused(what: str, response: httpx.Response, org_id: str) -> Stop:
    try:
        message = json.loads(response.content).get("message", "")
    except (ValueError, AttributeError):
        message = ""
    answer = f"HTTP {response.status_code}" + (f" {message[:120]!r}" if message else "")
    if response.status_code == 401:
        return Stop(CREDENTIALS, f"--disposable-app: the server refuses the token ({answer})")
    if response.status_code in (403, 404) and message and message != "Not Found":
        return Stop(
            CREDENTIALS,
            f"--disposable-app: the token may not {what} in org {org_id} ({answer}); use a "
            "token of an ORG_OWNER of that org, or check --org-id",
        )
    return Stop(
        USAGE,
        f"--disposable-app: the server does not {what} as ZITADEL's Management API does "
        f"({answer}); name an existing disposable app instead (--project-id, --app-id)",
    )


def create(settings: Settings) -> Target:
    """A new project and OIDC app; raises :class:`Stop` with one line if ZITADEL refuses."""
    assert settings.url is not None
    assert settings.token is not None
    assert settings.org_id is not None
    url = settings.url.rstrip("/")
    name = NAME_PREFIX + secrets.token_hex(4)
    with _client(url, settings.token, settings.org_id, settings.timeout) as client:
        project = client.post(PROJECTS_PATH, json={"name": name})
        if project.status_code != 200:
            raise _refused("create a project", project, settings.org_id)
        project_id = str(project.json().get("id", ""))
        app = client.post(
            f"{PROJECTS_PATH}/{project_id}/apps/oidc", json={"name": name, **OIDC_APP}
        )
        if app.status_code != 200:
            remove(url, settings.token, settings.org_id, project_id, settings.timeout)
            raise _refused("create an OIDC app", app, settings.org_id)
    made = app.json()
    REDACTOR.add(made.get("clientSecret"), "secret")
    return Target(
        url=url,
        project_id=project_id,
        app_id=str(made.get("appId", "")),
        token=settings.token,
        org_id=settings.org_id,
        client_id=made.get("clientId") or None,
        no_permission_token=settings.no_permission_token,
    )


def remove(url: str, token: str, org_id: str, project_id: str, timeout: float) -> str | None:
    """Remove the project (and its app); a line saying how to do it by hand if that failed."""
    try:
        with _client(url, token, org_id, timeout) as client:
            answer = client.delete(f"{PROJECTS_PATH}/{project_id}")
        if answer.status_code == 200:
            return None
        reason = f"HTTP {answer.status_code}"
    except httpx.TransportError as exc:
        reason = type(exc).__name__
    by_hand = (
        f"curl -sS -X DELETE {shlex.quote(url + PROJECTS_PATH + '/' + project_id)} "
        f'-H "Authorization: Bearer $ZITADEL_CONTRACT_TOKEN" -H "x-zitadel-orgid: {org_id}"'
    )
    return f"the disposable project {project_id} was not removed ({reason}); remove it: {by_hand}"

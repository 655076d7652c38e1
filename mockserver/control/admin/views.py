"""What the admin API shows of the records: JSON views, fingerprints instead of secrets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from zitadel_mock.domain.client_secrets import SecretHash
from zitadel_mock.domain.model import ROLES, App, Org, Project, Scope, Token
from zitadel_mock.domain.timestamps import protojson_timestamp
from zitadel_mock.state.control_store import Queued

Body = dict[str, Any]


def time_text(moment: datetime) -> str:
    """RFC 3339 in UTC, as protojson writes a timestamp (as the mock writes every time)."""
    return protojson_timestamp(moment)


def org_view(org: Org) -> Body:
    return {"id": org.id, "name": org.name}


def project_view(project: Project) -> Body:
    return {
        "id": project.id,
        "name": project.name,
        "org": project.org_id,
        "sequence": project.sequence,
    }


def app_view(app: App) -> Body:
    view: Body = {"id": app.id, "name": app.name, "project": app.project_id, "type": app.type.value}
    if app.auth_method is not None:
        view["authMethod"] = app.auth_method.value
    if app.client_id is not None:
        view["clientId"] = app.client_id
    if app.secret_hash is not None:
        view["secretFingerprint"] = SecretHash(app.secret_hash).fingerprint
    return view


def token_view(token: Token) -> Body:
    principal = token.principal
    granting = [m for m in principal.memberships if any(ROLES.get(r, False) for r in m.roles)]
    view: Body = {
        "name": token.label,
        "fingerprint": token.digest[:12],
        "user": principal.user_id,
        "org": principal.org_id,
        "memberships": [
            {"scope": m.scope.value, "roles": list(m.roles)}
            | ({"id": m.target_id} if m.scope is not Scope.INSTANCE else {})
            for m in principal.memberships
        ],
        "appWrite": {
            "instance": any(m.scope is Scope.INSTANCE for m in granting),
            "orgs": [m.target_id for m in granting if m.scope is Scope.ORG],
            "projects": [m.target_id for m in granting if m.scope is Scope.PROJECT],
        },
    }
    if principal.expires_at is not None:
        view["expiresAt"] = time_text(principal.expires_at)
    return view


def queued_view(entry: Queued) -> Body:
    return {"id": entry.id, "app": entry.app_id, "remaining": entry.remaining, "prefer": entry.spec}


VIEWS: Final[dict[str, Callable[[Any], Body]]] = {
    "orgs": org_view,
    "projects": project_view,
    "apps": app_view,
    "tokens": token_view,
}

"""Records back to a fixture document: the inverse of :func:`mockserver.fixtures.parse_fixtures`.

Secrets and tokens are written as the hashes the state keeps (``secretHash``, ``tokenSha256``), so
``parse_fixtures(json.dumps(to_document(f)))`` gives ``f`` back without any plaintext.
"""

from __future__ import annotations

from typing import Any

from mockserver.model import Fixtures, Scope, Token

Document = dict[str, list[dict[str, Any]]]


def to_document(fixtures: Fixtures) -> Document:
    return {
        "orgs": [{"id": o.id, "name": o.name} for o in fixtures.orgs],
        "projects": [
            {"id": p.id, "name": p.name, "org": p.org_id, "sequence": p.sequence}
            for p in fixtures.projects
        ],
        "apps": [
            _without_none(
                {
                    "id": a.id,
                    "name": a.name,
                    "project": a.project_id,
                    "type": a.type.value,
                    "authMethod": a.auth_method.value if a.auth_method else None,
                    "clientId": a.client_id,
                    "secretHash": a.secret_hash,
                }
            )
            for a in fixtures.apps
        ],
        "tokens": [_token(t) for t in fixtures.tokens],
    }


def _token(token: Token) -> dict[str, Any]:
    principal = token.principal
    return _without_none(
        {
            "tokenSha256": token.digest,
            "name": token.label,
            "user": principal.user_id,
            "org": principal.org_id,
            "expiresAt": principal.expires_at.isoformat() if principal.expires_at else None,
            "memberships": [
                _without_none(
                    {
                        "scope": m.scope.value,
                        "id": m.target_id if m.scope is not Scope.INSTANCE else None,
                        "roles": list(m.roles),
                    }
                )
                for m in principal.memberships
            ],
        }
    )


def _without_none(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}

"""The records the mock knows: organizations, projects, applications and bearer tokens."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final


class AppType(enum.StrEnum):
    OIDC = "oidc"
    API = "api"
    SAML = "saml"


class AuthMethod(enum.StrEnum):
    """OIDC token endpoint auth methods (ZITADEL's OIDC_AUTH_METHOD_TYPE_*)."""

    BASIC = "basic"
    POST = "post"
    NONE = "none"
    PRIVATE_KEY_JWT = "private_key_jwt"


class Scope(enum.StrEnum):
    """Where a membership lives: the whole instance, one organization, or one project."""

    INSTANCE = "instance"
    ORG = "org"
    PROJECT = "project"


# Roles and whether they grant project.app.write (ZITADEL cmd/defaults.yaml, InternalAuthZ).
ROLES: Final[dict[str, bool]] = {
    "IAM_OWNER": True,
    "IAM_ORG_MANAGER": True,
    "IAM_OWNER_VIEWER": False,
    "IAM_USER_MANAGER": False,
    "ORG_OWNER": True,
    "ORG_OWNER_VIEWER": False,
    "ORG_USER_MANAGER": False,
    "ORG_PROJECT_CREATOR": False,
    "ORG_USER_PERMISSION_EDITOR": False,
    "PROJECT_OWNER": True,
    "PROJECT_OWNER_GLOBAL": True,
    "PROJECT_OWNER_VIEWER": False,
    "PROJECT_OWNER_VIEWER_GLOBAL": False,
}


@dataclass(frozen=True, slots=True)
class Org:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    org_id: str
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class App:
    """An application. ``secret_hash`` is the encoded :class:`SecretHash`, never a plaintext."""

    id: str
    project_id: str
    name: str
    type: AppType
    auth_method: AuthMethod | None = None
    client_id: str | None = None
    secret_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Membership:
    scope: Scope
    roles: tuple[str, ...]
    target_id: str = ""  # the org or project id; empty for the instance


@dataclass(frozen=True, slots=True)
class Principal:
    """The user behind a bearer token: its own org and its memberships."""

    user_id: str
    org_id: str
    memberships: tuple[Membership, ...] = ()
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token as the state keeps it: by digest, with a label for people to read."""

    digest: str = field(repr=False)
    label: str
    principal: Principal


@dataclass(frozen=True, slots=True)
class Fixtures:
    """A whole fixture document, validated: what the state is loaded from."""

    orgs: tuple[Org, ...]
    projects: tuple[Project, ...]
    apps: tuple[App, ...]
    tokens: tuple[Token, ...]

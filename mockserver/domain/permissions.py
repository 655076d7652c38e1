"""Which roles grant the permissions of the Management API calls the mock serves.

Read from ZITADEL's ``cmd/defaults.yaml`` (``InternalAuthZ.RolePermissionMappings``); only the
three permissions the mock checks are kept. ``project.app.write`` is the table of
:data:`~zitadel_mock.domain.model.ROLES`, which the generate-secret calls read.
"""

from __future__ import annotations

from typing import Final

from zitadel_mock.domain.model import ROLES

PROJECT_CREATE: Final = "project.create"
PROJECT_DELETE: Final = "project.delete"
PROJECT_APP_WRITE: Final = "project.app.write"

GRANTED_BY: Final[dict[str, frozenset[str]]] = {
    PROJECT_CREATE: frozenset({"IAM_OWNER", "IAM_ORG_MANAGER", "ORG_OWNER", "ORG_PROJECT_CREATOR"}),
    PROJECT_DELETE: frozenset(
        {"IAM_OWNER", "IAM_ORG_MANAGER", "ORG_OWNER", "PROJECT_OWNER", "PROJECT_OWNER_GLOBAL"}
    ),
    PROJECT_APP_WRITE: frozenset(role for role, grants in ROLES.items() if grants),
}

"""The shared steps of ZITADEL's secret calls, each one check or one command.

Rows 1 to 7 (see :mod:`zitadel_mock.domain.errors`) are the authorization interceptor:
:meth:`SecretService.authenticate` (rows 1 to 3), :meth:`SecretService.acting_org` (row 4) and
:meth:`SecretService.check_permission` (rows 5 to 7), together :meth:`SecretService.authorize`.
Rows 10 and 11 are the command, :meth:`SecretService.rotate`. Which steps an API version takes,
and in which order, is its operation's (:mod:`zitadel_mock.operations.operation`). Time and
randomness come in from outside.

v2 and v2beta (:mod:`zitadel_mock.operations.generate_client_secret`) add three steps:
:meth:`SecretService.authenticate_in_org` (rows 3 to 7 of ZITADEL-v2.md, no permission),
:meth:`SecretService.check_app_permission` (rows 11 to 13 in the app's own org) and
:meth:`SecretService.rotate_app` (any app type, the checks inside the transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final, NamedTuple

from zitadel_mock.domain import errors
from zitadel_mock.domain.client_secrets import (
    IssuedSecrets,
    SecretGenerator,
    SecretHash,
    token_digest,
)
from zitadel_mock.domain.clock import Clock, system_clock
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.model import ROLES, AppType, Principal, Scope
from zitadel_mock.state.store import Store

BEARER_PREFIX: Final = "Bearer "


class Caller(NamedTuple):  # tuples, not frozen dataclasses: made on every call, far cheaper
    """An authorized caller and the org the call acts in (``x-zitadel-orgid`` or its own)."""

    principal: Principal
    org_id: str


class Regenerated(NamedTuple):
    """A committed rotation. ``client_secret`` is the only plaintext copy, kept out of the repr."""

    client_secret: str
    sequence: int
    change_date: datetime
    resource_owner: str

    def __repr__(self) -> str:
        return (
            f"Regenerated(sequence={self.sequence!r}, change_date={self.change_date!r},"
            f" resource_owner={self.resource_owner!r})"
        )


class SecretService:
    def __init__(self, store: Store, generator: SecretGenerator, clock: Clock = system_clock):
        self.store = store
        self.generator = generator
        self.clock = clock
        self.issued = IssuedSecrets()  # every secret this service hands out is recorded there

    def authorize(
        self, authorization: str | None, org_header: str | None, project_id: str, ns: str = ""
    ) -> Caller:
        """Rows 1 to 7: token, organization, membership, permission on ``project_id``."""
        principal = self.authenticate(authorization, ns)
        org_id = self.acting_org(principal, org_header, ns)
        self.check_permission(principal, org_id, project_id, ns)
        return Caller(principal, org_id)

    def authenticate(self, authorization: str | None, ns: str = "") -> Principal:
        """Rows 1 to 3: the ``Authorization`` header names a known token that has not expired."""
        if not authorization:
            raise MockError(errors.AUTH_HEADER_MISSING)
        parts = authorization.split(BEARER_PREFIX)
        if len(parts) != 2:
            raise MockError(errors.INVALID_AUTH_HEADER)
        principal = self.store.principal(token_digest(parts[1]), ns)
        if principal is None or (
            principal.expires_at is not None and principal.expires_at <= self.clock()
        ):
            raise MockError(errors.TOKEN_INVALID)
        return principal

    def acting_org(self, principal: Principal, org_header: str | None, ns: str = "") -> str:
        """Row 4: the org the call acts in (``x-zitadel-orgid``, else the caller's) exists."""
        org_id = org_header or principal.org_id
        if not self.store.org_exists(org_id, ns):
            raise MockError(errors.ORG_NOT_FOUND)
        return org_id

    def check_permission(
        self, principal: Principal, org_id: str, project_id: str, ns: str = ""
    ) -> None:
        """Rows 5 to 7: ``project.app.write`` in ``org_id``, globally or on ``project_id``."""
        contexts = self._write_contexts(principal, org_id, ns)
        if "" not in contexts and project_id not in contexts:
            raise MockError(errors.NO_PROJECT_PERMISSION)

    def _write_contexts(
        self,
        principal: Principal,
        org_id: str,
        ns: str,
        no_permission: errors.Row = errors.NO_PERMISSION,
    ) -> set[str]:
        """The contexts in which the caller holds project.app.write in ``org_id``.

        ``""`` stands for a global grant (instance or org membership); a project id for a grant
        scoped to that project. Raises rows 5 and 6 when there is no membership or no grant.
        """
        relevant = [
            m
            for m in principal.memberships
            if m.scope is Scope.INSTANCE
            or (m.scope is Scope.ORG and m.target_id == org_id)
            or (m.scope is Scope.PROJECT and self.store.project_org(m.target_id, ns) == org_id)
        ]
        if not relevant:
            raise MockError(errors.MEMBERSHIP_NOT_FOUND)
        contexts = {
            m.target_id if m.scope is Scope.PROJECT else ""
            for m in relevant
            for role in m.roles
            if ROLES.get(role, False)
        }
        if not contexts:
            raise MockError(no_permission)
        return contexts

    def rotate(self, caller: Caller, project_id: str, app_id: str, ns: str = "") -> Regenerated:
        """Rows 10 and 11, then the new secret: generated, hashed, committed, returned once."""
        secret = self.generator.generate()
        secret_hash = SecretHash.of(secret)
        rotation = self.store.rotate(
            project_id, app_id, caller.org_id, secret_hash.encoded, self.clock(), ns=ns
        )
        self.issued.record(secret, secret_hash)
        return Regenerated(secret, rotation.sequence, rotation.change_date, rotation.resource_owner)

    def client_secret_matches(self, client_id: str, secret: str, ns: str = "") -> bool:
        """Whether ``secret`` is the current secret of the OIDC app with ``client_id``."""
        app = self.store.app_by_client_id(client_id, ns)
        if app is None or app.type is not AppType.OIDC or app.secret_hash is None:
            return False
        return SecretHash(app.secret_hash).matches(secret)

    # -- the steps v2 and v2beta add (ZITADEL-v2.md section 4) -----------------------------

    def authenticate_in_org(
        self, authorization: str | None, org_header: str | None, ns: str = ""
    ) -> Principal:
        """Rows 3 to 7 of v2: the token, then ``x-zitadel-orgid`` (else the token's org) must
        name an existing org. No permission is checked here (``authenticated``)."""
        principal = self.authenticate(authorization, ns)
        self.acting_org(principal, org_header, ns)
        return principal

    def check_app_permission(
        self, principal: Principal, app_org: str, project_id: str, ns: str = ""
    ) -> None:
        """Rows 11 to 13: ``project.app.write`` in the app's own org, for its project."""
        contexts = self._write_contexts(principal, app_org, ns, errors.V2_NO_PERMISSION)
        if "" not in contexts and project_id not in contexts:
            raise MockError(errors.V2_NO_RESOURCE_PERMISSION)

    def rotate_app(
        self,
        project_id: str,
        app_id: str,
        check: Callable[[tuple[AppType, str] | None], None],
        ns: str = "",
    ) -> Regenerated:
        """Rows 10 to 13 through ``check`` (given the app's type and org, or None), then the
        new secret: generated only once the checks passed, hashed, committed, returned once."""
        secret: list[str] = []
        hashed: list[SecretHash] = []

        def new_hash() -> str:
            secret.append(self.generator.generate())
            hashed.append(SecretHash.of(secret[0]))
            return hashed[0].encoded

        rotation = self.store.rotate_app(
            project_id, app_id, new_hash, self.clock(), check=check, ns=ns
        )
        self.issued.record(secret[0], hashed[0])
        return Regenerated(
            secret[0], rotation.sequence, rotation.change_date, rotation.resource_owner
        )

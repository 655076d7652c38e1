"""The records of a contract run, the same for every transport.

A :class:`Call` says what to ask (which ids, which credential, which org, which body); a transport
turns it into a request and the answer into a :class:`Reply`. A reply carries the gRPC status
(code, message, details) whatever the wire, the parsed :class:`Rotation` on success, and the
wire-format problems the transport found on the way (:class:`Violation`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

ERROR_DETAIL_TYPE: Final = "type.googleapis.com/zitadel.v1.ErrorDetail"
OPERATION_PATH: Final = (
    "/management/v1/projects/{projectId}/apps/{appId}/oidc_config/_generate_client_secret"
)
# The names the suite gives to ids it makes up; no ZITADEL resource is ever named like this.
NONEXISTENT_PREFIX: Final = "zitadel-contract-nonexistent-"


class Credential(enum.Enum):
    """Which Authorization a call carries."""

    GIVEN = "given"  # Bearer <the run's token>
    NO_PERMISSION = "no-permission"  # Bearer <the token of a member without the permission>
    NONE = "none"  # no Authorization header at all
    RAW = "raw"  # Call.raw_authorization, exactly as it is


@dataclass(frozen=True, slots=True)
class Call:
    """One call of RegenerateOIDCClientSecret.

    ``extra_fields`` go into the request body (REST) and must not change the result.
    ``raw_body``, ``method`` and ``path`` exist only for REST probes; other transports answer
    them with :class:`NotApplicableError`.
    """

    project_id: str
    app_id: str
    credential: Credential = Credential.GIVEN
    raw_authorization: str | None = None
    org_id: str | None = None
    extra_fields: Mapping[str, object] = field(default_factory=dict)
    raw_body: bytes | None = None
    method: str = "POST"
    path: str | None = None


class NotApplicableError(Exception):
    """The transport cannot express this call (an HTTP method over gRPC, say)."""


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken promise: the check's id, what happened, and a command line that shows it."""

    check: str
    message: str
    reproduce: str = ""


@dataclass(frozen=True, slots=True)
class Rotation:
    """A successful answer (v1's, or v2's with only a secret and a date).

    ``client_secret`` is the only plaintext; it stays out of the repr."""

    client_secret: str = field(repr=False)
    sequence: int | None  # None: v2 and v2beta answer no sequence
    change_date: datetime  # v2 and v2beta: their creationDate
    creation_date: datetime | None
    resource_owner: str | None  # None: v2 and v2beta answer no owner


@dataclass(frozen=True, slots=True)
class Reply:
    """What came back, as a gRPC status plus the rotation on success.

    ``code`` is -1 when the answer was not a recognisable status at all; ``problems`` then says
    why. ``status`` is the HTTP status where there is one.
    """

    code: int
    message: str
    details: tuple[Mapping[str, object], ...]
    rotation: Rotation | None
    problems: tuple[Violation, ...]
    received_at: datetime
    status: int | None = None

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def first_detail_id(self) -> str | None:
        if not self.details:
            return None
        detail_id = self.details[0].get("id")
        return detail_id if isinstance(detail_id, str) else None

    def describe(self) -> str:
        """One line for messages (never a secret): HTTP status, gRPC code, message."""
        http = f"HTTP {self.status} " if self.status is not None else ""
        if self.ok:
            return f"{http}code 0 (success)"
        return f"{http}code {self.code} {self.message[:120]!r}"

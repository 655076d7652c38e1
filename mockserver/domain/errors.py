"""ZITADEL's error catalogue: one row per case, one exception type.

Every way a request can fail ends as a :class:`MockError` carrying a :class:`Row`. Transports render
it (REST as google.rpc.Status JSON, gRPC as trailers); none of them invents an error of its own.

The numbers "row 1" to "row 13" used across the mock are the order in which ZITADEL checks the v1
call, as the comments below give them with their origin in ZITADEL's sources (``zitadel/zitadel``
unless named): the message form ``<text> (<ID>)`` and the ErrorDetail are
``internal/api/grpc/gerrors/zitadel_errors.go``, the English texts ``internal/static/i18n/en.yaml``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Code(enum.IntEnum):
    """gRPC status codes (google.rpc.Code)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


# grpc-gateway's HTTPStatusFromCode (runtime/errors.go): the one table of gRPC code to HTTP status.
HTTP_STATUS: Final[dict[Code, int]] = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.UNAUTHENTICATED: 401,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
}


@dataclass(frozen=True, slots=True)
class Row:
    """One case of the catalogue.

    ``zitadel_id`` is ZITADEL's error id (``AUTH-7fs1e``); rows without one are plain gRPC statuses
    and carry no ErrorDetail. ``http_status`` overrides the table for the gateway's routing errors.
    """

    name: str
    code: Code
    text: str
    zitadel_id: str | None = None
    http_status: int | None = None

    @property
    def status(self) -> int:
        return self.http_status if self.http_status is not None else HTTP_STATUS[self.code]


# Rows 1 to 13, in the order the server checks them.
# 1 to 7: the authorization interceptor (internal/api/grpc/server/middleware/auth_interceptor.go,
# internal/api/authz/context.go, internal/api/authz/permissions.go).
AUTH_HEADER_MISSING = Row("auth_header_missing", Code.UNAUTHENTICATED, "auth header missing")
INVALID_AUTH_HEADER = Row(
    "invalid_auth_header", Code.UNAUTHENTICATED, "invalid auth header", "AUTH-toLo1"
)
TOKEN_INVALID = Row(
    "token_invalid",
    Code.UNAUTHENTICATED,
    "Errors.Token.Invalid",
    "AUTH-7fs1e",
)
ORG_NOT_FOUND = Row(
    "org_not_found", Code.PERMISSION_DENIED, "Organisation doesn't exist", "AUTH-Bs7Ds"
)
MEMBERSHIP_NOT_FOUND = Row(
    "membership_not_found", Code.NOT_FOUND, "membership not found", "AUTHZ-cdgFk"
)
NO_PERMISSION = Row(
    "no_permission", Code.PERMISSION_DENIED, "No matching permissions found", "AUTH-5mWD2"
)
NO_PROJECT_PERMISSION = Row(
    "no_project_permission", Code.PERMISSION_DENIED, "No matching permissions found", "AUTH-3jknH"
)
# 8: the validation interceptor, protoc-gen-validate's message (bufbuild/protoc-gen-validate
# templates/goshared/msg.go and string.go: ``invalid <Message>.<GoField>: <reason>``).
INVALID_ID_LENGTH = Row(
    "invalid_id_length",
    Code.INVALID_ARGUMENT,
    "invalid {message}.{field}: value length must be between {min} and {max} runes, inclusive",
)
# 9: the gateway's JSON decoding: grpc-gateway's generated handler decodes the body before it
# calls the gRPC method, so before any interceptor.
INVALID_BODY = Row("invalid_body", Code.INVALID_ARGUMENT, "{reason}")
# 10 and 11: the command (internal/command/project_application_oidc.go,
# ChangeOIDCApplicationSecret).
APP_NOT_FOUND = Row(
    "app_not_found",
    Code.NOT_FOUND,
    "Application doesn't exist",
    "COMMAND-2g66f",
)
APP_NOT_OIDC = Row(
    "app_not_oidc",
    Code.INVALID_ARGUMENT,
    "Application is not type OIDC",
    "COMMAND-Ghrh3",
)
# 12 and 13: the gateway's routing (grpc-gateway runtime/errors.go, DefaultRoutingErrorHandler).
METHOD_NOT_ALLOWED = Row(
    "method_not_allowed", Code.UNIMPLEMENTED, "Method Not Allowed", http_status=405
)
ROUTE_NOT_FOUND = Row("route_not_found", Code.NOT_FOUND, "Not Found")

# Rows of the mock's own making: protective limits and failures of the mock itself.
BODY_TOO_LARGE = Row(
    "body_too_large", Code.INVALID_ARGUMENT, "request body is larger than {limit} bytes"
)
STATE_BUSY = Row("state_busy", Code.UNAVAILABLE, "the mock's state is busy, retry the request")
STATE_LOST = Row(
    "state_lost",
    Code.UNAVAILABLE,
    "the mock's state file was deleted, replaced or cannot be written; restart the mock",
)
INTERNAL = Row("internal", Code.INTERNAL, "internal error in the mock: {reason}")

# Answers for forced codes that ZITADEL's table has no row for (Prefer: code=503, ...). The texts
# are what a Go server says in these cases (context errors) or plain English.
QUOTA_EXHAUSTED = Row(
    "quota_exhausted",
    Code.RESOURCE_EXHAUSTED,
    "Errors.Quota.Access.Exhausted",
    "QUOTA-vjAy8",
)
CANCELLED = Row("cancelled", Code.CANCELLED, "context canceled")
DEADLINE_EXCEEDED = Row("deadline_exceeded", Code.DEADLINE_EXCEEDED, "context deadline exceeded")
ABORTED = Row("aborted", Code.ABORTED, "the operation was aborted, retry it")
INTERNAL_ERROR = Row("internal_error", Code.INTERNAL, "Internal error")
UNIMPLEMENTED = Row("unimplemented", Code.UNIMPLEMENTED, "method not implemented")
UNAVAILABLE = Row("unavailable", Code.UNAVAILABLE, "the service is currently unavailable")

# The control plane's own refusals (mock headers and the /__mock admin API).
BAD_PREFER = Row("bad_prefer", Code.INVALID_ARGUMENT, "invalid Prefer header: {reason}")
BAD_NAMESPACE = Row("bad_namespace", Code.INVALID_ARGUMENT, "invalid X-Mock-Namespace: {reason}")
TOO_MANY_NAMESPACES = Row(
    "too_many_namespaces",
    Code.RESOURCE_EXHAUSTED,
    "the mock holds {limit} namespaces, each used in the last {idle} s; delete one "
    "(DELETE /__mock/namespaces/NAME) or reset all (POST /__mock/reset?all=true)",
)
ADMIN_NOT_FOUND = Row("admin_not_found", Code.NOT_FOUND, "{what} does not exist")
ADMIN_EXISTS = Row("admin_exists", Code.ALREADY_EXISTS, "{what} already exists")
ADMIN_REFUSED = Row("admin_refused", Code.INVALID_ARGUMENT, "{reason}")

# Rows of the gRPC transport: what grpc-go answers before (or instead of) the handler. Only
# gRPC and gRPC-web render them; ``http_status`` marks answers given before any gRPC response.
GRPC_NEEDS_POST = Row(
    "grpc_needs_post", Code.INTERNAL, "invalid gRPC request method {method}", http_status=405
)
GRPC_NEEDS_HTTP2 = Row("grpc_needs_http2", Code.INTERNAL, "gRPC requires HTTP/2", http_status=400)
GRPC_BAD_TIMEOUT = Row(
    "grpc_bad_timeout", Code.INTERNAL, "malformed grpc-timeout: {value}", http_status=400
)
GRPC_MALFORMED_METHOD = Row(
    "grpc_malformed_method", Code.UNIMPLEMENTED, "malformed method name: {path}"
)
GRPC_UNKNOWN_SERVICE = Row("grpc_unknown_service", Code.UNIMPLEMENTED, "unknown service {service}")
GRPC_UNKNOWN_METHOD = Row(
    "grpc_unknown_method", Code.UNIMPLEMENTED, "unknown method {method} for service {service}"
)
GRPC_UNKNOWN_ENCODING = Row(
    "grpc_unknown_encoding",
    Code.UNIMPLEMENTED,
    "grpc: Decompressor is not installed for grpc-encoding {encoding}",
)
GRPC_NO_MESSAGE = Row(
    "grpc_no_message",
    Code.INTERNAL,
    "cardinality violation: received no request message from non-client-streaming RPC",
)
GRPC_SEVERAL_MESSAGES = Row(
    "grpc_several_messages",
    Code.INTERNAL,
    "cardinality violation: received multiple request messages for non-client-streaming RPC",
)
GRPC_TRUNCATED = Row(
    "grpc_truncated",
    Code.INTERNAL,
    "unexpected EOF: the request ended inside a gRPC message ({reason})",
)
GRPC_PAYLOAD_FORMAT = Row(
    "grpc_payload_format", Code.INTERNAL, "grpc: received unexpected payload format {flags}"
)
GRPC_COMPRESSED_IDENTITY = Row(
    "grpc_compressed_identity",
    Code.INTERNAL,
    "grpc: compressed flag set with identity or empty encoding",
)
GRPC_BAD_COMPRESSION = Row(
    "grpc_bad_compression",
    Code.INTERNAL,
    "grpc: failed to decompress the received message: {reason}",
)
GRPC_TOO_LARGE = Row(
    "grpc_too_large",
    Code.RESOURCE_EXHAUSTED,
    "grpc: received message{after} larger than max ({size} vs. {limit})",
)
GRPC_BAD_MESSAGE = Row(
    "grpc_bad_message", Code.INTERNAL, "grpc: error unmarshalling request: {reason}"
)
GRPC_BAD_WEB_TEXT = Row(
    "grpc_bad_web_text", Code.INTERNAL, "grpc-web: the request body is not base64 ({reason})"
)

CATALOGUE: Final[tuple[Row, ...]] = (
    AUTH_HEADER_MISSING,
    INVALID_AUTH_HEADER,
    TOKEN_INVALID,
    ORG_NOT_FOUND,
    MEMBERSHIP_NOT_FOUND,
    NO_PERMISSION,
    NO_PROJECT_PERMISSION,
    INVALID_ID_LENGTH,
    INVALID_BODY,
    APP_NOT_FOUND,
    APP_NOT_OIDC,
    METHOD_NOT_ALLOWED,
    ROUTE_NOT_FOUND,
    BODY_TOO_LARGE,
    STATE_BUSY,
    STATE_LOST,
    INTERNAL,
    QUOTA_EXHAUSTED,
    CANCELLED,
    DEADLINE_EXCEEDED,
    ABORTED,
    INTERNAL_ERROR,
    UNIMPLEMENTED,
    UNAVAILABLE,
    BAD_PREFER,
    BAD_NAMESPACE,
    TOO_MANY_NAMESPACES,
    ADMIN_NOT_FOUND,
    ADMIN_EXISTS,
    ADMIN_REFUSED,
)
BY_NAME: Final[dict[str, Row]] = {row.name: row for row in CATALOGUE}


class MockError(Exception):
    """A request failed the way ZITADEL would fail it; ``row`` says which way."""

    def __init__(self, row: Row, **fields: str) -> None:
        self.row = row
        self.text = row.text.format(**fields) if fields else row.text
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The status message as ZITADEL writes it: ``<text> (<ID>)``, or the bare text."""
        if self.row.zitadel_id is None:
            return self.text
        return f"{self.text} ({self.row.zitadel_id})"

    @property
    def code(self) -> Code:
        return self.row.code

    @property
    def http_status(self) -> int:
        return self.row.status

    @property
    def detail(self) -> tuple[str, str] | None:
        """The ``zitadel.v1.ErrorDetail`` (id, message), or None for plain statuses."""
        if self.row.zitadel_id is None:
            return None
        return (self.row.zitadel_id, self.text)

    def __repr__(self) -> str:
        return f"MockError({self.row.name}: {self.message!r})"


ERROR_DETAIL_TYPE: Final = "type.googleapis.com/zitadel.v1.ErrorDetail"


def status_body(error: MockError) -> dict[str, object]:
    """google.rpc.Status as grpc-gateway renders it in JSON (``details`` left out when empty)."""
    body: dict[str, object] = {"code": int(error.code), "message": error.message}
    detail = error.detail
    if detail is not None:
        body["details"] = [{"@type": ERROR_DETAIL_TYPE, "id": detail[0], "message": detail[1]}]
    return body


# -- v2 and v2beta (ZITADEL-v2.md section 4), served by connect-go ----------------------------

# connect-go's code names (code.go) and its connectCodeToHTTP (protocol_connect.go): the one
# table of Connect code to HTTP status. It equals grpc-gateway's table above, entry by entry.
CONNECT_CODE: Final[dict[Code, str]] = {
    Code.CANCELLED: "canceled",
    Code.UNKNOWN: "unknown",
    Code.INVALID_ARGUMENT: "invalid_argument",
    Code.DEADLINE_EXCEEDED: "deadline_exceeded",
    Code.NOT_FOUND: "not_found",
    Code.ALREADY_EXISTS: "already_exists",
    Code.PERMISSION_DENIED: "permission_denied",
    Code.RESOURCE_EXHAUSTED: "resource_exhausted",
    Code.FAILED_PRECONDITION: "failed_precondition",
    Code.ABORTED: "aborted",
    Code.OUT_OF_RANGE: "out_of_range",
    Code.UNIMPLEMENTED: "unimplemented",
    Code.INTERNAL: "internal",
    Code.UNAVAILABLE: "unavailable",
    Code.DATA_LOSS: "data_loss",
    Code.UNAUTHENTICATED: "unauthenticated",
}
CONNECT_HTTP_STATUS: Final[dict[Code, int]] = {
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}

# Row 9 (protoc-gen-validate), per request message; only the first failure is reported.
V2_INVALID_ID_LENGTH = Row(
    "v2_invalid_id_length",
    Code.INVALID_ARGUMENT,
    "invalid GenerateClientSecretRequest.{field}: "
    "value length must be between 1 and 200 runes, inclusive",
)
V2BETA_INVALID_ID_LENGTH = Row(
    "v2beta_invalid_id_length",
    Code.INVALID_ARGUMENT,
    "invalid RegenerateClientSecretRequest.{field}: "
    "value length must be between 1 and 200 runes, inclusive",
)
V2BETA_APP_TYPE_REQUIRED = Row(
    "v2beta_app_type_required",
    Code.INVALID_ARGUMENT,
    "invalid RegenerateClientSecretRequest.AppType: value is required",
)
# Row 10: v2's ChangeApplicationSecret (unknown, removed or SAML app); v2beta uses COMMAND-2g66f,
# then COMMAND-Ghrh3 (is_oidc on a non-OIDC app) or COMMAND-aeH4 (is_api on a non-API app).
V2_APP_NOT_FOUND = Row(
    "v2_app_not_found",
    Code.NOT_FOUND,
    "Application doesn't exist",
    "COMMAND-Kd92s",
)
APP_NOT_API = Row(
    "app_not_api",
    Code.INVALID_ARGUMENT,
    "Application is not type API",
    "COMMAND-aeH4",
)
# Rows 12 and 13: the command's permission check (authz.CheckPermission).
V2_NO_PERMISSION = Row(
    "v2_no_permission", Code.PERMISSION_DENIED, "No matching permissions found", "AUTH-AWfge"
)
V2_NO_RESOURCE_PERMISSION = Row(
    "v2_no_resource_permission",
    Code.PERMISSION_DENIED,
    "No matching permissions found",
    "AUTH-Swrgg2",
)
# Row 2, reachable only as a forced outcome: the mock has no instance limits.
INSTANCE_BLOCKED = Row(
    "instance_blocked",
    Code.RESOURCE_EXHAUSTED,
    "Errors.Limits.Instance.Blocked",
    "LIMITS-molsj",
)
# Row 6, reachable only as forced outcomes: tokens the mock's fixtures cannot describe
# (impersonation tokens, users who must use MFA, apps whose origin is not allowed).
TOKEN_NOT_FOR_API = Row(
    "token_not_for_api",
    Code.PERMISSION_DENIED,
    "Errors.TokenExchange.Token.NotForAPI",
    "APP-wai8O",
)
MFA_REQUIRED = Row("mfa_required", Code.PERMISSION_DENIED, "mfa required", "AUTHZ-Kl3p0")
ORIGIN_NOT_ALLOWED = Row(
    "origin_not_allowed", Code.PERMISSION_DENIED, "Errors.OriginNotAllowed", "AUTH-DZG21"
)

# connect-go's own rows (T4 to T7 and its limits), before any ZITADEL code; never a detail.
CONNECT_UNKNOWN_COMPRESSION = Row(
    "connect_unknown_compression",
    Code.UNIMPLEMENTED,
    "unknown compression {encoding}: supported encodings are gzip",
)
CONNECT_BAD_VERSION = Row(
    "connect_bad_version",
    Code.INVALID_ARGUMENT,
    'Connect-Protocol-Version must be "1": got {version}',
)
CONNECT_BAD_TIMEOUT = Row("connect_bad_timeout", Code.INVALID_ARGUMENT, "parse timeout: {reason}")
CONNECT_BAD_GRPC_TIMEOUT = Row("connect_bad_grpc_timeout", Code.INVALID_ARGUMENT, "{reason}")
CONNECT_BAD_MESSAGE = Row(
    "connect_bad_message", Code.INVALID_ARGUMENT, "unmarshal message: {reason}"
)
CONNECT_BAD_COMPRESSION = Row("connect_bad_compression", Code.INVALID_ARGUMENT, "{stage}: {reason}")
CONNECT_TOO_LARGE = Row(
    "connect_too_large",
    Code.RESOURCE_EXHAUSTED,
    "message is larger than configured max {limit}",
)
# connect-go's gRPC and gRPC-web envelopes (envelope.go, connect.go receiveUnaryMessage).
CONNECT_ZERO_MESSAGES = Row(
    "connect_zero_messages", Code.UNIMPLEMENTED, "unary request has zero messages"
)
CONNECT_MULTIPLE_MESSAGES = Row(
    "connect_multiple_messages", Code.UNIMPLEMENTED, "unary request has multiple messages"
)
CONNECT_INCOMPLETE_ENVELOPE = Row(
    "connect_incomplete_envelope",
    Code.INVALID_ARGUMENT,
    "protocol error: incomplete envelope: unexpected EOF",
)
CONNECT_SHORT_ENVELOPE = Row(
    "connect_short_envelope",
    Code.INVALID_ARGUMENT,
    "protocol error: promised {size} bytes in enveloped message, got {got} bytes",
)
CONNECT_UNEXPECTED_COMPRESSION = Row(
    "connect_unexpected_compression",
    Code.INTERNAL,
    "protocol error: sent compressed message without compression support",
)
CONNECT_MESSAGE_SIZE = Row(
    "connect_message_size",
    Code.RESOURCE_EXHAUSTED,
    "message size {size} is larger than configured max {limit}",
)
CONNECT_EXTRA_BYTES = Row(
    "connect_extra_bytes",
    Code.INTERNAL,
    "corrupt response: {count} extra bytes after end of stream",
)

# -- Management API v1 AddProject, AddOIDCApp and RemoveProject (docs/management-api.md) -----

# protoc-gen-validate's messages for an enum (defined_only) and a duration range (gte, lte).
INVALID_ENUM = Row(
    "invalid_enum",
    Code.INVALID_ARGUMENT,
    "invalid {message}.{field}: value must be one of the defined enum values",
)
INVALID_DURATION = Row(
    "invalid_duration",
    Code.INVALID_ARGUMENT,
    "invalid {message}.{field}: value must be inside range [{min}, {max}]",
)
# internal/command/project.go: RemoveProject on a project that is unknown, removed, or owned by
# another org than the one acted in.
PROJECT_NOT_FOUND = Row("project_not_found", Code.NOT_FOUND, "Project not found", "COMMAND-3M9sd")
# internal/command/project.go checkProjectExists (the path without the "improved performance"
# feature), called by AddOIDCApplication: a failed precondition, not a NOT_FOUND.
APP_PROJECT_NOT_FOUND = Row(
    "app_project_not_found", Code.FAILED_PRECONDITION, "Project not found", "COMMAND-EbFMN"
)
# internal/command/project_application_oidc.go AddOIDCApplication: a response type without the
# grant type it needs (domain.OIDCApp.IsValid).
APP_INVALID = Row("app_invalid", Code.INVALID_ARGUMENT, "Application invalid", "PROJECT-1n8df")

MANAGEMENT_ROWS: Final[tuple[Row, ...]] = (
    INVALID_ENUM,
    INVALID_DURATION,
    PROJECT_NOT_FOUND,
    APP_PROJECT_NOT_FOUND,
    APP_INVALID,
)

V2_ROWS: Final[tuple[Row, ...]] = (
    V2_INVALID_ID_LENGTH,
    V2BETA_INVALID_ID_LENGTH,
    V2BETA_APP_TYPE_REQUIRED,
    V2_APP_NOT_FOUND,
    APP_NOT_API,
    V2_NO_PERMISSION,
    V2_NO_RESOURCE_PERMISSION,
    INSTANCE_BLOCKED,
    TOKEN_NOT_FOR_API,
    MFA_REQUIRED,
    ORIGIN_NOT_ALLOWED,
    CONNECT_UNKNOWN_COMPRESSION,
    CONNECT_BAD_VERSION,
    CONNECT_BAD_TIMEOUT,
    CONNECT_BAD_GRPC_TIMEOUT,
    CONNECT_BAD_MESSAGE,
    CONNECT_BAD_COMPRESSION,
    CONNECT_TOO_LARGE,
    CONNECT_ZERO_MESSAGES,
    CONNECT_MULTIPLE_MESSAGES,
    CONNECT_INCOMPLETE_ENVELOPE,
    CONNECT_SHORT_ENVELOPE,
    CONNECT_UNEXPECTED_COMPRESSION,
    CONNECT_MESSAGE_SIZE,
    CONNECT_EXTRA_BYTES,
)

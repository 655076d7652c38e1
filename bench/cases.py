"""What the benchmark sends: the demo fixtures' ids, the REST cases and the gRPC message."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from bench.load.loadgen import Request

ACME: Final = "319487622871056385"  # org "acme" of the demo fixtures
PORTAL: Final = "319487650192752641"  # project "portal" in it
WEB: Final = "319487671630840321"  # OIDC app "web" in it
UNKNOWN_APP: Final = "999999999999999999"
GRPC_METHOD: Final = "/zitadel.management.v1.ManagementService/RegenerateOIDCClientSecret"


def rotate_path(project: str, app: str) -> str:
    return f"/management/v1/projects/{project}/apps/{app}/oidc_config/_generate_client_secret"


def _rest(token: str | None, app: str = WEB) -> Request:
    headers = [("Content-Type", "application/json")]
    if token is not None:
        headers.append(("Authorization", f"Bearer {token}"))
    return Request("POST", rotate_path(PORTAL, app), tuple(headers), b"{}")


@dataclass(frozen=True, slots=True)
class Case:
    """One kind of request and what every answer to it must be.

    Every answer body must match ``marker_re`` (the probe checks it) and ``marker_lua``, the
    same pattern for wrk's Lua (wrk counts the answers that match). ``rotates``: every expected
    answer is a committed rotation of app "web", which the runner checks against the project's
    sequence.
    """

    label: str
    request: Request
    expected: int
    rotates: bool = False
    marker_re: bytes | None = None
    marker_lua: str | None = None


SUCCESS: Final = Case("success 200", _rest("admin-pat"), 200, rotates=True)
NO_TOKEN: Final = Case("error 401 (no token)", _rest(None), 401)
UNKNOWN: Final = Case("error 404 (unknown app)", _rest("admin-pat", UNKNOWN_APP), 404)


def grpc_message(project_id: str = PORTAL, app_id: str = WEB) -> bytes:
    """RegenerateOIDCClientSecretRequest{project_id = 1, app_id = 2} in a gRPC length prefix."""
    message = b""
    for number, value in ((1, project_id), (2, app_id)):
        data = value.encode()
        message += bytes([number << 3 | 2, len(data)]) + data  # both ids are under 128 bytes
    return b"\x00" + struct.pack(">I", len(message)) + message


GRPC_HEADERS: Final = (
    ("content-type", "application/grpc"),
    ("te", "trailers"),
    ("authorization", "Bearer admin-pat"),
)
GRPC_WEB: Final = Case(
    "gRPC-web success",
    Request(
        "POST",
        GRPC_METHOD,
        (
            ("Content-Type", "application/grpc-web+proto"),
            ("X-Grpc-Web", "1"),
            ("Authorization", "Bearer admin-pat"),
        ),
        grpc_message(),
    ),
    200,
    rotates=True,
    marker_re=rb"grpc-status:\s*0\s",
    marker_lua="grpc%-status:%s*0%s",
)
GRPC: Final = Case(
    "gRPC success",
    Request("POST", GRPC_METHOD, GRPC_HEADERS, grpc_message()),
    200,
    rotates=True,
)


# v2 GenerateClientSecret on the same app: Connect JSON, Connect binary proto, native gRPC.
V2_PATH: Final = "/zitadel.application.v2.ApplicationService/GenerateClientSecret"


def v2_message(app_id: str = WEB, project_id: str = PORTAL) -> bytes:
    """GenerateClientSecretRequest{application_id = 1, project_id = 2}, unframed."""
    message = b""
    for number, value in ((1, app_id), (2, project_id)):
        data = value.encode()
        message += bytes([number << 3 | 2, len(data)]) + data
    return message


CONNECT_JSON: Final = Case(
    "Connect JSON success (v2)",
    Request(
        "POST",
        V2_PATH,
        (("Content-Type", "application/json"), ("Authorization", "Bearer admin-pat")),
        f'{{"applicationId": "{WEB}", "projectId": "{PORTAL}"}}'.encode(),
    ),
    200,
    rotates=True,
    marker_re=rb'"clientSecret":"',
    marker_lua='"clientSecret":"',
)
CONNECT_PROTO: Final = Case(
    "Connect proto success (v2)",
    Request(
        "POST",
        V2_PATH,
        (("Content-Type", "application/proto"), ("Authorization", "Bearer admin-pat")),
        v2_message(),
    ),
    200,
    rotates=True,
)
V2_GRPC: Final = Case(
    "gRPC success (v2)",
    Request("POST", V2_PATH, GRPC_HEADERS, b"\x00" + struct.pack(">I", 40) + v2_message()),
    200,
    rotates=True,
)

"""ZITADEL's errors, each provoked on purpose: the right gRPC code for every wrong request.

Every reply also passes the checks every reply must pass (google.rpc.Status, code matching the
HTTP status, ErrorDetail, WWW-Authenticate on 401). Made-up ids carry a prefix no ZITADEL
resource has, so no probe can touch anything but the given app, and none of them rotates it.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from zitadel_contract.model import NONEXISTENT_PREFIX, Call, Credential, NotApplicableError, Reply
from zitadel_contract.session import Session

SUFFIXES = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
TOKEN_TEXT = st.text(string.ascii_letters + string.digits + "-._~+/=", min_size=1, max_size=64)
SCOPED_DENIAL = "AUTH-3jknH"  # a token scoped to one project asking about another: code 7


def send(zitadel_contract: Session, call: Call) -> Reply:
    try:
        return zitadel_contract.send(call)
    except NotApplicableError as exc:
        pytest.skip(f"{zitadel_contract.settings.transport} cannot send this probe: {exc}")


def require_expressible(zitadel_contract: Session, call: Call) -> None:
    """Skip the test before any example runs when the transport cannot send calls like this."""
    try:
        zitadel_contract.transport.reproduce(call)
    except NotApplicableError as exc:
        pytest.skip(f"{zitadel_contract.settings.transport} cannot send this probe: {exc}")


def made_up(kind: str, suffix: str) -> str:
    return f"{NONEXISTENT_PREFIX}{kind}-{suffix}"


def test_unknown_project_or_app_gives_not_found(zitadel_contract: Session) -> None:
    @zitadel_contract.hypothesis()
    @example(which="app", suffix="0")
    @given(which=st.sampled_from(["app", "project", "both"]), suffix=SUFFIXES)
    def check(which: str, suffix: str) -> None:
        project = (
            made_up("project", suffix) if which != "app" else zitadel_contract.target.project_id
        )
        app = made_up("app", suffix) if which != "project" else zitadel_contract.app_id
        call = zitadel_contract.call_on_app(project_id=project, app_id=app)
        reply = send(zitadel_contract, call)
        scoped = which != "app" and reply.code == 7 and reply.first_detail_id == SCOPED_DENIAL
        zitadel_contract.expect(
            "unknown_ids_give_not_found",
            reply.code == 5 or scoped,
            f"unknown {which} answered {reply.describe()}; expected code 5 (NOT_FOUND)",
            call,
        )

    check()


def test_missing_malformed_or_unknown_token_gives_unauthenticated(
    zitadel_contract: Session,
) -> None:
    known = {zitadel_contract.target.token, zitadel_contract.target.no_permission_token} - {None}
    headers = st.one_of(
        st.none(),
        st.builds("Bearer {}".format, TOKEN_TEXT),
        st.builds(
            "{} {}".format, st.sampled_from(["Basic", "Token", "bearer", "BEARER"]), TOKEN_TEXT
        ),
        TOKEN_TEXT,
        st.just("Bearer"),
    ).filter(lambda header: header is None or not any(t and t in header for t in known))

    @zitadel_contract.hypothesis()
    @example(header=None)
    @example(header="Bearer not-a-token")
    @given(header=headers)
    def check(header: str | None) -> None:
        credential = Credential.NONE if header is None else Credential.RAW
        call = zitadel_contract.call_on_app(credential=credential, raw_authorization=header)
        reply = send(zitadel_contract, call)
        zitadel_contract.expect(
            "bad_token_gives_unauthenticated",
            reply.code == 16 and reply.status in (None, 401),
            f"Authorization {header!r} answered {reply.describe()}; expected code 16 "
            "(UNAUTHENTICATED), HTTP 401",
            call,
        )

    check()


def test_token_without_permission_gives_permission_denied(zitadel_contract: Session) -> None:
    if zitadel_contract.target.no_permission_token is None:
        pytest.skip(
            "no token without permission given (--no-permission-token / "
            "ZITADEL_CONTRACT_NO_PERMISSION_TOKEN): a member of the app's org without "
            "project.app.write, e.g. ORG_OWNER_VIEWER (no membership at all gives code 5)"
        )
    call = zitadel_contract.call_on_app(credential=Credential.NO_PERMISSION)
    reply = send(zitadel_contract, call)
    zitadel_contract.expect(
        "token_without_permission_gives_permission_denied",
        reply.code == 7,
        f"a token without project.app.write answered {reply.describe()}; expected code 7 "
        "(PERMISSION_DENIED)",
        call,
    )


def test_unknown_org_gives_permission_denied(zitadel_contract: Session) -> None:
    @zitadel_contract.hypothesis(examples=max(1, zitadel_contract.settings.examples // 5))
    @given(suffix=SUFFIXES)
    def check(suffix: str) -> None:
        call = zitadel_contract.call_on_app(org_id=made_up("org", suffix))
        reply = send(zitadel_contract, call)
        zitadel_contract.expect(
            "unknown_org_gives_permission_denied",
            reply.code == 7,
            f"x-zitadel-orgid {call.org_id!r} answered {reply.describe()}; expected code 7",
            call,
        )

    check()


NOT_OBJECTS = st.one_of(
    st.sampled_from([b"{", b'{"a":', b"{'a': 1}", b'{"a": 1,}', b"nul", b"[", b"{}}", b'"x']),
    st.builds(
        lambda value: json.dumps(value).encode(),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=8),
            st.lists(st.integers(), max_size=3),
        ),
    ),
)


def test_body_that_is_not_a_json_object_gives_invalid_argument(zitadel_contract: Session) -> None:
    require_expressible(zitadel_contract, zitadel_contract.call_on_app(raw_body=b"{"))

    @zitadel_contract.hypothesis(examples=max(1, zitadel_contract.settings.examples // 2))
    @example(body=b"{")
    @example(body=b"[]")
    @given(body=NOT_OBJECTS)
    def check(body: bytes) -> None:
        call = zitadel_contract.call_on_app(raw_body=body)
        reply = send(zitadel_contract, call)
        zitadel_contract.expect(
            "invalid_json_gives_invalid_argument",
            reply.code == 3,
            f"body {body[:40]!r} answered {reply.describe()}; expected code 3 (INVALID_ARGUMENT)",
            call,
        )

    check()


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_another_http_method_gives_method_not_allowed(
    zitadel_contract: Session, method: str
) -> None:
    if zitadel_contract.settings.transport != "rest":
        pytest.skip("HTTP methods exist over rest only")
    call = zitadel_contract.call_on_app(method=method)
    reply = send(zitadel_contract, call)
    zitadel_contract.expect(
        "wrong_method_gives_unimplemented",
        reply.status == 405 and reply.code == 12,
        f"{method} answered {reply.describe()}; expected HTTP 405 with code 12 (UNIMPLEMENTED)",
        call,
    )


def test_unknown_path_gives_not_found(zitadel_contract: Session) -> None:
    if zitadel_contract.settings.transport != "rest":
        pytest.skip("paths exist over rest only")
    call = zitadel_contract.call_on_app(path=f"/management/v1/{made_up('path', 'probe')}")
    reply = send(zitadel_contract, call)
    zitadel_contract.expect(
        "unknown_path_gives_not_found",
        reply.status == 404 and reply.code == 5,
        f"an unknown path answered {reply.describe()}; expected HTTP 404 with code 5",
        call,
    )


def test_id_over_200_characters_gives_invalid_argument(zitadel_contract: Session) -> None:
    @zitadel_contract.hypothesis(examples=max(1, zitadel_contract.settings.examples // 5))
    @given(which=st.sampled_from(["project", "app"]), length=st.integers(201, 260))
    def check(which: str, length: int) -> None:
        long_id = made_up(which, "x" * length)[:length]
        if which == "project":
            call = zitadel_contract.call_on_app(project_id=long_id)
        else:
            call = zitadel_contract.call_on_app(app_id=long_id)
        reply = send(zitadel_contract, call)
        scoped = which == "project" and reply.code == 7 and reply.first_detail_id == SCOPED_DENIAL
        zitadel_contract.expect(
            "too_long_id_gives_invalid_argument",
            reply.code == 3 or scoped,
            f"a {length}-character {which} id answered {reply.describe()}; expected code 3",
            call,
        )

    check()

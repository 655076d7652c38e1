"""What only v2 and v2beta promise (ZITADEL-v2.md §4): their ids, raw auth errors, check order.

Everything else (error shapes, new secrets, creationDate, the token endpoint) is checked for
every reply and every rotation by the session, over whichever transport the run uses. The
plugin collects this module only for ``--api v2`` and ``--api v2beta``.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from zitadel_contract.model import NONEXISTENT_PREFIX, Credential
from zitadel_contract.session import Session
from zitadel_contract.transports.versions import api_of

pytestmark = pytest.mark.zitadel_api("v2", "v2beta")
SUFFIXES = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12)
AUTH_HEADER_MISSING = "auth header missing"


def test_unknown_app_gives_the_apis_not_found_id(zitadel_contract: Session) -> None:
    expected = api_of(zitadel_contract.settings.api).unknown_app_id

    @zitadel_contract.hypothesis(examples=max(1, zitadel_contract.settings.examples // 5))
    @example(suffix="0")
    @given(suffix=SUFFIXES)
    def check(suffix: str) -> None:
        call = zitadel_contract.call_on_app(app_id=f"{NONEXISTENT_PREFIX}app-{suffix}")
        reply = zitadel_contract.send(call)
        zitadel_contract.expect(
            "unknown_app_gives_its_zitadel_id",
            reply.code == 5 and reply.first_detail_id == expected,
            f"an unknown app answered {reply.describe()} (detail {reply.first_detail_id}); "
            f"expected code 5 (NOT_FOUND) with {expected}",
            call,
        )

    check()


def test_no_authorization_gives_auth_header_missing(zitadel_contract: Session) -> None:
    """connect-go's own error, passed through: no id, no details (row 3)."""
    call = zitadel_contract.call_on_app(credential=Credential.NONE)
    reply = zitadel_contract.send(call)
    zitadel_contract.expect(
        "missing_token_gives_auth_header_missing",
        reply.code == 16
        and reply.status in (None, 401)
        and reply.message == AUTH_HEADER_MISSING
        and not reply.details,
        f"a call without Authorization answered {reply.describe()} with "
        f"{len(reply.details)} detail(s); expected HTTP 401 unauthenticated "
        f"{AUTH_HEADER_MISSING!r} and no details",
        call,
    )


@pytest.mark.parametrize("credential", [Credential.NONE, Credential.GIVEN])
def test_authentication_comes_before_validation(
    zitadel_contract: Session, credential: Credential
) -> None:
    """An empty applicationId fails validation only once the token has been checked."""
    call = zitadel_contract.call_on_app(app_id="", credential=credential)
    reply = zitadel_contract.send(call)
    code, status = (16, 401) if credential is Credential.NONE else (3, 400)
    zitadel_contract.expect(
        "authentication_before_validation",
        reply.code == code and reply.status in (None, status),
        f"an empty applicationId {'without' if code == 16 else 'with'} a token answered "
        f"{reply.describe()}; expected HTTP {status} with code {code}",
        call,
    )

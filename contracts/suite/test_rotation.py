"""Rotations as sequences of calls: what every success promises, and that the old secret dies.

Every success is checked by the session's ledger (new secret of the configured shape, rising
sequence, changeDate forward and near now, resourceOwner the org acted in, creationDate not after
changeDate); these tests make the successes happen and add what only a sequence can show.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zitadel_contract.model import NONEXISTENT_PREFIX, Call, Reply
from zitadel_contract.session import Session
from zitadel_contract.transports.token_endpoint import METHODS, Method

ID_FIELDS = ("projectId", "project_id", "appId", "app_id")
TEXT = st.characters(codec="utf-8")  # no lone surrogates: they are a JSON question of their own
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(TEXT, max_size=16),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(TEXT, max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# Every test here rotates the app's secret; --no-rotate skips them.
pytestmark = pytest.mark.zitadel_rotates
FIELD_NAMES = st.text(TEXT, min_size=1, max_size=12).filter(lambda name: name not in ID_FIELDS)


def id_override(spellings: tuple[str, str]) -> st.SearchStrategy[dict[str, str]]:
    """Nothing, or the id under one of its two names (both at once is a duplicate field)."""
    named = st.sampled_from(spellings).map(lambda name: {name: f"{NONEXISTENT_PREFIX}{name}"})
    return st.just({}) | named


# Ids in the body are overridden by the path; these name nothing, so a server that used them
# would fail the call instead of rotating someone else's app.
ID_OVERRIDES = st.builds(
    lambda project, app: {**project, **app},
    id_override(("projectId", "project_id")),
    id_override(("appId", "app_id")),
)
EXTRA_FIELDS = st.builds(
    lambda extra, ids: {**extra, **ids},
    st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=4),
    ID_OVERRIDES,
).filter(bool)


def rotated(zitadel_contract: Session, reply: Reply, what: str, call: Call) -> bool:
    if reply.ok and reply.rotation is None:
        problem = (
            f"{what} on the given app answered {reply.describe()}, but the answer is no "
            "RegenerateOIDCClientSecretResponse (see the wire-format checks), so nothing rotated"
        )
    else:
        problem = f"{what} on the given app answered {reply.describe()}; expected a new secret"
    return zitadel_contract.expect(
        "rotation_succeeds", reply.ok and reply.rotation is not None, problem, call
    )


def test_rotations_keep_their_promises_whatever_extra_body_fields_say(
    zitadel_contract: Session,
) -> None:
    """A plain rotation, then rotations whose bodies carry extra fields: all succeed alike."""

    @zitadel_contract.hypothesis()
    @given(bodies=st.lists(EXTRA_FIELDS, min_size=1, max_size=3))
    def check(bodies: list[dict[str, object]]) -> None:
        plain = zitadel_contract.call_on_app()
        if not rotated(zitadel_contract, zitadel_contract.send(plain), "a plain call", plain):
            return
        for extra in bodies:
            call = zitadel_contract.call_on_app(extra_fields=extra)
            reply = zitadel_contract.send(call)
            zitadel_contract.expect(
                "extra_body_fields_ignored",
                reply.ok and reply.rotation is not None,
                f"a call whose body has extra fields {sorted(extra)} answered {reply.describe()},"
                " while the same call with {} succeeded",
                call,
            )

    check()


def test_previous_secret_stops_working_and_new_one_works(zitadel_contract: Session) -> None:
    """Observed at the token endpoint: old secret invalid_client, new secret past it."""
    if zitadel_contract.target.client_id is None:
        pytest.skip(
            "no client id given (--client-id / ZITADEL_CONTRACT_CLIENT_ID), so the token "
            "endpoint cannot be asked which secret works"
        )
    secrets_like = st.text(string.ascii_letters + string.digits, min_size=16, max_size=64)

    @zitadel_contract.hypothesis(examples=max(2, zitadel_contract.settings.examples // 5))
    @given(method=st.sampled_from(METHODS), made_up=secrets_like)
    def check(method: Method, made_up: str) -> None:
        # Another worker's rotation between the second call and the token endpoint's answers
        # would make the new secret rightly stale: none happens while this holds.
        with zitadel_contract.app_to_itself():
            ask_token_endpoint(zitadel_contract, method, made_up)

    check()


def ask_token_endpoint(zitadel_contract: Session, method: Method, made_up: str) -> None:
    """Two rotations, then the made-up, previous and new secret at the token endpoint."""
    call = zitadel_contract.call_on_app()
    before = zitadel_contract.send(call)
    after = zitadel_contract.send(call)
    if not (
        rotated(zitadel_contract, before, "a call", call)
        and rotated(zitadel_contract, after, "a call", call)
    ):
        return
    assert before.rotation is not None
    assert after.rotation is not None
    previous, new = before.rotation.client_secret, after.rotation.client_secret
    answers = {
        "a made-up secret": zitadel_contract.ask_token_endpoint(made_up, method),
        "the previous secret": zitadel_contract.ask_token_endpoint(previous, method),
        "the new secret": zitadel_contract.ask_token_endpoint(new, method),
    }
    for which, answer in answers.items():
        zitadel_contract.expect(
            "token_endpoint_speaks_oauth",
            answer.speaks_oauth,
            f"{which} with {method}: {answer.describe()}, not an RFC 6749 error",
            token_call=(which, method),
        )
    zitadel_contract.expect(
        "token_endpoint_speaks_oauth",
        answers["a made-up secret"].rejects_client,
        f"a made-up secret with {method} was not refused as invalid_client "
        f"({answers['a made-up secret'].describe()}), so the endpoint tells nothing (an app "
        "with auth method NONE is never asked for a secret: use a BASIC or POST app)",
        token_call=("a made-up secret", method),
    )
    zitadel_contract.expect(
        "previous_secret_rejected",
        answers["the previous secret"].rejects_client,
        f"the previous secret still authenticates with {method}: "
        f"{answers['the previous secret'].describe()}",
        token_call=("previous secret", method),
    )
    zitadel_contract.expect(
        "current_secret_accepted",
        answers["the new secret"].speaks_oauth and not answers["the new secret"].rejects_client,
        f"the new secret does not authenticate with {method}: "
        f"{answers['the new secret'].describe()}",
        token_call=("new secret", method),
    )

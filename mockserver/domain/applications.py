"""ZITADEL's rules for a new OIDC application, on the names of its settings (no protobuf here).

- Each response type needs a grant type (``domain.OIDCApp.IsValid`` and
  ``ContainsRequiredGrantTypes``): ``CODE`` needs ``AUTHORIZATION_CODE``, ``ID_TOKEN`` and
  ``ID_TOKEN_TOKEN`` need ``IMPLICIT``.
- Only the auth methods that authenticate with a secret get one (``BASIC`` and ``POST``).
- The clock skew lies between 0 and 5 seconds (protoc-gen-validate on ``clock_skew``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from zitadel_mock.domain.model import AuthMethod

REQUIRED_GRANT: Final[dict[str, str]] = {
    "OIDC_RESPONSE_TYPE_CODE": "OIDC_GRANT_TYPE_AUTHORIZATION_CODE",
    "OIDC_RESPONSE_TYPE_ID_TOKEN": "OIDC_GRANT_TYPE_IMPLICIT",
    "OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN": "OIDC_GRANT_TYPE_IMPLICIT",
}
AUTH_METHODS: Final[dict[str, AuthMethod]] = {
    "OIDC_AUTH_METHOD_TYPE_BASIC": AuthMethod.BASIC,
    "OIDC_AUTH_METHOD_TYPE_POST": AuthMethod.POST,
    "OIDC_AUTH_METHOD_TYPE_NONE": AuthMethod.NONE,
    "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT": AuthMethod.PRIVATE_KEY_JWT,
}
WITH_SECRET: Final = frozenset({AuthMethod.BASIC, AuthMethod.POST})
MAX_CLOCK_SKEW_NANOS: Final = 5 * 1_000_000_000


def grants_cover(response_types: Iterable[str], grant_types: Iterable[str]) -> bool:
    """Whether every response type's required grant type is among ``grant_types``."""
    granted = set(grant_types)
    return all(REQUIRED_GRANT[r] in granted for r in response_types if r in REQUIRED_GRANT)


def has_secret(method: AuthMethod) -> bool:
    return method in WITH_SECRET

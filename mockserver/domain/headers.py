"""Header names and values that more than one protocol writes or reads, defined once."""

from __future__ import annotations

from typing import Final

# The mock's own request header: the namespace a request acts in (see the control plane).
NAMESPACE_HEADER: Final = "x-mock-namespace"
# ZITADEL's header naming the organization a call acts in.
ORG_HEADER: Final = "x-zitadel-orgid"
# What ZITADEL adds to every successful answer (its NoCache interceptor), lower-case names.
SUCCESS_HEADERS: Final[tuple[tuple[str, str], ...]] = (
    ("cache-control", "no-store"),
    ("pragma", "no-cache"),
)
SUCCESS_HEADER_BYTES: Final[tuple[tuple[bytes, bytes], ...]] = tuple(
    (name.encode("latin-1"), value.encode("latin-1")) for name, value in SUCCESS_HEADERS
)

"""The operations the mock serves, for protocols to find by method path or spec ``operationId``.

A new operation is added to :data:`SERVED`; no protocol names an operation itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from zitadel_mock.operations.management_v1 import REGENERATE_OIDC_CLIENT_SECRET
from zitadel_mock.operations.operation import Operation

SERVED: Final[tuple[Operation, ...]] = (REGENERATE_OIDC_CLIENT_SECRET,)
BY_METHOD: Final[Mapping[str, Operation]] = {op.method: op for op in SERVED}

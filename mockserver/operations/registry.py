"""The operations the mock serves, for protocols to find by method path or spec ``operationId``.

A new operation is added to :data:`SERVED`; no protocol names an operation itself. The
Management API calls that make and remove projects and apps are :data:`MANAGED`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from zitadel_mock.operations.management_projects import MANAGEMENT, ManagementOperation
from zitadel_mock.operations.management_v1 import REGENERATE_OIDC_CLIENT_SECRET
from zitadel_mock.operations.operation import Operation

SERVED: Final[tuple[Operation, ...]] = (REGENERATE_OIDC_CLIENT_SECRET,)
BY_METHOD: Final[Mapping[str, Operation]] = {op.method: op for op in SERVED}
# AddProject, AddOIDCApp and RemoveProject: REST only, answered beside the operations above.
MANAGED: Final[tuple[ManagementOperation, ...]] = MANAGEMENT

"""The exit codes of a contract run, the same from ``zitadel-mock verify`` and the plugin.

Kept apart from :mod:`zitadel_contract.preflight` (which uses them, and names them too) so that
``zitadel-mock verify`` can check its options and show its help without loading an HTTP client.
"""

from __future__ import annotations

from typing import Final

HOLDS: Final = 0
BROKEN: Final = 1
USAGE: Final = 2
UNREACHABLE: Final = 3
CREDENTIALS: Final = 4
NOTHING_RAN: Final = 5
EXIT_CODES: Final[dict[int, str]] = {
    HOLDS: "the contract holds: every check that ran kept its promise",
    BROKEN: "broken promises: at least one check failed",
    USAGE: "usage error or safety refusal: nothing was sent",
    UNREACHABLE: "target unreachable: DNS, connection or TLS failed",
    CREDENTIALS: "credentials or app wrong: the token, ids or client id do not fit the target",
    NOTHING_RAN: "nothing ran: no case was sent (all tests deselected or skipped)",
}

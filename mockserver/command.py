"""``zitadel-mock`` (and ``python -m zitadel_mock``): ``verify`` goes to the contract kit before
anything of the mock is imported, which a CI job that only verifies does not need (about 0.4 s of
every run); every other verb goes to :mod:`zitadel_mock.cli`."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["verify"]:
        from zitadel_contract.cli import main as verify  # noqa: PLC0415

        return verify(args[1:], prog="zitadel-mock verify")
    from zitadel_mock.cli import main as mock  # noqa: PLC0415

    return mock(args)

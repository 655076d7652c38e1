"""``zitadel-mock`` (and ``python -m zitadel_mock``): ``verify`` goes to the contract kit before
anything of the mock is imported, which a CI job that only verifies does not need (about 0.4 s of
every run); every other verb goes to :mod:`zitadel_mock.cli`.

``serve`` starts with the garbage collector off: start-up builds what lives as long as the
process and frees next to nothing, so the collections it would trigger (about a hundred, some
10 ms in all) find nothing; serving turns it back on once the app is built and frozen
(:func:`zitadel_mock.server.serving.freeze_start_up`), and so does any way out.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["verify"]:
        from zitadel_contract.cli import verify_command  # noqa: PLC0415

        verify_command(args[1:], prog="zitadel-mock verify")
    if args[:1] != ["serve"]:
        return run_mock(args)
    gc.disable()
    try:
        return run_mock(args)
    finally:
        gc.enable()


def run_mock(args: list[str]) -> int:
    from zitadel_mock.cli import main as mock  # noqa: PLC0415

    return mock(args)

"""Hypothesis draws from Hypothesis' own constants only, not from constants it mines in the
modules a run happens to have imported.

Hypothesis (6.131 and later) sometimes draws a value from a pool of "local constants": every
literal in the source of every imported module that lies outside site-packages and the
standard library, parsed with ``ast`` at the first draw and again whenever new modules appear.
In a contract run that pool depends on how the kit is installed (an editable install counts
``zitadel_contract`` and ``zitadel_proto`` as local, a wheel does not) and on whatever local
modules a project's ``conftest.py`` imports, so one ``--seed`` would not give the same cases
everywhere; and each run parses those sources anew (the cache is in the storage directory,
which ``zitadel-mock verify`` makes afresh for every run: 30 to 90 ms of each process).
:func:`ignore_local_constants` makes the pool empty for the run's process: the draws that
would have picked a local constant pick one of Hypothesis' own (0, -1, "", NaN, ...) instead,
as they already do half of the time. Nothing else of the generation changes.

Hypothesis has no setting for this. Its pool is filled by one module-level function,
``hypothesis.internal.conjecture.providers._get_local_constants``, which every draw of its
default provider calls through the module; that function is what is replaced (and nothing if
a later Hypothesis no longer has it: then the run mines as Hypothesis does, and the test that
pins this, ``tests/contracts/test_local_constants.py``, fails).
"""

from __future__ import annotations

from typing import Any

from hypothesis.internal.conjecture import providers


def ignore_local_constants() -> bool:
    """Empty Hypothesis' pool of local constants in this process; False if this Hypothesis has
    no such pool (before 6.131 it had none) or not where it used to be."""
    if not callable(getattr(providers, "_get_local_constants", None)):
        return False
    try:
        from hypothesis.internal.constants_ast import Constants  # noqa: PLC0415 - 6.131 on
    except ImportError:
        return False
    empty = Constants()

    def no_local_constants() -> Any:
        return empty

    providers._get_local_constants = no_local_constants
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    clear = getattr(getattr(cache, "cache", None), "clear", None)
    if callable(clear):
        clear()  # pools already computed with local constants in them
    return True

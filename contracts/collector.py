"""The garbage collector during the start-up of a ``verify`` run.

Start-up (pytest, its plugins, schemathesis, Hypothesis, the suite collected, the preflight)
builds what lives as long as the run and frees next to nothing, yet sets off about 200
collections, 60 to 90 ms in all, before the first test. ``verify`` starts pytest with the
collector paused; the plugin resumes it once start-up is over, where it freezes what start-up
built (:func:`zitadel_contract.plugin.pytest_collection_finish`), and ``verify`` resumes it
anyway when its run ends. A collector the caller had turned off stays off.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Turn the collector off until :func:`resume`, if it is on."""
    global _paused  # noqa: PLW0603 - one collector per process
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Turn the collector back on if :func:`pause` turned it off."""
    global _paused  # noqa: PLW0603 - one collector per process
    if _paused:
        _paused = False
        gc.enable()

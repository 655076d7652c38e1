"""Hook for issue 7, item 4: the contract suite's speed (cases per second against the mock).

Not measured yet: the contract suite (``contracts/``) is being built on another branch. Once it
lands, :func:`measure` should run it twice against the demo fixtures and return two rows:
in-process (schemathesis on the ASGI app) and over a socket (a started ``zitadel-mock serve``),
each as cases run / wall seconds, with the suite's own case count taken from its JUnit report
(``--junitxml``), never estimated. The runner prints whatever this returns under its own heading.
"""

from __future__ import annotations

from pathlib import Path


def measure(root: Path) -> list[str]:
    """Markdown lines for the report: the measured rows, or why there are none."""
    suites = sorted(p.name for p in (root / "contracts").glob("test_*.py"))
    if not suites:
        return [
            "Not measured: `contracts/` holds no test suite on this branch yet "
            "(hook: `bench/contracts_speed.py`)."
        ]
    return [
        f"Not measured: `contracts/` has {', '.join(suites)}, but the runner for them is not "
        "written yet (hook: `bench/contracts_speed.py`)."
    ]

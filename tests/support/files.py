"""Files made unwritable for a test, in the way this machine allows."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


def immutable(path: Path) -> Callable[[], None]:
    """Make ``path`` unwritable (chattr +i, or mode 0444 for a non-root user); returns the undo."""
    if (
        shutil.which("chattr")
        and subprocess.run(["chattr", "+i", path], check=False).returncode == 0
    ):

        def undo() -> None:
            subprocess.run(["chattr", "-i", path], check=True)

        return undo
    if os.geteuid() == 0:
        pytest.skip("root ignores file modes and this file system has no chattr +i")
    path.chmod(0o444)
    return lambda: path.chmod(0o644)

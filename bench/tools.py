"""Load tools from Debian's packages, installed only when missing and only as root with apt."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Final

APT_TIMEOUT_S: Final = 300


def ensure(command: str, package: str) -> str | None:
    """Install ``package`` if ``command`` is missing and we may; a note if it stays missing."""
    if shutil.which(command) is not None:
        return None
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return f"{command} not installed (apt-get install {package} needs root and apt-get)"
    install = [apt, "install", "-y", "-qq", package]
    # A fresh machine may have no package lists yet: update once, then try again.
    for argv in (install, [apt, "update", "-qq"], install):
        try:
            subprocess.run(
                argv,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                capture_output=True,
                timeout=APT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"{' '.join(argv[1:3])} did not finish within {APT_TIMEOUT_S} s"
        if shutil.which(command) is not None:
            return None
    return f"apt-get install {package} failed; {command} stays missing"

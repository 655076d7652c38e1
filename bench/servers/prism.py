"""Stoplight Prism from npm, installed once into a git-ignored folder of the worktree.

Prism runs in its default static mode (answers from the spec's examples, no ``--dynamic``),
in one process (``--multiprocess`` is off by default) and with its log at ``fatal``: at ``info``
and ``warn`` it logs every request and a response-header violation of our spec for every
answer, which would slow it down for a reason that is not its mocking.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PACKAGE: Final = "@stoplight/prism-cli@5"
INSTALL_TIMEOUT_S: Final = 300


@dataclass(frozen=True, slots=True)
class Prism:
    binary: Path
    version: str

    def argv(self, spec: Path, port: int) -> list[str]:
        return [
            str(self.binary),
            "mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--verboseLevel",
            "fatal",
            str(spec),
        ]


def ensure(install_dir: Path) -> Prism | str:
    """Prism, installed if needed; or why it cannot be had (no npm, failed install)."""
    binary = install_dir / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            return "npm/node not found on PATH"
        install_dir.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(install_dir), PACKAGE],
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"npm install {PACKAGE} did not finish within {INSTALL_TIMEOUT_S} s"
        if done.returncode != 0 or not binary.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return f"npm install {PACKAGE} failed: {' / '.join(tail)}"
    manifest = install_dir / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    try:
        version = str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        version = "unknown"
    return Prism(binary, version)

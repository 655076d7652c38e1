"""Watch mode: reload the fixture file when it changes, keep the old state when it is invalid.

The file is polled (size, modification time, then a SHA-256 of its bytes): polling needs no
dependency and sees changes that file events miss (bind mounts, network drives, editors that
replace the file). A change is acted on once it has held still for one poll, so a file caught
half-written is not reported as broken.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sys
from pathlib import Path
from typing import Final

from zitadel_mock.control.plane import ControlPlane
from zitadel_mock.fixtures.loader import FixtureError, parse_fixtures

POLL_SECONDS: Final = 0.5

log = logging.getLogger("zitadel_mock.control.watch")


def file_digest(path: Path | None) -> str:
    """The digest the watcher compares: of the file's bytes, or of nothing for the demo."""
    data = path.read_bytes() if path is not None else b""
    return hashlib.sha256(data).hexdigest()


def _console() -> None:
    """Watch messages are for the person at the terminal: show them even without log config."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("zitadel-mock: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


class FixtureWatcher:
    def __init__(self, path: Path, control: ControlPlane, digest: str) -> None:
        self.path = path
        self.control = control
        self._digest = digest  # of the content now loaded (or last refused)
        self._seen = self._signature()
        self._settled = self._seen

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def check(self) -> bool:
        """Look at the file once; True if the fixtures were reloaded."""
        signature = self._signature()
        if signature != self._seen:
            self._seen = signature  # changed since the last look: wait until it holds still
            return False
        if signature == self._settled:
            return False
        self._settled = signature
        if signature is None:
            log.error("%s: cannot read the file; keeping the previous fixtures", self.path)
            return False
        data = self.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._digest:
            return False
        self._digest = digest
        try:
            fixtures = parse_fixtures(data.decode("utf-8"), str(self.path))
        except (FixtureError, UnicodeDecodeError) as exc:
            log.error("%s; keeping the previous fixtures", exc)
            return False
        names = self.control.reload(fixtures, digest)
        log.info(
            "reloaded %s (%d orgs, %d projects, %d apps, %d tokens; %d namespaces reset)",
            self.path,
            len(fixtures.orgs),
            len(fixtures.projects),
            len(fixtures.apps),
            len(fixtures.tokens),
            len(names),
        )
        return True

    async def run(self) -> None:
        _console()
        log.info("watching %s for changes", self.path)
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                self.check()
            except Exception as exc:  # keep watching whatever one look ran into
                log.error("%s: %r; keeping the previous fixtures", self.path, exc)

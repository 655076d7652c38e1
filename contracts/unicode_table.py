"""Hypothesis' table of the characters UTF-8 can encode, written before the run needs it.

Every text strategy of the suite (``st.text()``, ``st.characters(codec="utf-8")``, schemathesis'
strings) asks Hypothesis which code points UTF-8 encodes and which of them do not decode back.
Hypothesis answers by encoding and decoding all 1,114,112 code points once (about 1.4 s, more
than a third of a whole run against a local mock) and keeps the answer in its storage directory,
which ``zitadel-mock verify`` makes anew for every run. The answer is known without the scan:
UTF-8 encodes every code point except the surrogates U+D800 to U+DFFF, and everything it
encodes decodes back. :func:`seed_utf8_table` writes that answer where Hypothesis looks for it,
in the form it writes itself, unless a table is already there. The characters drawn are the
same; only the scan is saved. Should Hypothesis move or rename its table, the file written here
is simply never read and Hypothesis scans as before.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import tempfile
from pathlib import Path
from typing import Final

from hypothesis.internal.charmap import charmap_file

SURROGATES: Final = (0xD800, 0xDFFF)
LAST_CODE_POINT: Final = 0x10FFFF
# (first, last) code point ranges: what UTF-8 encodes, and the part of it that does not
# decode back to the same character (none).
UTF8_ENCODABLE: Final = ((0, SURROGATES[0] - 1), (SURROGATES[1] + 1, LAST_CODE_POINT))
UTF8_NOT_ROUND_TRIPPING: Final[tuple[tuple[int, int], ...]] = ()
TABLE_NAME: Final = "codec-v2-utf-8"  # the name Hypothesis gives its UTF-8 table


def utf8_table_path() -> Path:
    """Where Hypothesis reads its UTF-8 table in the current storage directory."""
    return charmap_file(TABLE_NAME)


def seed_utf8_table() -> bool:
    """Write the UTF-8 table unless one is there; True if this call wrote it.

    Written atomically (a concurrent run never reads half a file); a storage directory that
    cannot be written is left to Hypothesis, which then scans as it would have.
    """
    path = utf8_table_path()
    if path.exists():
        return False
    document = json.dumps([list(map(list, UTF8_ENCODABLE)), list(UTF8_NOT_ROUND_TRIPPING)])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=1) as out:
            out.write(document.encode())
        os.replace(scratch, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
        return False
    return True

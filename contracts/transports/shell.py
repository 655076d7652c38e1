"""Shell words for reproduce lines that send bytes curl cannot take on its command line."""

from __future__ import annotations

from typing import Final

PRINTABLE: Final = frozenset(range(0x20, 0x7F))


def printf_words(data: bytes) -> list[str]:
    """A shell ``printf`` that writes exactly ``data``."""
    out = []
    for byte in data:
        if byte == 0x25:
            out.append("%%")
        elif byte == 0x5C:
            out.append("\\\\")
        elif byte in PRINTABLE and byte != 0x27:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return ["printf", "'" + "".join(out) + "'"]

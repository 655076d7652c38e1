"""Secrets out of every report: known values by name, and anything shaped like one.

Every token the run is given and every client secret it receives is registered with the
:data:`REDACTOR` before anything can print it. :meth:`Redactor.redact` replaces those values (and
their JSON- and URL-escaped forms), and also anything that looks like a secret whether or not the
run saw it (a ``clientSecret`` JSON field, a ``client_secret`` form field, a Bearer or Basic
credential): a secret in a response the run did not read, say one a schemathesis probe got, is
caught too.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Final
from urllib.parse import quote, quote_plus

MIN_SECRET_LENGTH: Final = 4
_PATTERNS: Final = (
    (re.compile(r'("clientSecret"\s*:\s*")((?:[^"\\]|\\.)*)(")'), r"\1<redacted>\3"),
    (re.compile(r"('clientSecret'\s*:\s*')((?:[^'\\]|\\.)*)(')"), r"\1<redacted>\3"),
    (re.compile(r"(client_secret=)([^&\s'\"]+)"), r"\1<redacted>"),
    (re.compile(r"\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]+"), r"\1\2<redacted>"),
)


class Redactor:
    """A set of secret values, each with a label to show in its place. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._labels: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str | None, label: str) -> None:
        """Register ``secret``; from now on it shows as ``<redacted:label>``."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        variants = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}
        with self._lock:
            for variant in variants:
                self._labels.setdefault(variant, label)
            self._pattern = None

    def clear(self) -> None:
        with self._lock:
            self._labels.clear()
            self._pattern = None

    def redact(self, text: str) -> str:
        with self._lock:
            if self._pattern is None and self._labels:
                ordered = sorted(self._labels, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            pattern, labels = self._pattern, dict(self._labels)
        if pattern is not None:
            text = pattern.sub(lambda m: f"<redacted:{labels[m.group(0)]}>", text)
        for shape, replacement in _PATTERNS:
            text = shape.sub(replacement, text)
        return text


REDACTOR: Final = Redactor()

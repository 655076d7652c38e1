"""The request journal: what each request sent, with credentials replaced by fingerprints.

Entries are buffered in memory and written in batches (one transaction per batch, at the latest
:data:`FLUSH_DELAY` seconds after the first entry of a batch), so that recording costs a request
no write of its own. Reads flush this process's buffer first.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from zitadel_mock.domain.client_secrets import token_digest, word_digest
from zitadel_mock.domain.errors import MockError
from zitadel_mock.domain.timestamps import protojson_timestamp
from zitadel_mock.state.control_store import ControlStore
from zitadel_mock.state.store import from_micros

log = logging.getLogger("zitadel_mock.control.journal")

FLUSH_DELAY: Final = 0.2
BATCH: Final = 256
# Entries kept for the next batch while the state cannot take them (busy, full disk, lost); older
# ones are dropped, counted and logged, so a failing disk never piles them up in memory.
MAX_BUFFER: Final = BATCH
LOG_EVERY: Final = 10.0  # seconds between two lines about a journal that cannot be written
REDACTED: Final = "<redacted>"
SENSITIVE_HEADERS: Final = frozenset(
    {"cookie", "set-cookie", "proxy-authorization", "x-api-key", "x-mock-admin-token"}
)
SENSITIVE_PARAMS: Final = ("token", "secret", "password", "key")
# A header whose name holds one of these carries a credential, whatever the rest of its name.
SENSITIVE_NAME_PARTS: Final = (
    "auth",
    "token",
    "secret",
    "password",
    "passwd",
    "cookie",
    "key",
    "session",
    "credential",
    "signature",
    "jwt",
    "bearer",
)
# Values longer than this are not searched for a live secret (a header is at most 64 KiB).
MAX_SEARCHED: Final = 4096
# What splits a header value into the words that are each compared to the live secrets.
WORDS: Final = re.compile(r"[^\s,;=:\"']+")
MIN_SECRET: Final = 6
# What one entry keeps at most, so that the journal is bounded in bytes, not only in entries:
# header values and the target are cut (saying how much was left out), headers past the count
# are counted under OMITTED.
MAX_KEPT_VALUE: Final = 512
MAX_KEPT_HEADERS: Final = 64
MAX_KEPT_TARGET: Final = 2048
OMITTED: Final = "<omitted>"

IsSecret = Callable[[str], bool]


def fingerprint(token: str) -> str:
    """The short name of a bearer token, as the admin state shows it."""
    return token_digest(token)[:12]


class _Fingerprints:
    """The redacted ``Authorization`` values of the bearer tokens seen lately, each by a keyed
    digest of the token (never the token): a client sends the same token on every call."""

    MAX: Final = 1024

    def __init__(self) -> None:
        self._digest = word_digest()
        self._known: dict[int, str] = {}

    def __call__(self, token: str) -> str:
        key = self._digest(token)
        redacted = self._known.get(key)
        if redacted is None:
            if len(self._known) >= self.MAX:
                self._known.clear()
            redacted = self._known[key] = f"Bearer <sha256:{fingerprint(token)}>"
        return redacted


_bearer = _Fingerprints()


def redact_authorization(value: str) -> str:
    """``Bearer <sha256:…>`` for a bearer token, ``<scheme> <redacted>`` for anything else."""
    scheme, sep, credentials = value.partition(" ")
    if not sep:
        return REDACTED if value else ""
    if scheme == "Bearer" and credentials:
        return _bearer(credentials)
    return f"{scheme} {REDACTED}"


_SENSITIVE_PART: Final = re.compile("|".join(SENSITIVE_NAME_PARTS))


@functools.lru_cache(maxsize=1024)  # header names repeat from request to request
def sensitive_name(name: str) -> bool:
    return name in SENSITIVE_HEADERS or _SENSITIVE_PART.search(name) is not None


def holds_secret(value: str, is_secret: IsSecret | None) -> bool:
    """Whether ``value``, or a word of it, is a live secret or token (or too long to tell)."""
    if is_secret is None or len(value) < MIN_SECRET:
        return False
    if len(value) > MAX_SEARCHED:
        return True
    words = WORDS.findall(value)
    if len(words) == 1 and words[0] == value:  # one word: asked once
        return is_secret(value)
    return is_secret(value) or any(is_secret(word) for word in words if len(word) >= MIN_SECRET)


def redact_headers(
    headers: Iterable[tuple[str, str]], holds: IsSecret | None = None
) -> dict[str, str]:
    """Headers by lower-case name (repeated ones joined with ", "), credentials redacted: the
    ``Authorization`` header as a fingerprint, every header whose name says it holds a credential,
    and every value that is (or holds) a live client secret or token, whatever its name
    (``holds``: :func:`holds_secret` over the live secrets, or a cache of it)."""
    out: dict[str, str] = {}
    omitted = 0
    for raw_name, raw_value in headers:
        name = raw_name.lower()[:MAX_KEPT_VALUE]
        if name not in out and len(out) >= MAX_KEPT_HEADERS:
            omitted += 1
            continue
        if name == "authorization":
            value = redact_authorization(raw_value)
        elif sensitive_name(name) or (holds is not None and holds(raw_value)):
            value = REDACTED
        else:
            value = cut(raw_value, MAX_KEPT_VALUE)
        out[name] = cut(f"{out[name]}, {value}", MAX_KEPT_VALUE) if name in out else value
    if omitted:
        out[OMITTED] = f"{omitted} more headers"
    return out


def cut(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit} characters)"


def redact_target(path: str, query: str, holds: IsSecret | None = None) -> str:
    """The request target with the values of credential-like query parameters redacted (and of
    any parameter whose value holds a live secret, as ``holds`` tells)."""
    if not query:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    safe = [
        (
            k,
            REDACTED
            if any(s in k.lower() for s in SENSITIVE_PARAMS) or (holds is not None and holds(v))
            else v,
        )
        for k, v in pairs
    ]
    return f"{path}?{urlencode(safe, safe='<>')}"


def redact_live(target: str, holds: IsSecret) -> str:
    """``target`` (already through :func:`redact_target`) with live secrets in its query too,
    cut to :data:`MAX_KEPT_TARGET` characters."""
    path, sep, query = target.partition("?")
    return cut(redact_target(path, query, holds) if sep else target, MAX_KEPT_TARGET)


class Journal:
    """A bounded journal: the newest ``keep`` entries of each namespace, written in batches."""

    def __init__(self, store: ControlStore, keep: int) -> None:
        self.store = store
        self.keep = keep
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.dropped = 0  # entries never written, since the start
        self._logged_at = -LOG_EVERY

    @property
    def enabled(self) -> bool:
        return self.keep > 0

    def add(self, entry: dict[str, Any]) -> bool:
        """Buffer ``entry``; True when it starts a batch (the caller schedules :meth:`flush`)."""
        with self._lock:
            self._buffer.append(entry)
            size = len(self._buffer)
        if size >= BATCH:
            self.flush()
        return size == 1

    def flush(self) -> None:
        with self._lock:
            entries, self._buffer = self._buffer, []
        if not entries:
            return
        try:
            self.store.append_journal(entries, self.keep)
        except MockError as exc:
            with self._lock:
                merged = entries + self._buffer  # the newest are kept
                self._buffer = merged[-MAX_BUFFER:]
                kept = len(self._buffer)
                dropped = len(merged) - kept
                self.dropped += dropped
            now = time.monotonic()
            if now - self._logged_at >= LOG_EVERY:  # a failing disk fails every batch
                self._logged_at = now
                log.warning(
                    "journal: the state cannot take entries (%s); %d wait for the next batch,"
                    " %d dropped now, %d since the start",
                    exc.row.name,
                    kept,
                    dropped,
                    self.dropped,
                )

    def read(
        self,
        ns: str,
        app_id: str | None = None,
        status: int | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """Oldest first: the newest ``limit`` entries, or the first ``limit`` after id ``after``."""
        self.flush()
        entries = self.store.journal(ns, app_id, status, limit, after)
        for entry in entries:
            entry["time"] = protojson_timestamp(from_micros(entry["time"]))
        return entries

    def clear(self, ns: str) -> None:
        self.flush()
        self.store.clear_journal(ns)

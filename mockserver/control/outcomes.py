"""Forced outcomes: the ``Prefer`` grammar, the closed set of faults, the row that answers a code.

An :class:`Outcome` is what one ``Prefer`` header or one queued entry asks for: a row of the error
catalogue to answer, a delay (fixed or a range, in milliseconds), or a fault. Its canonical text
(:attr:`Outcome.spec`) is itself a valid ``Prefer`` value; the queue stores outcomes that way.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from zitadel_mock.domain import errors
from zitadel_mock.domain.errors import MockError, Row
from zitadel_mock.operations.management_v1 import REGENERATE_OIDC_CLIENT_SECRET


class Fault(enum.StrEnum):
    """What can go wrong below HTTP. docs/frontend.md "Faults" says what a client sees."""

    CLOSE = "close"  # connection closed before any byte of a response; nothing runs
    LOST = "lost"  # the call runs (a success rotates), then the connection closes unanswered
    EMPTY = "empty"  # 200 with Content-Length: 0; nothing runs
    TRUNCATE = "truncate"  # the call runs; status, headers, half the body, then close
    STALL = "stall"  # 200 and headers, then nothing until the client gives up; nothing runs


MAX_DELAY_MS: Final = 60_000
MAX_HEADER_LENGTH: Final = 1000

# The row a forced HTTP status answers with (docs/frontend.md "Forcing an outcome"). 400 to 405
# are rows of ZITADEL's table for this call; the others are statuses grpc-gateway maps a code to.
DEFAULT_ROWS: Final[dict[int, Row]] = {
    400: errors.APP_NOT_OIDC,
    401: errors.TOKEN_INVALID,
    403: errors.NO_PERMISSION,
    404: errors.APP_NOT_FOUND,
    405: errors.METHOD_NOT_ALLOWED,
    409: errors.ABORTED,
    429: errors.QUOTA_EXHAUSTED,
    499: errors.CANCELLED,
    500: errors.INTERNAL_ERROR,
    501: errors.UNIMPLEMENTED,
    503: errors.UNAVAILABLE,
    504: errors.DEADLINE_EXCEEDED,
}
# Rows that ``error=`` may name: ZITADEL's table and the rows above, not the mock's own refusals.
_TABLE: Final = errors.CATALOGUE[: errors.CATALOGUE.index(errors.ROUTE_NOT_FOUND) + 1]
FORCIBLE: Final[tuple[Row, ...]] = (
    *_TABLE,
    *(row for row in DEFAULT_ROWS.values() if row not in _TABLE),
)
_BY_KEY: Final[dict[str, Row]] = {
    **{row.name.lower(): row for row in FORCIBLE},
    **{row.zitadel_id.lower(): row for row in FORCIBLE if row.zitadel_id},
    # v2's own ids (error=COMMAND-Kd92s, error=LIMITS-molsj); codes keep v1's rows, which the
    # v2 operations translate into their own (operations.generate_client_secret).
    **{row.zitadel_id.lower(): row for row in errors.V2_ROWS if row.zitadel_id},
}
# What a forced row fills its template with: the texts ZITADEL would send in that case.
# What a forced row says where its text has blanks: the v1 operation's first id rule.
FORCED_FIELDS: Final = {
    **REGENERATE_OIDC_CLIENT_SECRET.fields[0].refusal_fields(
        REGENERATE_OIDC_CLIENT_SECRET.request.DESCRIPTOR.name
    ),
    "reason": "unexpected EOF",
}
# RFC 7240 / 8144 preferences a client may send for its own reasons: ignored, never refused.
STANDARD_PREFERENCES: Final = frozenset({"return", "respond-async", "wait", "handling"})
KNOWN: Final = ("code", "error", "delay", "fault")
_DELAY: Final = re.compile(r"(\d+)(?:-(\d+))?")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One forced outcome. ``row`` None with no fault means "answer as usual" (after the delay)."""

    row: Row | None = None
    delay: tuple[int, int] | None = None
    fault: Fault | None = None

    @property
    def spec(self) -> str:
        """The outcome as a ``Prefer`` value, e.g. ``error=app_not_found, delay=100-500``."""
        parts = []
        if self.row is not None:
            parts.append(f"error={self.row.name}")
        if self.fault is not None:
            parts.append(f"fault={self.fault}")
        if self.delay is not None:
            low, high = self.delay
            parts.append(f"delay={low}" if low == high else f"delay={low}-{high}")
        return ", ".join(parts) or "code=200"

    def draw_delay_ms(self, rng: random.Random) -> int:
        if self.delay is None:
            return 0
        low, high = self.delay
        return low if low == high else rng.randint(low, high)

    def forced_error(self) -> MockError | None:
        """The error to answer, exactly as ZITADEL words it, or None."""
        if self.row is None:
            return None
        fields = {k: v for k, v in FORCED_FIELDS.items() if "{" + k + "}" in self.row.text}
        return MockError(self.row, **fields)


class OutcomeError(ValueError):
    """An outcome that cannot be: the message names the problem."""


def parse_prefer(values: Iterable[str]) -> Outcome | None:
    """The outcome the ``Prefer`` header values ask for; None when they ask for none.

    Raises MockError(BAD_PREFER) naming the problem: an unknown preference, a value out of range,
    a preference given twice, or a fault combined with a code.
    """
    try:
        return _parse(", ".join(v for v in values if v.strip()))
    except OutcomeError as exc:
        raise MockError(errors.BAD_PREFER, reason=str(exc)) from None


def outcome_of(params: dict[str, str]) -> Outcome:
    """The outcome named by ``code``/``error``/``delay``/``fault`` values; raises OutcomeError."""
    unknown = sorted(set(params) - set(KNOWN))
    if unknown:
        raise OutcomeError(f"unknown field {unknown[0]!r} (known: {', '.join(KNOWN)})")
    if not params:
        raise OutcomeError(f"give at least one of {', '.join(KNOWN)}")
    return _outcome(params)


def _parse(text: str) -> Outcome | None:
    if not text:
        return None
    if len(text) > MAX_HEADER_LENGTH:
        raise _bad(f"longer than {MAX_HEADER_LENGTH} characters")
    given: dict[str, str] = {}
    for item in text.split(","):
        token = item.split(";", 1)[0].strip()
        if not token:
            continue
        name, sep, value = token.partition("=")
        name, value = name.strip().lower(), value.strip().strip('"').strip()
        if name in STANDARD_PREFERENCES:
            continue
        if name not in KNOWN:
            raise _bad(f"unknown preference {name!r} (the mock knows {', '.join(KNOWN)})")
        if not sep or not value:
            raise _bad(f"{name} needs a value, as in {name}={_EXAMPLES[name]}")
        if name in given:
            raise _bad(f"{name} is given twice")
        given[name] = value
    if not given:
        return None
    return _outcome(given)


_EXAMPLES: Final = {"code": "404", "error": "AUTH-Bs7Ds", "delay": "1500", "fault": "close"}


def _outcome(given: dict[str, str]) -> Outcome:
    row = _row(given.get("code"), given.get("error"))
    fault = _fault(given["fault"]) if "fault" in given else None
    if fault is not None and row is not None:
        raise _bad(f"fault={fault} cannot be combined with code or error")
    delay = _delay(given["delay"]) if "delay" in given else None
    return Outcome(row=row, delay=delay, fault=fault)


def _row(code: str | None, error: str | None) -> Row | None:
    by_code: Row | None = None
    if code is not None:
        if not code.isdigit():
            raise _bad(f"code={code} is not a number (an HTTP status, as in code=404)")
        if int(code) not in DEFAULT_ROWS and int(code) != 200:
            known = ", ".join(str(c) for c in (200, *DEFAULT_ROWS))
            raise _bad(f"code={code} is not a status this call answers (use one of {known})")
        by_code = DEFAULT_ROWS.get(int(code))
    if error is None:
        return by_code
    row = _BY_KEY.get(error.lower())
    if row is None:
        names = ", ".join(r.name for r in FORCIBLE)
        raise _bad(f"error={error} names no row (use a ZITADEL id such as AUTH-Bs7Ds or {names})")
    if code is not None and row.status != int(code):
        raise _bad(f"error={error} answers {row.status}, not code={code}")
    return row


def _fault(value: str) -> Fault:
    try:
        return Fault(value.lower())
    except ValueError:
        known = ", ".join(f.value for f in Fault)
        raise _bad(f"unknown fault {value!r} (known: {known})") from None


def _delay(value: str) -> tuple[int, int]:
    match = _DELAY.fullmatch(value)
    if match is None:
        raise _bad(f"delay={value} is not milliseconds (as in delay=1500 or delay=100-500)")
    low = int(match[1])
    high = int(match[2]) if match[2] is not None else low
    if low > high:
        raise _bad(f"delay={value}: the range must run from low to high")
    if high > MAX_DELAY_MS:
        raise _bad(f"delay={value} is longer than {MAX_DELAY_MS} ms")
    return (low, high)


def _bad(reason: str) -> OutcomeError:
    return OutcomeError(reason)

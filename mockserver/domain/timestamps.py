"""Times as protojson writes a ``google.protobuf.Timestamp``: the one formatter of the mock.

Go's protojson (and ``google.protobuf.json_format``) write RFC 3339 in UTC with ``Z`` and the
fewest of 0, 3, 6 or 9 fraction digits that hold the instant: ``2025-01-01T00:00:00Z``,
``...00.001Z``, ``...00.000001Z``. The mock's instants have microseconds, so 9 never occurs.
"""

from __future__ import annotations

from datetime import UTC, datetime


def protojson_timestamp(moment: datetime) -> str:
    """``moment`` as protojson writes it; a naive ``moment`` is taken as UTC, as protobuf does."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    micros = utc.microsecond
    text = utc.replace(tzinfo=None, microsecond=0).isoformat()
    if micros == 0:
        return f"{text}Z"
    if micros % 1000 == 0:
        return f"{text}.{micros // 1000:03d}Z"
    return f"{text}.{micros:06d}Z"

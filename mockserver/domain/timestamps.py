"""Times as protojson writes a ``google.protobuf.Timestamp``: the one formatter of the mock.

Go's protojson (and ``google.protobuf.json_format``) write RFC 3339 in UTC with ``Z`` and the
fewest of 0, 3, 6 or 9 fraction digits that hold the instant: ``2025-01-01T00:00:00Z``,
``...00.001Z``, ``...00.000001Z``. The mock's instants have microseconds, so 9 never occurs.
"""

from __future__ import annotations

from datetime import UTC, datetime


def protojson_timestamp(moment: datetime) -> str:
    """``moment`` as protojson writes it; a naive ``moment`` is taken as UTC, as protobuf does."""
    if moment.tzinfo is not UTC:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    # isoformat() of a UTC time: YYYY-MM-DDTHH:MM:SS, then .ffffff unless it is 0, then +00:00.
    text = moment.isoformat()
    micros = moment.microsecond
    if micros == 0:
        return text[:19] + "Z"
    if micros % 1000 == 0:
        return text[:23] + "Z"
    return text[:26] + "Z"

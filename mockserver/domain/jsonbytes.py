"""Compact JSON in UTF-8, as Go's protojson and encoding/json write it, made by orjson.

A value orjson refuses (a lone surrogate in a string, an integer beyond 64 bits) is written by the
standard library instead, with such characters escaped.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()

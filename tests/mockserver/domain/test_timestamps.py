"""The mock writes every timestamp as protojson does: pinned to protobuf's own writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import fuzz_examples
from zitadel_mock.domain.timestamps import (
    protojson_seconds,
    protojson_timestamp,
    timestamp_fields,
)
from zitadel_proto.zitadel.object_pb2 import ObjectDetails

# Protobuf's Timestamp range (years 1 to 9999), in microseconds as the mock keeps time.
instants = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)
).map(lambda moment: moment.replace(tzinfo=UTC))
whole_seconds = instants.map(lambda moment: moment.replace(microsecond=0))
whole_milliseconds = instants.map(
    lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000)
)


def protobufs(moment: datetime) -> str:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    text = stamp.ToJsonString()
    details = json_format.MessageToDict(ObjectDetails(change_date=stamp))
    assert details["changeDate"] == text
    return text


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(300))
@given(moment=st.one_of(instants, whole_seconds, whole_milliseconds))
@example(moment=datetime(2025, 1, 1, 0, 0, 0, 1000, tzinfo=UTC))
@example(moment=datetime(2025, 1, 1, tzinfo=UTC))
@example(moment=datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC))
@example(moment=datetime(1, 1, 1, tzinfo=UTC))
def test_a_timestamp_is_written_exactly_as_protobuf_writes_it(moment: datetime) -> None:
    assert protojson_timestamp(moment) == protobufs(moment)


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(300))
@given(moment=st.one_of(instants, whole_seconds, whole_milliseconds))
@example(moment=datetime(1, 1, 1, tzinfo=UTC))
def test_a_timestamp_from_seconds_is_written_as_protobuf_writes_it(moment: datetime) -> None:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    assert protojson_seconds(stamp.seconds, stamp.nanos // 1000) == protobufs(moment)


@pytest.mark.fuzz
@settings(max_examples=fuzz_examples(300))
@given(moment=st.one_of(instants, whole_seconds, instants.map(lambda m: m.replace(tzinfo=None))))
@example(moment=datetime(1, 1, 1, tzinfo=UTC))
@example(moment=datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
@example(moment=datetime(2025, 1, 1, 2, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))))
def test_a_timestamps_fields_are_those_protobuf_sets_from_the_time(moment: datetime) -> None:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    assert timestamp_fields(moment) == (stamp.seconds, stamp.nanos)


def test_a_second_written_before_is_written_the_same_with_another_fraction() -> None:
    assert protojson_seconds(1_700_000_000, 0) == "2023-11-14T22:13:20Z"
    assert protojson_seconds(1_700_000_000, 5000) == "2023-11-14T22:13:20.005Z"
    assert protojson_seconds(1_700_000_000, 5) == "2023-11-14T22:13:20.000005Z"


def test_fraction_digits_are_the_fewest_of_0_3_6() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert protojson_timestamp(start) == "2025-01-01T00:00:00Z"
    assert protojson_timestamp(start + timedelta(milliseconds=1)) == "2025-01-01T00:00:00.001Z"
    assert protojson_timestamp(start + timedelta(microseconds=1)) == "2025-01-01T00:00:00.000001Z"
    assert protojson_timestamp(start + timedelta(microseconds=120)) == "2025-01-01T00:00:00.000120Z"


def test_other_zones_are_written_in_utc_and_naive_times_are_taken_as_utc() -> None:
    east = datetime(2025, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert protojson_timestamp(east) == "2025-01-01T00:00:00Z"
    assert protojson_timestamp(datetime(2025, 1, 1)) == "2025-01-01T00:00:00Z"


def test_the_former_six_digit_form_differs_from_protobufs() -> None:
    # What the mock wrote before: always six digits. The pin above would catch it.
    moment = datetime(2025, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
    assert moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") != protobufs(moment)

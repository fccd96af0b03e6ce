"""Kubernetes time stamps, apimachinery's HumanDuration at every boundary, and resource quantities."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from fractions import Fraction

import pytest

from nimify_tui.kube.duration import age, human_duration, parse_timestamp
from nimify_tui.kube.quantity import (
    Quantity,
    QuantityError,
    format_quantity,
    parse_quantity,
    quantity_float,
    quantity_or_none,
)

MINUTE, HOUR, DAY, YEAR = 60, 3600, 86400, 365 * 86400


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-2, "<invalid>"),
        (-1.9, "0s"),  # Go truncates toward zero: up to (not including) 2 s ahead counts as now
        (-1, "0s"),
        (0, "0s"),
        (1, "1s"),
        (59.9, "59s"),
        (119, "119s"),
        (2 * MINUTE, "2m"),
        (2 * MINUTE + 1, "2m1s"),
        (2 * MINUTE + 40, "2m40s"),
        (10 * MINUTE - 1, "9m59s"),
        (10 * MINUTE, "10m"),
        (10 * MINUTE + 59, "10m"),
        (3 * HOUR - 1, "179m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + MINUTE, "3h1m"),
        (8 * HOUR - 1, "7h59m"),
        (8 * HOUR, "8h"),
        (25 * HOUR + 41 * MINUTE, "25h"),
        (48 * HOUR - 1, "47h"),
        (48 * HOUR, "2d"),
        (49 * HOUR, "2d1h"),
        (4 * DAY + 15 * HOUR + 59 * MINUTE, "4d15h"),
        (8 * DAY - 1, "7d23h"),
        (8 * DAY, "8d"),
        (2 * YEAR - 1, "729d"),
        (2 * YEAR, "2y"),
        (2 * YEAR + DAY, "2y1d"),
        (8 * YEAR - 1, "7y364d"),
        (8 * YEAR, "8y"),
        (100 * YEAR + 200 * DAY, "100y"),
    ],
)
def test_human_duration_matches_apimachinery(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_age_is_unknown_without_a_time_and_counts_from_now() -> None:
    assert age(None, 1000.0) == "<unknown>"
    assert age(1000.0, 1057.0) == "57s"
    assert age(1000.0, 998.5) == "0s"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-08T08:06:40Z", datetime(2026, 1, 8, 8, 6, 40, tzinfo=timezone.utc).timestamp()),
        (
            "2019-08-30T20:43:05.123456Z",
            datetime(2019, 8, 30, 20, 43, 5, 123456, tzinfo=timezone.utc).timestamp(),
        ),
        # RFC 3339 allows any number of fraction digits (MicroTime has 6, some servers 9)
        (
            "2019-08-30T20:43:05.123456789Z",
            datetime(2019, 8, 30, 20, 43, 5, 123456, tzinfo=timezone.utc).timestamp(),
        ),
        ("2019-08-30T22:43:05+02:00", datetime(2019, 8, 30, 20, 43, 5, tzinfo=timezone.utc).timestamp()),
        (None, None),
        ("", None),
        ("yesterday", None),
        (12, None),
    ],
)
def test_parse_timestamp(text: object, expected: float | None) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    ("text", "value", "canonical"),
    [
        ("250m", Fraction(1, 4), "250m"),
        ("1.5", Fraction(3, 2), "1500m"),
        ("128974848", Fraction(128974848), "128974848"),
        ("129e6", Fraction(129_000_000), "129e6"),
        ("129M", Fraction(129_000_000), "129M"),
        ("123Mi", Fraction(123 * 1024**2), "123Mi"),
        ("1Gi", Fraction(1024**3), "1Gi"),
        ("500n", Fraction(1, 2_000_000), "500n"),
        ("1953125Ki", Fraction(2_000_000_000), "1953125Ki"),
        ("1024Ki", Fraction(1024**2), "1Mi"),
        ("1.5Gi", Fraction(3 * 1024**3, 2), "1536Mi"),
        ("0.5Gi", Fraction(1024**3, 2), "512Mi"),
        ("0.5Ki", Fraction(512), "512"),  # under 1024 a binary quantity prints as decimal
        ("1.1Ki", Fraction(56320, 50), "1126400m"),  # fractional bytes: decimal, so nothing is lost
        ("1000m", Fraction(1), "1"),
        ("0.1", Fraction(1, 10), "100m"),
        ("0.0001", Fraction(1, 10000), "100u"),
        ("12e5", Fraction(1_200_000), "1200e3"),
        ("1E3", Fraction(1000), "1e3"),
        ("1e1", Fraction(10), "10"),
        ("2G", Fraction(2_000_000_000), "2G"),
        ("5840m", Fraction(584, 100), "5840m"),
        ("487558164n", Fraction(487558164, 10**9), "487558164n"),
        ("1E", Fraction(10**18), "1E"),
        ("0", Fraction(0), "0"),
        ("-1.5Gi", Fraction(-3 * 1024**3, 2), "-1536Mi"),
        ("+4", Fraction(4), "4"),
        (".5", Fraction(1, 2), "500m"),
        ("0.1n", Fraction(1, 10**9), "1n"),  # rounded up to a nanounit, as the API server does
    ],
)
def test_quantities_parse_exactly_and_print_canonically(text: str, value: Fraction, canonical: str) -> None:
    quantity = parse_quantity(text)
    assert quantity.value == value
    assert format_quantity(quantity) == canonical
    assert str(quantity) == canonical
    assert parse_quantity(canonical).value == value  # the canonical text means the same amount


@pytest.mark.parametrize("text", ["", "abc", "Mi", "1.2.3", "5Mi3", "1ki", "1e", "1 Gi", "1Gb", "--1"])
def test_text_that_is_not_a_quantity_is_refused(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)
    assert quantity_or_none(text) is None


def test_formats_follow_the_suffix_written() -> None:
    assert parse_quantity("1Ki").format == "BinarySI"
    assert parse_quantity("0.5Ki").format == "BinarySI"  # 512: printed as decimal, but still binary
    assert parse_quantity("0.0001Ki").format == "DecimalSI"  # under 1: decimal from the start
    assert parse_quantity("1k").format == "DecimalSI"
    assert parse_quantity("1e3").format == "DecimalExponent"


@pytest.mark.parametrize(
    ("text", "whole"), [("250m", 1), ("1.5", 2), ("100n", 1), ("4Gi", 4 * 1024**3), ("-0.5", -1), ("-2", -2)]
)
def test_values_round_up_away_from_zero_like_go_value(text: str, whole: int) -> None:
    assert parse_quantity(text).to_int() == whole


def test_quantity_or_none_reads_fields_of_any_json_type() -> None:
    assert quantity_or_none("1") == Quantity(Fraction(1), "DecimalSI")
    assert quantity_or_none(2) == Quantity(Fraction(2), "DecimalSI")
    assert quantity_or_none(None) is None
    assert quantity_or_none({"a": 1}) is None
    assert float(parse_quantity("250m")) == 0.25


def test_a_quantity_past_the_floats_range_reads_as_infinity() -> None:
    """``1E309`` is a valid quantity, exact as a fraction; as a float it is infinite, not an OverflowError."""
    assert float(parse_quantity("1E309")) == math.inf
    assert float(parse_quantity("-1E309")) == -math.inf
    assert quantity_float("1E309") == math.inf
    assert quantity_float("2Ei", 1000) == 2 * 2**60 * 1000

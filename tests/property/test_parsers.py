"""Parsers given anything: Kubernetes quantities, RFC 3339 times and durations, the Prometheus exposition format.

Each either gives a value or refuses with its own error, never another exception; what it writes it reads back.
"""

from __future__ import annotations

import math
import string
from datetime import datetime, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from nimify_tui.kube.duration import age, human_duration, parse_timestamp
from nimify_tui.kube.quantity import QuantityError, format_quantity, parse_quantity, quantity_float, quantity_or_none
from nimify_tui.metrics.scrape import parse_metrics
from nimify_tui.sim.promtext import PromTextWriter, six_decimals

from .strategies import json_values

SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e3", "E-2", "e+1"]

quantity_texts = st.builds(
    lambda sign, whole, fraction, suffix: f"{sign}{whole}{fraction}{suffix}",
    st.sampled_from(["", "+", "-"]),
    st.integers(min_value=0, max_value=10**20).map(str),
    st.one_of(st.just(""), st.integers(min_value=0, max_value=10**9).map(lambda n: f".{n}")),
    st.sampled_from(SUFFIXES),
)
quantity_like = st.one_of(
    st.text(alphabet="0123456789.+-eEinumkKMGTP ", max_size=24),
    st.text(max_size=24),
    quantity_texts,
)


@given(quantity_like)
def test_a_quantity_is_parsed_or_refused_with_quantity_error(text: str) -> None:
    try:
        quantity = parse_quantity(text)
    except QuantityError:
        return
    assert math.isfinite(float(quantity)) or abs(quantity.value) > 1e300


@given(quantity_texts)
def test_the_canonical_text_of_a_quantity_reads_back_as_the_same_value(text: str) -> None:
    quantity = parse_quantity(text)
    canonical = format_quantity(quantity)
    again = parse_quantity(canonical)
    assert again.value == quantity.value
    assert format_quantity(again) == canonical


plain_quantities = st.builds(lambda n, suffix: f"{n}{suffix}", st.integers(0, 10**25), st.sampled_from(SUFFIXES))


@given(st.one_of(quantity_like, plain_quantities), st.sampled_from([1, 1000]))
def test_a_quantity_as_a_float_is_the_exact_values_one_rounding(text: str, scale: int) -> None:
    """The float reading (digits and a suffix without fractions) gives exactly what the exact parse gives."""
    quantity = quantity_or_none(text)
    expected = float(quantity.value * scale) if quantity is not None else None
    assert quantity_float(text, scale) == expected


def test_a_quantity_with_a_huge_exponent_is_refused_at_once() -> None:
    for text in ("1e999999999", "1E-999999999", "5e100000"):
        try:
            parse_quantity(text)
        except QuantityError as error:
            assert "too large" in str(error) or "too small" in str(error)
        else:
            raise AssertionError(f"{text} was accepted")


@given(st.one_of(json_values, quantity_texts))
def test_a_quantity_field_of_any_json_value_is_a_quantity_or_none(value: Any) -> None:
    quantity_or_none(value)


times = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2999, 12, 31), timezones=st.just(timezone.utc))


@given(times, st.integers(min_value=0, max_value=9))
def test_an_rfc3339_time_reads_back_to_the_second(moment: datetime, digits: int) -> None:
    fraction = f".{moment.microsecond:06d}"[: digits + 1] if digits else ""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"
    parsed = parse_timestamp(text)
    assert parsed is not None
    assert abs(parsed - moment.replace(microsecond=0).timestamp() - float(fraction or 0)) < 1e-5


@given(st.one_of(json_values, st.text(alphabet="0123456789-:TZz.+ ", max_size=40)))
def test_a_time_field_of_any_value_is_a_time_or_none(value: Any) -> None:
    parsed = parse_timestamp(value)
    assert parsed is None or math.isfinite(parsed)


def test_times_at_the_ends_of_the_calendar_are_read_or_refused() -> None:
    for text in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z"):
        parsed = parse_timestamp(text)
        assert parsed is None or math.isfinite(parsed)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_duration_of_any_number_of_seconds_has_a_text(seconds: float) -> None:
    text = human_duration(seconds)
    assert text and text.isprintable()


@given(st.integers(min_value=0, max_value=10**10))
def test_durations_are_apimachinery_s_texts(seconds: int) -> None:
    text = human_duration(seconds)
    units = text.rstrip(string.digits + "smhdy")
    assert units == "" and text[-1] in "smhdy"
    assert age(None, seconds) == "<unknown>" and age(0, seconds) == text
    total = 0
    number = ""
    for character in text:
        if character.isdigit():
            number += character
            continue
        total += int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}[character]
        number = ""
    assert total <= seconds  # each text rounds down


# --- the Prometheus text exposition format --------------------------------------------------------------------

metric_names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,15}", fullmatch=True)
label_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,10}", fullmatch=True)
label_values = st.text(max_size=30)
sample_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**53), 2**53))


@settings(max_examples=60)  # each example parses a whole exposition: the slowest of the set
@given(
    st.dictionaries(
        metric_names,
        st.lists(st.tuples(st.dictionaries(label_names, label_values, max_size=3), sample_values), max_size=3),
        max_size=4,
    ),
    st.booleans(),
)
def test_what_the_simulated_exporters_write_is_read_back(
    families: dict[str, list[tuple[dict[str, str], float]]], dcgm_style: bool
) -> None:
    writer = PromTextWriter(six_decimals) if dcgm_style else PromTextWriter()
    expected: list[tuple[str, dict[str, str], float]] = []
    for name, samples in families.items():
        writer.family(name, "gauge", f"help of {name} \\ with\nnewline")
        seen: set[tuple[tuple[str, str], ...]] = set()
        for labels, value in samples:
            key = tuple(sorted(labels.items()))
            if key in seen:
                continue
            seen.add(key)
            writer.sample(name, sorted(labels.items()), value)
            expected.append((name, labels, float(value)))
    scrape = parse_metrics(writer.text().decode(), at=1.0)
    for name, labels, value in expected:
        found = [sample for sample in scrape.select(name) if sample.labels == labels]
        assert len(found) == 1, (name, labels)
        got = found[0].value
        if math.isnan(value):
            assert math.isnan(got)
        elif dcgm_style and math.isfinite(value):
            assert got == float(f"{value:f}")
        else:
            assert got == value


@settings(max_examples=80)
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(
            st.one_of(
                st.from_regex(r"# (HELP|TYPE) [a-z_]{1,8} [a-z ]{0,10}", fullmatch=True),
                st.from_regex(r"[a-z_]{1,8}(\{[a-z]{1,3}=\"[^\"\n]{0,5}\"\})? -?[0-9.eE+Inf]{0,8}", fullmatch=True),
                st.text(max_size=20),
            ),
            max_size=8,
        ).map("\n".join),
    )
)
def test_text_that_is_not_the_exposition_format_is_refused_with_value_error(text: str) -> None:
    try:
        scrape = parse_metrics(text, at=0.0)
    except ValueError:
        return
    for samples in scrape.by_name.values():
        for sample in samples:
            assert isinstance(sample.value, int | float)


def test_a_huge_exposition_line_is_read() -> None:
    value = "x" * 1_000_000
    writer = PromTextWriter()
    writer.family("big", "gauge", "a huge label")
    writer.sample("big", [("v", value)], 1.0)
    assert parse_metrics(writer.text().decode(), at=0.0).value("big", {"v": value}) == 1.0

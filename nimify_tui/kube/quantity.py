"""Kubernetes resource quantities (``250m``, ``1.5``, ``129e6``, ``129M``, ``123Mi``, ``500n``).

Parsing and formatting follow apimachinery's ``resource.Quantity``. Values are exact fractions rounded up
to a nanounit, as the API server does; :func:`format_quantity` gives the canonical text the API server
would serve back (``1.5`` -> ``1500m``, ``1536Mi``, ``0.5Gi`` -> ``512Mi``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

QuantityFormat = Literal["BinarySI", "DecimalSI", "DecimalExponent"]

_SYNTAX = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?([eEinumkKMGTP]*[+-]?\d*)")
_DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIXES = {exponent: suffix for suffix, exponent in _DECIMAL_EXPONENTS.items()}
_BINARY_SUFFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_BINARY_POWERS = {suffix: 1024**power for power, suffix in enumerate(_BINARY_SUFFIXES) if suffix}
_NANO = 10**9
_MAX_EXPONENT = 1000  # far beyond any resource, far below what costs time to compute
_MAX_DIGITS = 1000  # Python refuses to read integers of more than 4,300 digits


class QuantityError(ValueError):
    """Text that is not a Kubernetes quantity."""


@dataclass(frozen=True, slots=True)
class Quantity:
    """An exact quantity and the format its text was written in (which decides the canonical text)."""

    value: Fraction
    format: QuantityFormat

    def __str__(self) -> str:
        return format_quantity(self)

    def __float__(self) -> float:
        return fraction_float(self.value)

    def to_int(self) -> int:
        """The value rounded up, away from zero, to an integer (Go's ``Quantity.Value``)."""
        magnitude = -(-abs(self.value.numerator) // self.value.denominator)
        return magnitude if self.value >= 0 else -magnitude


def parse_quantity(text: str) -> Quantity:
    """Parse a quantity; raise :class:`QuantityError` on text the API server would refuse."""
    match = _SYNTAX.fullmatch(text.strip())
    if match is None or not (match.group(2) or match.group(3)):
        raise QuantityError(f"not a quantity: {text!r}")
    sign, whole, fraction, suffix = match.groups()
    fraction = fraction or ""
    if len(whole) + len(fraction) > _MAX_DIGITS:
        raise QuantityError(f"not a quantity: {text[:40]!r}... (too many digits)")
    value = Fraction(int(whole or "0") * 10 ** len(fraction) + int(fraction or "0"), 10 ** len(fraction))
    quantity_format: QuantityFormat
    if suffix in _DECIMAL_EXPONENTS:
        quantity_format = "DecimalSI"
        value *= Fraction(10) ** _DECIMAL_EXPONENTS[suffix]
    elif suffix in _BINARY_POWERS:
        quantity_format = "BinarySI"
        value *= _BINARY_POWERS[suffix]
    elif len(suffix) > 1 and suffix[0] in "eE" and re.fullmatch(r"[+-]?\d{1,9}", suffix[1:]):
        exponent = int(suffix[1:])
        if abs(exponent) > _MAX_EXPONENT:  # 10**exponent alone would take seconds and megabytes
            raise QuantityError(f"not a quantity: {text!r} (too {'large' if exponent > 0 else 'small'})")
        quantity_format = "DecimalExponent"
        value *= Fraction(10) ** exponent
    else:
        raise QuantityError(f"not a quantity: {text!r} (unknown suffix {suffix!r})")
    # Non-zero values are rounded up to the next nanounit, as the API server does.
    value = Fraction(-(-(value.numerator * _NANO) // value.denominator), _NANO)
    if quantity_format == "BinarySI" and value < 1:
        quantity_format = "DecimalSI"
    return Quantity(-value if sign == "-" else value, quantity_format)


def format_quantity(quantity: Quantity) -> str:
    """The canonical text of a quantity, as apimachinery's ``Quantity.String``."""
    value = quantity.value
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if quantity.format == "BinarySI" and magnitude >= 1024 and magnitude.denominator == 1:
        number, power = magnitude.numerator, 0
        while power < len(_BINARY_SUFFIXES) - 1 and number % 1024 == 0:
            number //= 1024
            power += 1
        return f"{sign}{number}{_BINARY_SUFFIXES[power]}"
    # number * 10**exponent with the exponent a multiple of 3 and the number as small as it can be
    number, exponent = int(magnitude * _NANO), -9
    while number % 10 == 0:
        number //= 10
        exponent += 1
    shift = exponent % 3
    number, exponent = number * 10**shift, exponent - shift
    if quantity.format == "DecimalExponent":
        suffix = f"e{exponent}" if exponent else ""
    else:
        suffix = _DECIMAL_SUFFIXES.get(exponent, f"e{exponent}")
    return f"{sign}{number}{suffix}"


def quantity_or_none(text: object) -> Quantity | None:
    """Parse a quantity field of an object; None when it is absent or not a quantity."""
    if not isinstance(text, str | int | float):
        return None
    try:
        return parse_quantity(str(text))
    except QuantityError:
        return None


# digits and a suffix: what metrics-server and the kubelet write (``12345678n``, ``345Ki``), read without fractions
_PLAIN = re.compile(r"(\d{1,30})(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
_PLAIN_SCALE: dict[str, tuple[int, int]] = {  # suffix -> (multiplier, divisor)
    **{
        suffix: (10**exponent, 1) if exponent >= 0 else (1, 10**-exponent)
        for suffix, exponent in _DECIMAL_EXPONENTS.items()
    },
    **{suffix: (power, 1) for suffix, power in _BINARY_POWERS.items()},
}


def quantity_float(text: object, scale: int = 1) -> float | None:
    """A quantity times ``scale`` as a float, exactly as ``float(parse_quantity(text).value * scale)`` (one
    rounding, of an exact ratio); digits and a suffix, the usual form of usage figures, are read without fractions
    (at 50,000 pods a metrics poll parsed 100,000 of them). None when absent or not a quantity."""
    if isinstance(text, str):
        plain = _PLAIN.fullmatch(text)
        if plain is not None:
            multiplier, divisor = _PLAIN_SCALE[plain.group(2) or ""]
            return int(plain.group(1)) * multiplier * scale / divisor
    quantity = quantity_or_none(text)
    return fraction_float(quantity.value * scale) if quantity is not None else None


def fraction_float(value: Fraction) -> float:
    """``value`` as a float; past the float's range (``1E309``: valid, exact, and too big) plus or minus infinity
    instead of an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf

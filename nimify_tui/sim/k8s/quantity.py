"""Kubernetes resource quantities as the simulated API server reads and writes them ("500m", "1Gi", "2")."""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation

QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
QUANTITY_ERROR = f"quantities must match the regular expression '{QUANTITY_PATTERN}'"

_QUANTITY_RE = re.compile(QUANTITY_PATTERN)
_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_EXPONENT_RE = re.compile(r"^[eE]([-+]?[0-9]+)$")


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


@functools.lru_cache(maxsize=1024)
def parse_quantity(text: str | int | float) -> Decimal:
    """The value of a quantity in base units (cores, bytes)."""
    if isinstance(text, (int, float)):
        return Decimal(str(text))
    match = _QUANTITY_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise QuantityError(text)
    number, suffix = match.groups()
    try:
        value = Decimal(number)
    except InvalidOperation as exc:
        raise QuantityError(text) from exc
    if suffix in _SUFFIXES:
        return value * _SUFFIXES[suffix]
    exponent = _EXPONENT_RE.match(suffix)
    if exponent is None:
        raise QuantityError(text)
    return value * Decimal(10) ** int(exponent.group(1))


def is_quantity(text: object) -> bool:
    if not isinstance(text, (str, int, float)) or isinstance(text, bool):
        return False
    try:
        parse_quantity(text)
    except QuantityError:
        return False
    return True


def cpu_millis(text: str | int | float) -> int:
    """A CPU quantity in millicores, rounded up like the scheduler does."""
    value = parse_quantity(text) * 1000
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def byte_count(text: str | int | float) -> int:
    return int(parse_quantity(text).to_integral_value(rounding="ROUND_CEILING"))


def format_cpu_nanos(cores: float) -> str:
    """CPU usage as metrics-server prints it: nanocores."""
    return f"{max(0, round(cores * 1e9))}n"


def format_memory_ki(num_bytes: float) -> str:
    """Memory usage as metrics-server prints it: KiB."""
    return f"{max(0, round(num_bytes / 1024))}Ki"


def format_bytes(num_bytes: int) -> str:
    """The shortest exact binary-suffixed form of a byte count ("100Gi", "1536Mi")."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_SUFFIXES[suffix])
        if num_bytes and num_bytes % unit == 0:
            return f"{num_bytes // unit}{suffix}"
    return str(num_bytes)


def format_millis(millis: int) -> str:
    """A CPU amount in the canonical form ("2", "500m")."""
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"

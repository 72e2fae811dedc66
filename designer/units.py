"""Quantities with units, parsed with pint.

Information is its own dimension here (pint's default treats bits as dimensionless), so a
bandwidth given in GB is an error, `B` is a byte, `b` a bit, `GB` 10^9 B and `GiB` 2^30 B.
Compute is counted in `flop` (`TFLOPS`, `PFLOP/s`). Every parsed quantity is returned as a float
in the SI-style base unit of its kind: bytes, seconds, B/s, FLOP/s, W, m^2, J/B.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache

import pint

from designer.errors import InputError


@dataclass(frozen=True)
class Kind:
    """A kind of quantity: its pint dimensionality, the unit numbers are returned in, an example."""

    name: str
    unit: str
    example: str


KINDS: dict[str, Kind] = {
    k.name: k
    for k in [
        Kind("information", "B", "96 GiB"),
        Kind("bandwidth", "B/s", "3.35 TB/s"),
        Kind("time", "s", "0.2 us"),
        Kind("compute", "flop/s", "989 TFLOPS"),
        Kind("power", "W", "700 W"),
        Kind("area", "m**2", "814 mm^2"),
        Kind("energy_per_information", "J/B", "4 pJ/bit"),
        Kind("power_density", "W/m**2", "1 W/mm^2"),
        Kind("dimensionless", "", "0.9"),
    ]
}


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """pint's default definitions with bits as their own dimension and FLOPs added."""
    folder = os.path.dirname(pint.__file__)
    with open(os.path.join(folder, "default_en.txt"), encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(folder, "constants_en.txt"), encoding="utf-8") as f:
        text = text.replace("@import constants_en.txt", f.read())
    text = text.replace("bit = []", "bit = [information] = b")
    # `Gb` is gilbert and `b` barn in pint's defaults; here they are gigabit and bit.
    text = re.sub(r"^(gilbert = .*?) = Gb$", r"\1", text, flags=re.M)
    text = re.sub(r"^(barn = .*?) = b$", r"\1", text, flags=re.M)
    reg = pint.UnitRegistry(None, autoconvert_offset_to_baseunit=True)
    reg.load_definitions(text.splitlines())
    reg.define("flop = [compute] = FLOP")
    reg.define("FLOPS = flop / second")
    reg.define("OPS = flop / second")  # TOPS of integer units are counted as operations/s
    return reg


# One number, then optionally a unit that starts with a letter or '/': rejects "4,5 TB/s",
# "1..2 TB/s" and "4 4 TB/s", which pint would read as products of numbers.
_SHAPE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*([A-Za-z%/][^,]*)?$")


def _dimensionality(kind: Kind):
    reg = registry()
    return (
        reg.Quantity(1, kind.unit).dimensionality if kind.unit else reg.Quantity(1).dimensionality
    )


def parse(value: object, kind: str, *, where: str | None = None, key: str | None = None) -> float:
    """Parse `value` (a string with units, or a bare number for dimensionless kinds) as `kind`.

    Returns the magnitude in the kind's base unit (bytes, seconds, B/s, FLOP/s, W, m², J/B).
    Raises InputError naming `where` and `key` for a missing unit, a wrong dimension or a
    malformed string.
    """
    k = KINDS[kind]
    if isinstance(value, bool):
        raise InputError(
            f"expected a {kind} like {k.example!r}, got {value!r}", where=where, key=key
        )
    if isinstance(value, (int, float)):
        if kind == "dimensionless":
            return float(value)
        raise InputError(
            f"expected a {kind} with units like {k.example!r}, got the bare number {value!r}",
            where=where,
            key=key,
        )
    if not isinstance(value, str):
        raise InputError(
            f"expected a {kind} like {k.example!r}, got {value!r}", where=where, key=key
        )
    number = _parse_text(value, kind)
    if number is not None:
        return number
    return _parse_text_uncached(value, kind, where, key)


def _parse_text_uncached(value: str, kind: str, where: str | None, key: str | None) -> float:
    k = KINDS[kind]
    reg = registry()
    text = value.strip().replace("µ", "u").replace("μ", "u")
    if not _SHAPE.match(text):
        raise InputError(
            f"cannot parse {value!r} as a {kind}: expected one number and a unit, like "
            f"{k.example!r}",
            where=where,
            key=key,
        )
    try:
        q = reg.Quantity(text)
    except Exception as exc:  # pint raises several error types for malformed strings
        raise InputError(
            f"cannot parse {value!r} as a {kind} like {k.example!r} ({exc})", where=where, key=key
        ) from None
    if not isinstance(q, pint.Quantity):
        q = reg.Quantity(q)
    if q.dimensionality != _dimensionality(k):
        raise InputError(
            f"expected a {kind} like {k.example!r}, got {value!r} (dimension {q.dimensionality})",
            where=where,
            key=key,
        )
    number = float(q.to(k.unit).magnitude) if k.unit else float(q.to("").magnitude)
    if not math.isfinite(number):
        raise InputError(f"expected a finite {kind}, got {value!r}", where=where, key=key)
    return number


@lru_cache(maxsize=65536)
def _parse_text(value: str, kind: str) -> float | None:
    """The number of a well-formed string, memoized (catalogs re-read the same strings at every
    what-if point); None when malformed, so that `parse` reports it naming the key."""
    try:
        return _parse_text_uncached(value, kind, None, None)
    except InputError:
        return None


def format_quantity(value: float, unit: str, to: str, digits: int = 4) -> str:
    """Format a base-unit number in another unit, e.g. format_quantity(x, 'B/s', 'TiB/s')."""
    reg = registry()
    q = reg.Quantity(value, unit).to(to)
    return f"{q.magnitude:.{digits}g} {to}"


def parse_tokens(value: object, *, where: str | None = None, key: str | None = None) -> int:
    """A token count: an integer, or a string like '131072', '128K' or '128k' (K = 1024)."""
    text = str(value).strip()
    scale = 1
    if text[-1:] in ("k", "K"):
        text, scale = text[:-1], 1024
    try:
        number = float(text) * scale if "." in text or "e" in text.lower() else int(text) * scale
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number < 1 or int(number) != number:
        raise InputError(
            f"expected a token count like 131072 or 128K, got {str(value)[:40]!r}",
            where=where,
            key=key,
        )
    return int(number)

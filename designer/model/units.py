"""Quantities with units, parsed with pint.

Information is its own dimension here (pint's default treats bits as dimensionless), so a
bandwidth given in GB is an error, `B` is a byte, `b` a bit, `GB` 10^9 B and `GiB` 2^30 B.
Compute is counted in `flop` (`TFLOPS`, `PFLOP/s`). Every parsed quantity is returned as a float
in the SI-style base unit of its kind: bytes, seconds, B/s, FLOP/s, W, m^2, J/B.

pint is imported when a string is first parsed that `designer.model.unitcache` does not know
from an earlier run (its numbers are pint's, kept on disk): a command on the bundled catalogs
usually loads no pint at all.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from designer.model import unitcache
from designer.model.errors import InputError, excerpt

if TYPE_CHECKING:
    import pint


def _import_pint():
    """pint, imported without its optional array back-ends. `pint.compat` imports dask and
    scipy whenever they are installed (the `dask` and calibration extras), for quantities of
    dask or scipy arrays that designer never makes: 0.15 s of dask, and scipy wakes Pyomo's
    import hook, which then loads scipy.stats (0.7 s). Hidden only while pint loads, and only
    when not loaded already (`tests/test_startup.py` checks what each command imports)."""
    if "pint" in sys.modules:
        return sys.modules["pint"]
    hidden = [name for name in ("dask", "scipy") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # `import` raises ImportError, find_spec returns None
    try:
        import pint
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return pint


@dataclass(frozen=True)
class Kind:
    """A kind of quantity: its pint dimensionality, the unit numbers are returned in, an example."""

    name: str
    unit: str
    example: str

    @property
    def noun(self) -> str:
        """How a message names it: 'a memory size like '96 GiB''."""
        return NOUNS.get(self.name, self.name.replace("_", " "))


NOUNS = {"information": "memory size", "energy_per_information": "energy per bit"}
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
    pint = _import_pint()
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


# Exactly one number and a unit: the number in plain decimal or e-notation, the unit one or more
# names (letters, an optional ^1…^3 power) joined by '/' or spaces, nothing else. pint would
# evaluate anything it is given ("1 us * 9**9**9" never returns, "1 W % 2" is 0.02 W and
# "114 us # x" 114 µs), so the form is checked before pint sees the string.
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?"
_UNIT_NAME = r"[A-Za-z]+(?:\^[1-3])?"
_UNIT = rf"{_UNIT_NAME}(?:\s*/\s*{_UNIT_NAME}|\s+{_UNIT_NAME})*"
_SHAPE = re.compile(rf"({_NUMBER})\s*({_UNIT})?")
MAX_TEXT = 40  # characters of a quantity string
# Magnitudes in base units (bytes, seconds, W, ...) beyond these are not physical inputs; bounding
# them keeps every product and ratio of the model finite.
MAX_MAGNITUDE = 1e30
MIN_MAGNITUDE = 1e-30


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
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(
            f"expected a {k.noun} like {k.example!r}, got {excerpt(value)}", where=where, key=key
        )
    if isinstance(value, (int, float)):
        if kind != "dimensionless":
            raise InputError(
                f"expected a {k.noun} with units like {k.example!r}, got the bare number "
                f"{excerpt(value)}",
                where=where,
                key=key,
            )
        return _bounded(float(value) if _fits_float(value) else math.inf, value, kind, where, key)
    number = _parse_text(value, kind)
    if number is not None:
        return number
    return _parse_text_uncached(value, kind, where, key)


@lru_cache(maxsize=65536)
def _parse_text(value: str, kind: str) -> float | None:
    """The number of a well-formed string, memoized (catalogs re-read the same strings at every
    what-if point, and every run: `unitcache`); None when malformed, so that `parse` reports it
    naming the key."""
    number = unitcache.lookup(value, kind)
    if number is not None:
        return number
    try:
        return _parse_text_uncached(value, kind, None, None)
    except InputError:
        return None


def _parse_text_uncached(value: str, kind: str, where: str | None, key: str | None) -> float:
    k = KINDS[kind]
    text = value.strip().replace("µ", "u").replace("μ", "u")
    shape = _SHAPE.fullmatch(text) if len(text) <= MAX_TEXT else None
    if not shape:
        raise InputError(
            f"cannot parse {excerpt(value)} as a {k.noun}: expected one number and a unit, "
            f"like {k.example!r}",
            where=where,
            key=key,
        )
    number, unit = float(shape.group(1)), shape.group(2) or ""
    if number == 0 and re.search(r"[1-9]", re.split("[eE]", shape.group(1))[0]):
        _bounded(MIN_MAGNITUDE / 2, value, kind, where, key)  # underflowed: "1e-400 W" is no 0
    if not math.isfinite(number):
        raise InputError(
            f"expected a finite {KINDS[kind].noun}, got {excerpt(value)}", where=where, key=key
        )
    if unit == k.unit:  # the kind's own unit (catalog.scale_value writes those): pint's
        return _bounded(number, value, kind, where, key)  # conversion is the identity
    reg = registry()
    try:
        q = reg.Quantity(number, _unit(unit))
    except Exception as exc:  # pint raises several error types for unknown units
        raise InputError(
            f"cannot parse {excerpt(value)} as a {k.noun} like {k.example!r} "
            f"({excerpt(str(exc), 60)[1:-1]})",
            where=where,
            key=key,
        ) from None
    if q.dimensionality != _dimensionality(k):
        raise InputError(
            f"expected a {k.noun} like {k.example!r}, got {excerpt(value)} "
            f"(dimension {q.dimensionality})",
            where=where,
            key=key,
        )
    try:
        magnitude = float(q.to(k.unit).magnitude) if k.unit else float(q.to("").magnitude)
    except (OverflowError, ZeroDivisionError):
        magnitude = math.inf
    number = _bounded(magnitude, value, kind, where, key)
    unitcache.remember(value, kind, number)  # what pint was loaded for: kept for the next run
    return number


def _fits_float(value: int | float) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


@lru_cache(maxsize=256)
def _unit(text: str) -> object:
    """pint's unit for a checked unit string ('TB/s', 'mm^2', 'W / mm^2'), '' for none."""
    if not text:
        return ""
    return registry().Unit(text.replace("^", "**"))


def _bounded(number: float, value: object, kind: str, where: str | None, key: str | None) -> float:
    """`number`, if finite and of a physical size (0 or MIN_MAGNITUDE…MAX_MAGNITUDE)."""
    if not math.isfinite(number):
        raise InputError(
            f"expected a finite {KINDS[kind].noun}, got {excerpt(value)}", where=where, key=key
        )
    if number != 0 and not MIN_MAGNITUDE <= abs(number) <= MAX_MAGNITUDE:
        raise InputError(
            f"expected a {KINDS[kind].noun} between {MIN_MAGNITUDE:g} and {MAX_MAGNITUDE:g} "
            f"{KINDS[kind].unit or '(dimensionless)'}, got {excerpt(value)}",
            where=where,
            key=key,
        )
    return number


def plain_number(value: object, *, positive: bool, where: str | None, key: str | None) -> float:
    """A number without a unit (a price, a rate, a ratio): finite, positive or non-negative, at
    most MAX_MAGNITUDE, and 0 or at least MIN_MAGNITUDE, as a quantity with a unit (a request
    rate of 1e-40/s was taken); else an InputError naming `where` and `key`."""
    sign = "positive" if positive else "non-negative"
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not math.isfinite(value))
        or value < 0
        or (positive and value == 0)
    ):
        raise InputError(f"expected a {sign} number, got {excerpt(value)}", where=where, key=key)
    if value > MAX_MAGNITUDE:
        raise InputError(
            f"expected a number at most {MAX_MAGNITUDE:g}, got {excerpt(value)}",
            where=where,
            key=key,
        )
    if 0 < value < MIN_MAGNITUDE:
        raise InputError(
            f"expected 0 or a number at least {MIN_MAGNITUDE:g}, got {excerpt(value)}"
            if not positive
            else f"expected a number at least {MIN_MAGNITUDE:g}, got {excerpt(value)}",
            where=where,
            key=key,
        )
    return float(value)


def format_quantity(value: float, unit: str, to: str, digits: int = 4) -> str:
    """Format a base-unit number in another unit, e.g. format_quantity(x, 'B/s', 'TiB/s')."""
    reg = registry()
    q = reg.Quantity(value, unit).to(to)
    return f"{q.magnitude:.{digits}g} {to}"


MAX_TOKENS = 2**30  # the longest context any input may state


def parse_tokens(
    value: object, *, where: str | None = None, key: str | None = None, high: int = MAX_TOKENS
) -> int:
    """A token count from 1 to `high`: an integer, or a string like '131072', '128K' or '128k'
    (K = 1024), '1M' (M = 1024², as Llama 4 Scout's 10M context is 10,485,760 tokens).

    >>> parse_tokens("128K"), parse_tokens("1M"), parse_tokens("10m")
    (131072, 1048576, 10485760)
    """
    text = str(value).strip()
    scale = 1
    if text[-1:] in ("k", "K", "m", "M"):
        text, scale = text[:-1], 1024 if text[-1:] in ("k", "K") else 1024**2
    try:
        number = float(text) * scale if "." in text or "e" in text.lower() else int(text) * scale
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or not 1 <= number <= high:
        number = None
    if number is None or int(number) != number:
        raise InputError(
            f"expected a token count from 1 to {high:,}, like 131072, 128K or 1M, got "
            f"{str(value)[:40]!r}",
            where=where,
            key=key,
        )
    return int(number)

"""TOML text for the files designer writes (profiles, interval tables, problems from the
browser, synthesized chips): keys, strings and values, one way everywhere.

>>> value({"a b": [1, 2.5, True], "name": 'say "hi"'})
'{ "a b" = [1, 2.5, true], name = "say \\\\"hi\\\\"" }'
>>> value(0.123456, float_format="{:.4f}")
'0.1235'
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key(k: str) -> str:
    """A bare key where TOML allows one, else a quoted key."""
    return k if BARE_KEY.fullmatch(k) else string(k)


def string(s: str) -> str:
    """A TOML basic string: a JSON string is one, but for DEL, which TOML wants escaped."""
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def tables(name: str, body: dict, *, float_format: str | None = None) -> list[str]:
    """TOML lines of the table `name` (a dotted name, its parts already keys) holding `body`:
    its values under `[name]`, then each nested dict as a table `[name.key]` of its own.

    >>> tables("cells", {"a|1": {"points": 3, "ratio": [0.51234]}}, float_format="{:.2f}")
    ['[cells."a|1"]', 'points = 3', 'ratio = [0.51]', '']
    """
    plain = {k: v for k, v in body.items() if not isinstance(v, dict)}
    out = []
    if plain or not body:  # a header for its values, or for an empty table
        out = [
            f"[{name}]",
            *(f"{key(k)} = {value(v, float_format=float_format)}" for k, v in plain.items()),
            "",
        ]
    for k, v in body.items():
        if isinstance(v, dict):
            out += tables(f"{name}.{key(str(k))}", v, float_format=float_format)
    return out


def value(v: Any, *, float_format: str | None = None) -> str:
    """A TOML value: booleans, integers, floats (`float_format`, else the shortest exact
    repr), arrays, inline tables and strings (anything else is written as its str).
    Raises ValueError for a float that is not finite (no file designer writes holds one)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v}")
        return float_format.format(v) if float_format else repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x, float_format=float_format) for x in v) + "]"
    if isinstance(v, dict):
        pairs = (f"{key(str(k))} = {value(x, float_format=float_format)}" for k, x in v.items())
        return "{ " + ", ".join(pairs) + " }"
    return string(str(v))

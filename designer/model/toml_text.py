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

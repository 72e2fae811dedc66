"""Problem files (TOML, design.md §3) → a validated `Problem`.

Sections: [workload] [sla] [objective] [space] [limits] [efficiency] [overrides]. `--set`
takes dotted paths into the problem (`sla.tokens_per_s_per_user=1500`) or the catalogs
(`chips.xpu-hbm3.memory_bandwidth=8TiB/s`).
"""

from __future__ import annotations

import copy
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.catalog import SECTIONS as CATALOG_SECTIONS
from designer.catalog import Catalog
from designer.errors import InputError, closest, excerpt, in_file, unknown
from designer.evaluate import MAX_PARTITION
from designer.files import read_toml
from designer.units import parse, plain_number
from designer.workload import Efficiency, Workload

OBJECTIVES = ("capex", "power", "tco", "cost_per_mtoken", "chips")
OBJECTIVE_UNITS = {
    "capex": "USD",
    "power": "W",
    "tco": "USD/year",
    "cost_per_mtoken": "USD/Mtoken",
    "chips": "chips",
}
DEFAULT_TP = tuple(2**i for i in range(11))  # 1 … 1024
DEFAULT_PP = tuple(2**i for i in range(7))  # 1 … 64
DEFAULT_MAX_BATCH = 256

SCHEMA: dict[str, dict[str, str]] = {
    "workload": {
        "model": "str",
        "context_tokens": "int",
        "weight_dtype": "str",
        "kv_dtype": "str",
        "collectives_per_layer": "int0",
    },
    "sla": {"tokens_per_s_per_user": "number", "concurrent_users": "int"},
    "objective": {"minimize": "str"},
    "space": {
        "chips": "strlist",
        "tp": "intlist",
        "pp": "intlist",
        "max_batch": "int",
        "max_chips": "int",
    },
    "limits": {"max_power": "power", "max_capex_usd": "number", "max_chips": "int"},
    "efficiency": {"bandwidth": "number", "compute": "number", "overhead_per_layer": "time"},
    "overrides": {},
}
REQUIRED = {"workload": ["model", "context_tokens"], "sla": ["tokens_per_s_per_user"]}


@dataclass(frozen=True)
class Problem:
    """A validated question: serve `workload` at `target_utps` for `users`, minimizing
    `objective` over the design space, within the limits."""

    workload: Workload
    catalog: Catalog = field(repr=False)
    target_utps: float
    users: int
    objective: str = "capex"
    chips: tuple[str, ...] = ()
    tp: tuple[int, ...] = DEFAULT_TP
    pp: tuple[int, ...] = DEFAULT_PP
    max_batch: int = DEFAULT_MAX_BATCH
    max_chips: int | None = None
    max_power: float | None = None  # W
    max_capex_usd: float | None = None
    where: str = "<problem>"
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def with_changes(self, sets: dict[str, Any]) -> Problem:
        """A new problem with dotted-path changes applied (problem keys or catalog values)."""
        return problem_from_dict(
            apply_sets(self.raw, sets, where="--set"), where=self.where, catalog=None
        )


# Upper bounds of integer keys (others: MAX_INT). tp, pp and the batch share the bound of a
# Design so that no product of them wraps; a limit of 0 means "no limit".
MAX_INT = 2**40
INT_BOUNDS = {
    "workload.context_tokens": 2**30,
    "workload.collectives_per_layer": 1024,
    "sla.concurrent_users": 2**30,
    "space.tp": MAX_PARTITION,
    "space.pp": MAX_PARTITION,
    "space.max_batch": MAX_PARTITION,
}
MAX_LIST = 1024  # entries of a list key
ZERO_IS_VALID = {"efficiency.overhead_per_layer"}  # no software overhead: the paper's default
ZERO_IS_NONE = {"space.max_chips", "limits.max_power", "limits.max_capex_usd", "limits.max_chips"}


def _typed(kind: str, value: Any, where: str, key: str) -> Any:
    """`value` of the problem key `key` checked and converted to `kind` (see SCHEMA).

    Integers are whole, positive (or ≥ 0 for "int0") and at most INT_BOUNDS[key] (MAX_INT);
    numbers are finite and positive; lists are non-empty, at most MAX_LIST entries, duplicates
    merged; a limit of 0 is None (no limit).
    """
    if key in ZERO_IS_NONE and _is_number(value) and value == 0:
        return None
    if kind == "str":
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {excerpt(value)}", where=where, key=key)
        return value
    if kind in ("int", "int0"):
        low = 0 if kind == "int0" else 1
        high = INT_BOUNDS.get(key, MAX_INT)
        if (
            not _is_number(value)
            or not _finite(value)
            or int(value) != value
            or not low <= value <= high
        ):
            adjective = "non-negative" if low == 0 else "positive"
            raise InputError(
                f"expected a {adjective} integer (at most {high}), got {excerpt(value)}",
                where=where,
                key=key,
            )
        return int(value)
    if kind == "number":
        return plain_number(value, positive=True, where=where, key=key)
    if kind in ("strlist", "intlist"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            what = "names" if kind == "strlist" else "positive integers"
            raise InputError(
                f"expected a non-empty list of at most {MAX_LIST} {what}, got {excerpt(value)}",
                where=where,
                key=key,
            )
        if kind == "intlist":
            return tuple(sorted({_typed("int", v, where, key) for v in value}))
        return tuple(dict.fromkeys(_typed("str", v, where, key) for v in value))
    v = parse(value, kind, where=where, key=key)
    if v == 0 and key in ZERO_IS_NONE:
        return None
    if v < 0 or (v == 0 and key not in ZERO_IS_VALID):
        sign = "non-negative" if key in ZERO_IS_VALID else "positive"
        raise InputError(f"expected a {sign} {kind}, got {excerpt(value)}", where=where, key=key)
    return v


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: int | float) -> bool:
    return isinstance(value, int) or math.isfinite(value)


def parse_set(text: str) -> tuple[str, Any]:
    """'a.b.c=VALUE' → ('a.b.c', value); VALUE is read as a TOML value when it is one
    (numbers, booleans, lists, quoted strings), else kept as a string ('8 TiB/s')."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise InputError(f"expected PATH=VALUE, got {text!r}", key="--set")
    value = value.strip()
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):  # ValueError: 4300+ digits
        parsed = value
    return path.strip(), parsed


def apply_sets(raw: dict, sets: dict[str, Any], *, where: str) -> dict:
    """Dotted-path changes applied to a raw problem dict; catalog paths go to [overrides]."""
    raw = copy.deepcopy(raw)
    for path, value in sets.items():
        head, _, rest = path.partition(".")
        if head in CATALOG_SECTIONS:
            raw.setdefault("overrides", {})[path] = value
            continue
        if head not in SCHEMA or head == "overrides":
            raise unknown("section", head, [*SCHEMA, *CATALOG_SECTIONS], where=where, key=path)
        if rest not in SCHEMA[head]:
            raise unknown("key", rest, SCHEMA[head], where=where, key=path)
        raw.setdefault(head, {})[rest] = value
    return raw


def problem_from_dict(
    raw: dict, *, where: str = "<problem>", catalog: Catalog | None = None
) -> Problem:
    """Validate a raw problem dict (as read from TOML); every error names the file `where`."""
    try:
        return _problem_from_dict(raw, where=where, catalog=catalog)
    except InputError as exc:
        raise in_file(exc, where) from None


def _problem_from_dict(raw: dict, *, where: str, catalog: Catalog | None) -> Problem:
    for section, body in raw.items():
        if section not in SCHEMA:
            raise InputError(f"unknown section{closest(section, SCHEMA)}", where=where, key=section)
        if not isinstance(body, dict):
            raise InputError("expected a table", where=where, key=section)
        if section != "overrides":
            for key in body:
                if key not in SCHEMA[section]:
                    raise InputError(
                        f"unknown key{closest(key, SCHEMA[section])}",
                        where=where,
                        key=f"{section}.{key}",
                    )
    for section, keys in REQUIRED.items():
        for key in keys:
            if key not in raw.get(section, {}):
                raise InputError(
                    f"missing required key ({SCHEMA[section][key]})",
                    where=where,
                    key=f"{section}.{key}",
                )
    v: dict[str, dict[str, Any]] = {
        s: {k: _typed(SCHEMA[s][k], val, where, f"{s}.{k}") for k, val in raw.get(s, {}).items()}
        for s in SCHEMA
        if s != "overrides"
    }
    catalog = (catalog or Catalog.load()).with_overrides(
        dict(raw.get("overrides", {})), where=f"{where} [overrides]"
    )
    w = v["workload"]
    e = v["efficiency"]
    eff = Efficiency(
        bandwidth=e.get("bandwidth", 1.0),
        compute=e.get("compute", 1.0),
        overhead_per_layer=e.get("overhead_per_layer", 0.0),
    )
    try:
        model = catalog.model(w["model"])
    except InputError as exc:
        raise InputError(str(exc), where=where, key="workload.model") from None
    workload = Workload(
        model,
        w["context_tokens"],
        w.get("weight_dtype", "fp8"),
        w.get("kv_dtype", "fp8"),
        w.get("collectives_per_layer", 2),
        eff,
    )
    objective = v["objective"].get("minimize", "capex")
    if objective not in OBJECTIVES:
        raise unknown("objective", objective, OBJECTIVES, where=where, key="objective.minimize")
    space = v["space"]
    chips = space.get("chips", tuple(catalog.ids("chips")))
    for c in chips:
        if c not in catalog.raw["chips"]:
            raise unknown("chip", c, catalog.raw["chips"], where=where, key="space.chips")
    limits = v["limits"]
    max_chips = min(
        [x for x in (space.get("max_chips"), limits.get("max_chips")) if x], default=None
    )
    return Problem(
        workload=workload,
        catalog=catalog,
        target_utps=v["sla"]["tokens_per_s_per_user"],
        users=v["sla"].get("concurrent_users", 1),
        objective=objective,
        chips=chips,
        tp=space.get("tp", DEFAULT_TP),
        pp=space.get("pp", DEFAULT_PP),
        max_batch=space.get("max_batch", DEFAULT_MAX_BATCH),
        max_chips=max_chips,
        max_power=limits.get("max_power"),
        max_capex_usd=limits.get("max_capex_usd"),
        where=where,
        raw=raw,
    )


def load_problem(
    path: str | Path, sets: dict[str, Any] | None = None, catalog: Catalog | None = None
) -> Problem:
    """Read and validate a problem TOML file, with optional dotted-path changes."""
    p = Path(path)
    raw = read_toml(p, "a problem TOML")
    model = raw.get("workload", {}).get("model") if isinstance(raw.get("workload"), dict) else None
    if isinstance(model, str) and _is_path(model) and not Path(model).is_absolute():
        raw["workload"]["model"] = str(p.parent / model)  # relative to the problem file
    if sets:
        raw = apply_sets(raw, sets, where="--set")
    return problem_from_dict(raw, where=str(p), catalog=catalog)


def _is_path(model: str) -> bool:
    """A model given as a path (a Hugging Face config.json) rather than a catalog id."""
    return model.endswith(".json") or os.sep in model


__all__ = ["Problem", "load_problem", "problem_from_dict", "parse_set", "apply_sets", "OBJECTIVES"]

"""Problem files (TOML, design.md §3) → a validated `Problem`.

Sections: [workload] [sla] [objective] [space] [limits] [efficiency] [overrides]. `--set`
takes dotted paths into the problem (`sla.tokens_per_s_per_user=1500`) or the catalogs
(`chips.xpu-hbm3.memory_bandwidth=8TiB/s`).
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.catalog import SECTIONS as CATALOG_SECTIONS
from designer.catalog import Catalog, path_kind, relative_factor, scale_value
from designer.errors import InputError, closest, unknown
from designer.units import KINDS, parse
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
        "collectives_per_layer": "int",
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
    # The catalog before [overrides]: what-ifs re-apply overrides to it instead of reloading.
    base_catalog: Catalog | None = field(default=None, repr=False, compare=False)

    def with_changes(self, sets: dict[str, Any]) -> Problem:
        """A new problem with dotted-path changes applied (problem keys or catalog values,
        wildcards and relative values as in `apply_sets`); the catalogs are not reloaded.

        Example: `problem.with_changes({"chips.*.memory_bandwidth": "x2"})`.
        """
        return problem_from_dict(
            apply_sets(self.raw, sets, where="--set"), where=self.where, catalog=self.base_catalog
        )


def _typed(kind: str, value: Any, where: str, key: str) -> Any:
    if kind == "str":
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {value!r}", where=where, key=key)
        return value
    if kind == "int":
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or int(value) != value
            or value < 1
        ):
            raise InputError(f"expected a positive integer, got {value!r}", where=where, key=key)
        return int(value)
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise InputError(f"expected a positive number, got {value!r}", where=where, key=key)
        return float(value)
    if kind == "strlist":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise InputError(
                f"expected a non-empty list of names, got {value!r}", where=where, key=key
            )
        return tuple(value)
    if kind == "intlist":
        if not isinstance(value, list) or not value:
            raise InputError(
                f"expected a non-empty list of positive integers, got {value!r}",
                where=where,
                key=key,
            )
        return tuple(sorted({_typed("int", v, where, key) for v in value}))
    v = parse(value, kind, where=where, key=key)
    if v <= 0:
        raise InputError(f"expected a positive {kind}, got {value!r}", where=where, key=key)
    return v


def parse_set(text: str) -> tuple[str, Any]:
    """'a.b.c=VALUE' → ('a.b.c', value); VALUE is read as a TOML value when it is one
    (numbers, booleans, lists, quoted strings), else kept as a string ('8 TiB/s')."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise InputError(f"expected PATH=VALUE, got {text!r}", key="--set")
    value = value.strip()
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return path.strip(), parsed


def apply_sets(raw: dict, sets: dict[str, Any], *, where: str) -> dict:
    """Dotted-path changes applied to a raw problem dict; catalog paths go to [overrides].

    A value `xF` (or `×F`) multiplies the current value (`sla.tokens_per_s_per_user=x2`,
    `limits.max_power=x0.5`); a `*` entry segment of a catalog path matches every entry that
    has the key (`chips.*.memory_bandwidth=x2`). A relative catalog change applies after the
    problem's own [overrides] (so it scales the overridden value).
    """
    raw = copy.deepcopy(raw)
    for path, value in sets.items():
        head, _, rest = path.partition(".")
        factor = relative_factor(value)
        if head in CATALOG_SECTIONS:
            overrides = raw.setdefault("overrides", {})
            if factor is not None and path in overrides:
                value = scale_value(overrides.pop(path), factor, path_kind(path), where, path)
            overrides[path] = value
            continue
        if head not in SCHEMA or head == "overrides":
            raise unknown("section", head, [*SCHEMA, *CATALOG_SECTIONS], where=where, key=path)
        if rest not in SCHEMA[head]:
            raise unknown("key", rest, SCHEMA[head], where=where, key=path)
        if factor is not None:
            kind = SCHEMA[head][rest]
            current = raw.get(head, {}).get(rest)
            if kind not in ("int", "number", *KINDS):
                raise InputError(f"cannot scale a {kind} by {value!r}", where=where, key=path)
            value = scale_value(current, factor, kind, where, path)
        raw.setdefault(head, {})[rest] = value
    return raw


def problem_from_dict(
    raw: dict, *, where: str = "<problem>", catalog: Catalog | None = None
) -> Problem:
    """Validate a raw problem dict (as read from TOML)."""
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
    base_catalog = catalog or Catalog.load()
    catalog = base_catalog.with_overrides(
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
        base_catalog=base_catalog,
    )


def load_problem(
    path: str | Path, sets: dict[str, Any] | None = None, catalog: Catalog | None = None
) -> Problem:
    """Read and validate a problem TOML file, with optional dotted-path changes."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise InputError("no such file (expected a problem TOML)", where=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a folder (expected a problem TOML)", where=str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", where=str(p)) from None
    if sets:
        raw = apply_sets(raw, sets, where="--set")
    return problem_from_dict(raw, where=str(p), catalog=catalog)


__all__ = ["Problem", "load_problem", "problem_from_dict", "parse_set", "apply_sets", "OBJECTIVES"]

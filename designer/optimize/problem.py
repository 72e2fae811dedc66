"""Problem files (TOML) → a validated `Problem`.

Sections: [workload] [sla] (one workload class) or [[class]] tables (several, each with a
`name` and the keys of [workload] and [sla]); [objective] (`minimize` or `maximize`); [space];
[limits]; [fleet]; [supply]; [efficiency]; [overrides]. `--set` takes dotted paths into the
problem (`sla.tokens_per_s_per_user=1500`, `class.chat.concurrent_users=900`) or the catalogs
(`chips.xpu-hbm3.memory_bandwidth=8TiB/s`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.model.assumptions import ASSUMPTION_KEYS, assumptions_from_table
from designer.model.catalog import SECTIONS as CATALOG_SECTIONS
from designer.model.catalog import Catalog, path_kind, relative_factor, scale_value
from designer.model.chipdesign import PROBLEM_KEYS
from designer.model.cost import CostBasis, cost_basis_from
from designer.model.errors import InputError, closest, excerpt, in_file, unknown
from designer.model.files import read_toml
from designer.model.partition import MAX_PARTITION
from designer.model.serving import DEFAULT_CHUNK_TOKENS as CHUNK
from designer.model.serving import Serving, rate_for_users, users_for_rate
from designer.model.serving import check as check_serving
from designer.model.units import KINDS, MAX_TOKENS, parse, parse_tokens, plain_number
from designer.model.workload import SPECULATIVE, Efficiency, Workload, native_dtypes

OBJECTIVES = ("capex", "power", "tco", "cost_per_mtoken", "chips")  # minimize
MAXIMIZE = ("users", "system_tokens_per_s")
OBJECTIVE_UNITS = {
    "capex": "USD",
    "power": "W",
    "tco": "USD/year",
    "cost_per_mtoken": "USD/Mtoken",
    "chips": "chips",
    "users": "users",
    "system_tokens_per_s": "tokens/s",
}
DEFAULT_TP = tuple(2**i for i in range(11))  # 1 … 1024
DEFAULT_PP = tuple(2**i for i in range(7))  # 1 … 64
DEFAULT_MAX_BATCH = 256

SCHEMA: dict[str, dict[str, str]] = {
    "workload": {
        "model": "str",
        "context_tokens": "tokens",
        "weight_dtype": "str",
        "kv_dtype": "str",
        "collectives_per_layer": "int0",
        "prompt_tokens": "int",
        "output_tokens": "int",
        "activation_dtype": "str",
        "speculative": "str",
        "draft_tokens": "int",
        "acceptance_rate": "number",
    },
    "sla": {
        "tokens_per_s_per_user": "number",
        "concurrent_users": "int",
        "ttft": "time",
        "requests_per_s": "number",
        "confidence": "number",
        "ttft_confidence": "number",
    },
    "serving": {"mode": "str", "chunk_tokens": "int"},
    "objective": {"minimize": "str", "maximize": "str"},
    "space": {
        "chips": "strlist",
        "include_hypothetical": "bool",
        "include_estimated": "bool",
        "tp": "intlist",
        "pp": "intlist",
        "max_batch": "int",
        "max_chips": "int",
    },
    "limits": {
        "max_power": "power",
        "max_facility_power": "power",
        "max_capex_usd": "number",
        "max_chips": "int",
    },
    "fleet": {
        "max_configurations": "int",
        "max_chip_types": "int",
        "chip_type_fixed_cost_usd": "number0",
    },
    "supply": {},  # chip id = number of chips available
    "efficiency": {
        "bandwidth": "number",
        "compute": "number",
        "prefill_compute": "number",
        "overhead_per_layer": "time0",
        "per_sequence": "time0",
        "collective_latency": "time0",
        "overhead_per_step": "time0",
        "per_sequence_step": "time0",
        "attention_kernel": "number0",
        "moe_layer": "time0",
        "mla_layer": "time0",
        "moe_expert": "time0",
        "profile": "str",
        "engine": "str",
        "engine_version": "version",
    },
    "costs": {"basis": "str", "power_basis": "str", "rent_term": "str"},
    "overrides": {},
    "assumptions": ASSUMPTION_KEYS,
    "synthesis": PROBLEM_KEYS,
}
# a [[class]] table: a name and the keys of [workload], [sla] and [serving] (the problem's
# [serving] is every class's default)
CLASS_KEYS = {"name": "str", **SCHEMA["workload"], **SCHEMA["sla"], **SCHEMA["serving"]}
CLASS_SECTIONS = ("workload", "sla", "serving")
FREE_SECTIONS = ("overrides", "supply")  # keys are paths or catalog ids, checked elsewhere
OWN_PARSER = ("assumptions", "synthesis")  # parsed by designer.model.assumptions, .synthesis
REQUIRED = {
    "workload": ["model", "context_tokens"],
    "sla": ["tokens_per_s_per_user", "concurrent_users"],
}


@dataclass(frozen=True)
class WorkloadClass:
    """One kind of traffic: a workload served at `target_utps` tokens/s to `users` concurrent
    users (None: as many as possible, for `maximize`)."""

    name: str
    workload: Workload
    target_utps: float
    users: int | None
    # size for the SLA at the slow end of the prediction's interval, held with this one-sided
    # probability (designer.calibration.intervals); None: at the nominal prediction
    confidence: float | None = None
    serving: Serving | None = None  # requests with a TTFT target (None: decode only)
    # size for the TTFT target at the slow end of the TTFT's interval, held with this one-sided
    # probability (designer.calibration.ttft_interval); None: at the prediction
    ttft_confidence: float | None = None

    @property
    def by_requests(self) -> bool:
        """Whether the class asks for a request rate (`sla.requests_per_s`) rather than for
        concurrent users (a class asking for as many users as possible, `users` None, asks
        for neither)."""
        return self.serving is not None and self.serving.requests_asked and self.users is not None

    @property
    def need(self) -> float:
        """What the class's demand row asks for, in users at its SLA rate r
        (`features.demand`): its users, or for a request rate λ the users λ·O/r decoding at r
        (not rounded: the row holds λ exactly), at least one for any requests (as
        `serving.users_for_rate`: every replica serves at least one, so this only keeps a tiny
        rate above the solver's tolerance)."""
        if self.by_requests:
            users = self.serving.requests_per_s * self.workload.output_tokens / self.target_utps
            return max(users, 1.0) if users > 0 else 0.0
        return float(self.users or 0)

    def describe(self) -> dict[str, Any]:
        wl = self.workload
        out = {
            "name": self.name,
            "model": wl.model.id,
            "context_tokens": wl.context_tokens,
            "weight_dtype": wl.weight_dtype,
            "kv_dtype": wl.kv_dtype,
            "tokens_per_s_per_user": self.target_utps,
            "concurrent_users": self.users,
            "confidence": self.confidence,
        }
        if self.ttft_confidence is not None:
            out["ttft_confidence"] = self.ttft_confidence
        if self.serving is not None:
            s = self.serving
            out.update(
                prompt_tokens=wl.prompt_tokens,
                output_tokens=wl.output_tokens,
                ttft_s=s.ttft_s,
                requests_per_s=s.requests_per_s,
                requests_asked=s.requests_asked,
                serving_mode=s.mode,
                chunk_tokens=s.chunk_tokens,
            )
        return out


@dataclass(frozen=True)
class Problem:
    """A validated question: serve every workload class at its rate for its users, minimizing
    (or maximizing) `objective` over the design space, within the limits and supply.

    `workload`, `target_utps` and `users` are those of the first class (the only one in a
    problem written with [workload] and [sla])."""

    classes: tuple[WorkloadClass, ...]
    catalog: Catalog = field(repr=False)
    objective: str = "capex"
    sense: str = "minimize"
    chips: tuple[str, ...] = ()
    left_out: tuple[tuple[str, str], ...] = ()  # (chip, why) not searched
    tp: tuple[int, ...] = DEFAULT_TP
    pp: tuple[int, ...] = DEFAULT_PP
    max_batch: int = DEFAULT_MAX_BATCH
    max_chips: int | None = None
    max_power: float | None = None  # W, IT
    max_facility_power: float | None = None  # W, IT × PUE
    max_capex_usd: float | None = None
    max_configurations: int | None = None  # per class
    max_chip_types: int | None = None
    chip_type_fixed_cost_usd: float = 0.0
    supply: tuple[tuple[str, int], ...] = ()
    where: str = "<problem>"
    raw: dict = field(default_factory=dict, repr=False, compare=False)
    # [efficiency]: the profile named (None: each chip's default, see
    # designer.calibration.profiles) and the
    # Efficiency values given explicitly (they replace the profile's)
    profile: str | None = None
    engine: str | None = None  # the serving engine whose profiles are the chips' defaults
    engine_version: str | None = None  # its build: profiles fitted on builds up to it first
    efficiency_values: dict = field(default_factory=dict, repr=False, compare=False)
    # [costs]: purchase or rent, and which server power each use takes
    cost_basis: CostBasis = CostBasis()
    include_estimated: bool = True  # chips whose price is an estimate join the space
    base_dir: Path | None = field(default=None, repr=False, compare=False)
    # The catalog before [overrides]: what-ifs re-apply overrides to it instead of reloading.
    base_catalog: Catalog | None = field(default=None, repr=False, compare=False)
    # [synthesis]: the synthesized design space (designer.optimize.synthesis.Synthesis), else None
    synthesis: Any = field(default=None, repr=False, compare=False)

    @property
    def workload(self) -> Workload:
        return self.classes[0].workload

    @property
    def target_utps(self) -> float:
        return self.classes[0].target_utps

    @property
    def users(self) -> int | None:
        return self.classes[0].users

    @property
    def limits(self) -> dict[str, float]:
        """The limits the problem sets, by their key in [limits]."""
        named = {
            "max_chips": self.max_chips,
            "max_power": self.max_power,
            "max_facility_power": self.max_facility_power,
            "max_capex_usd": self.max_capex_usd,
        }
        return {k: v for k, v in named.items() if v is not None}

    def with_changes(self, sets: dict[str, Any], origin: str = "--set") -> Problem:
        """A new problem with dotted-path changes applied (problem keys or catalog values,
        wildcards and relative values as in `apply_sets`); the catalogs are not reloaded.
        A bad changed value is named by `origin` (`--set`, or the study file that swept it),
        not by the problem file.

        Example: `problem.with_changes({"chips.*.memory_bandwidth": "x2"})`.
        """
        raw = apply_sets(self.raw, sets, where=origin)
        with set_by(sets, origin):
            return problem_from_dict(
                raw, where=self.where, catalog=self.base_catalog, base_dir=self.base_dir
            )


MAX_INT = 2**40
INT_BOUNDS = {
    "workload.context_tokens": MAX_TOKENS,
    "workload.prompt_tokens": MAX_TOKENS,
    "workload.output_tokens": MAX_TOKENS,
    "workload.collectives_per_layer": 1024,
    "sla.concurrent_users": 2**30,
    "serving.chunk_tokens": MAX_TOKENS,
    "space.tp": MAX_PARTITION,
    "space.pp": MAX_PARTITION,
    "space.max_batch": MAX_PARTITION,
}
MAX_LIST = 1024  # entries of a list key
ZERO_IS_NONE = {
    "space.max_chips",
    "limits.max_power",
    "limits.max_facility_power",
    "limits.max_capex_usd",
    "limits.max_chips",
}


def _int_bound(key: str) -> int:
    """The largest integer `key` takes (`INT_BOUNDS`, else `MAX_INT`); a `[[class]]` table's
    key (`class.NAME.KEY`) has the bound of its section's key (`workload.`, `sla.`,
    `serving.`): a class took 2e9 concurrent users that `[sla]` refuses."""
    tail = key.split(".", 2)[-1] if key.startswith("class.") else key
    for name in (key, *(f"{section}.{tail}" for section in ("workload", "sla", "serving"))):
        if name in INT_BOUNDS:
            return INT_BOUNDS[name]
    return MAX_INT


def _typed(kind: str, value: Any, where: str, key: str) -> Any:
    """`value` of the problem key `key` checked and converted to `kind` (see SCHEMA).

    Integers are whole, positive (or ≥ 0 for "int0") and at most INT_BOUNDS[key] (MAX_INT);
    numbers are finite and positive ("number0": or 0); times "time0" may be 0; token counts
    may be written "128K"; lists are non-empty, at most MAX_LIST entries, duplicates merged; a
    limit of 0 is None (no limit).
    """
    if key in ZERO_IS_NONE and _is_number(value) and value == 0:
        return None
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"expected true or false, got {excerpt(value)}", where=where, key=key)
        return value
    if kind == "tokens":
        if isinstance(value, str):
            return parse_tokens(value, where=where, key=key, high=_int_bound(key))
        return _typed("int", value, where, key)
    if kind == "str":
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {excerpt(value)}", where=where, key=key)
        return value
    if kind == "version":  # a number would lose its zeros: 0.10 is 0.1
        if not isinstance(value, str):
            raise InputError(
                f'expected a quoted version such as "0.13.0", got {excerpt(value)}',
                where=where,
                key=key,
            )
        return value
    if kind in ("int", "int0"):
        low = 0 if kind == "int0" else 1
        high = _int_bound(key)
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
    if kind == "number0":
        if not _is_number(value) or not _finite(value) or not 0 <= value <= 1e30:
            raise InputError(
                f"expected a non-negative number, got {excerpt(value)}", where=where, key=key
            )
        return float(value)
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
    zero_ok = kind == "time0"
    v = parse(value, "time" if zero_ok else kind, where=where, key=key)
    if v == 0 and key in ZERO_IS_NONE:
        return None
    if v < 0 or (v == 0 and not zero_ok):
        sign = "non-negative" if zero_ok else "positive"
        what = "time" if zero_ok else kind
        raise InputError(f"expected a {sign} {what}, got {excerpt(value)}", where=where, key=key)
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


def is_catalog_path(path: str) -> bool:
    """Whether a dotted path changes a catalog value (`chips.h200.price_usd`, which goes to
    [overrides]) rather than a problem key (`sla.…`, and the problem's own `costs.basis`)."""
    head, _, rest = path.partition(".")
    return head in CATALOG_SECTIONS and not (head == "costs" and rest in SCHEMA["costs"])


def apply_sets(raw: dict, sets: dict[str, Any], *, where: str | None) -> dict:
    """Dotted-path changes applied to a raw problem dict; catalog paths go to [overrides],
    `class.NAME.key` changes one workload class, `supply.CHIP` one chip's supply.

    A value `xF` (or `×F`) multiplies the current value (`sla.tokens_per_s_per_user=x2`,
    `limits.max_power=x0.5`); a `*` entry segment of a catalog path matches every entry that
    has the key (`chips.*.memory_bandwidth=x2`). A relative catalog change applies after the
    problem's own [overrides] (so it scales the overridden value).
    """
    raw = copy.deepcopy(raw)
    for path, value in sets.items():
        head, _, rest = path.partition(".")
        factor = relative_factor(value)
        if is_catalog_path(path):
            overrides = raw.setdefault("overrides", {})
            if factor is not None and path in overrides:
                value = scale_value(overrides.pop(path), factor, path_kind(path), where, path)
            overrides[path] = value
            continue
        if head == "overrides" or (head in ("class", "supply", "synthesis") and not rest):
            shape = {
                "class": "class.NAME.KEY",
                "supply": "supply.CHIP",
                "synthesis": "synthesis.KEY or synthesis.TABLE.ENTRY.KEY",
                "overrides": "the catalog path itself (chips.ID.KEY, models.ID.KEY, …)",
            }[head]
            raise InputError(f"expected {shape}", where=where, key=path)
        if head == "class":
            _set_class(raw, rest, value, where=where, path=path)
            continue
        if head == "supply" and rest:
            raw.setdefault("supply", {})[rest] = value
            continue
        if head == "synthesis" and rest:
            from designer.optimize.synthesis import set_path

            set_path(raw.setdefault("synthesis", {}), rest, value, where=where, path=path)
            continue
        if head not in SCHEMA or head in FREE_SECTIONS:
            valid = list(dict.fromkeys([*SCHEMA, "class", *CATALOG_SECTIONS]))
            raise unknown("section", head, valid, where=where, key=path)
        if rest not in SCHEMA[head]:
            raise unknown("key", rest, SCHEMA[head], where=where, key=path)
        if head in ("workload", "sla") and "class" in raw:
            raise InputError(
                "this problem has [[class]] tables: use class.NAME.KEY", where=where, key=path
            )
        if factor is not None:
            current = raw.get(head, {}).get(rest)
            value = _scaled(current, factor, SCHEMA[head][rest], value, where, path)
        raw.setdefault(head, {})[rest] = value
    return raw


def _set_class(raw: dict, rest: str, value: Any, *, where: str, path: str) -> None:
    classes = raw.get("class") or []
    names = [str(c.get("name", "")) for c in classes if isinstance(c, dict)]
    name, _, key = rest.rpartition(".")
    if not name:
        raise InputError("expected class.NAME.KEY", where=where, key=path)
    if name not in names:
        raise unknown("class", name, names, where=where, key=path)
    if key == "name":
        raise InputError(
            "a class's name is how --set finds it: rename it in the problem file",
            where=where,
            key=path,
        )
    if key not in CLASS_KEYS:
        raise unknown("key", key, [k for k in CLASS_KEYS if k != "name"], where=where, key=path)
    table = classes[names.index(name)]
    factor = relative_factor(value)
    if factor is not None:
        value = _scaled(table.get(key), factor, CLASS_KEYS[key], value, where, path)
    table[key] = value


# problem-key kinds a factor can scale, and the catalog kind they are parsed as
_SCALABLE = {"int": None, "int0": None, "number": None, "number0": None, "tokens": None}
_SCALABLE.update({"time0": "time", **{k: k for k in KINDS}})


def _scaled(current: Any, factor: float, kind: str, value: Any, where: str, path: str) -> Any:
    """`current` × `factor` for a problem key of `kind` (token counts like '128K' included)."""
    if kind not in _SCALABLE:
        raise InputError(f"cannot scale a {kind} by {value!r}", where=where, key=path)
    if kind == "tokens" and isinstance(current, str):
        current = parse_tokens(current, where=where, key=path)
    return scale_value(current, factor, _SCALABLE[kind], where, path)


def _check_table(body: Any, schema: dict[str, str], where: str, prefix: str) -> None:
    if not isinstance(body, dict):
        raise InputError("expected a table", where=where, key=prefix)
    for key in body:
        if key not in schema:
            raise InputError(
                f"unknown key{closest(key, schema)}", where=where, key=f"{prefix}.{key}"
            )


def _class_tables(raw: dict, where: str) -> list[tuple[str, dict, str]]:
    """(name, merged [workload]+[sla] keys, key prefix) of each workload class."""
    if "class" in raw:
        if "workload" in raw or "sla" in raw:
            raise InputError(
                "use either [workload] and [sla] or [[class]] tables, not both",
                where=where,
                key="class",
            )
        _check_table(raw.get("serving", {}), SCHEMA["serving"], where, "serving")
        tables = raw["class"]
        if not isinstance(tables, list) or not tables:
            raise InputError("expected [[class]] tables", where=where, key="class")
        out, seen = [], set()
        for i, t in enumerate(tables):
            _check_table(t, CLASS_KEYS, where, f"class[{i}]")
            name = t.get("name")
            if not isinstance(name, str) or not name:
                raise InputError(
                    "missing required key (a non-empty name)"
                    if name is None
                    else f"expected a non-empty name, got {excerpt(name)}",
                    where=where,
                    key=f"class[{i}].name",
                )
            if name in seen:
                raise InputError(f"duplicate class name {name!r}", where=where, key="class.name")
            seen.add(name)
            _serving_needs_ttft(t, where, f"class.{name}")
            body = {**raw.get("serving", {}), **{k: v for k, v in t.items() if k != "name"}}
            out.append((name, body, f"class.{name}"))
        return out
    for section in CLASS_SECTIONS:
        _check_table(raw.get(section, {}), SCHEMA[section], where, section)
    if raw.get("serving"):
        _serving_needs_ttft(raw.get("sla", {}), where, "serving", raw["serving"])
    merged = {**raw.get("serving", {}), **raw.get("workload", {}), **raw.get("sla", {})}
    return [("default", merged, "")]


def _serving_needs_ttft(table: dict, where: str, prefix: str, serving: dict | None = None) -> None:
    """[serving] keys say how requests are served: without a TTFT target there are none. The
    error names the first serving key given (`serving`: the [serving] table, else the class's
    own keys in `table`) and the TTFT key to set."""
    given = [k for k in SCHEMA["serving"] if k in (table if serving is None else serving)]
    if not given or "ttft" in table:
        return
    ttft = f"{prefix}.ttft" if prefix != "serving" else "sla.ttft"
    raise InputError(
        f"serving keys need requests: set {ttft} (and requests_per_s or concurrent_users)",
        where=where,
        key=f"{prefix}.{given[0]}",
    )


def _key(prefix: str, section: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else f"{section}.{key}"


def _workload_class(
    name: str,
    body: dict,
    prefix: str,
    *,
    catalog: Catalog,
    eff: Efficiency,
    assumptions,
    maximize: bool,
    where: str,
    base_dir: Path | None,
) -> WorkloadClass:
    section = {k: next((s for s in CLASS_SECTIONS if k in SCHEMA[s]), "") for k in CLASS_KEYS}
    if "concurrent_users" in body and "requests_per_s" in body:
        raise InputError(
            "give concurrent_users or requests_per_s, not both (Little's law links them)",
            where=where,
            key=_key(prefix, "sla", "requests_per_s"),
        )
    for sec, keys in REQUIRED.items():
        for key in keys:
            if key == "concurrent_users" and (maximize or "requests_per_s" in body):
                continue
            if key == "context_tokens" and {"prompt_tokens", "output_tokens"} <= set(body):
                continue  # the peak context is prompt + output
            if key not in body:
                raise InputError(
                    f"missing required key ({SCHEMA[sec][key]})",
                    where=where,
                    key=_key(prefix, sec, key),
                )
    v = {
        k: _typed(CLASS_KEYS[k], val, where, _key(prefix, section[k], k)) for k, val in body.items()
    }
    model_key = _key(prefix, "workload", "model")
    model_id = v["model"]
    if model_id not in catalog.raw["models"] and base_dir is not None:
        candidate = base_dir / model_id
        # a file beside the problem is what it names; a folder only when no model has that name
        if candidate.is_file() or (candidate.exists() and catalog.model_id(model_id) is None):
            model_id = str(candidate)
    try:
        model = catalog.model(model_id)
    except InputError as exc:
        raise InputError(str(exc), where=where, key=model_key) from None
    try:
        w_default, kv_default = native_dtypes(model, assumptions, v.get("weight_dtype"))
    except InputError as exc:
        raise InputError(
            exc.message, where=where, key=_key(prefix, "workload", "weight_dtype")
        ) from None
    spec = v.get("speculative", "none")
    draft = None
    for key in ("draft_tokens", "acceptance_rate"):
        # they describe the drafts: given with no speculative method at all, they do nothing
        # (a speculative = "none" given switches decoding off and keeps them for later)
        if "speculative" in v and spec != "none" and key not in v:  # it was taken as 0
            raise InputError(
                "speculative decoding needs it (it was taken as 0)",
                where=where,
                key=_key(prefix, "workload", key),
            )
        if "speculative" not in v and key in v:
            raise InputError(
                "changes nothing without speculative decoding: set speculative too (mtp, "
                "eagle or a draft model's id)",
                where=where,
                key=_key(prefix, "workload", key),
            )
    if spec not in SPECULATIVE:
        try:
            draft = catalog.model(spec)
        except InputError as exc:
            raise InputError(
                str(exc), where=where, key=_key(prefix, "workload", "speculative")
            ) from None
    context = v.get("context_tokens", v.get("prompt_tokens", 0) + v.get("output_tokens", 0))
    try:
        workload = Workload(
            model,
            context,
            v.get("weight_dtype", w_default),
            v.get("kv_dtype", kv_default),
            v.get("collectives_per_layer", 2),
            eff,
            assumptions=assumptions,
            prompt_tokens=v.get("prompt_tokens", 0),
            output_tokens=v.get("output_tokens", 0),
            activation_dtype=v.get("activation_dtype", ""),
            speculative=spec,
            draft_tokens=v.get("draft_tokens", 0),
            acceptance_rate=v.get("acceptance_rate", 0.0),
            draft_model=draft,
        )
    except InputError as exc:
        if exc.where:
            raise
        message = str(exc).removeprefix(f"{exc.key}: ")
        key = exc.key
        if prefix and key and key.startswith("workload."):
            key = f"{prefix}.{key.removeprefix('workload.')}"
        raise InputError(message, where=where, key=key) from None
    confidence = v.get("confidence")
    if confidence is not None:
        confidence = check_confidence(confidence, where, _key(prefix, "sla", "confidence"))
    rate, users = v["tokens_per_s_per_user"], v.get("concurrent_users")
    serving = None
    if "ttft" in v or "requests_per_s" in v:
        if "ttft" not in v:
            raise InputError(
                'serving requests needs a TTFT target (e.g. ttft = "2 s")',
                where=where,
                key=_key(prefix, "sla", "ttft"),
            )
        check_serving(workload, where, _key(prefix, "sla", "ttft"))
        if "requests_per_s" in v:
            users = users_for_rate(v["requests_per_s"], workload.output_tokens, rate)
            requests = v["requests_per_s"]
            most = INT_BOUNDS["sla.concurrent_users"]
            if users > most:  # Little's law: λ·O/r users decoding at once
                raise InputError(
                    f"{requests:g} requests/s of {workload.output_tokens}-token answers at "
                    f"{rate:g} tokens/s per user keep {users:.3g} users decoding at once, more "
                    f"than the {most:,} a problem sizes (sla.concurrent_users' bound)",
                    where=where,
                    key=_key(prefix, "sla", "requests_per_s"),
                )
        else:
            requests = rate_for_users(users or 0, workload.output_tokens, rate)
        try:
            serving = Serving(
                v["ttft"],
                requests,
                v.get("mode", "best"),
                v.get("chunk_tokens", CHUNK),
                requests_asked="requests_per_s" in v,
            )
        except InputError as exc:
            raise InputError(str(exc), where=where, key=_key(prefix, "serving", "mode")) from None
    ttft_confidence = v.get("ttft_confidence")
    if ttft_confidence is not None:
        key = _key(prefix, "sla", "ttft_confidence")
        ttft_confidence = check_confidence(ttft_confidence, where, key)
        if serving is None:
            raise InputError(
                'a TTFT confidence needs a TTFT target (e.g. ttft = "2 s")', where=where, key=key
            )
    return WorkloadClass(name, workload, rate, users, confidence, serving, ttft_confidence)


def _profile_path(profile: str, base_dir: str | Path | None, where: str) -> str:
    """`[efficiency] profile` as a name, or a profile file's path: relative to the problem
    file's folder where that file is there (as `space.chips` and a model's config.json are),
    else as given (a `--profile FILE` of the current folder); a file that is in neither is an
    error naming the key."""
    from designer.calibration import profiles

    if profile in profiles.load() or not (profile.endswith(".toml") or os.sep in profile):
        return profile
    here = Path(profile)
    if base_dir is not None and not here.is_absolute() and (Path(base_dir) / here).is_file():
        return str(Path(base_dir) / here)
    if not here.is_file():
        raise InputError(
            f"no profile file {excerpt(profile)} (a path is read from the problem file's "
            "folder, else from the current one)",
            where=where,
            key="efficiency.profile",
        )
    return profile


def _profile_engine(profile: str | None) -> str | None:
    from designer.calibration import engines, profiles

    return engines.of_profile(profiles.get(profile)) if profile else None


def _engine_space(catalog, chips, left_out, engine, explicit: bool, where: str):
    """The space's chips where the serving engine runs (catalogs/engines.toml); the others are
    left out, each with the engines that do run on it. Bad input when none is left of a
    space.chips list."""
    from designer.calibration import engines

    if not engine:
        return tuple(chips), left_out
    keep = tuple(c for c in chips if engines.runs_on(catalog, c, engine))
    if explicit and chips and not keep:
        engines.check(catalog, chips[0], engine, where=where, key="space.chips")
    out = tuple(
        (
            c,
            f"{engine} does not run on it (engines that do: "
            f"{', '.join(engines.engines_for(catalog, c)) or 'none known'})",
        )
        for c in chips
        if c not in keep
    )
    return keep, tuple(left_out) + out


def check_confidence(value: float, where: str | None, key: str) -> float:
    """A one-sided confidence the interval table can give: 0.5 (the median) to 0.95."""
    from designer.calibration.intervals import QUANTILES

    low, high = 0.5, max(QUANTILES)
    if not low <= value <= high:
        raise InputError(
            f"expected a confidence from {low} to {high} (e.g. 0.9), got {value!r}",
            where=where,
            key=key,
        )
    return float(value)


def problem_from_dict(
    raw: dict,
    *,
    where: str = "<problem>",
    catalog: Catalog | None = None,
    base_dir: str | Path | None = None,
) -> Problem:
    """Validate a raw problem dict (as read from TOML); every error names the file `where`. A
    model path is relative to `base_dir` (the problem file's folder) when given."""
    try:
        return _problem_from_dict(raw, where=where, catalog=catalog, base_dir=base_dir)
    except InputError as exc:
        raise in_file(exc, where) from None


def _problem_from_dict(
    raw: dict, *, where: str, catalog: Catalog | None, base_dir: str | Path | None
) -> Problem:
    for section, body in raw.items():
        if section == "class":
            continue
        if section not in SCHEMA:
            valid = [*SCHEMA, "class"]
            raise InputError(f"unknown section{closest(section, valid)}", where=where, key=section)
        if section in FREE_SECTIONS:
            if not isinstance(body, dict):
                raise InputError("expected a table", where=where, key=section)
        elif section not in CLASS_SECTIONS:
            _check_table(body, SCHEMA[section], where, section)
    v: dict[str, dict[str, Any]] = {
        s: {k: _typed(SCHEMA[s][k], val, where, f"{s}.{k}") for k, val in raw.get(s, {}).items()}
        for s in SCHEMA
        if s not in FREE_SECTIONS + OWN_PARSER and s not in CLASS_SECTIONS
    }
    assumptions = assumptions_from_table(raw.get("assumptions", {}), where=where)
    # chip files join the catalog first: [overrides], --set and a comparison's restriction of
    # space.chips then find their chips by id as they find the catalog's
    base_catalog, files = _join_chip_files(
        v["space"].get("chips", ()), catalog or Catalog.load(), base_dir
    )
    catalog = base_catalog.with_overrides(
        dict(raw.get("overrides", {})), where=f"{where} [overrides]"
    )
    from designer.calibration import engines, profiles

    e = dict(v["efficiency"])
    profile = e.pop("profile", None)
    engine = e.pop("engine", None)
    if engine is not None:
        profiles.check_engine(engine, where=where, key="efficiency.engine")
    engine_version = e.pop("engine_version", None)
    if engine_version is not None:
        engines.check_version(
            engine_version,
            engine,
            engine_key="efficiency.engine",
            where=where,
            key="efficiency.engine_version",
            hint=' (e.g. engine = "sglang")',
        )
    base = Efficiency()
    if profile is not None:
        profile = _profile_path(profile, base_dir, where)
        base = profiles.get(profile, where=where, key="efficiency.profile").efficiency
    try:
        eff = dataclasses.replace(base, **e)
    except InputError as exc:
        raise in_file(exc, where) from None
    sense, objective = _objective(v["objective"], where)
    classes = tuple(
        _workload_class(
            name,
            body,
            prefix,
            catalog=catalog,
            eff=eff,
            assumptions=assumptions,
            maximize=sense == "maximize",
            where=where,
            base_dir=Path(base_dir) if base_dir is not None else None,
        )
        for name, body, prefix in _class_tables(raw, where)
    )
    if sense == "maximize" and len(classes) > 1:
        raise InputError("maximize takes one workload class", where=where, key="objective.maximize")
    space = v["space"]
    include_hypothetical = space.get("include_hypothetical", False)
    synthesis = None
    if "synthesis" in raw:
        from designer.optimize.synthesis import expand

        synthesis = expand(raw["synthesis"], catalog, where=where)
        for name, ids in files.items():  # a file's chip under a synthesized chip's id
            for chip in set(ids) & set(synthesis.chips):
                if synthesis.catalog.raw["chips"][chip] != catalog.raw["chips"][chip]:
                    raise InputError(
                        f"{name} has chips.{chip}, the id of a chip this problem synthesizes, "
                        "with other values: give the file's chip another id",
                        where=where,
                        key="space.chips",
                    )
        catalog = synthesis.catalog
    if "chips" in space:
        chips = _space_chips(space["chips"], files, catalog, where)
        left_out = ()
        if synthesis is not None:
            chips = (*synthesis.chips, *(c for c in chips if c not in synthesis.chips))
    elif synthesis is not None:
        chips, left_out = synthesis.chips, ()
    else:
        every = catalog.ids("chips")
        chips = tuple(
            c for c in every if include_hypothetical or catalog.chip(c).kind == "datasheet"
        )
        left_out = tuple(
            (
                c,
                f"{catalog.chip(c).kind}: name it in space.chips or set "
                "space.include_hypothetical = true",
            )
            for c in every
            if c not in chips
        )
    chips, left_out = _engine_space(
        catalog, chips, left_out, engine or _profile_engine(profile), "chips" in space, where
    )
    supply = []
    for chip_id, n in raw.get("supply", {}).items():
        if chip_id not in catalog.raw["chips"]:
            raise unknown(
                "chip", chip_id, catalog.raw["chips"], where=where, key=f"supply.{chip_id}"
            )
        supply.append((chip_id, _typed("int0", n, where, f"supply.{chip_id}")))
    limits = v["limits"]
    max_chips = min(
        [x for x in (space.get("max_chips"), limits.get("max_chips")) if x], default=None
    )
    fleet = v["fleet"]
    return Problem(
        cost_basis=cost_basis_from(v["costs"], where),
        include_estimated=space.get("include_estimated", True),
        classes=classes,
        catalog=catalog,
        objective=objective,
        sense=sense,
        chips=tuple(chips),
        left_out=left_out,
        tp=space.get("tp", DEFAULT_TP),
        pp=space.get("pp", DEFAULT_PP),
        max_batch=space.get("max_batch", DEFAULT_MAX_BATCH),
        max_chips=max_chips,
        max_power=limits.get("max_power"),
        max_facility_power=limits.get("max_facility_power"),
        max_capex_usd=limits.get("max_capex_usd"),
        max_configurations=fleet.get("max_configurations"),
        max_chip_types=fleet.get(
            "max_chip_types", synthesis.max_designs if synthesis is not None else None
        ),
        chip_type_fixed_cost_usd=fleet.get(
            "chip_type_fixed_cost_usd", synthesis.tape_out_usd if synthesis is not None else 0.0
        ),
        supply=tuple(supply),
        where=where,
        raw=raw,
        base_dir=Path(base_dir) if base_dir is not None else None,
        base_catalog=base_catalog,
        profile=profile,
        engine=engine,
        engine_version=engine_version,
        efficiency_values=e,
        synthesis=synthesis,
    )


def _join_chip_files(
    names: tuple[str, ...], catalog: Catalog, base_dir: str | Path | None
) -> tuple[Catalog, dict[str, list[str]]]:
    """The catalog with the chips of the chip files (`*.toml`, relative to the problem's
    folder) that `space.chips` names, and each such file's chip ids by its name there."""
    files: dict[str, list[str]] = {}
    for c in names:
        if c in catalog.raw["chips"] or not c.endswith(".toml"):
            continue
        path = Path(c) if base_dir is None or Path(c).is_absolute() else Path(base_dir) / c
        catalog, files[c] = catalog.with_chip_file(path)
    return catalog, files


def _space_chips(
    names: tuple[str, ...], files: dict[str, list[str]], catalog: Catalog, where: str
) -> tuple[str, ...]:
    """The chips of `space.chips`: catalog ids, or the chips of its chip files (`files`)."""
    out: list[str] = []
    for c in names:
        if c in catalog.raw["chips"]:
            out.append(c)
        elif c in files:
            out += files[c]
        else:
            raise unknown("chip", c, catalog.raw["chips"], where=where, key="space.chips")
    return tuple(dict.fromkeys(out))


def _objective(body: dict, where: str) -> tuple[str, str]:
    if "minimize" in body and "maximize" in body:
        raise InputError("give minimize or maximize, not both", where=where, key="objective")
    if "maximize" in body:
        name = body["maximize"]
        if name not in MAXIMIZE:
            raise unknown("objective", name, MAXIMIZE, where=where, key="objective.maximize")
        return "maximize", name
    name = body.get("minimize", "capex")
    if name not in OBJECTIVES:
        raise unknown("objective", name, OBJECTIVES, where=where, key="objective.minimize")
    return "minimize", name


def load_problem(
    path: str | Path, sets: dict[str, Any] | None = None, catalog: Catalog | None = None
) -> Problem:
    """Read and validate a problem TOML file, with optional dotted-path changes; a model path
    in it is relative to the file."""
    p = Path(path)
    raw = read_toml(p, "a problem TOML")
    if "problem" in raw and ("grid" in raw or "list" in raw):
        raise InputError(
            "is a study (problem = …, [grid] or [list]), not a problem: run it with designer "
            "sweep, and point its problem key at a problem file",
            where=str(p),
        )
    if not sets:
        return problem_from_dict(raw, where=str(p), catalog=catalog, base_dir=p.parent)
    changed = apply_sets(raw, sets, where="--set")
    try:
        with set_by(sets, "--set"):
            return problem_from_dict(changed, where=str(p), catalog=catalog, base_dir=p.parent)
    except InputError:
        # the file's own bad input is the file's, though a --set path also matches its key
        # (a wildcard, a factor xF scaling it): unless a --set gives that key a value of its own
        try:
            problem_from_dict(raw, where=str(p), catalog=catalog, base_dir=p.parent)
        except InputError as own:
            path = _set_path(own.key, sets, whole=True)
            if path is None or relative_factor(sets[path]) is not None:
                raise own from None
        raise


@contextlib.contextmanager
def set_by(sets: dict[str, Any], origin: str) -> Iterator[None]:
    """Bad input under this block whose key one of `sets`' paths wrote is re-raised naming
    `origin`: the value came from there, not from the problem file. A path writes a key when
    they are equal, when the path is inside the key (`chips.h200.compute.fp9` writes
    `chips.h200.compute`) or when its `*` segments match it (`chips.*.memory_bandwidth`
    writes `chips.h200.memory_bandwidth`); a model override also without its `models.`."""
    try:
        yield
    except InputError as exc:
        path = _set_path(exc.key, sets)
        if path is None or exc.where == origin:
            raise
        raise InputError(exc.message, where=origin, key=path) from None


def _set_path(key: str | None, sets: dict[str, Any], whole: bool = False) -> str | None:
    """The path of `sets` that wrote `key` (see `set_by`), if one did: the path itself, else
    one matching a key of at least two segments (a section's name alone is no value's);
    `whole`: a path that writes the whole key (none inside it)."""
    if key in sets:
        return key
    parts = (key or "").split(".")
    if len(parts) < 2:
        return None
    for path in sets:
        forms = [path.split(".")]
        if forms[0][0] in CATALOG_SECTIONS:
            forms.append(forms[0][1:])
        for segs in forms:
            if whole and len(segs) != len(parts):
                continue
            head = segs[: len(parts)]
            if len(head) == len(parts) and all(
                s in ("*", k) for s, k in zip(head, parts, strict=True)
            ):
                return path
    return None


__all__ = [
    "Problem",
    "WorkloadClass",
    "load_problem",
    "problem_from_dict",
    "parse_set",
    "apply_sets",
    "is_catalog_path",
    "OBJECTIVES",
    "MAXIMIZE",
]

"""Catalogs of chips, memory technologies, interconnects, models and cost defaults.

Each catalog is a TOML file (see catalogs/README.md); every quantity is a string with units.
`Catalog.load()` reads the bundled catalogs, plus any folders named in the environment variable
`DESIGNER_CATALOG_PATH` (`:`-separated), whose entries add to or replace bundled ones.
`Catalog.with_overrides()` changes any value by dotted path (`chips.xpu-hbm3.memory_bandwidth`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from designer.model.architecture import Architecture, from_mapping, load_hf_config
from designer.model.dtypes import DTYPE_BYTES
from designer.model.errors import InputError, closest, excerpt, unknown
from designer.model.files import read_toml
from designer.model.units import KINDS, parse, plain_number

SECTIONS = ("chips", "memory", "interconnects", "models", "costs")
DERIVED_MEMO = 64  # catalogs remembered per base catalog by with_overrides
CHIP_KINDS = ("paper-preset", "datasheet", "hypothetical")
# A dtype missing from a chip's compute table runs at the next wider dtype the chip has.
DTYPE_FALLBACK = {
    "mxfp4": ["fp4", "fp8", "bf16", "fp16", "fp32"],
    "fp4": ["fp8", "bf16", "fp16", "fp32"],
    "int4": ["int8", "fp8", "bf16", "fp16", "fp32"],
    "int8": ["fp8", "bf16", "fp16", "fp32"],
    "fp8": ["bf16", "fp16", "fp32"],
    "bf16": ["fp16", "fp32"],
    "fp16": ["bf16", "fp32"],
    "fp32": [],
}


@dataclass(frozen=True)
class MemoryTech:
    id: str
    name: str
    bandwidth_per_stack: float | None  # B/s
    capacity_per_stack: float | None  # B
    energy_per_byte: float  # J/B
    cost_per_gb_usd: float  # USD per 1e9 B
    source: str


@dataclass(frozen=True)
class Interconnect:
    id: str
    name: str
    domain_size: int
    intra_domain_latency: float  # s, one collective inside a scale-up domain
    inter_domain_latency: float  # s, one collective across domains
    pipeline_latency: float  # s, one pipeline-stage hand-off
    link_bandwidth: float | None  # B/s per chip
    source: str


@dataclass(frozen=True)
class Chip:
    id: str
    name: str
    vendor: str
    kind: str
    memory_technology: str
    memory_capacity: float  # B
    memory_bandwidth: float  # B/s
    usable_memory_fraction: float
    compute: dict[str, float]  # dtype -> FLOP/s, dense
    interconnect: str
    tdp: float | None = None  # W
    die_area: float | None = None  # m^2
    price_usd: float | None = None
    server_chips: int | None = None  # accelerators per server (board, tray or rack)
    server_power: float | None = None  # W, the whole server's rated power, accelerators included
    server_price_usd: float | None = None  # the server's parts other than the accelerators
    # the whole server's typical draw (W), where a vendor or operator publishes one
    server_power_typical: float | None = None
    price_kind: str | None = None  # "sourced" | "estimate" for price_usd (default: sourced)
    price_source: str = ""  # where price_usd comes from (URL), and its date
    price_date: str = ""
    estimate_from: str | None = None  # the nearest priced part, for estimated price and TDP
    rent_on_demand_usd_per_hour: float | None = None  # per chip, on-demand cloud price
    rent_reserved_usd_per_hour: float | None = None  # per chip, reserved / committed price
    rent_source: str = ""
    rent_date: str = ""
    server_scale_out_bandwidth: float | None = None  # B/s, the server's NICs together (one way)
    source: str = ""
    confidence: str = ""
    notes: str = ""

    def flops(self, dtype: str) -> float:
        """Dense FLOP/s for `dtype`, or for the next wider dtype the chip has."""
        for d in [dtype, *DTYPE_FALLBACK.get(dtype, [])]:
            if d in self.compute:
                return self.compute[d]
        raise InputError(
            f"chip {self.id!r} has no compute rate for {dtype!r} or a wider dtype "
            f"(it has {', '.join(sorted(self.compute))})",
            key=f"chips.{self.id}.compute",
        )


@dataclass(frozen=True)
class Costs:
    """Defaults of the cost and power models (catalogs/costs.toml)."""

    server_overhead_usd_per_chip: float
    chips_per_server: int
    server_power: float  # W per server
    pue: float
    electricity_usd_per_kwh: float
    amortization_years: float
    utilization: float
    logic_usd_per_mm2: float
    packaging_usd: float
    logic_power_density: float  # W/m^2
    # one server-power model for every shipping part (cost.server_power): accelerators at
    # their TDP (maximum) or at `accelerator_load_typical` of it (typical), plus host power
    # (CPUs, memory, NICs, switches, fans) per accelerator
    host_power_max_per_chip: float  # W
    host_power_typical_per_chip: float  # W
    accelerator_load_typical: float  # share of TDP
    # renting: reserved price as a share of on-demand, and the chip whose $/h per $ of
    # purchase estimates the rent of chips without a published $/h
    reserved_to_on_demand: float
    rent_reference_chip: str
    source: str


_CHIP_KEYS = {
    "name": "str",
    "vendor": "str",
    "kind": "str",
    "memory_technology": "str",
    "memory_capacity": "information",
    "memory_bandwidth": "bandwidth",
    "usable_memory_fraction": "fraction",
    "compute": "table",
    "interconnect": "str",
    "tdp": "power",
    "die_area": "area",
    "price_usd": "number",
    "server_chips": "count",
    "server_power": "power",
    "server_price_usd": "number",
    "server_power_typical": "power",
    "price_kind": "str",
    "price_source": "str",
    "price_date": "str",
    "estimate_from": "str",
    "rent_on_demand_usd_per_hour": "number",
    "rent_reserved_usd_per_hour": "number",
    "rent_source": "str",
    "rent_date": "str",
    "server_scale_out_bandwidth": "bandwidth",
    "source": "str",
    "confidence": "str",
    "notes": "str",
}
PRICE_KINDS = ("sourced", "estimate")
_CHIP_REQUIRED = [
    "memory_technology",
    "memory_capacity",
    "memory_bandwidth",
    "compute",
    "interconnect",
    "source",
]
_MEMORY_KEYS = {
    "name": "str",
    "bandwidth_per_stack": "bandwidth",
    "capacity_per_stack": "information",
    "energy_per_bit": "energy_per_information",
    "cost_per_gb_usd": "number",
    "source": "str",
    "confidence": "str",
    "notes": "str",
}
_MEMORY_REQUIRED = ["energy_per_bit", "cost_per_gb_usd", "source"]
_IC_KEYS = {
    "name": "str",
    "domain_size": "count",
    "intra_domain_latency": "time",
    "inter_domain_latency": "time",
    "pipeline_latency": "time",
    "link_bandwidth": "bandwidth",
    "source": "str",
    "confidence": "str",
    "notes": "str",
}
_IC_REQUIRED = ["domain_size", "intra_domain_latency", "inter_domain_latency", "source"]
_COST_KEYS = {
    "server_overhead_usd_per_chip": "number",
    "chips_per_server": "count",
    "server_power": "power",
    "pue": "number",
    "electricity_usd_per_kwh": "number",
    "amortization_years": "number",
    "utilization": "fraction",
    "logic_usd_per_mm2": "number",
    "packaging_usd": "number",
    "logic_power_density": "power_density",
    "host_power_max_per_chip": "power",
    "host_power_typical_per_chip": "power",
    "accelerator_load_typical": "fraction",
    "reserved_to_on_demand": "fraction",
    "rent_reference_chip": "str",
}


# Quantities that must be positive (a chip without bandwidth or compute is no chip, a server
# draws power), and the cost defaults that divide; every other number may be 0 (a free part,
# an ideal link).
_POSITIVE_KINDS = ("information", "bandwidth", "compute", "area")
_POSITIVE_KEYS = ("tdp", "pue", "amortization_years")
_POSITIVE_CHIP_KEYS = ("server_power", "server_power_typical")
MAX_COUNT = 2**20
# a price or cost of one part: a trillion dollars; times 2^20 chips it stays below HiGHS's 1e20,
# from which the solver reads a number as infinite
MAX_USD = 1e12
_EXPECTED = {
    "fraction": "a fraction in (0, 1]",
    "count": f"a positive integer (at most {MAX_COUNT})",
}


def _value(kind: str, value: Any, where: str, key: str) -> Any:
    """`value` of the catalog key `key` checked and converted to `kind` (finite, in range)."""
    name = key.rsplit(".", 1)[-1]
    positive = kind in _POSITIVE_KINDS or name in _POSITIVE_KEYS
    # a chip's server draws power; the cost default's host power over the chips may be 0
    positive = positive or (key.startswith("chips.") and name in _POSITIVE_CHIP_KEYS)
    if kind == "str":
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {excerpt(value)}", where=where, key=key)
        return value
    if kind in ("fraction", "count"):  # one message for every bad value of these
        try:
            number = plain_number(value, positive=True, where=where, key=key)
        except InputError:
            number = None
        if kind == "fraction":
            fits = number is not None and number <= 1
        else:
            fits = number is not None and 1 <= number <= MAX_COUNT and int(number) == number
        if not fits:
            raise InputError(
                f"expected {_EXPECTED[kind]}, got {excerpt(value)}", where=where, key=key
            )
        return int(number) if kind == "count" else number
    if kind == "number":
        number = plain_number(value, positive=positive, where=where, key=key)
        if "usd" in name and number > MAX_USD:
            raise InputError(
                f"expected at most {MAX_USD:g} USD (larger amounts overflow the solver's range), "
                f"got {excerpt(value)}",
                where=where,
                key=key,
            )
        if name == "pue" and number < 1:
            raise InputError(
                f"expected a PUE of at least 1 (facility power over IT power), got "
                f"{excerpt(value)}",
                where=where,
                key=key,
            )
        return number
    q = parse(value, kind, where=where, key=key)
    if q < 0 or (positive and q == 0):
        sign = "positive" if positive else "non-negative"
        noun = KINDS[kind].noun if kind in KINDS else kind
        raise InputError(f"expected a {sign} {noun}, got {excerpt(value)}", where=where, key=key)
    return q


def _config_file(name: str) -> bool:
    """Whether a model name is a config.json file on disk: it looks like a path (it ends in
    .json or holds a folder separator) and a file is there."""
    return (name.endswith(".json") or os.sep in name) and os.path.isfile(name)


def _check_keys(entry: dict, allowed: dict, required: list, where: str, prefix: str) -> None:
    if not isinstance(entry, dict):
        raise InputError(f"expected a table, got {excerpt(entry)}", where=where, key=prefix)
    for key in entry:
        if key not in allowed:
            raise InputError(
                f"unknown key{closest(key, allowed)}", where=where, key=f"{prefix}.{key}"
            )
    for key in required:
        if key not in entry:
            raise InputError(
                f"missing required key ({allowed[key]})", where=where, key=f"{prefix}.{key}"
            )


_SECTION_KEYS = {
    "chips": _CHIP_KEYS,
    "memory": _MEMORY_KEYS,
    "interconnects": _IC_KEYS,
    "costs": _COST_KEYS,
}
_RELATIVE = re.compile(r"^\s*[x×]\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*$")


def relative_factor(value: Any) -> float | None:
    """The factor F of a relative value 'xF' or '×F' ('x2', 'x0.2'), else None."""
    m = _RELATIVE.match(value) if isinstance(value, str) else None
    return float(m.group(1)) if m else None


def _kind(section: str, keys: list[str]) -> str | None:
    """The value kind of a catalog key ('bandwidth', 'number', …), None when not declared."""
    if section == "chips" and keys[0] == "compute":
        return "compute"
    return _SECTION_KEYS.get(section, {}).get(keys[0]) if len(keys) == 1 else None


def _check_model_key(entry: Any, key: str, where: str, path: str) -> None:
    """An override (`path`) of a model key that neither the model's `entry` holds nor a model
    is read by (`architecture.FIELDS`, or a Hugging Face name of one) is a misspelling: an
    error naming the closest key, not a value the model would never read."""
    from designer.model.architecture import ALIASES, FIELDS

    if isinstance(entry, dict) and key not in entry and ALIASES.get(key, key) not in FIELDS:
        raise unknown("model key", key, FIELDS | set(entry), where=where, key=path)


def path_kind(path: str) -> str | None:
    """The value kind of a dotted catalog path ('chips.*.memory_bandwidth' → 'bandwidth')."""
    section, _, rest = path.partition(".")
    parts = rest.split(".")
    if section == "chips" and len(parts) >= 3 and parts[-2] == "compute":
        return "compute"
    return _SECTION_KEYS.get(section, {}).get(parts[-1])


def _lookup(entry: Any, keys: list[str]) -> Any:
    for k in keys:
        if not isinstance(entry, dict) or k not in entry:
            return None
        entry = entry[k]
    return entry


def scale_value(value: Any, factor: float, kind: str | None, where: str | None, key: str) -> Any:
    """`value` × `factor`: numbers stay numbers (integers stay integers when the product is
    one), quantities are parsed and written back in their kind's base unit ('8 TiB/s' × 2 →
    '17592186044416.0 B/s'); a relative value 'xA' becomes 'x(A·F)'."""
    if value is None:
        raise InputError(
            f"x{factor:g} needs a value to scale, and there is none", where=where, key=key
        )
    inner = relative_factor(value)
    if inner is not None:
        return f"x{inner * factor!r}"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"cannot scale {value!r} (not a number or quantity)", where=where, key=key)
    if isinstance(value, (int, float)):
        out = value * factor
        return int(out) if isinstance(value, int) and float(out).is_integer() else out
    if kind not in KINDS or kind == "dimensionless":
        raise InputError(f"cannot scale {value!r} (not a quantity)", where=where, key=key)
    number = parse(value, kind, where=where, key=key) * factor
    return f"{number!r} {KINDS[kind].unit}".strip()


def bundled_dir() -> Path:
    return Path(str(resources.files("designer.catalogs")))


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name too long, a NUL in the name
        return False


def _read_toml(path: Path) -> dict:
    return read_toml(path, "a catalog TOML")


@dataclass
class Catalog:
    """Raw catalog tables by section, with the file each entry came from."""

    raw: dict[str, dict[str, Any]]
    origin: dict[tuple[str, str], str] = field(default_factory=dict)
    # typed entries, parsed once (a catalog's raw tables are not changed after loading:
    # with_overrides makes a new Catalog)
    _typed: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)
    # catalogs derived by with_overrides, by their overrides (a study applies the same catalog
    # changes at many points); not pickled
    _derived: dict[str, Catalog] = field(default_factory=dict, repr=False, compare=False)
    # entries a chip file replaced, by (section, id): (the chip file, the catalog file the entry
    # came from before); answers warn about them (`Catalog.with_chip_file`)
    replaced: dict[tuple[str, str], tuple[str, str]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # the catalog files `load` read (entries from anywhere else: a chip file, a synthesis)
    loaded: frozenset[str] = field(default_factory=frozenset, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_derived": {}}

    def _memo(self, section: str, entry_id: str, parse):
        key = (section, entry_id)
        if key not in self._typed:
            self._typed[key] = parse(entry_id)
        return self._typed[key]

    # ---- loading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, extra_dirs: list[str | Path] | None = None) -> Catalog:
        dirs: list[Path] = [bundled_dir()]
        env = os.environ.get("DESIGNER_CATALOG_PATH", "")
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
        dirs += [Path(p) for p in (extra_dirs or [])]
        raw: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
        origin: dict[tuple[str, str], str] = {}
        for d in dirs:
            if not _is_dir(d):
                raise InputError("catalog folder not found", where=str(d))
            for section in SECTIONS:
                path = d / f"{section}.toml"
                if not os.path.lexists(path):  # a broken link or a loop is an error, not absent
                    continue
                for entry_id, entry in _read_toml(path).items():
                    raw[section][entry_id] = entry
                    origin[(section, entry_id)] = str(path)
        cat = cls(raw, origin, loaded=frozenset(origin.values()))
        cat.validate()
        return cat

    def where(self, section: str, entry_id: str) -> str:
        return self.origin.get((section, entry_id), f"catalogs/{section}.toml")

    # ---- overrides -------------------------------------------------------------------------
    def split_path(self, path: str) -> tuple[str, str, list[str]]:
        """Split 'chips.xpu-hbm3.compute.fp8' into section, entry id and the key path, matching
        ids that contain dots (models.llama3.1-8b.hidden_size)."""
        section, _, rest = path.partition(".")
        if section not in SECTIONS:
            raise unknown("catalog section", section, SECTIONS, key=path)
        ids = sorted(self.raw[section], key=len, reverse=True)
        for entry_id in ids:
            if rest == entry_id or rest.startswith(entry_id + "."):
                keys = rest[len(entry_id) + 1 :].split(".") if rest != entry_id else []
                if not keys or not all(keys):
                    raise InputError("expected section.entry.key", key=path)
                return section, entry_id, keys
        parts = rest.split(".")
        heads = [".".join(parts[:n]) for n in range(max(len(parts) - 1, 1), 0, -1)]
        head = next((h for h in heads if any(i.startswith(h) for i in ids)), parts[0])
        raise unknown(
            section[:-1] if section.endswith("s") else section, head, self.raw[section], key=path
        )

    def expand_path(self, path: str) -> list[tuple[str, str, list[str]]]:
        """`split_path`, with a `*` entry segment matching every entry of the section that
        has the key: 'chips.*.memory_bandwidth' → one (section, id, keys) per chip."""
        section, _, rest = path.partition(".")
        if not rest.startswith("*."):
            return [self.split_path(path)]
        if section not in SECTIONS:
            raise unknown("catalog section", section, SECTIONS, key=path)
        keys = rest[2:].split(".")
        if not all(keys):
            raise InputError("expected section.*.key", key=path)
        hits = [
            (section, entry_id, keys)
            for entry_id, entry in self.raw[section].items()
            if _lookup(entry, keys) is not None
        ]
        if not hits:
            names = {k for e in self.raw[section].values() if isinstance(e, dict) for k in e}
            raise InputError(
                f"no entry of {section} has the key {'.'.join(keys)!r}{closest(keys[0], names)}",
                key=path,
            )
        return hits

    def with_overrides(self, overrides: dict[str, Any], where: str = "--set") -> Catalog:
        """A copy with values replaced by dotted path; new keys are validated like file keys.

        A `*` entry segment sets the key in every entry that has it
        (`chips.*.memory_bandwidth`), and a value `xF` (or `×F`) multiplies the current value
        (`"x2"`, `"x0.2"`; quantities keep their units). Only the entries touched are copied
        and re-validated. Example::

            cat.with_overrides({"chips.*.memory_bandwidth": "x2"})
        """
        if not overrides:
            return self
        try:
            memo = json.dumps([where, overrides], sort_keys=True)
        except (TypeError, ValueError):
            memo = None
        if memo is not None and memo in self._derived:
            return self._derived[memo]
        cat = self._with_overrides(overrides, where)
        if memo is not None:
            if len(self._derived) >= DERIVED_MEMO:
                self._derived.pop(next(iter(self._derived)))
            self._derived[memo] = cat
        return cat

    def _with_overrides(self, overrides: dict[str, Any], where: str) -> Catalog:
        raw = dict(self.raw)
        origin = dict(self.origin)
        touched: set[tuple[str, str]] = set()
        for path, value in overrides.items():
            factor = relative_factor(value)
            kind = path_kind(path)
            if factor is None and ".*." in path and kind not in (None, "table"):
                _value(kind, value, where, path)  # a bad value is named by the wildcard path
            for section, entry_id, keys in self.expand_path(path):
                if section == "models":
                    _check_model_key(self.raw[section][entry_id], keys[0], where, path)
                if (section, entry_id) not in touched:
                    if not any(s == section for s, _ in touched):
                        raw[section] = dict(raw[section])
                    raw[section][entry_id] = dict(raw[section][entry_id])
                    touched.add((section, entry_id))
                node = raw[section][entry_id]
                for k in keys[:-1]:  # copy-on-write down the path: the base stays untouched
                    child = node.get(k, {})
                    if not isinstance(child, dict):
                        raise InputError("not a table", where=where, key=path)
                    node[k] = node = dict(child)
                if factor is not None:
                    key = f"{section}.{entry_id}.{'.'.join(keys)}"
                    kind = _kind(section, keys)
                    node[keys[-1]] = scale_value(node.get(keys[-1]), factor, kind, where, key)
                else:
                    node[keys[-1]] = value
                origin[(section, entry_id)] = where
        cat = Catalog(raw, origin, replaced=self.replaced, loaded=self.loaded)
        # untouched entries keep their parsed form (each depends only on its own table)
        cat._typed.update({k: v for k, v in self._typed.items() if k not in touched})
        cat.validate(touched)
        return cat

    def with_entries(self, entries: dict[tuple[str, str], dict], where: str) -> Catalog:
        """A copy with whole entries added or replaced, by (section, id), validated; e.g. the
        chips of a chip file or of a synthesis."""
        if not entries:
            return self
        raw = {s: dict(t) if any(e[0] == s for e in entries) else t for s, t in self.raw.items()}
        origin = dict(self.origin)
        for (section, entry_id), entry in entries.items():
            if section not in SECTIONS or section == "costs":
                raise unknown("catalog section", section, SECTIONS[:-1], where=where)
            raw[section][entry_id] = entry
            origin[(section, entry_id)] = where
        cat = Catalog(raw, origin, replaced=self.replaced, loaded=self.loaded)
        cat._typed.update({k: v for k, v in self._typed.items() if k not in entries})
        cat.validate(set(entries))
        return cat

    def with_chip_file(self, path: str | Path) -> tuple[Catalog, list[str]]:
        """A copy with the chips (and interconnects) of a chip file, and the chip ids in it."""
        entries = read_chip_file(path)
        replaced: dict[tuple[str, str], tuple[str, str]] = {}
        for (section, entry_id), entry in entries.items():
            known = self.raw[section].get(entry_id)
            if known is None or known == entry:  # new, or the same entry again (listed twice)
                continue
            before = self.where(section, entry_id)
            if before not in self.loaded:  # another chip file's, or synthesized
                raise InputError(
                    f"{before} already has {section}.{entry_id}, different from this file's: "
                    "give one of them another id",
                    where=str(path),
                    key=f"{section}.{entry_id}",
                )
            replaced[(section, entry_id)] = (str(path), before)  # changed (--chip-out)
        cat = self.with_entries(entries, where=str(path))
        cat.replaced = {**self.replaced, **replaced}
        return cat, [i for s, i in entries if s == "chips"]

    def replacement_notes(self) -> list[str]:
        """One line per catalog entry a chip file replaced (`replaced`), for a warning."""
        return [
            f"{section}.{entry_id} of {file} replaces the catalog's ({before})"
            for (section, entry_id), (file, before) in self.replaced.items()
        ]

    def validate(self, entries: set[tuple[str, str]] | None = None) -> None:
        """Parse every entry (or only `entries`, as (section, id)) so that bad input is
        reported at load time."""
        check = {
            "chips": self.chip,
            "memory": self.memory,
            "interconnects": self.interconnect,
            "models": self.model,
        }
        todo = entries if entries is not None else self._all_entries()
        if any(section == "models" for section, _ in todo):
            self._model_names  # noqa: B018  (aliases: checked at load time)
        for section, entry_id in todo:
            if section == "costs":
                self.costs  # noqa: B018  (parses and validates)
            else:
                check[section](entry_id)

    def _all_entries(self) -> list[tuple[str, str]]:
        out = [(s, i) for s in SECTIONS if s != "costs" for i in self.raw[s]]
        return out + ([("costs", "defaults")] if self.raw["costs"] else [])

    # ---- typed access ----------------------------------------------------------------------
    def _parsed(
        self,
        section: str,
        entry_id: str,
        kind: str,
        keys: dict,
        required: list,
        skip: tuple[str, ...] = (),
    ) -> tuple[dict, str, dict]:
        """The raw entry, its file and its values parsed by `keys` (except `skip`)."""
        if entry_id not in self.raw[section]:
            raise unknown(kind, entry_id, self.raw[section])
        e = self.raw[section][entry_id]
        where = self.where(section, entry_id)
        _check_keys(e, keys, required, where, f"{section}.{entry_id}")
        v = {
            k: _value(keys[k], e[k], where, f"{section}.{entry_id}.{k}") for k in e if k not in skip
        }
        return e, where, v

    def chip(self, chip_id: str) -> Chip:
        return self._memo("chips", chip_id, self._chip)

    def _chip(self, chip_id: str) -> Chip:
        e, where, v = self._parsed(
            "chips", chip_id, "chip", _CHIP_KEYS, _CHIP_REQUIRED, skip=("compute",)
        )
        compute = e["compute"]
        if not isinstance(compute, dict) or not compute:
            raise InputError(
                "expected a table of dtype = FLOP/s", where=where, key=f"chips.{chip_id}.compute"
            )
        flops = {}
        for dt, val in compute.items():
            if dt not in DTYPE_BYTES:
                raise unknown("dtype", dt, DTYPE_BYTES, where=where, key=f"chips.{chip_id}.compute")
            flops[dt] = _value("compute", val, where, f"chips.{chip_id}.compute.{dt}")
        kind = v.get("kind", "datasheet")
        if kind not in CHIP_KINDS:
            raise unknown("chip kind", kind, CHIP_KINDS, where=where, key=f"chips.{chip_id}.kind")
        for key, section, what in (
            ("memory_technology", "memory", "memory technology"),
            ("interconnect", "interconnects", "interconnect"),
        ):
            if v[key] not in self.raw[section]:
                raise unknown(
                    what, v[key], self.raw[section], where=where, key=f"chips.{chip_id}.{key}"
                )
        for key in ("memory_capacity", "memory_bandwidth"):
            if v[key] <= 0:
                raise InputError(
                    "expected a positive value", where=where, key=f"chips.{chip_id}.{key}"
                )
        price_kind = v.get("price_kind")
        if price_kind is not None and price_kind not in PRICE_KINDS:
            raise unknown(
                "price kind",
                price_kind,
                PRICE_KINDS,
                where=where,
                key=f"chips.{chip_id}.price_kind",
            )
        estimate_from = v.get("estimate_from")
        if estimate_from is not None and estimate_from not in self.raw["chips"]:
            raise unknown(
                "chip",
                estimate_from,
                self.raw["chips"],
                where=where,
                key=f"chips.{chip_id}.estimate_from",
            )
        return Chip(
            id=chip_id,
            name=v.get("name", chip_id),
            vendor=v.get("vendor", ""),
            kind=kind,
            memory_technology=v["memory_technology"],
            memory_capacity=v["memory_capacity"],
            memory_bandwidth=v["memory_bandwidth"],
            usable_memory_fraction=v.get("usable_memory_fraction", 1.0),
            compute=flops,
            interconnect=v["interconnect"],
            tdp=v.get("tdp"),
            die_area=v.get("die_area"),
            price_usd=v.get("price_usd"),
            server_chips=v.get("server_chips"),
            server_power=v.get("server_power"),
            server_price_usd=v.get("server_price_usd"),
            server_power_typical=v.get("server_power_typical"),
            price_kind=price_kind,
            price_source=v.get("price_source", ""),
            price_date=v.get("price_date", ""),
            estimate_from=estimate_from,
            rent_on_demand_usd_per_hour=v.get("rent_on_demand_usd_per_hour"),
            rent_reserved_usd_per_hour=v.get("rent_reserved_usd_per_hour"),
            rent_source=v.get("rent_source", ""),
            rent_date=v.get("rent_date", ""),
            server_scale_out_bandwidth=v.get("server_scale_out_bandwidth"),
            source=v["source"],
            confidence=v.get("confidence", ""),
            notes=v.get("notes", ""),
        )

    def memory(self, mem_id: str) -> MemoryTech:
        return self._memo("memory", mem_id, self._memory)

    def _memory(self, mem_id: str) -> MemoryTech:
        _, _, v = self._parsed(
            "memory", mem_id, "memory technology", _MEMORY_KEYS, _MEMORY_REQUIRED
        )
        return MemoryTech(
            id=mem_id,
            name=v.get("name", mem_id),
            bandwidth_per_stack=v.get("bandwidth_per_stack"),
            capacity_per_stack=v.get("capacity_per_stack"),
            energy_per_byte=v["energy_per_bit"],
            cost_per_gb_usd=v["cost_per_gb_usd"],
            source=v["source"],
        )

    def interconnect(self, ic_id: str) -> Interconnect:
        return self._memo("interconnects", ic_id, self._interconnect)

    def _interconnect(self, ic_id: str) -> Interconnect:
        _, _, v = self._parsed("interconnects", ic_id, "interconnect", _IC_KEYS, _IC_REQUIRED)
        return Interconnect(
            id=ic_id,
            name=v.get("name", ic_id),
            domain_size=v["domain_size"],
            intra_domain_latency=v["intra_domain_latency"],
            inter_domain_latency=v["inter_domain_latency"],
            pipeline_latency=v.get("pipeline_latency", v["inter_domain_latency"]),
            link_bandwidth=v.get("link_bandwidth"),
            source=v["source"],
        )

    def model(self, model_id: str) -> Architecture:
        """A catalog model by id, by another name of its weights' shape (`aliases`, e.g.
        deepseek-r1 for deepseek-v3) or its Hugging Face id (`hf_id`), answered as the
        catalog entry (its `id`); else a Hugging Face config.json by path. A name that looks
        like a path (it ends in .json or holds a folder separator) and is a file is the file.

        >>> cat = Catalog.load()
        >>> cat.model("deepseek-r1").id, cat.model("Qwen/Qwen3-30B-A3B").id
        ('deepseek-v3', 'qwen3-30b-a3b')
        """
        # memoized by what it answers (the catalog id, or the file), so a copy whose entry
        # changed (`with_overrides`) answers its other names anew
        if model_id not in self.raw["models"] and not _config_file(model_id):
            model_id = self.model_id(model_id) or model_id
        return self._memo("models", model_id, self._model)

    def model_id(self, name: str) -> str | None:
        """The catalog id `name` names (an id as written, or an alias or a Hugging Face id in
        any case), None when it names none."""
        if name in self.raw["models"]:
            return name
        found = self._model_names.get(name.casefold())
        return found[0] if found else None

    def model_names(self) -> list[str]:
        """Every name `model_id` resolves, as written: ids, aliases and Hugging Face ids (for
        the closest-name hint of an unknown model)."""
        return [*self.raw["models"], *(w for _, w in self._model_names.values())]

    @cached_property
    def _model_names(self) -> dict[str, tuple[str, str]]:
        """Casefolded Hugging Face ids and aliases → (catalog id, the name as written). An id
        names its entry first, then a Hugging Face id; an alias that is another entry's id,
        Hugging Face id or alias is an error naming both entries."""
        models = {i: e for i, e in self.raw["models"].items() if isinstance(e, dict)}
        ids = {i.casefold(): (i, i) for i in self.raw["models"]}
        out: dict[str, tuple[str, str]] = {}
        for model_id, e in models.items():
            hf = e.get("hf_id")
            if isinstance(hf, str) and hf and hf.casefold() not in ids:
                out.setdefault(hf.casefold(), (model_id, hf))
        for model_id, e in models.items():
            where = self.where("models", model_id)
            names = e.get("aliases", [])
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise InputError(
                    f"expected a list of names, got {excerpt(names)}",
                    where=where,
                    key=f"{model_id}.aliases",
                )
            for name in names:
                folded = name.casefold()
                other = (ids.get(folded) or out.get(folded) or (model_id,))[0]
                if other != model_id:
                    raise InputError(
                        f"alias {excerpt(name)} already names model {other!r} "
                        f"({self.where('models', other)})",
                        where=where,
                        key=f"{model_id}.aliases",
                    )
                out[folded] = (model_id, name)
        return out

    def _model(self, model_id: str) -> Architecture:
        """`model` before it is memoized: `model_id` is a catalog id or a path."""
        if model_id in self.raw["models"]:
            e = self.raw["models"][model_id]
            if not isinstance(e, dict):
                raise InputError(
                    "expected a table", where=self.where("models", model_id), key=model_id
                )
            return from_mapping(model_id, e, where=self.where("models", model_id))
        if model_id.endswith(".json") or (os.sep in model_id and os.path.exists(model_id)):
            return load_hf_config(model_id)
        raise unknown("model", model_id, self.model_names())

    @cached_property
    def costs(self) -> Costs:
        e = self.raw["costs"].get("defaults")
        where = self.where("costs", "defaults")
        if e is None:
            raise InputError("missing table [defaults]", where=where)
        _check_keys(
            e,
            {**_COST_KEYS, "source": "str", "sources": "table"},
            list(_COST_KEYS),
            where,
            "costs.defaults",
        )
        v = {k: _value(_COST_KEYS[k], e[k], where, f"costs.defaults.{k}") for k in _COST_KEYS}
        return Costs(**v, source=str(e.get("source", "")))

    def ids(self, section: str) -> list[str]:
        return list(self.raw[section])


CHIP_FILE_SECTIONS = ("chips", "interconnects")


def read_chip_file(path: str | Path) -> dict[tuple[str, str], dict]:
    """The entries of a chip file (`[chips.ID]`, optional `[interconnects.ID]`)."""
    raw = read_toml(Path(path), "a chip TOML")
    entries: dict[tuple[str, str], dict] = {}
    for section, body in raw.items():
        if section not in CHIP_FILE_SECTIONS or not isinstance(body, dict):
            raise InputError(
                f"expected [chips.ID] (and [interconnects.ID]) tables, got {excerpt(section)}",
                where=str(path),
                key=section,
            )
        for entry_id, entry in body.items():
            entries[(section, entry_id)] = entry
    if not any(s == "chips" for s, _ in entries):
        raise InputError("no [chips.ID] table", where=str(path))
    return entries

"""The parametric chip model of synthesis: area, compute, memory, cost and power of a design.

A design is a memory technology, a number of logic dies and their area, and a number of memory
stacks (HBM, LPDDR, GDDR beside the die; 3D-DRAM tiles stacked on it). From the assumptions of
catalogs/synthesis.toml (a `Spec`) and the memory catalog, in numpy over many designs at once:

- area: A = n_d·A_die; compute area A_c = A·(1 − misc) − k·a_phy − B_L/β_L − d2d·[n_d > 1]
- compute: F_fp8 = δ(node)·A_c, F_bf16 = F_fp8 / 2
- memory: BW = k·BW_stack, C = k·C_stack (3D-DRAM: per tile of die area)
- limits: A_die ≤ reticle; k ≤ n_d·⌊2·edge(A_die) / stack_edge⌋ (shoreline; edge = the long
  side of a die of reticle aspect) and k ≤ max_package_stacks; 3D-DRAM k·tile ≤ A;
  interposer 1.6·(A + k·footprint) ≤ max_interposer; chip power ≤ max_chip_power
- cost: good die = wafer / (DPW · Y), DPW = π(d/2)²/A − πd/√(2A), Y = (1 + A·D0/α)^−α;
  chip = (n_d·die + C·$/GB + k·packaging + interposer $/mm²·A_int + test) / assembly yield;
  price = cost / (1 − gross margin)
- power: P = ρ_P(node)·A + e_mem·BW + e_link·B_L

Every equation lives here once; `designer.optimize.synthesis` enumerates designs and makes chips of
them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from designer.model.catalog import Catalog
from designer.model.errors import InputError, closest, excerpt, unknown
from designer.model.files import read_toml
from designer.model.units import parse, plain_number

MM2 = 1e-6  # m² per mm²
GB = 1e9
BOUNDS = ("shoreline", "area")
RETICLE_ASPECT = 33.0 / 26.0  # long / short side of the reticle field (26 × 33 mm)

# [defaults] keys and their kinds; lists are of numbers
DEFAULT_KEYS = {
    "node": "str",
    "die_areas_mm2": "numlist",
    "dies": "intlist",
    "stacks": "intlist",
    "reticle_mm2": "number",
    "max_package_stacks": "int",
    "max_chip_power": "power",
    "misc_fraction": "fraction0",
    "link_gb_s_per_mm2": "number",
    "link_energy_per_bit": "energy_per_information",
    "d2d_area_mm2": "number0",
    "interposer_factor": "number",
    "max_interposer_mm2": "number",
    "interposer_usd_per_mm2": "number0",
    "test_usd": "number0",
    "assembly_yield": "fraction",
    "yield_alpha": "number",
    "wafer_diameter_mm": "number",
    "gross_margin": "fraction0",
    "usable_memory_fraction": "fraction",
    "interconnect": "str",
    "domain_size": "int",
    "link_bandwidth": "bandwidth",
    "presets": "bool",
    "max_designs": "int",
    "tape_out_usd": "number0",
    "source": "str",
}
PROBLEM_KEYS = {"memory": "strlist", **DEFAULT_KEYS, "process": "table", "memory_tech": "table"}
PROCESS_KEYS = {
    "wafer_usd": "number",
    "defect_density_per_cm2": "number0",
    "fp8_tflops_per_mm2": "number",
    "logic_power_density": "power_density",
    "source": "str",
}
MEMORY_KEYS = {
    "bound": "str",
    "stack_edge_mm": "number",
    "phy_area_mm2": "number0",
    "footprint_mm2": "number0",
    "packaging_usd": "number0",
    "tile_mm2": "number",
    "bandwidth_gb_s_per_mm2": "number",
    "capacity_gb_per_mm2": "number",
    "source": "str",
}


@dataclass(frozen=True)
class Tech:
    """A memory technology as synthesis places it (geometry here, the rest from memory.toml)."""

    id: str
    bound: str  # "shoreline" | "area"
    bandwidth_per_stack: float  # B/s (3D-DRAM: per tile)
    capacity_per_stack: float  # B
    energy_per_byte: float  # J/B
    cost_per_gb_usd: float
    stack_edge_mm: float  # die edge per stack (shoreline)
    tile_mm2: float  # die area per tile (area)
    phy_area_mm2: float
    footprint_mm2: float
    packaging_usd: float


@dataclass(frozen=True)
class Spec:
    """The synthesis question: technologies, the discrete choices and every assumption."""

    memory: tuple[str, ...]
    techs: dict[str, Tech]
    node: str
    process: dict[str, Any]
    values: dict[str, Any]  # every [defaults] key, parsed (SI units for quantities)


def defaults_table() -> dict:
    """catalogs/synthesis.toml as read (bundled; a copy the caller may change)."""
    return copy.deepcopy(_defaults_table())


@lru_cache(maxsize=1)
def _defaults_table() -> dict:
    from designer.model.catalog import bundled_dir

    return read_toml(bundled_dir() / "synthesis.toml", "the synthesis catalog TOML")


def _typed(kind: str, value: Any, where: str, key: str) -> Any:
    if kind == "str":
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {excerpt(value)}", where=where, key=key)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"expected true or false, got {excerpt(value)}", where=where, key=key)
        return value
    if kind in ("number", "number0", "fraction", "fraction0"):
        x = plain_number(value, positive=kind in ("number", "fraction"), where=where, key=key)
        if kind.startswith("fraction") and not x <= 1 - (kind == "fraction0") * 1e-9:
            bounds = "from 0 to 1" if kind == "fraction" else "from 0 up to (not including) 1"
            raise InputError(
                f"expected a fraction {bounds}, got {excerpt(value)}", where=where, key=key
            )
        return float(x)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**20:
            raise InputError(
                f"expected a positive integer (at most {2**20:,}), got {excerpt(value)}",
                where=where,
                key=key,
            )
        return value
    if kind in ("numlist", "intlist", "strlist"):
        if not isinstance(value, list) or not value or len(value) > 1024:
            raise InputError(
                f"expected a non-empty list, got {excerpt(value)}", where=where, key=key
            )
        inner = {"numlist": "number", "intlist": "int", "strlist": "str"}[kind]
        out = [_typed(inner, v, where, key) for v in value]
        return tuple(dict.fromkeys(out)) if kind == "strlist" else tuple(sorted(set(out)))
    q = parse(value, kind, where=where, key=key)
    if not q > 0:
        raise InputError(f"expected a positive {kind}, got {excerpt(value)}", where=where, key=key)
    return q


def _check(table: Any, keys: dict, where: str, prefix: str) -> None:
    if not isinstance(table, dict):
        raise InputError(f"expected a table, got {excerpt(table)}", where=where, key=prefix)
    for k in table:
        if k not in keys:
            raise InputError(f"unknown key{closest(k, keys)}", where=where, key=f"{prefix}.{k}")


def merged(base: dict, problem: dict) -> dict:
    """The synthesis catalog with a problem's [synthesis] table applied: scalar keys replace
    [defaults], `process.NODE.KEY` and `memory_tech.TECH.KEY` replace one entry's value."""
    out = base
    for k, v in problem.items():
        if k == "memory":
            out["memory_list"] = v
        elif k in ("process", "memory_tech"):
            section = "process" if k == "process" else "memory"
            if not isinstance(v, dict):
                raise InputError(f"expected a table, got {excerpt(v)}", key=f"synthesis.{k}")
            for entry, values in v.items():
                target = out.setdefault(section, {}).setdefault(entry, {})
                if not isinstance(values, dict):
                    raise InputError(
                        f"expected a table, got {excerpt(values)}", key=f"synthesis.{k}.{entry}"
                    )
                target.update(values)
        else:
            out["defaults"][k] = v
    return out


def spec_from(table: dict, catalog: Catalog, *, where: str) -> Spec:
    """The validated Spec of a problem's [synthesis] table, everything else defaulted."""
    _check(table, PROBLEM_KEYS, where, "synthesis")
    if "memory" not in table:
        raise InputError(
            "missing required key (list of memory technologies)",
            where=where,
            key="synthesis.memory",
        )
    raw = merged(defaults_table(), table)
    d = raw["defaults"]
    values = {
        k: _typed(DEFAULT_KEYS[k], d[k], where, f"synthesis.{k}") for k in d if k in DEFAULT_KEYS
    }
    for k in d:
        if k not in DEFAULT_KEYS:
            raise InputError(
                f"unknown key{closest(k, DEFAULT_KEYS)}", where=where, key=f"synthesis.{k}"
            )
    memory = _typed("strlist", raw["memory_list"], where, "synthesis.memory")
    node = values["node"]
    if node not in raw["process"]:
        raise unknown("process node", node, raw["process"], where=where, key="synthesis.node")
    proc_raw = raw["process"][node]
    _check(proc_raw, PROCESS_KEYS, where, f"synthesis.process.{node}")
    process = {
        k: _typed(PROCESS_KEYS[k], v, where, f"synthesis.process.{node}.{k}")
        for k, v in proc_raw.items()
    }
    for k in PROCESS_KEYS:
        if k not in process:
            raise InputError(
                "missing required key", where=where, key=f"synthesis.process.{node}.{k}"
            )
    _used_entries(table, node, catalog, where)
    techs = {m: _tech(m, raw["memory"], catalog, where) for m in memory}
    if values["interconnect"] not in catalog.raw["interconnects"]:
        raise unknown(
            "interconnect",
            values["interconnect"],
            catalog.raw["interconnects"],
            where=where,
            key="synthesis.interconnect",
        )
    if values["max_designs"] > 64:
        raise InputError("expected at most 64 designs", where=where, key="synthesis.max_designs")
    big = [a for a in values["die_areas_mm2"] if a > values["reticle_mm2"]]
    if big:
        raise InputError(
            f"die area {big[0]:g} mm^2 exceeds the reticle ({values['reticle_mm2']:g} mm^2)",
            where=where,
            key="synthesis.die_areas_mm2",
        )
    return Spec(memory=memory, techs=techs, node=node, process=process, values=values)


def _used_entries(table: dict, node: str, catalog: Catalog, where: str) -> None:
    """A problem's `process.NODE` and `memory_tech.TECH` tables name what they change: a process
    node of the synthesis catalog, the one in use, or one the table defines whole (every
    `PROCESS_KEYS` key, for `--set synthesis.node=…` or a sweep to pick); a memory technology of
    the memory catalog. Another name (a typo, `n44` for `n4`, `3d-dramm`) changed nothing the
    answer uses, and is an error naming the closest."""
    nodes = [*defaults_table().get("process", {}), node]
    for entry, values in (table.get("process") or {}).items():
        whole = isinstance(values, dict) and all(k in values for k in PROCESS_KEYS)
        if entry not in nodes and not whole:
            raise unknown(
                "process node (or a whole new one)",
                entry,
                dict.fromkeys(nodes),
                where=where,
                key=f"synthesis.process.{entry}",
            )
    techs = catalog.raw["memory"]
    for entry in table.get("memory_tech") or {}:
        if entry not in techs:
            raise unknown(
                "memory technology", entry, techs, where=where, key=f"synthesis.memory_tech.{entry}"
            )


def _tech(m: str, table: dict, catalog: Catalog, where: str) -> Tech:
    key = "synthesis.memory"
    if m not in table:
        raise unknown("memory technology for synthesis", m, table, where=where, key=key)
    geo_raw = table[m]
    _check(geo_raw, MEMORY_KEYS, where, f"synthesis.memory_tech.{m}")
    geo = {
        k: _typed(MEMORY_KEYS[k], v, where, f"synthesis.memory_tech.{m}.{k}")
        for k, v in geo_raw.items()
    }
    bound = geo.get("bound", "shoreline")
    if bound not in BOUNDS:
        raise unknown("bound", bound, BOUNDS, where=where, key=f"synthesis.memory_tech.{m}.bound")
    if m not in catalog.raw["memory"]:
        raise unknown("memory technology", m, catalog.raw["memory"], where=where, key=key)
    mem = catalog.memory(m)
    if bound == "area":
        need = ("tile_mm2", "bandwidth_gb_s_per_mm2", "capacity_gb_per_mm2")
        missing = [k for k in need if k not in geo]
        if missing:
            raise InputError(
                "missing required key", where=where, key=f"synthesis.memory_tech.{m}.{missing[0]}"
            )
        bw = geo["bandwidth_gb_s_per_mm2"] * GB * geo["tile_mm2"]
        cap = geo["capacity_gb_per_mm2"] * GB * geo["tile_mm2"]
    else:
        if "stack_edge_mm" not in geo:
            raise InputError(
                "missing required key", where=where, key=f"synthesis.memory_tech.{m}.stack_edge_mm"
            )
        if mem.bandwidth_per_stack is None or mem.capacity_per_stack is None:
            raise InputError(
                "has no bandwidth_per_stack or capacity_per_stack to place by shoreline",
                where=catalog.where("memory", m),
                key=f"memory.{m}",
            )
        bw, cap = mem.bandwidth_per_stack, mem.capacity_per_stack
    return Tech(
        id=m,
        bound=bound,
        bandwidth_per_stack=bw,
        capacity_per_stack=cap,
        energy_per_byte=mem.energy_per_byte,
        cost_per_gb_usd=mem.cost_per_gb_usd,
        stack_edge_mm=geo.get("stack_edge_mm", 0.0),
        tile_mm2=geo.get("tile_mm2", 0.0),
        phy_area_mm2=geo.get("phy_area_mm2", 0.0),
        footprint_mm2=geo.get("footprint_mm2", 0.0),
        packaging_usd=geo.get("packaging_usd", 0.0),
    )


# ---- the equations ---------------------------------------------------------------------------


def dies_per_wafer(area_mm2, diameter_mm: float) -> np.ndarray:
    """Gross dies per wafer: π(d/2)²/A − π·d/√(2A)."""
    a = np.asarray(area_mm2, dtype=float)
    return np.pi * (diameter_mm / 2) ** 2 / a - np.pi * diameter_mm / np.sqrt(2 * a)


def die_yield(area_mm2, d0_per_cm2: float, alpha: float) -> np.ndarray:
    """Negative-binomial yield (1 + A·D0/α)^−α, A in cm²."""
    return (1 + np.asarray(area_mm2, dtype=float) / 100.0 * d0_per_cm2 / alpha) ** (-alpha)


def stacks_by_shoreline(area_mm2, stack_edge_mm: float, reticle_mm2: float) -> np.ndarray:
    """Stacks one die's two long edges carry: ⌊2·edge / stack_edge⌋, edge = the long side of a
    die of the reticle's aspect ratio (at most 33 mm)."""
    long_edge = np.sqrt(np.asarray(area_mm2, dtype=float) * RETICLE_ASPECT)
    long_edge = np.minimum(long_edge, np.sqrt(reticle_mm2 * RETICLE_ASPECT))
    return np.floor(2 * long_edge / stack_edge_mm + 1e-9)


@dataclass(frozen=True)
class Designs:
    """Designs as numpy arrays (one row each) and everything the model derives from them."""

    tech: np.ndarray  # index into spec.memory
    dies: np.ndarray
    die_mm2: np.ndarray  # per die
    stacks: np.ndarray
    bandwidth: np.ndarray  # B/s
    capacity: np.ndarray  # B
    fp8: np.ndarray  # FLOP/s dense
    compute_mm2: np.ndarray
    price_usd: np.ndarray
    power_w: np.ndarray
    parts: dict[str, np.ndarray]  # cost and power terms
    violates: dict[str, np.ndarray]  # limit name → bool per design

    @property
    def feasible(self) -> np.ndarray:
        bad = np.zeros(len(self.tech), dtype=bool)
        for v in self.violates.values():
            bad |= v
        return ~bad

    def take(self, idx) -> Designs:
        f = {k: getattr(self, k)[idx] for k in FIELDS}
        return Designs(
            **f,
            parts={k: v[idx] for k, v in self.parts.items()},
            violates={k: v[idx] for k, v in self.violates.items()},
        )

    def __len__(self) -> int:
        return len(self.tech)


FIELDS = (
    "tech",
    "dies",
    "die_mm2",
    "stacks",
    "bandwidth",
    "capacity",
    "fp8",
    "compute_mm2",
    "price_usd",
    "power_w",
)


def model(
    spec: Spec, tech, dies, die_mm2, stacks, *, bandwidth=None, capacity=None, fp8=None
) -> Designs:
    """Area, compute, memory, cost, power and limit violations of designs (arrays of equal
    length). `bandwidth`, `capacity` and `fp8` replace the derived values (a preset's)."""
    tech = np.asarray(tech, dtype=np.int64)
    dies = np.asarray(dies, dtype=np.int64)
    die_mm2 = np.asarray(die_mm2, dtype=float)
    k = np.asarray(stacks, dtype=float)
    t = [spec.techs[m] for m in spec.memory]

    def per_tech(attr: str) -> np.ndarray:
        return np.array([getattr(x, attr) for x in t], dtype=float)[tech]

    v = spec.values
    link = v["link_bandwidth"]
    total = dies * die_mm2
    phy = k * per_tech("phy_area_mm2")
    link_mm2 = link / GB / v["link_gb_s_per_mm2"]
    d2d = np.where(dies > 1, dies * v["d2d_area_mm2"], 0.0)
    compute_mm2 = total * (1 - v["misc_fraction"]) - phy - link_mm2 - d2d
    derived_fp8 = spec.process["fp8_tflops_per_mm2"] * 1e12 * np.maximum(compute_mm2, 0)
    fp8 = derived_fp8 if fp8 is None else np.asarray(fp8, dtype=float)
    bw = k * per_tech("bandwidth_per_stack") if bandwidth is None else np.asarray(bandwidth)
    cap = k * per_tech("capacity_per_stack") if capacity is None else np.asarray(capacity)
    # cost
    dpw = dies_per_wafer(die_mm2, v["wafer_diameter_mm"])
    y = die_yield(die_mm2, spec.process["defect_density_per_cm2"], v["yield_alpha"])
    die_usd = spec.process["wafer_usd"] / (dpw * y)
    interposer_mm2 = v["interposer_factor"] * (total + k * per_tech("footprint_mm2"))
    parts = {
        "logic_usd": dies * die_usd,
        "memory_usd": cap / GB * per_tech("cost_per_gb_usd"),
        "stack_packaging_usd": k * per_tech("packaging_usd"),
        "interposer_usd": interposer_mm2 * v["interposer_usd_per_mm2"],
        "test_usd": np.full(len(tech), v["test_usd"]),
    }
    cost = sum(parts.values()) / v["assembly_yield"]
    price = cost / (1 - v["gross_margin"])
    power_parts = {
        "logic_w": spec.process["logic_power_density"] * total * MM2,
        "memory_w": per_tech("energy_per_byte") * bw,
        "link_w": v["link_energy_per_bit"] * link * np.ones(len(tech)),
    }
    power = sum(power_parts.values())
    is_area = np.array([x.bound == "area" for x in t])[tech]
    edge = per_tech("stack_edge_mm")
    shore = dies * stacks_by_shoreline(die_mm2, np.where(edge > 0, edge, 1.0), v["reticle_mm2"])
    tiles = np.floor(total / np.where(is_area, per_tech("tile_mm2"), 1.0) + 1e-9)
    violates = {
        "reticle": die_mm2 > v["reticle_mm2"] * (1 + 1e-9),
        "shoreline": ~is_area & (k > shore),
        "package stacks": ~is_area & (k > v["max_package_stacks"]),
        "die area for 3D-DRAM": is_area & (k > tiles),
        "interposer": interposer_mm2 > v["max_interposer_mm2"] * (1 + 1e-9),
        "compute area": compute_mm2 <= 0,
        "chip power": power > v["max_chip_power"] * (1 + 1e-9),
    }
    return Designs(
        tech=tech,
        dies=dies,
        die_mm2=die_mm2,
        stacks=k.astype(np.int64),
        bandwidth=np.asarray(bw, dtype=float),
        capacity=np.asarray(cap, dtype=float),
        fp8=fp8,
        compute_mm2=compute_mm2,
        price_usd=price,
        power_w=power,
        parts={**parts, "cost_usd": cost, **power_parts},
        violates=violates,
    )


def resolve_fabric(spec: Spec, catalog: Catalog) -> Spec:
    """`spec` with `domain_size` and `link_bandwidth` filled from its interconnect."""
    ic = catalog.interconnect(spec.values["interconnect"])
    values = dict(spec.values)
    values.setdefault("domain_size", ic.domain_size)
    if "link_bandwidth" not in values:
        if ic.link_bandwidth is None:
            raise InputError(
                f"interconnect {ic.id!r} has no link_bandwidth: give synthesis.link_bandwidth",
                key="synthesis.link_bandwidth",
            )
        values["link_bandwidth"] = ic.link_bandwidth
    return Spec(spec.memory, spec.techs, spec.node, spec.process, values)

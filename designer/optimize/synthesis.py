"""Chip synthesis: designs as catalog chips that the fleet MILP chooses among, with the system.

A problem's `[synthesis]` table (`memory = ["hbm3", "hbm4", "3d-dram"]` is enough) opens the
chip: every combination of memory technology, dies, die area and stacks is enumerated in numpy
and priced and powered by `designer.model.chipdesign`; designs that break a limit (reticle,
shoreline, package stacks, interposer, chip power) are dropped, then every design that another
matches or beats on bandwidth, capacity, FP8 FLOP/s, price and power (same fabric) — exact,
since every requirement is monotone in the first three and every objective in the last two.
The paper's presets of the chosen technologies join the space as points, priced by the same
model. The survivors become ordinary `hypothetical` catalog chips (`syn-…`, the `limit`
profile by default) in the problem's space; `max_designs` bounds the chip types of the fleet
and `tape_out_usd` is the fixed cost of each one adopted.

`designer.optimize.synthesize` solves a synthesis problem and adds the answer's `synthesis`
block (built from `describe` and `binds` here); `write_chip_file` writes a chosen chip as a
catalog entry that `evaluate --chip FILE` and `space.chips` read back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from designer.model import chipdesign as cd
from designer.model import toml_text
from designer.model.catalog import Catalog
from designer.model.errors import InputError

PREFIX = "syn-"
HYPOTHETICAL = (
    "hypothetical: synthesized by designer's parametric chip model (catalogs/synthesis.toml), "
    "evaluated at the hardware limit (the paper's `limit` profile) unless a profile is given"
)
SYNC_SHARE = 0.2  # a step with at least this share of collective time: "sync" binds


@dataclass
class Synthesis:
    """A problem's synthesized design space."""

    spec: cd.Spec
    catalog: Catalog  # with the designs as chips
    chips: tuple[str, ...]  # the designs kept (non-dominated), presets included
    designs: cd.Designs  # the kept designs, in the order of `chips`
    enumerated: int  # grid points
    feasible: int  # within every limit
    presets: tuple[str, ...]  # preset ids that joined, as (their syn- copies)
    interconnect: str
    seconds: float
    full: cd.Designs = field(repr=False)  # every grid point (for tests and neighbors)
    full_ids: tuple[str, ...] = field(repr=False, default=())

    @property
    def max_designs(self) -> int:
        return self.spec.values["max_designs"]

    @property
    def tape_out_usd(self) -> float:
        return self.spec.values["tape_out_usd"]


def grid(spec: cd.Spec) -> cd.Designs:
    """Every combination of technology × dies × die area × stacks, modelled."""
    v = spec.values
    axes = np.meshgrid(
        np.arange(len(spec.memory)),
        np.asarray(v["dies"]),
        np.asarray(v["die_areas_mm2"], dtype=float),
        np.asarray(v["stacks"]),
        indexing="ij",
    )
    tech, dies, area, stacks = (a.ravel() for a in axes)
    return cd.model(spec, tech, dies, area, stacks)


def design_id(spec: cd.Spec, d: cd.Designs, i: int) -> str:
    m = spec.memory[int(d.tech[i])]
    unit = "tiles" if spec.techs[m].bound == "area" else "stacks"
    return f"{PREFIX}{m}-{int(d.dies[i])}x{d.die_mm2[i]:g}mm2-{int(d.stacks[i])}{unit}"


def preset_designs(spec: cd.Spec, catalog: Catalog) -> tuple[list[str], cd.Designs | None]:
    """The paper's presets of the chosen technologies (memory technology among them, or id
    `xpu-TECH`) as designs: their bandwidth, capacity and FLOP/s, priced and powered by the
    synthesis model from their die area and the stacks their bandwidth and capacity need."""
    ids, rows = [], []
    for cid in catalog.ids("chips"):
        chip = catalog.chip(cid)
        if chip.kind != "paper-preset" or chip.die_area is None:
            continue
        tech = next(
            (m for m in spec.memory if chip.memory_technology == m or cid == f"xpu-{m}"), None
        )
        if tech is None:
            continue
        t = spec.techs.get(chip.memory_technology) or spec.techs[tech]
        m_index = spec.memory.index(t.id) if t.id in spec.memory else spec.memory.index(tech)
        area = chip.die_area / cd.MM2
        dies = int(np.ceil(area / spec.values["reticle_mm2"] - 1e-9))
        k = max(
            np.ceil(chip.memory_bandwidth / t.bandwidth_per_stack - 1e-9),
            np.ceil(chip.memory_capacity / t.capacity_per_stack - 1e-9),
        )
        ids.append(cid)
        rows.append((m_index, dies, area / dies, k, chip))
    if not rows:
        return [], None
    d = cd.model(
        spec,
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        bandwidth=[r[4].memory_bandwidth for r in rows],
        capacity=[r[4].memory_capacity for r in rows],
        fp8=[r[4].flops("fp8") for r in rows],
    )
    return ids, d


def non_dominated(d: cd.Designs) -> np.ndarray:
    """True for each design no other design matches or beats on bandwidth, capacity and FP8
    FLOP/s (higher) and price and power (lower), being strictly better in one; of identical
    designs the first is kept."""
    more = np.stack([d.bandwidth, d.capacity, d.fp8], axis=1)
    less = np.stack([d.price_usd, d.power_w], axis=1)
    n = len(d)
    keep = np.ones(n, dtype=bool)
    rel = 1e-12
    for i in range(n):
        ge = np.all(more >= more[i] * (1 - rel), axis=1) & np.all(
            less <= less[i] * (1 + rel), axis=1
        )
        strict = np.any(more > more[i] * (1 + rel), axis=1) | np.any(
            less < less[i] * (1 - rel), axis=1
        )
        same = ge & ~strict
        if np.any(ge & strict) or np.any(same[:i]):
            keep[i] = False
    return keep


def _num(x: float, unit: str) -> str:
    return f"{float(x)!r} {unit}".strip()


def chip_table(
    spec: cd.Spec, d: cd.Designs, i: int, interconnect: str, *, name: str, preset: str | None = None
) -> dict[str, Any]:
    """The catalog entry of design `i` (all quantities in base units, exactly)."""
    m = spec.memory[int(d.tech[i])]
    p = {k: float(v[i]) for k, v in d.parts.items()}
    what = f"the paper's preset {preset!r}" if preset else "a synthesized design"
    breakdown = (
        f"{int(d.dies[i])} die(s) x {d.die_mm2[i]:g} mm^2 on {spec.node}, "
        f"{int(d.stacks[i])} {m} {'tiles' if spec.techs[m].bound == 'area' else 'stacks'}, "
        f"compute area {d.compute_mm2[i]:.0f} mm^2; cost ${p['cost_usd']:,.0f} (logic "
        f"${p['logic_usd']:,.0f}, memory ${p['memory_usd']:,.0f}, stack packaging "
        f"${p['stack_packaging_usd']:,.0f}, interposer ${p['interposer_usd']:,.0f}, test "
        f"${p['test_usd']:,.0f}, / assembly yield {spec.values['assembly_yield']:g}), price = "
        f"cost / (1 - {spec.values['gross_margin']:g}); power {d.power_w[i]:.0f} W (logic "
        f"{p['logic_w']:.0f}, memory {p['memory_w']:.0f}, links {p['link_w']:.0f})"
    )
    fp8 = float(d.fp8[i])
    return {
        "name": name,
        "vendor": "designer synthesis (hypothetical)",
        "kind": "hypothetical",
        "memory_technology": m,
        "memory_capacity": _num(d.capacity[i], "B"),
        "memory_bandwidth": _num(d.bandwidth[i], "B/s"),
        "usable_memory_fraction": spec.values["usable_memory_fraction"],
        "compute": {"fp8": _num(fp8, "FLOPS"), "bf16": _num(fp8 / 2, "FLOPS")},
        "interconnect": interconnect,
        "tdp": _num(d.power_w[i], "W"),
        "die_area": _num(d.dies[i] * d.die_mm2[i] * cd.MM2, "m^2"),
        "price_usd": float(d.price_usd[i]),
        "source": (
            f"assumption: {what}, priced and powered by designer's parametric chip model "
            "(docs/model.md, Chip synthesis; catalogs/synthesis.toml and memory.toml with their "
            "sources)"
        ),
        "confidence": "U",
        "notes": f"{HYPOTHETICAL}. {breakdown}.",
    }


def fabric(spec: cd.Spec, catalog: Catalog) -> tuple[str, dict[str, Any] | None]:
    """The interconnect id of the designs, and a new entry when the spec changes the base's
    domain size or link bandwidth."""
    base_id = spec.values["interconnect"]
    ic = catalog.interconnect(base_id)
    dom, link = spec.values["domain_size"], spec.values["link_bandwidth"]
    if dom == ic.domain_size and link == ic.link_bandwidth:
        return base_id, None
    new_id = f"{PREFIX}{base_id}-{dom}x{link / 1e9:g}GBps"
    entry = dict(catalog.raw["interconnects"][base_id])
    entry.update(
        name=f"{ic.name}, {dom}-chip domain, {link / 1e9:g} GB/s links (synthesis)",
        domain_size=dom,
        link_bandwidth=_num(link, "B/s"),
        source=f"{ic.source} ; assumption: domain_size and link_bandwidth set by [synthesis]",
    )
    return new_id, entry


def expand(table: dict, catalog: Catalog, *, where: str) -> Synthesis:
    """The synthesized design space of a problem's [synthesis] table, as catalog chips."""
    start = time.perf_counter()
    spec = cd.resolve_fabric(cd.spec_from(table, catalog, where=where), catalog)
    full = grid(spec)
    ok = full.feasible
    preset_ids, pd = preset_designs(spec, catalog) if spec.values["presets"] else ([], None)
    cand = full.take(np.flatnonzero(ok))
    ids = [design_id(spec, full, int(i)) for i in np.flatnonzero(ok)]
    names = [f"Synthesized {i.removeprefix(PREFIX)}" for i in ids]
    preset_of: list[str | None] = [None] * len(ids)
    if pd is not None:
        # the paper's numbers stand (xPU-HBM4's 18 TiB/s needs more HBM4 stacks than the
        # shoreline rule places); the question's chip power limit applies to them too
        within = np.flatnonzero(~pd.violates["chip power"])
        preset_ids = [preset_ids[i] for i in within]
        cand = _concat(cand, pd.take(within))
        ids += [f"{PREFIX}{p}" for p in preset_ids]
        names += [f"{catalog.chip(p).name} (paper preset, synthesis prices)" for p in preset_ids]
        preset_of += preset_ids
    if not len(cand):
        raise InputError(
            "no design meets every limit (reticle, shoreline, package stacks, interposer, chip "
            "power): widen die_areas_mm2, stacks or max_chip_power",
            where=where,
            key="synthesis",
        )
    keep = np.flatnonzero(non_dominated(cand))
    ic_id, ic_entry = fabric(spec, catalog)
    entries: dict[tuple[str, str], dict] = {}
    if ic_entry is not None:
        entries[("interconnects", ic_id)] = ic_entry
    for i in keep:
        entries[("chips", ids[i])] = chip_table(
            spec, cand, int(i), ic_id, name=names[i], preset=preset_of[i]
        )
    cat = catalog.with_entries(entries, where="[synthesis]")
    return Synthesis(
        spec=spec,
        catalog=cat,
        chips=tuple(ids[i] for i in keep),
        designs=cand.take(keep),
        enumerated=len(full),
        feasible=int(ok.sum()),
        presets=tuple(f"{PREFIX}{p}" for p in preset_ids),
        interconnect=ic_id,
        seconds=time.perf_counter() - start,
        full=full,
        full_ids=tuple(design_id(spec, full, i) for i in range(len(full))),
    )


def _concat(a: cd.Designs, b: cd.Designs) -> cd.Designs:
    f = {k: np.concatenate([getattr(a, k), getattr(b, k)]) for k in cd.FIELDS}
    return cd.Designs(
        **f,
        parts={k: np.concatenate([a.parts[k], b.parts[k]]) for k in a.parts},
        violates={k: np.concatenate([a.violates[k], b.violates[k]]) for k in a.violates},
    )


# ---- the answer ------------------------------------------------------------------------------


def binds(syn: Synthesis, chip_id: str, row: dict[str, Any] | None) -> list[str]:
    """What limits design `chip_id`: the chip limits its next-larger neighbours break (a larger
    die: reticle, chip power, interposer; one more stack: shoreline, package stacks, die area
    for 3D-DRAM, chip power), and from its fleet row `row` what stops the batch (capacity) and
    a step dominated by collectives (sync)."""
    out: list[str] = []
    if chip_id in syn.full_ids:
        i = syn.full_ids.index(chip_id)
        d, v = syn.full, syn.spec.values
        areas = list(v["die_areas_mm2"])
        same = (d.tech == d.tech[i]) & (d.dies == d.dies[i])
        larger = [a for a in areas if a > d.die_mm2[i]]
        if not larger:
            out.append("reticle" if d.die_mm2[i] >= v["reticle_mm2"] else "die area list")
        else:
            j = np.flatnonzero(same & (d.die_mm2 == larger[0]) & (d.stacks == d.stacks[i]))
            out += [k for k, bad in d.violates.items() if len(j) and bad[j[0]]]
        more = np.flatnonzero(same & (d.die_mm2 == d.die_mm2[i]) & (d.stacks == d.stacks[i] + 1))
        if len(more):
            out += [k for k, bad in d.violates.items() if bad[more[0]]]
    if row is not None:
        if row.get("batch_limited_by") == "memory-capacity":
            out.append("capacity")
        step = row.get("step_time_s") or 0.0
        if step > 0 and (row.get("sync_time_s") or 0.0) >= SYNC_SHARE * step:
            out.append("sync")
        if row.get("bottleneck"):
            out.append(f"{row['bottleneck']} (step time)")
    return list(dict.fromkeys(out))


def describe(syn: Synthesis, chip_id: str) -> dict[str, Any]:
    """A design's parameters and model breakdown, for the answer."""
    i = syn.chips.index(chip_id)
    d = syn.designs
    m = syn.spec.memory[int(d.tech[i])]
    return {
        "chip": chip_id,
        "memory": m,
        "node": syn.spec.node,
        "dies": int(d.dies[i]),
        "die_area_mm2": float(d.die_mm2[i]),
        "stacks": int(d.stacks[i]),
        "compute_area_mm2": float(d.compute_mm2[i]),
        "memory_bandwidth": float(d.bandwidth[i]),
        "memory_capacity": float(d.capacity[i]),
        "fp8_flops": float(d.fp8[i]),
        "price_usd": float(d.price_usd[i]),
        "power_w": float(d.power_w[i]),
        "breakdown": {k: float(v[i]) for k, v in d.parts.items()},
        "preset": chip_id in syn.presets,
    }


# ---- chip files ------------------------------------------------------------------------------


def write_chip_file(
    path: str | Path, catalog: Catalog, chip_ids: list[str], *, force: bool = False
) -> None:
    """Write chips (and a synthesized interconnect they use) as a catalog file:
    `[chips.ID]` tables, plus `[interconnects.ID]` where the fabric is not a bundled one,
    through the one gate of written files (`outputs.write_text`: an existing file only when
    designer wrote it, or with `force`; never a folder or a device)."""
    from designer.model import outputs

    lines: list[str] = [
        f"# Synthesized chips, {outputs.STAMP} (hypothetical; read with `designer evaluate "
        '--chip FILE` or a problem\'s space.chips = ["FILE"])',
    ]
    ics = dict.fromkeys(catalog.raw["chips"][c]["interconnect"] for c in chip_ids)
    for ic in ics:
        if ic.startswith(PREFIX):
            lines += ["", f'[interconnects."{ic}"]', *_toml_body(catalog.raw["interconnects"][ic])]
    for c in chip_ids:
        lines += ["", f'[chips."{c}"]', *_toml_body(catalog.raw["chips"][c])]
    outputs.write_text(path, "\n".join(lines) + "\n", "a chip file", force=force)


def _toml_body(table: dict[str, Any]) -> list[str]:
    return [f"{toml_text.key(k)} = {toml_text.value(v)}" for k, v in table.items()]


# ---- --set synthesis.… -------------------------------------------------------------------------


def set_path(table: dict, rest: str, value: Any, *, where: str, path: str) -> None:
    """Apply `--set synthesis.REST=VALUE` to a problem's raw [synthesis] table: a key of
    [defaults] (`node`, `max_chip_power`, …), `memory`, or one value of a process node or a
    memory technology (`process.n4.wafer_usd`, `memory_tech.hbm4.stack_edge_mm`; `*` for the node
    or technology sets every one that has the key). A value `xF` multiplies the current one (the
    problem's, else the synthesis catalog's)."""
    from designer.model.catalog import relative_factor, scale_value
    from designer.model.errors import unknown

    parts = rest.split(".")
    factor = relative_factor(value)
    if parts[0] in ("process", "memory_tech"):
        keys = cd.PROCESS_KEYS if parts[0] == "process" else cd.MEMORY_KEYS
        if len(parts) != 3 or not all(parts):
            raise InputError(f"expected synthesis.{parts[0]}.ID.KEY", where=where, key=path)
        if parts[2] not in keys:
            raise unknown("key", parts[2], keys, where=where, key=path)
        entry = table.setdefault(parts[0], {})
        if not isinstance(entry, dict):
            raise InputError("not a table", where=where, key=path)
        section = "process" if parts[0] == "process" else "memory"
        if parts[1] == "*":  # every node (technology) of the catalog or the problem with the key
            base = cd.defaults_table().get(section, {})
            names = [
                n
                for n in dict.fromkeys([*base, *entry])
                if parts[2] in base.get(n, {}) or parts[2] in (entry.get(n) or {})
            ]
            if not names:
                raise InputError(f"no {section} entry has {parts[2]}", where=where, key=path)
            for name in names:
                set_path(table, f"{parts[0]}.{name}.{parts[2]}", value, where=where, path=path)
            return
        node = entry.setdefault(parts[1], {})
        if not isinstance(node, dict):
            raise InputError(
                f"expected a table, got {node!r}",
                where=where,
                key=f"synthesis.{parts[0]}.{parts[1]}",
            )
        default = cd.defaults_table().get(section, {}).get(parts[1], {}).get(parts[2])
        kind = keys[parts[2]]
    else:
        if len(parts) != 1 or parts[0] not in cd.PROBLEM_KEYS:
            raise unknown("key", rest, cd.PROBLEM_KEYS, where=where, key=path)
        node = table
        default = cd.defaults_table()["defaults"].get(parts[0])
        kind = cd.PROBLEM_KEYS[parts[0]]
    key = parts[-1]
    if factor is not None:
        unit_kind = (
            kind
            if kind in ("power", "bandwidth", "energy_per_information", "power_density")
            else None
        )
        if unit_kind is None and kind not in ("number", "number0", "int", "fraction", "fraction0"):
            raise InputError(f"cannot scale a {kind} by {value!r}", where=where, key=path)
        value = scale_value(node.get(key, default), factor, unit_kind, where, path)
    node[key] = value


def print_block(block: dict[str, Any]) -> None:
    """The synthesis block of an answer, for people."""
    print()
    print(
        f"Synthesis ({block['note']}): {block['designs_enumerated']} designs enumerated, "
        f"{block['designs_feasible']} within the chip limits, {block['designs_kept']} "
        f"non-dominated (presets {', '.join(block['presets']) or 'none'}); node "
        f"{block['node']}, profile {block['profile']}."
    )
    for c in block["chosen"]:
        print(
            f"  chip {c['chip']}: {c['dies']} x {c['die_area_mm2']:g} mm^2, {c['stacks']} "
            f"{c['memory']}, {c['memory_bandwidth'] / 1e12:.2f} TB/s, "
            f"{c['memory_capacity'] / 1e9:.1f} GB, {c['fp8_flops'] / 1e15:.2f} PFLOP/s FP8, "
            f"${c['price_usd']:,.0f}, {c['power_w']:.0f} W; binds: {', '.join(c['binds'])}"
        )
    for m, r in block.get("runner_up", {}).items():
        if r.get("chip") is None:
            print(f"  runner-up {m}: {r['status']}")
        else:
            proven = "" if r["status"] == "optimal" else f" ({r['status']}, not proven)"
            print(f"  runner-up {m}: {r['chip']} at {r['vs_chosen']:.3f}x the objective{proven}")

"""Cost and power models (our own; every default in catalogs/costs.toml with its source).

Accelerators are bought (or rented) and powered in whole servers (an 8-GPU board, an NVL72
rack, a TPU host): a server of chip type c holds `server_chips` accelerators.

Price: the catalog's `price_usd` (sourced, with its URL and date; or marked an estimate), else
an estimate from the nearest priced part named by `estimate_from` — half from that part's $ per
GB of memory, half from its $ per dense 16-bit TFLOP — else (paper presets, die area known) die
area × $/mm² + memory $/GB + packaging. A server costs `server_chips` × the chip price + the rest
of the server (`server_price_usd`, default `server_chips` × the per-chip overhead of costs.toml).

Power, one model for every shipping part: a server's maximum is its vendor system rating
(`server_power`) where published, else `server_chips` × (TDP + host power per accelerator at
maximum); its typical draw is the published typical figure (`server_power_typical`) where one
exists, else `server_chips` × (TDP × the typical accelerator load + host power per accelerator
at typical load). The host figures are derived from the DGX H100's published maximum and
typical draw (costs.toml). Paper presets keep the paper's model (chips + 300 W per server) at
both. A TDP is the catalog's, else estimated like a price from `estimate_from` (W per TB/s and
per TFLOP), else W/mm² × area + memory energy per bit × bandwidth.

Renting: $ per chip-hour on demand and reserved, published where the catalog has them; else
reserved = on-demand × `reserved_to_on_demand`, and on-demand = the chip's purchase capex per
chip × the $/h per $ of the `rent_reference_chip` (labelled estimates).

`CostBasis` chooses: `basis = "purchase"`: capex = the servers' price; TCO per year = capex /
amortization + energy (the typical draw × PUE × hours × $/kWh). `basis = "rent"`: the rent
includes power and facility, so TCO per year = rent per year, and capex = the rent over the
amortization period (what the same years of the fleet cost, comparable with a purchase).
`power_basis`: which server power energy, the power objective and totals use ("typical" by
default) and which one power limits use ("maximum" by default); setting it uses one for both.
$ per million tokens = TCO per year / the million tokens a year the served users receive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from designer.model.catalog import Catalog, Chip
from designer.model.errors import InputError, unknown

HOURS_PER_YEAR = 8766.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600.0

BASES = ("purchase", "rent")
POWER_BASES = ("typical", "maximum")
RENT_TERMS = ("on_demand", "reserved")
NAN = float("nan")


@dataclass(frozen=True)
class CostBasis:
    """How a fleet is paid for and which server power each use takes (`[costs]` of a problem)."""

    basis: str = "purchase"  # purchase | rent
    power_basis: str | None = None  # None: typical for energy, maximum for limits
    rent_term: str = "on_demand"  # on_demand | reserved (basis = "rent")

    @property
    def energy_power(self) -> str:
        """The server power energy, the power objective and the totals use."""
        return self.power_basis or "typical"

    @property
    def limit_power(self) -> str:
        """The server power a power limit holds the fleet to."""
        return self.power_basis or "maximum"

    def describe(self) -> dict[str, str]:
        capex = (
            "purchase price of the servers"
            if self.basis == "purchase"
            else "rent over the amortization period (rent includes power and facility)"
        )
        return {
            "basis": self.basis,
            "rent_term": self.rent_term,
            "power_basis": self.energy_power,
            "limit_power_basis": self.limit_power,
            "capex_meaning": capex,
        }


PURCHASE = CostBasis()
BASIS_KEYS = {"basis": BASES, "power_basis": POWER_BASES, "rent_term": RENT_TERMS}


def cost_basis_from(body: dict, where: str | None = None) -> CostBasis:
    """A `CostBasis` from a `[costs]` table (`basis`, `power_basis`, `rent_term`), checked."""
    for key, value in body.items():
        if key not in BASIS_KEYS:
            raise unknown("key", key, BASIS_KEYS, where=where, key=f"costs.{key}")
        if value not in BASIS_KEYS[key]:
            raise unknown(
                key.replace("_", " "), value, BASIS_KEYS[key], where=where, key=f"costs.{key}"
            )
    return CostBasis(
        basis=body.get("basis", "purchase"),
        power_basis=body.get("power_basis"),
        rent_term=body.get("rent_term", "on_demand"),
    )


@dataclass(frozen=True)
class ChipCost:
    """What one chip type costs and draws, per chip and per whole server, with the basis of each
    number. Unknown values are NaN. `server_power_w` is the power of the basis's energy use
    (typical by default), `server_power_limit_w` the one power limits hold (maximum)."""

    chip: str
    price_usd: float
    price_basis: str
    power_w: float
    power_basis: str
    server_chips: int
    server_capex_usd: float  # a whole server: its accelerators and the rest (or its rent)
    server_capex_basis: str
    server_power_w: float  # a whole server's IT power, on the energy basis
    server_power_basis: str
    server_tco_usd_per_year: float
    price_kind: str = "sourced"  # sourced | estimate | unknown
    server_power_typical_w: float = NAN
    server_power_max_w: float = NAN
    server_power_limit_w: float = NAN
    server_power_typical_basis: str = ""
    server_power_max_basis: str = ""
    rent_usd_per_hour: float = NAN  # per chip, the basis's term
    rent_kind: str = "unknown"
    rent_basis: str = ""
    basis: CostBasis = PURCHASE

    def per_server(self, what: str) -> float:
        """One whole server's "capex" (USD), "power" (W, IT, energy basis), "power_limit" (W,
        the basis power limits hold) or "tco" (USD/year)."""
        return {
            "capex": self.server_capex_usd,
            "power": self.server_power_w,
            "power_limit": self.server_power_limit_w,
            "tco": self.server_tco_usd_per_year,
        }[what]

    def per_chip(self, what: str) -> float:
        """A chip's share of a full server's capex, power or tco: a lower bound of what a chip
        adds to a fleet (servers are bought whole)."""
        return self.per_server(what) / self.server_chips

    def servers(self, chips) -> np.ndarray:
        """Whole servers that hold `chips` accelerators: ⌈chips / server_chips⌉."""
        return servers_for(chips, self.server_chips)

    def describe(self) -> dict[str, object]:
        """The chip's cost and power data with their bases (JSON, SI units; NaN as null)."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "chip": self.chip,
            "price_usd": num(self.price_usd),
            "price_kind": self.price_kind,
            "price_basis": self.price_basis,
            "tdp_w": num(self.power_w),
            "tdp_basis": self.power_basis,
            "server_chips": self.server_chips,
            "server_power_typical_w": num(self.server_power_typical_w),
            "server_power_typical_basis": self.server_power_typical_basis,
            "server_power_max_w": num(self.server_power_max_w),
            "server_power_max_basis": self.server_power_max_basis,
            "rent_usd_per_hour": num(self.rent_usd_per_hour),
            "rent_kind": self.rent_kind,
            "rent_basis": self.rent_basis,
        }


def ceil_div(a, b) -> np.ndarray:
    """⌈a / b⌉ in integers (b ≥ 1), exact where floats would round."""
    return -(-np.asarray(a, dtype=np.int64) // np.asarray(b, dtype=np.int64))


def servers_for(chips, server_chips) -> np.ndarray:
    """⌈chips / server_chips⌉: whole servers that hold `chips` accelerators."""
    return ceil_div(chips, server_chips)


def _dense16(chip: Chip) -> float:
    """The chip's dense 16-bit rate (bf16, else fp16), the yardstick of $/TFLOP and W/TFLOP."""
    return chip.compute.get("bf16", chip.compute.get("fp16", NAN))


def _reference(catalog: Catalog, chip: Chip, needs: str) -> Chip:
    """The part `chip.estimate_from` names, which must have `needs` (price_usd or tdp)."""
    ref = catalog.chip(chip.estimate_from)
    if getattr(ref, needs) is None or ref.estimate_from is not None:
        raise InputError(
            f"{chip.estimate_from!r} has no catalog {needs} of its own to estimate from",
            where=catalog.where("chips", chip.id),
            key=f"chips.{chip.id}.estimate_from",
        )
    return ref


def _sourced(source: str, date: str) -> str:
    """Where a catalog number comes from and when, or "catalog"."""
    return "; ".join(x for x in (source, date) if x) or "catalog"


def _from_reference(
    ref_value: float, memory: tuple[float, float], compute: tuple[float, float]
) -> tuple[float, float, float]:
    """An estimate from the nearest part's value: ½ × (the chip's memory × the part's value per
    unit of memory + its compute × the part's value per unit of compute); `memory` and `compute`
    are (the part's, the chip's). Returns the estimate and the two per-unit rates."""
    per_memory = ref_value / memory[0]
    per_compute = ref_value / compute[0]
    return 0.5 * (per_memory * memory[1] + per_compute * compute[1]), per_memory, per_compute


def chip_price(catalog: Catalog, chip: Chip) -> tuple[float, str, str]:
    """(price, basis in words, kind: sourced | estimate | unknown)."""
    if chip.price_usd is not None:
        kind = chip.price_kind or "sourced"
        where = _sourced(chip.price_source, chip.price_date)
        return chip.price_usd, f"catalog price ({kind}: {where})", kind
    if chip.estimate_from is not None:
        ref = _reference(catalog, chip, "price_usd")
        value, per_gb, per_tflop = _from_reference(
            ref.price_usd,
            (ref.memory_capacity / 1e9, chip.memory_capacity / 1e9),
            (_dense16(ref) / 1e12, _dense16(chip) / 1e12),
        )
        if math.isfinite(value):
            return (
                value,
                f"estimate from {ref.id} (${ref.price_usd:,.0f}): ½ × (memory × its "
                f"${per_gb:,.0f}/GB + dense 16-bit TFLOPS × its ${per_tflop:,.1f}/TFLOP)",
                "estimate",
            )
    if chip.die_area is None:
        return NAN, "unknown: no price_usd, estimate_from or die area", "unknown"
    c = catalog.costs
    mem = catalog.memory(chip.memory_technology)
    value = (
        c.logic_usd_per_mm2 * chip.die_area * 1e6
        + mem.cost_per_gb_usd * chip.memory_capacity / 1e9
        + c.packaging_usd
    )
    return value, "estimate, parametric: die area, memory $/GB, packaging", "estimate"


def chip_power(catalog: Catalog, chip: Chip) -> tuple[float, str]:
    if chip.tdp is not None:
        return chip.tdp, "catalog TDP"
    if chip.estimate_from is not None:
        ref = _reference(catalog, chip, "tdp")
        value, w_bw, w_f = _from_reference(
            ref.tdp,
            (ref.memory_bandwidth / 1e12, chip.memory_bandwidth / 1e12),
            (_dense16(ref) / 1e12, _dense16(chip) / 1e12),
        )
        if math.isfinite(value):
            return value, (
                f"estimate from {ref.id} ({ref.tdp:g} W): ½ × (bandwidth × its {w_bw:.0f} "
                f"W per TB/s + dense 16-bit TFLOPS × its {w_f:.2f} W/TFLOP)"
            )
    if chip.die_area is None:
        return NAN, "unknown: no TDP, estimate_from or die area"
    c = catalog.costs
    mem = catalog.memory(chip.memory_technology)
    value = c.logic_power_density * chip.die_area + mem.energy_per_byte * chip.memory_bandwidth
    return value, "parametric: W/mm² × area + memory energy per bit × bandwidth"


def server_power(catalog: Catalog, chip: Chip, n: int, tdp: float) -> dict[str, tuple]:
    """A whole server's {"typical": (W, basis), "maximum": (W, basis)} (see the module doc)."""
    c = catalog.costs
    if chip.kind == "paper-preset":
        paper = chip.server_power or n * tdp + c.server_power
        why = (
            "catalog server rating"
            if chip.server_power is not None
            else f"the paper's model: {n} × chip power + {c.server_power:g} W"
        )
        return {"typical": (paper, why), "maximum": (paper, why)}
    host_max, host_typ = c.host_power_max_per_chip, c.host_power_typical_per_chip
    load = c.accelerator_load_typical
    if chip.server_power is not None:
        maximum = (chip.server_power, "vendor system rating (catalog server_power)")
    else:
        maximum = (
            n * (tdp + host_max),
            f"model: {n} × (TDP {tdp:g} W + host {host_max:g} W)",
        )
    if chip.server_power_typical is not None:
        typical = (chip.server_power_typical, "published typical draw (server_power_typical)")
    else:
        typical = (
            min(n * (load * tdp + host_typ), maximum[0]),
            f"model: {n} × ({load:.0%} × TDP {tdp:g} W + host {host_typ:g} W)",
        )
    return {"typical": typical, "maximum": maximum}


def rent_per_hour(
    catalog: Catalog, chip: Chip, term: str, capex_per_chip: float
) -> tuple[float, str, str]:
    """$ per chip-hour for `term` (on_demand | reserved): (value, basis, kind)."""
    c = catalog.costs
    src = _sourced(chip.rent_source, chip.rent_date)
    on_demand, reserved = chip.rent_on_demand_usd_per_hour, chip.rent_reserved_usd_per_hour
    if term == "reserved" and reserved is not None:
        return reserved, f"catalog reserved $/h ({src})", "sourced"
    if term == "on_demand" and on_demand is not None:
        return on_demand, f"catalog on-demand $/h ({src})", "sourced"
    ratio = c.reserved_to_on_demand
    if term == "reserved" and on_demand is not None:
        return on_demand * ratio, f"estimate: on-demand ${on_demand:g}/h × {ratio:g}", "estimate"
    if term == "on_demand" and reserved is not None:
        return reserved / ratio, f"estimate: reserved ${reserved:g}/h / {ratio:g}", "estimate"
    ref_id = c.rent_reference_chip
    if ref_id not in catalog.raw["chips"]:
        raise unknown(
            "chip", ref_id, catalog.raw["chips"], key="costs.defaults.rent_reference_chip"
        )
    ref = catalog.chip(ref_id)
    if ref.rent_on_demand_usd_per_hour is None:
        raise InputError(
            f"{ref_id!r} has no rent_on_demand_usd_per_hour to estimate rents from",
            key="costs.defaults.rent_reference_chip",
        )
    ref_capex = chip_cost(catalog, ref_id).per_chip("capex")
    per_usd = ref.rent_on_demand_usd_per_hour / ref_capex
    value = capex_per_chip * per_usd * (ratio if term == "reserved" else 1.0)
    if not math.isfinite(value):
        return NAN, "unknown: no $/h and no purchase price to estimate one", "unknown"
    return (
        value,
        (
            f"estimate: purchase ${capex_per_chip:,.0f} per chip (with its server share) × "
            f"{ref_id}'s ${ref.rent_on_demand_usd_per_hour:g}/h per ${ref_capex:,.0f}"
            + (f" × reserved {ratio:g}" if term == "reserved" else "")
        ),
        "estimate",
    )


def chip_cost(catalog: Catalog, chip_id: str, basis: CostBasis = PURCHASE) -> ChipCost:
    """Price, power and whole-server numbers of a chip type, on `basis`."""
    chip = catalog.chip(chip_id)
    c = catalog.costs
    price, price_basis, price_kind = chip_price(catalog, chip)
    power, power_basis = chip_power(catalog, chip)
    n = chip.server_chips or c.chips_per_server
    if chip.server_price_usd is not None:
        rest, rest_basis = chip.server_price_usd, "catalog server price"
    else:
        rest = n * c.server_overhead_usd_per_chip
        rest_basis = "default server overhead per chip"
    capex = n * price + rest
    powers = server_power(catalog, chip, n, power)
    energy_w, energy_basis = powers[basis.energy_power]
    limit_w = powers[basis.limit_power][0]
    if basis.basis == "rent":  # a published $/h needs no purchase price; an estimate does
        rent, rent_basis, rent_kind = rent_per_hour(catalog, chip, basis.rent_term, capex / n)
    else:
        rent, rent_basis, rent_kind = NAN, "", "unknown"
    if basis.basis == "rent":
        per_year = n * rent * HOURS_PER_YEAR
        server_capex = per_year * c.amortization_years
        capex_basis = f"rent: {n} × ${rent:.4g}/h × {c.amortization_years:g} years"
        tco = per_year
    else:
        server_capex = capex
        capex_basis = f"{n} × chip price + {rest_basis}"
        tco = float(tco_per_year(catalog, capex, energy_w))
    return ChipCost(
        chip_id,
        price,
        price_basis,
        power,
        power_basis,
        n,
        server_capex,
        capex_basis,
        energy_w,
        energy_basis,
        tco,
        price_kind=price_kind,
        server_power_typical_w=powers["typical"][0],
        server_power_max_w=powers["maximum"][0],
        server_power_limit_w=limit_w,
        server_power_typical_basis=powers["typical"][1],
        server_power_max_basis=powers["maximum"][1],
        rent_usd_per_hour=rent,
        rent_kind=rent_kind,
        rent_basis=rent_basis,
        basis=basis,
    )


def tco_per_year(catalog: Catalog, capex_usd, it_power_w):
    """capex / amortization years + IT power × PUE × hours per year × $/kWh (a purchase)."""
    c = catalog.costs
    energy = np.asarray(it_power_w) * c.pue * HOURS_PER_YEAR / 1000.0 * c.electricity_usd_per_kwh
    return np.asarray(capex_usd) / c.amortization_years + energy


def mtokens_per_year(catalog: Catalog, tokens_per_s) -> np.ndarray:
    """Million tokens a year at `tokens_per_s`, at the catalog's utilization."""
    return np.asarray(tokens_per_s) * catalog.costs.utilization * SECONDS_PER_YEAR / 1e6


def cost_per_mtoken(catalog: Catalog, tco_usd_per_year, tokens_per_s):
    """$ per million tokens: TCO per year over the tokens received in a year at utilization."""
    return np.asarray(tco_usd_per_year) / mtokens_per_year(catalog, tokens_per_s)

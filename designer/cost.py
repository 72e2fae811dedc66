"""Cost and power models (our own; every default in catalogs/costs.toml with its source).

Per chip: capex = chip price (or a parametric estimate from die area, memory $/GB and
packaging) + server overhead share; IT power = chip TDP (or W/mm² × area + memory energy per
bit × bandwidth) + the chip's share of the per-server power. TCO per year = capex /
amortization + IT power × PUE × hours × $/kWh. $ per million tokens = TCO per year / tokens
served per year at the catalog's utilization.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.catalog import Catalog, Chip

HOURS_PER_YEAR = 8766.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600.0


@dataclass(frozen=True)
class ChipCost:
    """What one chip costs and draws, with how each number was obtained."""

    price_usd: float  # NaN when neither a price nor a die area is known
    price_basis: str
    power_w: float  # NaN when neither a TDP nor a die area is known
    power_basis: str
    capex_usd: float  # price + server overhead share
    it_power_w: float  # chip power + server power share
    tco_usd_per_year: float


def chip_price(catalog: Catalog, chip: Chip) -> tuple[float, str]:
    if chip.price_usd is not None:
        return chip.price_usd, "catalog price"
    if chip.die_area is None:
        return float("nan"), "unknown: no price and no die area"
    c = catalog.costs
    mem = catalog.memory(chip.memory_technology)
    value = (
        c.logic_usd_per_mm2 * chip.die_area * 1e6
        + mem.cost_per_gb_usd * chip.memory_capacity / 1e9
        + c.packaging_usd
    )
    return value, "parametric: die area, memory $/GB, packaging"


def chip_power(catalog: Catalog, chip: Chip) -> tuple[float, str]:
    if chip.tdp is not None:
        return chip.tdp, "catalog TDP"
    if chip.die_area is None:
        return float("nan"), "unknown: no TDP and no die area"
    c = catalog.costs
    mem = catalog.memory(chip.memory_technology)
    value = c.logic_power_density * chip.die_area + mem.energy_per_byte * chip.memory_bandwidth
    return value, "parametric: W/mm² × area + memory energy per bit × bandwidth"


def chip_cost(catalog: Catalog, chip_id: str) -> ChipCost:
    chip = catalog.chip(chip_id)
    c = catalog.costs
    price, price_basis = chip_price(catalog, chip)
    power, power_basis = chip_power(catalog, chip)
    capex = price + c.server_overhead_usd_per_chip
    it_power = power + c.server_power / c.chips_per_server
    return ChipCost(
        price,
        price_basis,
        power,
        power_basis,
        capex,
        it_power,
        tco_per_year(catalog, capex, it_power),
    )


def tco_per_year(catalog: Catalog, capex_usd, it_power_w):
    """capex / amortization years + IT power × PUE × hours per year × $/kWh."""
    c = catalog.costs
    energy = np.asarray(it_power_w) * c.pue * HOURS_PER_YEAR / 1000.0 * c.electricity_usd_per_kwh
    return np.asarray(capex_usd) / c.amortization_years + energy


def cost_per_mtoken(catalog: Catalog, tco_usd_per_year, tokens_per_s):
    """$ per million tokens: TCO per year over the tokens served in a year at utilization."""
    tokens_per_year = np.asarray(tokens_per_s) * catalog.costs.utilization * SECONDS_PER_YEAR
    return np.asarray(tco_usd_per_year) / (tokens_per_year / 1e6)

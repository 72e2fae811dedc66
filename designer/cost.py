"""Cost and power models (our own; every default in catalogs/costs.toml with its source).

Accelerators are bought and powered in whole servers (an 8-GPU board, an NVL72 rack, a TPU
host): a server of chip type c holds `server_chips` accelerators, costs `server_chips` × the chip
price + the rest of the server (`server_price_usd`, default `server_chips` × the per-chip server
overhead of costs.toml; 0 where the chip price already includes a share of the rack), and draws
its rated power (`server_power`, default `server_chips` × chip power + the per-server power of
costs.toml). Chip price is the catalog price or a parametric estimate (die area × $/mm², memory
$/GB, packaging); chip power the TDP or W/mm² × area + memory energy per bit × bandwidth.

TCO per year = capex / amortization + IT power × PUE × hours × $/kWh. $ per million tokens =
TCO per year / the million tokens a year the served users receive, at the catalog's utilization.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.catalog import Catalog, Chip

HOURS_PER_YEAR = 8766.0
SECONDS_PER_YEAR = HOURS_PER_YEAR * 3600.0


@dataclass(frozen=True)
class ChipCost:
    """What one chip type costs and draws, per chip and per whole server, with the basis of each
    number. Unknown values are NaN."""

    chip: str
    price_usd: float
    price_basis: str
    power_w: float
    power_basis: str
    server_chips: int
    server_capex_usd: float  # a whole server: its accelerators and the rest
    server_capex_basis: str
    server_power_w: float  # a whole server's IT power
    server_power_basis: str
    server_tco_usd_per_year: float

    def per_server(self, what: str) -> float:
        """One whole server's "capex" (USD), "power" (W, IT) or "tco" (USD/year)."""
        return {
            "capex": self.server_capex_usd,
            "power": self.server_power_w,
            "tco": self.server_tco_usd_per_year,
        }[what]

    def per_chip(self, what: str) -> float:
        """A chip's share of a full server's capex, power or tco: a lower bound of what a chip
        adds to a fleet (servers are bought whole)."""
        return self.per_server(what) / self.server_chips

    def servers(self, chips) -> np.ndarray:
        """Whole servers that hold `chips` accelerators: ⌈chips / server_chips⌉."""
        return servers_for(chips, self.server_chips)


def ceil_div(a, b) -> np.ndarray:
    """⌈a / b⌉ in integers (b ≥ 1), exact where floats would round."""
    return -(-np.asarray(a, dtype=np.int64) // np.asarray(b, dtype=np.int64))


def servers_for(chips, server_chips) -> np.ndarray:
    """⌈chips / server_chips⌉: whole servers that hold `chips` accelerators."""
    return ceil_div(chips, server_chips)


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
    """Price, power and whole-server numbers of a chip type."""
    chip = catalog.chip(chip_id)
    c = catalog.costs
    price, price_basis = chip_price(catalog, chip)
    power, power_basis = chip_power(catalog, chip)
    n = chip.server_chips or c.chips_per_server
    if chip.server_price_usd is not None:
        rest, rest_basis = chip.server_price_usd, "catalog server price"
    else:
        rest = n * c.server_overhead_usd_per_chip
        rest_basis = "default server overhead per chip"
    if chip.server_power is not None:
        server_power, server_power_basis = chip.server_power, "catalog server rating"
    else:
        server_power = n * power + c.server_power
        server_power_basis = "chips × chip power + default power per server"
    capex = n * price + rest
    return ChipCost(
        chip_id,
        price,
        price_basis,
        power,
        power_basis,
        n,
        capex,
        f"{n} × chip price + {rest_basis}",
        server_power,
        server_power_basis,
        float(tco_per_year(catalog, capex, server_power)),
    )


def tco_per_year(catalog: Catalog, capex_usd, it_power_w):
    """capex / amortization years + IT power × PUE × hours per year × $/kWh."""
    c = catalog.costs
    energy = np.asarray(it_power_w) * c.pue * HOURS_PER_YEAR / 1000.0 * c.electricity_usd_per_kwh
    return np.asarray(capex_usd) / c.amortization_years + energy


def mtokens_per_year(catalog: Catalog, tokens_per_s) -> np.ndarray:
    """Million tokens a year at `tokens_per_s`, at the catalog's utilization."""
    return np.asarray(tokens_per_s) * catalog.costs.utilization * SECONDS_PER_YEAR / 1e6


def cost_per_mtoken(catalog: Catalog, tco_usd_per_year, tokens_per_s):
    """$ per million tokens: TCO per year over the tokens received in a year at utilization."""
    return np.asarray(tco_usd_per_year) / mtokens_per_year(catalog, tokens_per_s)

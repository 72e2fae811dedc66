"""Shared limits over the whole fleet: capex (k$, fixed costs included), IT power (kW),
facility power (IT × PUE), accelerators (`limit_capex`, `limit_power`,
`limit_facility_power`, `limit_chips`). The fleet's capex, power and TCO are declared here
too, as the objective and the limits read them; power limits hold the servers' power on the
limit basis (maximum by default), `power` is on the energy basis (typical by default)."""

from __future__ import annotations

from designer.optimize.data import KUSD, KW, FleetData
from designer.optimize.modeling import pyo

MARGINALS = {
    "limit_capex": ("USD", 1 / KUSD),
    "limit_power": ("W", 1 / KW),
    "limit_facility_power": ("W", 1 / KW),
    "limit_chips": ("chip", 1.0),
}


def residuals(data: FleetData, rows: list[dict], tot: dict) -> dict[str, float]:
    """1 − used / limit for every limit set."""
    p = data.problem
    r = {}
    if p.max_chips:
        r["chips-limit"] = 1.0 - tot["chips"] / p.max_chips
    if p.max_power is not None:
        r["power-limit"] = 1.0 - tot["limit_power_w"] / p.max_power
    if p.max_facility_power is not None:
        r["facility-power-limit"] = 1.0 - tot["limit_facility_power_w"] / p.max_facility_power
    if p.max_capex_usd is not None:
        r["capex-limit"] = 1.0 - tot["capex_usd"] / p.max_capex_usd
    return r


def applies(data: FleetData) -> bool:
    return True


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    p = data.problem
    fixed = m.fixed_cost if hasattr(m, "fixed_cost") else 0.0
    years = p.catalog.costs.amortization_years
    m.capex = pyo.Expression(expr=sum(data.server_capex[ty] * m.servers[ty] for ty in m.C) + fixed)
    m.power = pyo.Expression(expr=sum(data.server_power[ty] * m.servers[ty] for ty in m.C))
    m.power_limit = pyo.Expression(
        expr=sum(data.server_power_limit[ty] * m.servers[ty] for ty in m.C)
    )
    m.tco = pyo.Expression(
        expr=sum(data.server_tco[ty] * m.servers[ty] for ty in m.C) + fixed / years
    )
    if p.max_capex_usd is not None:
        m.limit_capex = pyo.Constraint(expr=m.capex <= p.max_capex_usd * KUSD)
    if p.max_power is not None:
        m.limit_power = pyo.Constraint(expr=m.power_limit <= p.max_power * KW)
    if p.max_facility_power is not None:
        pue = p.catalog.costs.pue
        m.limit_facility_power = pyo.Constraint(
            expr=m.power_limit * pue <= p.max_facility_power * KW
        )
    if p.max_chips:
        m.limit_chips = pyo.Constraint(expr=m.chips_total <= p.max_chips)

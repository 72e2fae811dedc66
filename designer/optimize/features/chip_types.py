"""Chip types adopted: a binary z_c per chip type when the fleet may use at most N types
(`[fleet] max_chip_types`) or adopting a type has a fixed cost
(`[fleet] chip_type_fixed_cost_usd`): S_c ≤ smax_c · z_c (`adopted`), Σ z_c ≤ N
(`chip_types`)."""

from __future__ import annotations

from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo

LINKING = ("adopted",)
NO_MARGINAL = ("chip_types",)  # a count of chip types: no marginal value (integer)


def residuals(data: FleetData, rows: list[dict], tot: dict) -> dict[str, float]:
    """1 − chip types used / allowed."""
    n = data.problem.max_chip_types
    return {} if n is None else {"chip-types": 1.0 - len(tot["by_chip"]) / n}


def applies(data: FleetData) -> bool:
    p = data.problem
    return p.max_chip_types is not None or p.chip_type_fixed_cost_usd > 0


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    m.adopt = pyo.Var(m.C, domain=pyo.Binary)
    m.adopted = pyo.Constraint(
        m.C, rule=lambda m, ty: m.servers[ty] <= max(data.smax[ty], 1) * m.adopt[ty]
    )
    if data.problem.max_chip_types is not None:
        m.chip_types = pyo.Constraint(
            expr=sum(m.adopt[ty] for ty in m.C) <= data.problem.max_chip_types
        )
    m.fixed_cost = pyo.Expression(expr=data.problem_fixed_cost * sum(m.adopt[ty] for ty in m.C))

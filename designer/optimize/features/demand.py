"""Users per class: Σ_{k of class j} users_k · R_k ≥ U_j (`demand`), each column's users the
largest batch it can run (see `columns`)."""

from __future__ import annotations

from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo


def applies(data: FleetData) -> bool:
    return any(data.demand)


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    c = data.columns
    m.J = pyo.Set(initialize=[j for j, u in enumerate(data.demand) if u > 0], ordered=True)
    m.users_served = pyo.Expression(
        m.J,
        rule=lambda m, j: sum(
            int(c.users[k]) * m.replicas[k] for k in range(len(c)) if c.cls[k] == j
        ),
    )
    m.demand = pyo.Constraint(m.J, rule=lambda m, j: m.users_served[j] >= data.demand[j])

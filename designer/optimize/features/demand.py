"""Users per class: Σ_{k of class j} users_k · R_k ≥ U_j (`demand`), each column's users the
largest batch it can run (see `columns`)."""

from __future__ import annotations

import pyomo.environ as pyo

from designer.optimize.data import FleetData

MARGINALS = {"demand": ("user", 1.0)}  # component: (SI unit of its right-hand side, to SI)


def label(data: FleetData, component: str, index) -> str:
    return f"demand[{data.problem.classes[index].name}]"


def residuals(data: FleetData, rows: list[dict], tot: dict) -> dict[str, float]:
    """Users served over users asked, per class, minus 1."""
    p = data.problem
    r = {}
    for j, wc in enumerate(p.classes):
        if wc.users:
            served = sum(x["users_served"] for x in rows if x["class_index"] == j)
            tag = f"[{wc.name}]" if len(p.classes) > 1 else ""
            r[f"demand{tag}"] = served / wc.users - 1.0
    return r


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

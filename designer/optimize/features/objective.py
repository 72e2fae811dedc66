"""The objective, defined once: minimize capex, power, TCO, $ per million tokens or chips, or
maximize users or system tokens/s. $/Mtoken is TCO over the tokens the asked-for users receive
at their SLA rates — a constant, so it is minimized as TCO and reported divided by it.

`expression(m, name)` gives any of them as a Pyomo expression; `solve` uses it for the
tie-break (after the objective: lower capex, then lower power, then fewer chips)."""

from __future__ import annotations

from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo

# the tie-break order after the objective
TIE_BREAK = ("capex", "power", "chips")


def applies(data: FleetData) -> bool:
    return True


def expression(m: pyo.ConcreteModel, name: str):
    """The named quantity of the fleet, in model units (k$, kW, k$/year, chips, users)."""
    if name in ("capex", "power", "tco"):
        return getattr(m, name)
    if name == "cost_per_mtoken":
        return m.tco  # over a constant (module doc)
    if name == "chips":
        return m.chips_total
    if name == "users":
        return m.users_all
    if name == "system_tokens_per_s":
        return m.tokens_all
    raise KeyError(name)


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    c = data.columns
    m.users_all = pyo.Expression(expr=sum(int(c.users[k]) * m.replicas[k] for k in m.K))
    m.tokens_all = pyo.Expression(
        expr=sum(float(c.tokens_per_s[k]) * 1e-3 * m.replicas[k] for k in m.K)
    )
    p = data.problem
    sense = pyo.maximize if p.sense == "maximize" else pyo.minimize
    m.objective = pyo.Objective(expr=expression(m, p.objective), sense=sense)


def export(m: pyo.ConcreteModel, data: FleetData, out: dict) -> None:
    out["objective_model_value"] = pyo.value(expression(m, data.problem.objective))

"""Users per class: Σ_{k of class j} users_k · R_k ≥ U_j (`demand`), each column's users the
largest batch it can run (see `columns`)."""

from __future__ import annotations

from typing import Any

from designer.model.cost import mtokens_per_year
from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo

MARGINALS = {"demand": ("user", 1.0)}  # component: (SI unit of its right-hand side, to SI)


def label(data: FleetData, component: str, index) -> str:
    return f"demand[{data.problem.classes[index].name}]"


def marginal(
    data: FleetData,
    m: pyo.ConcreteModel,
    component: str,
    index,
    lp_marginal: float,
    slack: float,
    value: float,
    scale: float,
) -> tuple[float, dict[str, Any]]:
    """The demand marginal as the answer reads it (`optimize.sensitivity`): under
    `cost_per_mtoken` a user's own tokens join the denominator (d(T/M)/du = (dT/du − (T/M)·dM/du)
    / M; `value` is T/M in USD per Mtoken), and where the integer answer serves spare users
    (`slack`) a note says the next ones cost nothing."""
    wc = data.problem.classes[index]
    per_mtoken = data.problem.objective == "cost_per_mtoken"
    tokens = float(mtokens_per_year(data.problem.catalog, wc.target_utps))
    marginal = lp_marginal - value * tokens / data.mtokens if per_mtoken else lp_marginal
    entry: dict[str, Any] = {}
    spare = int(slack + 1e-6)
    if spare >= 1:
        lowers = ""
        if per_mtoken:  # the same TCO over more tokens
            answer = float(pyo.value(m.objective)) * scale
            step = answer * (1 - data.mtokens / (data.mtokens + tokens))
            lowers = f" and the first lowers the cost per Mtoken by {step:.3g} USD"
        entry["note"] = (
            f"the fleet has room for {spare} user(s) more than asked: the next {spare} "
            f"cost nothing{lowers}; the marginal holds beyond them"
        )
    return marginal, entry


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

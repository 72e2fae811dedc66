"""Users per class: Σ_{k of class j} serves_k · R_k ≥ U_j (`demand`), in users at the class's
SLA rate r (`WorkloadClass.need`, `Columns.serves`).

- A class that asks for concurrent users: U_j is those users and `serves_k` a column's users,
  the largest batch it can run (see `columns`).
- A class that asks for a request rate λ (`sla.requests_per_s`, `WorkloadClass.by_requests`):
  U_j = λ·O/r (Little's law, O output tokens a request) and `serves_k` the users at rate r
  that one replica stands for, users_k · r_k / r, r_k the rate its users get at its full
  batch (1/TPOT with the prompt chunks; with a `[sla] confidence`, at the slow end). So the
  row is Σ λ_k · R_k ≥ λ in requests/s, λ_k = users_k · r_k / O the requests/s a full replica
  turns over: a replica faster than r serves more requests with the same users, and a fleet
  is sized at each design's own TPOT, not at r.
"""

from __future__ import annotations

from typing import Any

from designer.model.cost import mtokens_per_year
from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo
from designer.optimize.problem import OBJECTIVE_UNITS

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
    (`slack`) a note says the next ones cost nothing. A class asking for a request rate reads
    it per request/s (r/O of them per user at the SLA rate r), its room too."""
    wc = data.problem.classes[index]
    per_mtoken = data.problem.objective == "cost_per_mtoken"
    tokens = float(mtokens_per_year(data.problem.catalog, wc.target_utps))
    marginal = lp_marginal - value * tokens / data.mtokens if per_mtoken else lp_marginal
    entry: dict[str, Any] = {}
    # a class asking for a request rate: per request/s, r/O of them per user at the SLA rate
    per_request = wc.target_utps / wc.workload.output_tokens if wc.by_requests else None
    if per_request is not None:
        marginal /= per_request
        entry["unit"] = f"{OBJECTIVE_UNITS[data.problem.objective]} per request/s"
        entry["slack"] = slack * per_request
    spare = int(slack + 1e-6)
    if spare >= 1 or (per_request is not None and slack > 1e-6):
        lowers = ""
        if per_mtoken and per_request is None:  # the same TCO over more tokens
            answer = float(pyo.value(m.objective)) * scale
            step = answer * (1 - data.mtokens / (data.mtokens + tokens))
            lowers = f" and the first lowers the cost per Mtoken by {step:.3g} USD"
        room = (
            f"{spare} user(s)" if per_request is None else f"{slack * per_request:.4g} requests/s"
        )
        what = f"the next {spare}" if per_request is None else "they"
        entry["note"] = (
            f"the fleet has room for {room} more than asked: {what} "
            f"cost nothing{lowers}; the marginal holds beyond them"
        )
    return marginal, entry


def residuals(data: FleetData, rows: list[dict], tot: dict) -> dict[str, float]:
    """Per class, what its rows serve over what it asks for, minus 1: users, or for a request
    rate the requests/s the rows that decode turn over."""
    p = data.problem
    r = {}
    for j, wc in enumerate(p.classes):
        if not wc.users:
            continue
        mine = [x for x in rows if x["class_index"] == j]
        if wc.by_requests:
            got = sum(x["metrics"]["requests_per_s"] for x in mine if x["phase"] != "prefill")
            ratio = got / wc.serving.requests_per_s
        else:
            ratio = sum(x["users_served"] for x in mine) / wc.users
        tag = f"[{wc.name}]" if len(p.classes) > 1 else ""
        r[f"demand{tag}"] = ratio - 1.0
    return r


def applies(data: FleetData) -> bool:
    return any(data.demand)


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    c = data.columns
    m.J = pyo.Set(initialize=[j for j, u in enumerate(data.demand) if u > 0], ordered=True)
    m.users_served = pyo.Expression(
        m.J,
        rule=lambda m, j: sum(
            float(c.serves[k]) * m.replicas[k] for k in range(len(c)) if c.cls[k] == j
        ),
    )
    m.demand = pyo.Constraint(m.J, rule=lambda m, j: m.users_served[j] >= data.demand[j])

"""What each requirement costs at the answer: marginal values from the LP with the answer's
binary choices (configurations, chip types) fixed and replicas and servers made continuous.

A marginal is the change of the objective per unit increase of the requirement's right-hand
side, in SI units: USD (or W, chips, …) per extra user of a class (per extra request/s of a
class that asks for a request rate), per extra W of a power cap,
per extra USD of budget, per extra chip of supply. It holds for small changes of the
continuous relaxation; whole servers and replicas move the integer answer in steps (the tests
check each marginal against a finite-difference re-solve of the same LP).

`slack` is the integer answer's room in the row (users served beyond those asked, or
requests/s, W under a cap, …). Where the answer serves spare users the LP's demand marginal does
not apply to them: the next `slack` users cost nothing (`note` says so), the marginal holds
beyond them.

For `cost_per_mtoken` (TCO over the tokens the asked-for users receive) one more user of a class
(or its r/O requests/s) also adds that user's tokens to the denominator: the demand marginal is
the derivative of the ratio, d(T/M)/du = (dT/du − (T/M)·dM/du) / M, with T the LP's TCO and M
its tokens.
"""

from __future__ import annotations

from typing import Any

from designer.optimize.data import KUSD, KW, FleetData
from designer.optimize.features import FEATURES
from designer.optimize.modeling import pyo
from designer.optimize.problem import OBJECTIVE_UNITS
from designer.optimize.solver import Solver

# objective model units → SI
OBJECTIVE_SCALE = {
    "capex": 1 / KUSD,
    "power": 1 / KW,
    "tco": 1 / KUSD,
    "chips": 1.0,
    "users": 1.0,
    "system_tokens_per_s": 1e3,
}
# requirement rows: component → (SI unit of its right-hand side, model units → SI), each
# declared by its feature module (`MARGINALS`), which names the row's entries (`label`)
ROWS = {name: face for f in FEATURES for name, face in getattr(f, "MARGINALS", {}).items()}
OWNER = {name: f for f in FEATURES for name in getattr(f, "MARGINALS", {})}


def relaxed_lp(m: pyo.ConcreteModel) -> pyo.ConcreteModel:
    """A copy of the solved model with binaries fixed at their values, integers continuous,
    and only the objective active (no tie-break rows)."""
    lp = m.clone()
    for v in lp.component_data_objects(pyo.Var):
        if v.is_binary():
            value = round(v.value or 0)
            v.domain = pyo.NonNegativeReals
            v.fix(value)
        elif v.is_integer():
            v.domain = pyo.NonNegativeReals
    if hasattr(lp, "tie_break"):
        lp.tie_break.deactivate()
    for obj in lp.component_objects(pyo.Objective):
        obj.deactivate()
    lp.objective.activate()
    return lp


def objective_scale(data: FleetData) -> float:
    name = data.problem.objective
    if name == "cost_per_mtoken":
        return OBJECTIVE_SCALE["tco"] / data.mtokens
    return OBJECTIVE_SCALE[name]


def sensitivity(data: FleetData, m: pyo.ConcreteModel) -> list[dict[str, Any]]:
    """Marginal value of every requirement row of the model (see the module doc)."""
    lp = relaxed_lp(m)
    solver = Solver(time_limit=10.0)
    st = solver.solve(lp)
    if st.status != "optimal":  # it takes milliseconds; a stop (a time limit on a loaded
        solver = Solver(time_limit=60.0)  # machine?) loses every marginal: try once more
        st = solver.solve(lp)
    duals = solver.duals() if st.status == "optimal" else {}
    if not duals:
        return []
    scale = objective_scale(data)
    per_mtoken = data.problem.objective == "cost_per_mtoken"
    value = solver.value(lp.objective) * scale if per_mtoken else 0.0  # USD per Mtoken
    out = []
    for name, (unit, rhs_scale) in ROWS.items():
        comp = getattr(lp, name, None)
        if comp is None:
            continue
        for index in comp:
            con = comp[index]
            marginal = float(duals.get(con, 0.0)) * scale / rhs_scale
            slack = float(_slack(getattr(m, name)[index])) * rhs_scale  # the integer answer's
            owner = OWNER[name]
            label = owner.label(data, name, index) if hasattr(owner, "label") else name
            entry: dict[str, Any] = {}
            if hasattr(owner, "marginal"):  # a feature that knows more of its own marginal
                marginal, entry = owner.marginal(
                    data, m, name, index, marginal, slack, value, scale
                )
            out.append(
                {
                    "requirement": label,
                    "marginal": marginal,
                    "unit": f"{_objective_unit(data)} per {unit}",
                    "slack": slack,
                    **entry,
                }
            )
    return out


def _objective_unit(data: FleetData) -> str:
    return OBJECTIVE_UNITS[data.problem.objective]


def _slack(con) -> float:
    body = pyo.value(con.body)
    lo = pyo.value(con.lower) if con.has_lb() else None
    up = pyo.value(con.upper) if con.has_ub() else None
    return min(
        x
        for x in ((body - lo) if lo is not None else None, (up - body) if up is not None else None)
        if x is not None
    )

"""Marginal values from the LP with the answer's choices fixed, against finite differences of
the same LP."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from designer.optimize import columns as cm
from designer.optimize.build import build
from designer.optimize.data import fleet_data
from designer.optimize.problem import problem_from_dict
from designer.optimize.sensitivity import ROWS, objective_scale, relaxed_lp
from designer.optimize.solve import solve
from designer.optimize.solver import Solver
from tests.optimize.test_against_brute_force import TWO_CLASSES, raw_problem


def _lp_value(lp) -> float:
    st = Solver().solve(lp)
    assert st.status == "optimal"
    return st.incumbent


@pytest.mark.parametrize(
    "raw",
    [
        raw_problem(users=200, target=40, max_batch=32, limits={"max_capex_usd": 3e6}),
        {**TWO_CLASSES, "limits": {"max_power": "40 kW"}, "supply": {"h100-sxm": 16}},
    ],
)
def test_marginals_equal_finite_differences(raw):
    pr = problem_from_dict(raw)
    cols = cm.build(pr)
    data = fleet_data(pr, cols)
    m = build(data)
    Solver().solve(m)
    sol = solve(pr)
    scale = objective_scale(data)
    assert sol.record["sensitivity"]
    for entry in sol.record["sensitivity"]:
        name = entry["requirement"].split("[")[0]
        _, rhs_scale = ROWS[name]
        lp = relaxed_lp(_solved(m))
        base = _lp_value(lp)
        con = _constraint(lp, data, entry["requirement"])
        h = 1e-3 * max(abs(pyo.value(con.upper if con.has_ub() else con.lower)), 1.0)
        if con.has_ub():
            con.set_value((con.lower, con.body, pyo.value(con.upper) + h))
        else:
            con.set_value((pyo.value(con.lower) + h, con.body, con.upper))
        moved = _lp_value(lp)
        fd = (moved - base) / h * scale / rhs_scale
        assert entry["marginal"] == pytest.approx(fd, rel=1e-6, abs=1e-6 * abs(scale)), entry


def _solved(m):
    solver = Solver()
    solver.solve(m)
    solver.load()
    return m


def _constraint(lp, data, label):
    name, _, index = label.partition("[")
    comp = getattr(lp, name)
    if not index:
        return comp if not comp.is_indexed() else next(iter(comp.values()))
    index = index.rstrip("]")
    if name == "demand":
        j = [wc.name for wc in data.problem.classes].index(index)
        return comp[j]
    ty = [t.chip for t in data.columns.chip_types].index(index)
    return comp[ty]


def test_cost_per_mtoken_demand_marginal_is_the_derivative_of_the_ratio():
    """One more user raises the TCO and the tokens in the denominator: the marginal is the
    finite difference of LP TCO / tokens, both moved (the TCO marginal alone has the wrong
    sign when the fleet's cost per user falls with scale)."""
    raw = raw_problem(users=200, target=40, max_batch=32)
    raw["objective"] = {"minimize": "cost_per_mtoken"}
    raw["fleet"] = {"chip_type_fixed_cost_usd": 2e5}  # a fixed cost: the ratio falls with users
    pr = problem_from_dict(raw)
    data = fleet_data(pr, cm.build(pr))
    m = _solved(build(data))
    (entry,) = [e for e in solve(pr).record["sensitivity"] if e["requirement"].startswith("demand")]

    def ratio(users: float) -> float:
        lp = relaxed_lp(m)
        lp.demand[0].set_value((users, lp.demand[0].body, None))
        tco = _lp_value(lp) * objective_scale(data) * data.mtokens  # USD/year
        return tco / (data.mtokens * users / 200)

    h = 1e-3
    fd = (ratio(200 + h) - ratio(200)) / h
    assert entry["marginal"] == pytest.approx(fd, rel=1e-4, abs=1e-12)
    assert entry["marginal"] < 0  # spread over more tokens, the fixed cost weighs less


def test_spare_users_of_the_integer_answer_are_named():
    pr = problem_from_dict(raw_problem(users=201, target=40, max_batch=32))
    (entry,) = [e for e in solve(pr).record["sensitivity"] if e["requirement"].startswith("demand")]
    spare = int(entry["slack"] + 1e-6)
    assert spare >= 1, "the answer's replicas serve whole batches"
    assert entry["note"].startswith(f"the fleet has room for {spare} user(s) more than asked")

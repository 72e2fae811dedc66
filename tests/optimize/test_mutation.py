"""Every constraint group of the master problem matters: with it removed, a problem where it
binds gets a wrong (cheaper than possible) answer, which the brute force exposes."""

from __future__ import annotations

import math

import pytest

from designer.optimize import columns as cm
from designer.optimize.build import build
from designer.optimize.data import KUSD, fleet_data
from designer.optimize.problem import problem_from_dict
from designer.optimize.solver import Solver
from tests import oracle
from tests.optimize.test_against_brute_force import raw_problem

# 200 users of Llama 3.1 70B at 40 tokens/s: the fewest chips are 13 B200 ($840k, 28.6 kW);
# the cheapest fleet mixes one B200 and one H100 server ($745k, 24.5 kW, 16 chips)
BASE = dict(model="llama3.1-70b", target=40, users=200, chips=("h100-sxm", "b200"), max_batch=16)
CHIPS = {**BASE, "objective": "chips"}
CASES = {
    "demand": raw_problem(**BASE),
    "servers_hold_chips": raw_problem(**BASE),
    "limit_capex": raw_problem(limits={"max_capex_usd": 8e5}, **CHIPS),
    "limit_power": raw_problem(limits={"max_power": "25 kW"}, **CHIPS),
    "limit_facility_power": raw_problem(limits={"max_facility_power": "32.5 kW"}, **CHIPS),
    "limit_chips": raw_problem(limits={"max_chips": 14}, **BASE),
    "supply": raw_problem(supply={"h100-sxm": 8}, **{**BASE, "users": 400}),
    "configurations": raw_problem(fleet={"max_configurations": 1}, **BASE),
    "chip_types": raw_problem(fleet={"max_chip_types": 1}, **BASE),
    "adopted": raw_problem(fleet={"chip_type_fixed_cost_usd": 200000}, **BASE),
}


def _value(problem, drop: str | None) -> float:
    data = fleet_data(problem, cm.build(problem, prune=False))
    m = build(data)
    if drop:
        getattr(m, drop).deactivate()
    st = Solver().solve(m)
    if not st.has_solution:
        return math.inf
    scale = 1.0 if problem.objective == "chips" else 1 / KUSD
    return st.incumbent * scale


@pytest.mark.parametrize("group", sorted(CASES))
def test_removing_a_constraint_group_changes_an_answer(group):
    pr = problem_from_dict(CASES[group])
    brute = oracle.best_fleet(pr, single=pr.max_configurations == 1)
    assert math.isfinite(brute)
    assert _value(pr, None) == pytest.approx(brute, rel=1e-9)  # the full model is right
    assert _value(pr, group) < brute * (1 - 1e-9)  # without the group it is wrong

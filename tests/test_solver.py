"""The HiGHS wrapper: a Pyomo model compiled once, changed and re-solved in HiGHS."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from designer.optimize.solver import Solver


def _knapsack(sense=pyo.minimize) -> pyo.ConcreteModel:
    """Cover 10 units with items of size 3 (cost 4) and size 5 (cost 7), at most 4 of each."""
    m = pyo.ConcreteModel()
    m.a = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 4))
    m.b = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 4))
    m.cover = pyo.Constraint(expr=3 * m.a + 5 * m.b >= 10)
    m.cost = pyo.Expression(expr=4 * m.a + 7 * m.b)
    m.obj = pyo.Objective(expr=m.cost, sense=sense)
    return m


def test_solves_loads_and_evaluates():
    m = _knapsack()
    s = Solver()
    st = s.solve(m)
    assert st.status == "optimal" and st.has_solution
    # b=2 (cost 14) beats a=2, b=1 (15) and a=4 (16)
    assert st.incumbent == pytest.approx(14.0)
    assert s.value(m.cost) == pytest.approx(14.0)
    assert m.b.value is None  # nothing loaded yet
    s.load()
    assert (round(m.a.value), round(m.b.value)) == (0, 2)


def test_rows_and_objectives_change_in_highs_only():
    m = _knapsack()
    s = Solver()
    s.solve(m)
    s.add_row(m.b, upper=1)  # at most one large item now
    s.set_objective(m.a + m.b)  # then the fewest items
    st = s.resolve()
    assert st.status == "optimal"
    s.load()
    # 3a + 5b ≥ 10 with b ≤ 1: a=2, b=1 (3 items) is the fewest
    assert (round(m.a.value), round(m.b.value)) == (2, 1)
    assert len(list(m.component_data_objects(pyo.Constraint))) == 1  # the model is unchanged


def test_maximize_and_infeasible():
    m = _knapsack(pyo.maximize)
    st = Solver().solve(m)
    assert st.incumbent == pytest.approx(4 * 4 + 7 * 4)
    m.cover.set_value(3 * m.a + 5 * m.b >= 100)  # 32 at most
    st = Solver().solve(m)
    assert st.status == "infeasible" and not st.has_solution


def test_duals_of_an_lp_follow_pyomo_signs():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeReals)
    m.y = pyo.Var(domain=pyo.NonNegativeReals)
    m.need = pyo.Constraint(expr=m.x + 2 * m.y >= 8)
    m.cap = pyo.Constraint(expr=m.x <= 2)
    m.obj = pyo.Objective(expr=3 * m.x + 5 * m.y)
    s = Solver()
    assert s.solve(m).status == "optimal"
    d = s.duals()
    # y alone: cost 5/2 per unit of `need`; x would cost 3 > 2.5, so `cap` is slack
    assert d[m.need] == pytest.approx(2.5)
    assert d[m.cap] == pytest.approx(0.0)


def test_a_mip_has_no_duals_and_highs_prints_nothing(capfd):
    m = _knapsack()
    s = Solver()
    s.solve(m)
    assert s.duals() == {}
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_one_active_objective_is_required():
    m = _knapsack()
    m.other = pyo.Objective(expr=m.a)
    with pytest.raises(ValueError, match="2 active objectives"):
        Solver().solve(m)


def test_a_second_solver_in_the_thread_takes_over_highs():
    first, second = Solver(), Solver()
    m1, m2 = _knapsack(), _knapsack(pyo.maximize)
    first.solve(m1)
    second.solve(m2)
    assert first.value(m1.cost) == pytest.approx(14.0)  # its solution is kept
    with pytest.raises(RuntimeError, match="another Solver"):
        first.resolve()
    assert second.resolve().incumbent == pytest.approx(44.0)


def test_upper_bounds_in_highs_only_and_tightened_later():
    m = _knapsack()
    s = Solver()
    st = s.solve(m, [(m.b, 1)])  # b ≤ 1 in HiGHS: a=2, b=1 (15)
    assert st.incumbent == pytest.approx(15.0)
    assert m.b.ub == 4  # the Pyomo model keeps its bound
    s.tighten([(m.b, 0)])  # and now none of b: a=4 (16)
    assert s.resolve().incumbent == pytest.approx(16.0)


def test_side_solves_leave_the_model_as_it_was():
    m = _knapsack()
    s = Solver()
    s.compile(m)
    x, reduced = s.trial()  # the relaxation: a = 10/3 (cost 13.33), b's reduced cost 1/3
    assert s.value_of(x) == pytest.approx(40 / 3)
    assert reduced[s.column(m.b)] == pytest.approx(7 - 5 * 4 / 3)
    x, _ = s.trial([(m.b, 0)], relax=False, gap=0.0)  # the MIP without b: a=4
    assert s.value_of(x) == pytest.approx(16.0)
    s.start(x)  # a feasible start; the model still has b
    assert s.resolve().incumbent == pytest.approx(14.0)


def test_an_expression_spanned_by_those_held():
    m = _knapsack()
    m.twice = pyo.Expression(expr=8 * m.a + 14 * m.b + 3)
    s = Solver()
    s.solve(m)
    assert s.spans(m.twice, [m.cost])
    assert s.spans(m.a, [m.cost, m.b])  # a = (cost − 7b) / 4
    assert not s.spans(m.a, [m.cost])
    assert not s.spans(m.a, [])


def test_a_point_is_checked_against_the_compiled_model():
    m = _knapsack()
    s = Solver()
    s.compile(m, [(m.b, 3)])
    point = [0.0, 0.0]
    for var, value in ((m.a, 0.0), (m.b, 2.0)):
        point[s.column(var)] = value
    assert s.feasible(np.array(point))
    point[s.column(m.b)] = 1.0  # 5 < 10: the cover row breaks
    assert not s.feasible(np.array(point))
    point[s.column(m.b)] = 4.0  # above the bound of 3 HiGHS holds
    assert not s.feasible(np.array(point))
    point[s.column(m.b)] = 2.5  # not whole
    assert not s.feasible(np.array(point))


def _options_of_each_run(monkeypatch) -> list[dict]:
    """The `Solver.options` of every HiGHS run from now on, in order."""
    seen: list[dict] = []
    plain = Solver._run

    def spy(self, warm):
        seen.append(dict(self.options))
        return plain(self, warm)

    monkeypatch.setattr(Solver, "_run", spy)
    return seen


def test_options_hold_for_the_runs_they_are_set_for_only(monkeypatch):
    from designer.optimize import solver as solver_mod

    m = _knapsack()
    s = Solver()
    seen = _options_of_each_run(monkeypatch)
    s.solve(m)
    s.options = dict(solver_mod.TIE_OPTIONS)
    s.add_row(m.cost, upper=14.0)
    s.set_objective(m.b, "minimize")
    st = s.resolve()
    s.options = {}
    assert st.status == "optimal" and s.value(m.cost) == pytest.approx(14.0)
    assert seen == [{}, solver_mod.TIE_OPTIONS]
    # HiGHS itself is back to as shipped: RINS on for the next model of this thread
    assert solver_mod._highs().getOptionValue("mip_heuristic_run_rins")[1] is True


def test_the_tie_break_re_solves_without_rins(monkeypatch):
    """The fleet MILP's first solve runs with HiGHS as shipped, each tie-break re-solve with
    `TIE_OPTIONS`; the answer is the same either way (heuristics never change a proof)."""
    from pathlib import Path

    from designer.optimize import solve as solve_mod
    from designer.optimize import solver as solver_mod
    from designer.optimize.problem import load_problem
    from designer.optimize.solve import solve

    problem = load_problem(Path(__file__).resolve().parents[1] / "problems" / "quickstart.toml")
    with monkeypatch.context() as mp:  # as before round 6: RINS in every re-solve
        mp.setattr(solve_mod, "TIE_OPTIONS", {})
        with_rins = solve(problem, with_sensitivity=False).record
    seen = _options_of_each_run(monkeypatch)
    record = solve(problem, with_sensitivity=False).record
    assert seen and seen[0] == {} and solver_mod.TIE_OPTIONS in seen[1:]
    assert record["objective"] == with_rins["objective"]
    assert record["totals"] == with_rins["totals"] and record["fleet"] == with_rins["fleet"]


def test_fixing_and_infeasibility_checks_on_the_knapsack():
    """`infeasible_with` proves a fixed point has no solution and leaves the model as it was;
    `fix` holds variables from then on; `upper_bound` reads HiGHS' bound."""
    m = _knapsack()
    s = Solver()
    assert s.solve(m).incumbent == pytest.approx(14.0)
    assert s.infeasible_with([(m.a, 1), (m.b, 1)], 5.0)  # 3 + 5 < 10
    assert not s.infeasible_with([(m.a, 0), (m.b, 2)], 5.0)
    st = s.resolve()
    assert st.status == "optimal" and st.incumbent == pytest.approx(14.0)
    assert s.upper_bound(m.a) == 4.0
    s.fix([(m.a, 4)])
    assert s.resolve().incumbent == pytest.approx(16.0)  # a = 4 now held
    assert s.upper_bound(m.a) == 4.0

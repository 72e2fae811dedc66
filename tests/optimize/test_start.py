"""The first fleet HiGHS starts from (designer.optimize.start): a feasible fleet of the
master problem no better than the optimum, and reduced-cost fixing that keeps every fleet
the tie-break weighs."""

from __future__ import annotations

import numpy as np
import pytest

from designer.optimize import columns as columns_mod
from designer.optimize import start
from designer.optimize.build import build
from designer.optimize.data import fleet_data
from designer.optimize.dominance import replica_caps
from designer.optimize.modeling import pyo
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve
from designer.optimize.solver import Solver
from tests.optimize.test_against_brute_force import TWO_CLASSES


def test_unused_columns_cost_more_than_the_incumbent_with_room():
    relaxation = start.Relaxation(
        10.0, np.array([0.0, 1.0, 2.0, 2.5, 3.0]), np.array([True, True, True, True, False])
    )
    # bound 10, incumbent 12: one replica of a column of reduced cost > 2 costs more (the
    # last is used by the relaxation)
    assert list(relaxation.unused(12.0)) == [3]
    assert list(relaxation.unused(13.0)) == []


@pytest.mark.parametrize(
    "extra",
    [{}, {"fleet": {"max_chip_types": 1}}, {"limits": {"max_power": "25 kW"}}],
)
def test_the_first_fleet_is_feasible_and_no_better_than_the_optimum(extra):
    pr = problem_from_dict({**TWO_CLASSES, **extra, "objective": {"minimize": "tco"}})
    c = columns_mod.build(pr)
    data = fleet_data(pr, c)
    assert start.applies(data)
    m = build(data)
    caps = replica_caps(pr, c, data.rmax)
    s = Solver()
    s.compile(m, [(m.replicas[k], int(caps[k])) for k in m.K])
    x0, relaxation = start.first_fleet(s, m, data, caps)
    assert x0 is not None
    unused = relaxation.unused(s.value_of(x0))
    for v in m.component_data_objects(pyo.Var):
        v.set_value(float(x0[s.column(v)]), skip_validation=True)
    for con in m.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(con.body)
        assert con.lower is None or body >= pyo.value(con.lower) - 1e-6
        assert con.upper is None or body <= pyo.value(con.upper) + 1e-6
    sol = solve(pr, with_sensitivity=False)
    assert s.value_of(x0) * 1e3 >= sol.totals["tco_usd_per_year"] * (1 - 1e-9)
    used = {k for k in m.K if m.replicas[k].value}
    chosen = {
        k
        for k in m.K
        for r in sol.fleet
        if (r["chip"], r["tp"], r["pp"], r["batch"])
        == (c.chip_types[int(c.chip[k])].chip, int(c.t[k]), int(c.p[k]), int(c.batch[k]))
    }
    assert used and not chosen & set(int(k) for k in unused)


def _compiled_two_classes():
    """The two-class TCO problem compiled into a Solver within its exchange caps: (problem,
    solver, model, data, caps)."""
    pr = problem_from_dict({**TWO_CLASSES, "objective": {"minimize": "tco"}})
    c = columns_mod.build(pr)
    data = fleet_data(pr, c)
    m = build(data)
    caps = replica_caps(pr, c, data.rmax)
    s = Solver()
    s.compile(m, [(m.replicas[k], int(caps[k])) for k in m.K])
    return pr, s, m, data, caps


def test_a_start_far_from_the_relaxation_starts_cold():
    """`warm` holds a start to within WARM_GAP of the relaxation's bound, and the start is a
    feasible fleet no better than the optimum."""
    pr, s, m, data, caps = _compiled_two_classes()
    x0, relaxation = start.first_fleet(s, m, data, caps)
    value = s.value_of(x0)
    near = start.Relaxation(
        value * (1 - start.WARM_GAP / 2), relaxation.reduced, relaxation.at_zero
    )
    far = start.Relaxation(value * (1 - 2 * start.WARM_GAP), relaxation.reduced, relaxation.at_zero)
    assert start.warm(s, x0, near) and not start.warm(s, x0, far)
    assert s.feasible(x0)
    best = solve(pr, with_sensitivity=False).totals["tco_usd_per_year"] * 1e-3  # model units
    assert value >= best * (1 - 1e-9)


@pytest.mark.parametrize("reach", [0.0, 10.0])
def test_the_side_mip_runs_only_for_a_rounding_within_reach(reach, monkeypatch):
    """No side MIP from a rounding farther than SIDE_MIP_REACH from the relaxation (step 3 of
    the module doc); the start is a feasible fleet either way."""
    monkeypatch.setattr(start, "SIDE_MIP_REACH", reach)
    _, s, m, data, caps = _compiled_two_classes()
    mips: list = []
    plain = Solver.trial
    monkeypatch.setattr(
        Solver,
        "trial",
        lambda self, *a, **k: (
            mips.append(k) if not k.get("relax", True) else None,
            plain(self, *a, **k),
        )[1],
    )
    x0, _ = start.first_fleet(s, m, data, caps)
    assert s.feasible(x0)
    assert bool(mips) is (reach > 0)


def test_a_column_needing_no_more_replicas_is_no_nan(recwarn):
    """Where the rounded-down relaxation already serves a class, a column of a chip type the
    start does not keep cost 0 · inf = NaN, which `argmin` picked: a RuntimeWarning, and the
    rounded-down start dropped (a review's problem: three classes, one chip type)."""
    one = {"prompt_tokens": 128, "output_tokens": 1000}
    raw = {
        "class": [
            {"name": "a", "model": "qwen3-30b-a3b", "tokens_per_s_per_user": 77.558,
             "concurrent_users": 4, "context_tokens": 2048},
            {"name": "b", "model": "mixtral-8x7b", **one, "tokens_per_s_per_user": 34.079,
             "ttft": "2.961 s", "requests_per_s": 0.935},
            {"name": "c", "model": "gpt-oss-20b", **one, "tokens_per_s_per_user": 18.527,
             "ttft": "0.1969 s", "concurrent_users": 64, "chunk_tokens": 256},
        ],
        "serving": {"mode": "disaggregated"},
        "space": {"chips": ["b200", "h100-sxm"], "tp": [2, 4, 8], "pp": [1], "max_batch": 8},
        "objective": {"minimize": "capex"},
        "fleet": {"max_chip_types": 1},
    }  # fmt: skip
    sol = solve(problem_from_dict(raw), with_sensitivity=False)
    assert sol.status == "optimal" and sol.objective == pytest.approx(1_300_000)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]

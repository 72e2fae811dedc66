"""Per-class knapsack bounds (designer.optimize.class_bounds): the cover tables are the least
cost of whole replicas, the caps never cut a fleet within the value they are asked for, and
the MILP with them keeps the oracle's lexicographic optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from designer.optimize import class_bounds
from designer.optimize import columns as columns_mod
from designer.optimize.data import fleet_data
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve
from designer.optimize.solver import tie_limit
from tests import oracle
from tests.optimize.test_against_brute_force import TWO_CLASSES

items = st.lists(
    st.tuples(st.integers(1, 9), st.floats(0.0, 10.0, allow_nan=False)), min_size=1, max_size=4
)


def _brute_cover(units, cost, need):
    """Least cost of whole items covering at least x units, x = 0 … need, by enumeration."""
    most = [-(-need // u) for u in units]
    best = [np.inf] * (need + 1)
    for counts in itertools.product(*(range(m + 1) for m in most)):
        covered = sum(n * u for n, u in zip(counts, units, strict=True))
        value = sum(n * w for n, w in zip(counts, cost, strict=True))
        for x in range(min(covered, need) + 1):
            best[x] = min(best[x], value)
    return np.array(best)


@settings(max_examples=60, deadline=None)
@given(items, st.integers(0, 25))
def test_the_cover_table_is_the_least_cost_of_whole_replicas(pairs, need):
    units = np.array([min(u, max(need, 1)) for u, _ in pairs])
    cost = np.array([w for _, w in pairs])
    got = class_bounds._cover(units, cost, need)
    assert got == pytest.approx(_brute_cover(list(units), list(cost), need), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(items, st.integers(1, 25), st.floats(0.0, 30.0, allow_nan=False), st.integers(0, 12))
@example(pairs=[(1, 6.110257181564359)], need=5, budget=0.0, upper=6)  # on budget to the ulp
def test_the_caps_are_the_most_replicas_within_the_budget(pairs, need, budget, upper):
    units = np.array([min(u, need) for u, _ in pairs])
    cost = np.array([w for _, w in pairs])
    table = class_bounds._cover(units, cost, need)
    got = class_bounds._most(table, units, cost, np.full(len(units), upper), budget)
    for k, (u, w) in enumerate(zip(units, cost, strict=True)):
        # forcing r replicas of item k: r·w plus the least cover of what they leave
        slack = class_bounds.SLACK * max(1.0, table[need])  # float sums a few ulps over
        ok = [
            r
            for r in range(upper + 1)
            if r * w + table[max(need - r * u, 0)] - table[need] <= budget + slack
        ]
        assert got[k] == max(ok)


def _two_classes(objective: str, users=(37, 23)) -> dict:
    raw = {
        **TWO_CLASSES,
        "space": {"chips": ["h100-sxm", "mi300x"], "tp": [1, 2, 4, 8], "pp": [1, 2, 4]},
        "objective": {"minimize": objective},
    }
    raw["class"] = [
        {**wc, "concurrent_users": n} for wc, n in zip(raw["class"], users, strict=True)
    ]
    return raw


@pytest.mark.parametrize("objective", ["capex", "power", "tco", "chips"])
def test_the_bound_is_below_the_optimum_and_the_caps_keep_it(objective):
    pr = problem_from_dict(_two_classes(objective))
    c = columns_mod.build(pr)
    data = fleet_data(pr, c)
    assert class_bounds.applies(data)
    sol = solve(pr, with_sensitivity=False)
    scale = {"capex": 1e-3, "power": 1e-3, "tco": 1e-3, "chips": 1.0}[objective]
    best = sol.objective * scale  # model units
    b = class_bounds.class_bounds(data, objective, data.rmax)
    assert 0 < b.bound <= best * (1 + 1e-12)
    caps = b.caps(tie_limit(best), data.rmax)
    assert (caps < data.rmax).any()  # they bind somewhere
    rows = [(_column(pr, c, row), row["replicas"]) for row in sol.fleet]
    assert all(r <= caps[k] for k, r in rows)  # the optimal fleet runs within them
    # asked for less than the bound, they cut every fleet: the check above can fail
    below = b.caps(b.bound * (1 - 1e-6), data.rmax)
    assert not all(r <= below[k] for k, r in rows)


def _column(pr, c, row) -> int:
    """The column of a fleet row."""
    return next(
        k
        for k in range(len(c))
        if (c.chip_types[int(c.chip[k])].chip, int(c.t[k]), int(c.p[k]), int(c.users[k]))
        == (row["chip"], row["tp"], row["pp"], row["capacity_users"] // row["replicas"])
        and pr.classes[int(c.cls[k])].name == row["class"]
    )


@pytest.mark.parametrize(
    "extra",
    [{}, {"fleet": {"max_chip_types": 1}}, {"limits": {"max_power": "25 kW"}}],
)
@pytest.mark.parametrize("objective", ["tco", "chips"])
def test_milp_with_class_bounds_equals_the_oracle(objective, extra):
    pr = problem_from_dict({**_two_classes(objective, (14, 9)), **extra})
    sol = solve(pr, with_sensitivity=False)
    t = sol.totals
    got = (sol.objective, t["capex_usd"], t["power_w"], t["chips"])
    assert got == pytest.approx(oracle.lexicographic_best(pr), rel=1e-9)


def test_classes_with_a_prefill_pool_keep_their_bounds():
    raw = _two_classes("tco", (14, 9))
    raw["class"][0].update(mode="disaggregated", prompt_tokens=3072, output_tokens=1024, ttft="2 s")
    pr = problem_from_dict(raw)
    data = fleet_data(pr, columns_mod.build(pr))
    b = class_bounds.class_bounds(data, "tco", data.rmax)
    assert b.tables[0] is None and b.tables[1] is not None
    own = data.columns.cls == 0
    assert np.array_equal(b.caps(0.0, data.rmax)[own], data.rmax[own])

"""Server vectors inside the tie-break's windows (designer.optimize.server_windows): the count
agrees with enumeration, says when it does not know, and the tie-break that fixes the servers
on its word keeps the oracle's lexicographic optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.optimize import server_windows as sw
from designer.optimize import solve as solve_mod
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve
from designer.optimize.solver import Solver
from tests import oracle
from tests.optimize.test_class_bounds import _two_classes


def _brute(coef, lower, upper, bound, most_types, star) -> set[tuple]:
    """The vectors other than `star` that meet the windows, by enumerating the box."""
    out = set()
    for s in itertools.product(*(range(int(b) + 1) for b in bound)):
        v = np.array(s, dtype=float)
        if (v > 0).sum() > most_types or (v == star).all():
            continue
        value = coef @ v
        if (value >= lower).all() and (value <= upper).all():
            out.add(s)
    return out


def _listed(points) -> set[tuple]:
    return {tuple(int(x) for x in p) for p in points}


@st.composite
def lattices(draw, real: bool):
    n = draw(st.integers(1, 4))
    m = draw(st.integers(1, 3))
    values = st.floats(0.1, 9.0, allow_nan=False) if real else st.integers(1, 9).map(float)
    coef = np.array([[draw(values) for _ in range(n)] for _ in range(m)])
    if m > 1 and draw(st.booleans()):
        coef[1] = coef[0] * draw(st.sampled_from([1.0, 2.0, 0.5]))  # parallel windows
    bound = np.array([draw(st.integers(0, 4)) for _ in range(n)])
    star = np.array([draw(st.integers(0, int(b))) for b in bound], dtype=float)
    most_types = draw(st.integers(max(int((star > 0).sum()), 1), n))
    value = coef @ star
    below = np.array([draw(st.sampled_from([0.0, 0.4, 1.0, 2.5])) for _ in range(m)])
    above = np.array([draw(st.sampled_from([0.0, 0.4, 1.0, 2.5])) for _ in range(m)])
    return coef, value - below, value + above, bound, most_types, star


@settings(max_examples=300, deadline=None)
@given(lattices(real=False))
def test_the_count_agrees_with_enumeration_on_integer_windows(case):
    coef, lower, upper, bound, most_types, star = case
    got = sw.others(coef, lower, upper, bound, most_types, star, most=1000)
    assert got is not None
    assert len(got) == len(_listed(got))  # no vector twice
    assert _listed(got) == _brute(coef, lower, upper, bound, most_types, star)
    few = sw.others(coef, lower, upper, bound, most_types, star, most=1)
    assert (few is None) == (len(got) > 1)


@settings(max_examples=300, deadline=None)
@given(lattices(real=True))
def test_the_count_never_misses_a_vector(case):
    """With real coefficients a point on a window's edge may be listed (outward rounding):
    the list may hold more than the vectors inside, never fewer."""
    coef, lower, upper, bound, most_types, star = case
    got = sw.others(coef, lower, upper, bound, most_types, star, most=1000)
    assert got is not None
    assert _brute(coef, lower, upper, bound, most_types, star) <= _listed(got)


def test_a_thin_pair_of_windows_leaves_the_star_alone():
    # three chip types, windows a millionth wide around two incommensurate criteria
    coef = np.array([[283.4715, 137.2231, 97.6540], [1106.3, 512.9, 401.15]])
    star = np.array([2.0, 18.0, 14.0])
    value = coef @ star
    lower, upper = value * (1 - 1e-6), value * (1 + 1e-6)
    assert len(sw.others(coef, lower, upper, [60, 60, 60], 3, star)) == 0
    # one window as wide as a server of the first type lets others in
    wide = sw.others(coef[:1], value[:1] - 300, upper[:1], [60, 60, 60], 3, star, most=10**6)
    assert len(wide) > 0 and all(coef[0] @ p <= upper[0] for p in wide)


def test_a_planet_sized_box_is_decided_along_the_tube():
    """Six chip types with up to 100,000 servers each and two windows a billionth wide: the
    count walks each three-type tube along its shortest side, well within the budget, where
    enumerating the narrowest type's whole range would pass it."""
    rng = np.random.default_rng(7)
    coef = np.stack([rng.uniform(50, 900, 6), rng.uniform(100, 4000, 6)])
    star = np.array([0, 1585, 0, 11695, 17552, 0], dtype=float)
    value = coef @ star
    bound = np.full(6, 100_000)
    lower, upper = value * (1 - 1e-9), value * (1 + 1e-9)
    assert len(sw.others(coef, lower, upper, bound, 3, star, budget=50_000)) == 0
    r = sw.ranges(coef, upper, bound)
    whole_ranges = sum(min(r[list(t)]) for t in itertools.combinations(range(6), 3))
    assert whole_ranges > 50_000


def test_too_much_work_is_not_an_answer_and_a_star_outside_proves_nothing():
    coef = np.array([[1.0, 2.0, 3.0]])
    star = np.array([1.0, 1.0, 1.0])
    v = coef @ star
    assert sw.others(coef, v, v, [50, 50, 50], 3, star, budget=10) is None
    wide = np.array([[1.0, 1.0, 1.0]])  # one window, one support of 2,000 × 2,000 candidates
    s2 = np.array([1000.0, 1000.0, 1000.0])
    assert sw.others(wide, wide @ s2, wide @ s2, [2000] * 3, 3, s2, budget=10**9) is None
    assert sw.others(coef, v + 1, v + 2, [50, 50, 50], 3, star) is None
    assert sw.others(coef, v, v, [50, 50, 50], 2, star) is None  # more types than allowed
    with pytest.raises(ValueError, match="positive"):
        sw.others(np.array([[1.0, 0.0]]), [0.0], [1.0], [1, 1], 2, np.zeros(2))


@pytest.mark.parametrize(
    "extra", [{"fleet": {"max_chip_types": 1}}, {"fleet": {"max_chip_types": 2}}]
)
@pytest.mark.parametrize("objective", ["tco", "capex", "power"])
def test_fixing_the_servers_keeps_the_lexicographic_optimum(objective, extra, monkeypatch):
    pr = problem_from_dict({**_two_classes(objective, (14, 9)), **extra})
    sol = solve(pr, with_sensitivity=False)
    t = sol.totals
    got = (sol.objective, t["capex_usd"], t["power_w"], t["chips"])
    assert got == pytest.approx(oracle.lexicographic_best(pr), rel=1e-9)
    # and without the shortcut HiGHS re-solves to the same criteria
    monkeypatch.setattr(solve_mod.server_windows, "others", lambda *a, **k: None)
    again = solve(pr, with_sensitivity=False)
    u = again.totals
    assert (again.objective, u["capex_usd"], u["power_w"], u["chips"]) == pytest.approx(got)


def test_the_shortcut_fires_on_a_two_class_fleet(monkeypatch):
    """The servers are fixed on these problems (else the test above checks nothing new)."""
    fixed: list = []
    plain = Solver.fix
    monkeypatch.setattr(Solver, "fix", lambda self, v: (fixed.append(v), plain(self, v))[1])
    pr = problem_from_dict({**_two_classes("tco", (14, 9)), "fleet": {"max_chip_types": 1}})
    solve(pr, with_sensitivity=False)
    assert fixed and all(float(x) == round(x) for _, x in fixed[0])


@pytest.mark.parametrize("extra_server", [True, False])
def test_servers_are_fixed_past_other_vectors_only_when_highs_proves_them_empty(
    extra_server, monkeypatch
):
    """An other vector with one server more than the incumbent's breaks the held rows: HiGHS
    proves it holds no fleet and the servers are fixed. The incumbent's own vector holds one:
    nothing is fixed. The answer is the oracle's either way."""
    fixed: list = []
    plain_fix, plain_others = Solver.fix, sw.others
    monkeypatch.setattr(Solver, "fix", lambda self, v: (fixed.append(v), plain_fix(self, v))[1])

    def others(coef, lower, upper, bound, most_types, star, **kw):
        found = plain_others(coef, lower, upper, bound, most_types, star, **kw)
        if found is None:
            return None
        point = star.copy()
        point[int(np.argmax(star))] += 1 if extra_server else 0
        return np.vstack([found, point])

    monkeypatch.setattr(solve_mod.server_windows, "others", others)
    pr = problem_from_dict({**_two_classes("tco", (14, 9)), "fleet": {"max_chip_types": 1}})
    sol = solve(pr, with_sensitivity=False)
    t = sol.totals
    got = (sol.objective, t["capex_usd"], t["power_w"], t["chips"])
    assert got == pytest.approx(oracle.lexicographic_best(pr), rel=1e-9)
    assert bool(fixed) is extra_server


@pytest.mark.parametrize("seed", range(8))
def test_random_two_class_fleets_keep_the_lexicographic_optimum(seed):
    """Two classes with drawn users, objective and fleet limits: the tie-break (servers fixed
    where the windows leave one choice) gives the oracle's lexicographic optimum."""
    rng = np.random.default_rng(seed)
    objective = str(rng.choice(["tco", "capex", "power"]))
    users = (int(rng.integers(1, 31)), int(rng.integers(1, 21)))
    extra = [
        {"fleet": {"max_chip_types": 1}},
        {"fleet": {"max_chip_types": 2}},
        {},
        {"fleet": {"max_chip_types": 1}, "limits": {"max_power": "40 kW"}},
    ][int(rng.integers(0, 4))]
    pr = problem_from_dict({**_two_classes(objective, users), **extra})
    best = oracle.lexicographic_best(pr)
    if not np.isfinite(best[0]):
        pytest.skip("no fleet qualifies")
    sol = solve(pr, with_sensitivity=False)
    t = sol.totals
    got = (sol.objective, t["capex_usd"], t["power_w"], t["chips"])
    assert got == pytest.approx(best, rel=1e-9)

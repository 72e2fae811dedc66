"""Columns: the exact batch cap, immutability, what the presolve removes and why."""

from __future__ import annotations

import numpy as np
import pytest

from designer.optimize import columns as cm
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve
from tests import oracle
from tests.optimize.test_against_brute_force import raw_problem


def _pr(**extra):
    raw = raw_problem(
        model="mixtral-8x22b",
        context=16384,
        target=60,
        users=100,
        chips=("h100-sxm", "xpu-hbm4", "b200"),
        tp=(1, 2, 4, 8, 16),
        pp=(1, 2, 4),
        max_batch=48,
    )
    raw.update(extra)
    return problem_from_dict(raw)


def test_batch_cap_equals_a_linear_scan():
    pr = _pr()
    wc = pr.classes[0]
    g = cm.grid(pr, wc)
    idx = np.arange(len(g))
    cap = cm.batch_cap(cm.Candidates(pr, wc, g), idx)
    for b in range(1, pr.max_batch + 1):
        m = g.metrics(wc, np.full(len(g), b))
        ok = (m["tokens_per_s_per_user"] >= wc.target_utps) & m["fits"]
        assert np.array_equal(ok, cap >= b)  # feasible exactly up to the cap


def test_columns_agree_with_the_independent_scan():
    pr = _pr()
    c = cm.build(pr, prune=False)
    scanned = {(q.chip, q.t, q.p): q.users for q in oracle.partitions(pr, pr.classes[0])}
    got = {
        (c.chip_types[int(k)].chip, int(t), int(p)): int(u)
        for k, t, p, u in zip(c.chip, c.t, c.p, c.users, strict=True)
    }
    assert got == scanned


def test_columns_are_immutable():
    c = cm.build(_pr())
    with pytest.raises(ValueError):
        c.users[0] = 1
    with pytest.raises(AttributeError):
        c.users = c.users  # frozen


def test_the_presolve_counts_every_candidate_once():
    pr = _pr()
    c = cm.build(pr)
    st = c.stats[0]
    removed = sum(st[s] for s in cm.STAGES)
    assert st["candidates"] == 3 * 5 * 3
    assert st["kept"] == len(c) == st["candidates"] - removed
    # mixtral has 48 heads: TP 16 divides them, none of the space is impossible
    assert st["partition_impossible"] == 0


def test_dominated_and_pruned_columns_never_hold_the_optimum():
    pr = _pr()
    assert solve(pr).objective == pytest.approx(solve(pr, prune=False).objective, rel=1e-12)


def test_a_chip_without_a_rate_for_the_dtype_is_screened_and_named():
    pr = _pr(workload={"model": "mixtral-8x22b", "context_tokens": 16384, "weight_dtype": "fp32"})
    c = cm.build(pr)
    # none of the three has an fp32 rate (the widest they list is bf16)
    assert c.stats[0]["no_rate_for_dtype"] == 3 * 5 * 3
    reasons = dict(c.excluded)
    assert all("no compute rate" in reasons[chip] for chip in ("h100-sxm", "xpu-hbm4", "b200"))


def test_three_way_dominance_keeps_what_a_prefill_bound_fleet_may_need():
    """Under maximize a decode column is beaten only by one with no more chips, no more users
    (each user costs prefill) and at least its value; a fuller column never beats an emptier
    one, and with a demand for the class nothing is removed."""
    from types import SimpleNamespace

    chip = np.zeros(6, dtype=np.int64)
    chips = np.array([4, 4, 4, 8, 8, 4])
    users = np.array([10, 20, 10, 10, 30, 20])
    value = np.array([100.0, 150.0, 90.0, 100.0, 140.0, 150.0])
    free = SimpleNamespace(users=0)
    keep = cm._dominance_with_prefill(chip, chips, users, value, free)
    # 2: as many users, less value than 0; 3: more chips, same users and value as 0;
    # 4: more chips and users, less value than 1; 5: a repeat of 1 (the first is kept)
    assert keep.tolist() == [True, True, False, False, False, False]
    asked = SimpleNamespace(users=100)
    assert cm._dominance_with_prefill(chip, chips, users, value, asked).all()


def _dominance_one_by_one(chip, chips, value) -> np.ndarray:
    """`_dominance` as first written: a walk in (chip type, chips, most value) order keeping a
    column when it has more value than every kept column of its chip type so far."""
    keep = np.zeros(len(chip), dtype=bool)
    best: dict[int, float] = {}
    for i in np.lexsort((-value, chips, chip)):
        if value[i] > best.get(int(chip[i]), -np.inf):
            keep[i] = True
            best[int(chip[i])] = value[i]
    return keep


@pytest.mark.parametrize("seed", range(20))
def test_dominance_is_the_walk_one_column_at_a_time(seed):
    """Ties (values drawn from few levels), NaN, ±inf and empty chip types included."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    chip = rng.integers(0, 4, n)
    chips = rng.choice([1, 2, 4, 8], n)
    value = rng.choice([0.0, 1.0, 2.5, 3.0, np.nan, np.inf, -np.inf, 7.0], n)
    value = np.where(rng.random(n) < 0.3, rng.random(n) * 8, value)  # and distinct values
    np.testing.assert_array_equal(
        cm._dominance(chip, chips, value), _dominance_one_by_one(chip, chips, value)
    )


def _three_way_one_by_one(chip, chips, users, value) -> np.ndarray:
    """`_dominance_with_prefill` as first written: per chip type, a walk in (users, chips,
    most value, index) order with the most value so far on each chip count."""
    keep = np.ones(len(chip), dtype=bool)
    for c in np.unique(chip):
        mine = np.flatnonzero(chip == c)
        order = mine[np.lexsort((mine, -value[mine], chips[mine], users[mine]))]
        levels = np.unique(chips[mine])
        best = np.full(len(levels), -np.inf)
        for i in order:
            level = np.searchsorted(levels, chips[i])
            keep[i] = best[: level + 1].max() < value[i]
            best[level] = max(best[level], value[i])
    return keep


@pytest.mark.parametrize("seed", range(20))
def test_three_way_dominance_is_the_walk_one_column_at_a_time(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(0, 80))
    chip = rng.integers(0, 3, n)
    chips = rng.choice([1, 2, 4, 8], n)
    users = rng.integers(1, 6, n)
    value = rng.choice([0.0, 1.0, 2.5, 3.0, np.nan, np.inf, -np.inf, 7.0], n)
    value = np.where(rng.random(n) < 0.3, rng.random(n) * 8, value)
    free = type("Class", (), {"users": 0})()
    np.testing.assert_array_equal(
        cm._dominance_with_prefill(chip, chips, users, value, free),
        _three_way_one_by_one(chip, chips, users, value),
    )

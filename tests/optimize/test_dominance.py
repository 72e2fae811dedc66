"""Exchange caps on replicas (designer.optimize.dominance): a brute force over small fleets of
one class and one chip type shows that some lexicographically best fleet (fewest whole
servers, then fewest chips) meets every cap; a case where the cap is tight (it removes an
optimal fleet and keeps another); the cases where caps must not be set; and the MILP with caps
against the independent oracle."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from designer.optimize import columns as columns_mod
from designer.optimize.data import fleet_data
from designer.optimize.dominance import _smallest_exchange, replica_caps
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve
from tests import oracle
from tests.optimize.test_against_brute_force import TWO_CLASSES, raw_problem


def _best(users, chips, demand, server_chips, box, caps=None):
    """The lexicographically smallest (servers, chips) of fleets serving `demand` users, every
    replica count within `box` (and `caps`), by enumeration; None when there is none."""
    best = None
    limits = [range(box + 1) if caps is None else range(min(box, c) + 1) for c in caps or users]
    for r in itertools.product(*limits):
        if sum(u * x for u, x in zip(users, r, strict=True)) < demand:
            continue
        n = sum(c * x for c, x in zip(chips, r, strict=True))
        key = (-(-n // server_chips), n)
        best = key if best is None or key < best else best
    return best


def _caps(users, chips) -> list[int]:
    a = _smallest_exchange(np.array(users, float), np.array(chips, float))
    return [min(int(x) - 1, 10**6) for x in a]


def test_a_tight_cap_removes_an_optimum_and_keeps_the_value():
    # 3 replicas of A (6 users, 6 chips) exchange for 2 larger ones of B (6 users, 6 chips)
    users, chips = [2, 3], [2, 3]
    caps = _caps(users, chips)
    assert caps[0] == 2
    assert caps[1] > 100  # no number of A serves as many users as B on fewer chips or replicas
    # 6 users: A×3 and B×2 are both optimal (6 chips); the cap removes A×3 and keeps B×2
    assert _best([2], [2], 6, 1, 3) == (6, 6)
    assert _best(users, chips, 6, 1, 3) == (6, 6)
    assert _best(users, chips, 6, 1, 3, caps=caps) == (6, 6)
    assert _best([2], [2], 6, 1, 3, caps=caps[:1]) is None


def test_without_a_cap_on_configurations_only():
    """With one configuration per class an exchange can bring in a second one: the only
    optimum of the example runs more replicas of A than its cap, so no caps are set."""
    users, chips = [2, 3], [2, 3]
    # 7 users on one configuration: A×4 (8 chips) beats B×3 (9 chips), and 4 > A's cap of 2
    assert _best([2], [2], 7, 1, 4) == (8, 8)
    assert _best([3], [3], 7, 1, 4) == (9, 9)
    assert _caps(users, chips)[0] == 2
    assert _best(users, chips, 7, 1, 4) == (7, 7)  # mixed: A×2 + B
    pr = problem_from_dict({**TWO_CLASSES, "fleet": {"max_configurations": 1}})
    c = columns_mod.build(pr)
    rmax = fleet_data(pr, c).rmax
    assert np.array_equal(replica_caps(pr, c, rmax), rmax)


@pytest.mark.parametrize("seed", range(40))
def test_some_lexicographic_optimum_meets_every_cap(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 4)
    users = [rng.randint(2, 12) for _ in range(n)]
    chips = [rng.choice([1, 2, 3, 4, 6, 8]) for _ in range(n)]
    demand = rng.randint(1, 20)
    server_chips = rng.choice([1, 4, 8])
    # more replicas of a column than serve the demand alone never help: the box holds every
    # optimum
    box = max(-(-demand // u) for u in users)
    caps = _caps(users, chips)
    free = _best(users, chips, demand, server_chips, box)
    assert _best(users, chips, demand, server_chips, box, caps=caps) == free


@pytest.mark.parametrize("objective", ["capex", "power", "tco", "chips"])
def test_milp_with_caps_equals_the_oracle(objective):
    raw = {
        **TWO_CLASSES,
        "space": {"chips": ["h100-sxm", "mi300x"], "tp": [1, 2, 4, 8], "pp": [1, 2, 4]},
        "objective": {"minimize": objective},
    }
    raw["class"] = [
        {**wc, "concurrent_users": n} for wc, n in zip(raw["class"], (37, 23), strict=True)
    ]
    pr = problem_from_dict(raw)
    c = columns_mod.build(pr)
    rmax = fleet_data(pr, c).rmax
    assert (replica_caps(pr, c, rmax) < rmax).any()  # the caps bind somewhere
    sol = solve(pr, with_sensitivity=False)
    t = sol.totals
    got = (sol.objective, t["capex_usd"], t["power_w"], t["chips"])
    assert got == pytest.approx(oracle.lexicographic_best(pr), rel=1e-9)


@pytest.mark.parametrize(
    "raw",
    [
        raw_problem(model="llama3.1-8b", users=37, tp=(1, 2, 4)),  # one class
        {**raw_problem(model="llama3.1-8b", tp=(1, 2, 4)), "objective": {"maximize": "users"}},
    ],
)
def test_one_class_or_maximize_has_no_caps(raw):
    if "maximize" in raw["objective"]:
        del raw["sla"]["concurrent_users"]
        raw["limits"] = {"max_chips": 16}
    pr = problem_from_dict(raw)
    c = columns_mod.build(pr)
    rmax = fleet_data(pr, c).rmax
    assert np.array_equal(replica_caps(pr, c, rmax), rmax)

"""Candidates and the numpy presolve."""

from __future__ import annotations

import numpy as np
import pytest

from designer.problem import problem_from_dict
from designer.space import batch_cap, grid, presolve


def _pr(**sla):
    return problem_from_dict(
        {
            "workload": {"model": "mixtral-8x22b", "context_tokens": 16384},
            "assumptions": {"preset": "paper"},
            "sla": {"tokens_per_s_per_user": 60, "concurrent_users": 100, **sla},
            "space": {
                "chips": ["h100-sxm", "xpu-hbm4", "b200"],
                "tp": [1, 2, 4, 8, 16],
                "pp": [1, 2, 4],
                "max_batch": 128,
            },
        }
    )


def test_grid_is_the_cross_product():
    c = grid(_pr())
    assert len(c) == 3 * 5 * 3
    assert set(zip(c.chip, c.t, c.p, strict=True)) == {
        (ch, t, p)
        for ch in ("h100-sxm", "xpu-hbm4", "b200")
        for t in (1, 2, 4, 8, 16)
        for p in (1, 2, 4)
    }


def test_batch_cap_equals_a_linear_scan():
    pr = _pr()
    c = grid(pr)
    cap = batch_cap(c, pr.target_utps, pr.max_batch)
    for b in range(1, pr.max_batch + 1):
        m = c.metrics(np.full(len(c), b))
        ok = (m["tokens_per_s_per_user"] >= pr.target_utps) & m["fits"]
        # feasible exactly up to the cap (monotone in the batch)
        assert np.array_equal(ok, cap >= b)


@pytest.mark.parametrize("prune", [True, False])
def test_presolve_keeps_the_enumerated_optimum(prune):
    from designer.enumeration import enumerate_space

    pr = _pr()
    c = presolve(pr, prune=prune)
    best = enumerate_space(pr)
    assert (best.chip, best.tp, best.pp) in set(zip(c.chip, c.t, c.p, strict=True))
    s = c.stats
    assert s["candidates"] == 45
    removed = (
        s["weights_do_not_fit"]
        + s["too_slow_at_batch_1"]
        + s["no_cost_data"]
        + s["over_limits"]
        + s.get("bound_pruned", 0)
    )
    assert s["kept"] == len(c) == 45 - removed

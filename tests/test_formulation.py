"""The MILP's equations against perf's: same names, same numbers (design.md §4)."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from designer import formulation, perf
from designer.problem import problem_from_dict
from designer.space import presolve


def _problem(model: str, context: int, target: float, users: int = 8, **space):
    raw = {
        "workload": {"model": model, "context_tokens": context},
        "assumptions": {"preset": "paper"},  # the MILP's twins are the paper's equations
        "sla": {"tokens_per_s_per_user": target, "concurrent_users": users},
        "space": {
            "chips": ["xpu-hbm3", "xpu-hbm4", "h100-sxm"],
            "tp": [1, 2, 8, 16, 64],
            "pp": [1, 2, 4],
            "max_batch": 64,
            **space,
        },
    }
    return problem_from_dict(raw)


def _set(m, k, batch):
    for j in m.K:
        m.y[j].set_value(1 if j == k else 0)
        m.batch[j].set_value(batch if j == k else 0)


@pytest.mark.parametrize("model", ["llama3.1-70b", "qwen3-32b"])
def test_dense_equations_match_perf_at_every_batch(model):
    pr = _problem(model, 8192, 20)
    c = presolve(pr, prune=False)
    m = formulation.build(c)
    for k in range(0, len(c), max(len(c) // 7, 1)):
        for b in (1, 3, 17, 64):
            _set(m, k, b)
            ref = perf.evaluate_arrays(
                pr.workload, {n: v[k] for n, v in c.hw.items()}, c.t[k], c.p[k], b
            )
            assert pyo.value(m.memory_time[k]) == pytest.approx(
                ref["memory_time_s"] * 1e3, rel=1e-12
            )
            assert pyo.value(m.compute_time[k]) == pytest.approx(
                ref["compute_time_s"] * 1e3, rel=1e-12
            )
            assert pyo.value(m.sync_time[k]) == pytest.approx(ref["sync_time_s"] * 1e3, rel=1e-12)
            mem = pyo.value(m.cap_fixed[k] + m.cap_slope[k] * b)
            assert mem == pytest.approx(ref["memory_per_chip_bytes"] * 1e-9, rel=1e-12)


def test_moe_chord_is_exact_at_the_batch_cap_and_one_above():
    pr = _problem("deepseek-v3", 32768, 40, chips=["xpu-hbm4", "xpu-3d-dram"], tp=[16, 32, 64, 128])
    c = presolve(pr, prune=False)
    assert len(c) > 0
    m = formulation.build(c)
    for k in range(len(c)):
        b0 = int(min(max(c.bcap[k], 1), pr.max_batch - 1))
        hw = {n: v[k] for n, v in c.hw.items()}
        for b in (b0, b0 + 1):
            _set(m, k, b)
            ref = perf.memory_time(pr.workload, hw["bandwidth"], c.t[k], b)
            assert pyo.value(m.memory_time[k]) == pytest.approx(ref * 1e3, rel=1e-9)
        # elsewhere the chord over-estimates the concave expert term, never under-estimates
        for b in range(1, pr.max_batch + 1):
            _set(m, k, b)
            ref = perf.memory_time(pr.workload, hw["bandwidth"], c.t[k], b)
            assert pyo.value(m.memory_time[k]) >= ref * 1e3 * (1 - 1e-9)


@pytest.mark.parametrize("users,p", [(1, 1), (7, 1), (32, 2), (1000, 1), (4096, 8), (999, 4)])
def test_demand_secants_admit_exactly_the_integer_points_that_serve_the_users(users, p):
    max_batch = 256
    lines = formulation.demand_secants(users, p, max_batch)
    for b in range(1, max_batch + 1):
        need = int(np.ceil(users / (p * b) - 1e-9))
        bound = max(s * b + i for s, i in lines)
        assert bound <= need + 1e-9  # the fewest replicas that serve the users are admitted
        assert bound > need - 1  # one fewer is cut off (R is an integer)

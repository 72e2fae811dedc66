"""The optimizer against an independent brute force (tests/oracle.py): random small problems,
every objective, limits, supply, chip-type caps, one or several configurations, one or two
classes, derated efficiency (compute-bound cases included)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.model.errors import InfeasibleError
from designer.optimize.problem import OBJECTIVES, problem_from_dict
from designer.optimize.solve import solve
from tests import oracle

MODELS = ["llama3.1-8b", "llama3.1-70b", "qwen3-32b", "mixtral-8x22b", "gpt-oss-20b"]
CHIPS = ["xpu-hbm3", "xpu-3d-dram", "h100-sxm", "h200", "b200", "mi300x", "gaudi3"]


def raw_problem(
    model="llama3.1-70b",
    context=8192,
    target=50.0,
    users=16,
    objective="capex",
    chips=("xpu-hbm3", "h100-sxm"),
    tp=(1, 2, 4, 8),
    pp=(1, 2),
    max_batch=16,
    **sections,
):
    raw = {
        "workload": {"model": model, "context_tokens": context},
        "sla": {"tokens_per_s_per_user": target, "concurrent_users": users},
        "objective": {"minimize": objective},
        "space": {"chips": list(chips), "tp": list(tp), "pp": list(pp), "max_batch": max_batch},
        # the oracle writes out the paper's equations
        "assumptions": {"preset": "paper"},
    }
    raw.update(sections)
    return raw


@st.composite
def small_problems(draw):
    chips = draw(st.lists(st.sampled_from(CHIPS), min_size=1, max_size=3, unique=True))
    raw = raw_problem(
        model=draw(st.sampled_from(MODELS)),
        context=draw(st.sampled_from([1024, 8192, 32768])),
        target=draw(st.sampled_from([5.0, 20.0, 50.0, 100.0, 200.0])),
        users=draw(st.integers(1, 30)),
        objective=draw(st.sampled_from(OBJECTIVES)),
        chips=chips,
        tp=draw(st.lists(st.sampled_from([1, 2, 4, 8, 16]), min_size=1, max_size=4, unique=True)),
        pp=draw(st.lists(st.sampled_from([1, 2, 4]), min_size=1, max_size=2, unique=True)),
        max_batch=draw(st.integers(1, 24)),
    )
    limit = draw(st.sampled_from([None, "max_chips", "max_power", "max_capex_usd"]))
    if limit == "max_chips":
        raw["limits"] = {"max_chips": draw(st.integers(1, 64))}
    elif limit == "max_power":
        raw["limits"] = {"max_power": f"{draw(st.integers(2, 80))} kW"}
    elif limit == "max_capex_usd":
        raw["limits"] = {"max_capex_usd": float(draw(st.integers(50_000, 3_000_000)))}
    # derated stacks, including compute-bound ones (a few % of peak FLOP/s)
    eff = draw(st.sampled_from([None, "derated", "compute-bound"]))
    if eff == "derated":
        raw["efficiency"] = {"bandwidth": 0.7, "compute": 0.5, "overhead_per_layer": "20 us"}
    elif eff == "compute-bound":
        raw["efficiency"] = {"compute": 0.01}
    if draw(st.booleans()):
        raw["fleet"] = {"max_configurations": 1}
    if draw(st.booleans()) and len(chips) > 1:
        raw.setdefault("fleet", {})["max_chip_types"] = 1
    if draw(st.booleans()):
        raw["supply"] = {chips[0]: draw(st.sampled_from([8, 16, 64]))}
    return raw, draw(st.booleans())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_milp_equals_brute_force(case):
    raw, prune = case
    pr = problem_from_dict(raw)
    single = pr.max_configurations == 1
    brute = oracle.best_fleet(pr, single=single)
    if not math.isfinite(brute):
        with pytest.raises(InfeasibleError):
            solve(pr, prune=prune)
        return
    sol = solve(pr, prune=prune)
    assert sol.status == "optimal"
    assert sol.record["recheck"] == "passed"
    assert sol.objective == pytest.approx(brute, rel=1e-9)
    if single:
        assert len(sol.fleet) == 1 and sol.design is not None


def test_compute_bound_case_is_compute_bound():
    pr = problem_from_dict(
        raw_problem(users=64, target=10, max_batch=64, efficiency={"compute": 0.002})
    )
    sol = solve(pr)
    assert sol.objective == pytest.approx(oracle.best_fleet(pr), rel=1e-9)
    assert {r["bottleneck"] for r in sol.fleet} == {"compute"}


@pytest.mark.parametrize("k", [1, 2, None])
def test_configurations_cap(k):
    raw = raw_problem(
        model="llama3.1-70b", users=23, target=40, chips=("h100-sxm", "b200"), max_batch=12
    )
    if k is not None:
        raw["fleet"] = {"max_configurations": k}
    pr = problem_from_dict(raw)
    sol = solve(pr)
    assert len(sol.fleet) <= (k or 99)
    if k in (1, None):
        assert sol.objective == pytest.approx(oracle.best_fleet(pr, single=k == 1), rel=1e-9)
    # more freedom never costs more
    if k == 2:
        one = solve(problem_from_dict({**raw, "fleet": {"max_configurations": 1}}))
        free = solve(problem_from_dict({k2: v for k2, v in raw.items() if k2 != "fleet"}))
        assert free.objective <= sol.objective <= one.objective


TWO_CLASSES = {
    "class": [
        {
            "name": "chat",
            "model": "llama3.1-8b",
            "context_tokens": 4096,
            "tokens_per_s_per_user": 100,
            "concurrent_users": 14,
        },
        {
            "name": "long",
            "model": "qwen3-32b",
            "context_tokens": 32768,
            "tokens_per_s_per_user": 30,
            "concurrent_users": 9,
        },
    ],
    "space": {"chips": ["h100-sxm", "mi300x"], "tp": [1, 2, 4, 8], "pp": [1], "max_batch": 8},
    "assumptions": {"preset": "paper"},
}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"fleet": {"max_chip_types": 1}},
        {"limits": {"max_power": "25 kW"}},
        {"fleet": {"max_chip_types": 1}, "limits": {"max_power": "30 kW"}},
        {"supply": {"h100-sxm": 8}},
        {"fleet": {"chip_type_fixed_cost_usd": 150000}},
    ],
)
@pytest.mark.parametrize("objective", ["capex", "power", "tco", "chips"])
def test_two_classes_share_limits(extra, objective):
    pr = problem_from_dict({**TWO_CLASSES, **extra, "objective": {"minimize": objective}})
    brute = oracle.best_fleet(pr)
    if not math.isfinite(brute):
        with pytest.raises(InfeasibleError):
            solve(pr)
        return
    sol = solve(pr)
    assert sol.objective == pytest.approx(brute, rel=1e-9)
    assert {r["class"] for r in sol.fleet} == {"chat", "long"}
    assert sol.design is None or len(sol.fleet) == 1


@pytest.mark.parametrize(
    "limits",
    [{"max_power": "20 kW"}, {"max_capex_usd": 900000}, {"max_facility_power": "30 kW"}],
)
def test_maximize_users_equals_brute_force(limits):
    raw = raw_problem(chips=("h100-sxm", "mi300x"), target=40, max_batch=16)
    del raw["sla"]["concurrent_users"]
    raw["objective"] = {"maximize": "users"}
    raw["limits"] = limits
    pr = problem_from_dict(raw)
    sol = solve(pr)
    assert sol.totals["users_served"] == oracle.most_users(pr)
    assert sol.objective == sol.totals["users_served"]
    for r in sol.fleet:
        assert r["tokens_per_s_per_user"] >= 40

"""The optimizer against brute-force enumeration, persistent re-solves, infeasible questions
and golden scenarios."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.enumeration import enumerate_space
from designer.errors import InfeasibleError
from designer.problem import OBJECTIVES, problem_from_dict
from designer.solve import Resolver, solve
from tests.contract import DESIGN_KEYS, METRIC_KEYS

MODELS = [
    "llama3.1-8b",
    "llama3.1-70b",
    "qwen3-32b",
    "mixtral-8x22b",
    "gpt-oss-20b",
    "qwen3-235b-a22b",
]
CHIPS = [
    "xpu-hbm3",
    "xpu-hbm4",
    "xpu-3d-dram",
    "h100-sxm",
    "h200",
    "b200",
    "mi300x",
    "gaudi3",
    "tpu-v5e",
]


def _raw(
    model="llama3.1-70b",
    context=8192,
    target=50.0,
    users=16,
    objective="capex",
    chips=("xpu-hbm3", "h100-sxm"),
    tp=(1, 2, 4, 8),
    pp=(1, 2),
    max_batch=16,
    **limits,
):
    raw = {
        "workload": {"model": model, "context_tokens": context},
        "assumptions": {"preset": "paper"},  # the golden cases pin the paper's numbers
        "sla": {"tokens_per_s_per_user": target, "concurrent_users": users},
        "objective": {"minimize": objective},
        "space": {"chips": list(chips), "tp": list(tp), "pp": list(pp), "max_batch": max_batch},
    }
    if limits:
        raw["limits"] = limits
    return raw


@st.composite
def small_problems(draw):
    model = draw(st.sampled_from(MODELS))
    chips = draw(st.lists(st.sampled_from(CHIPS), min_size=1, max_size=3, unique=True))
    tp = draw(st.lists(st.sampled_from([1, 2, 4, 8, 16, 32]), min_size=1, max_size=4, unique=True))
    pp = draw(st.lists(st.sampled_from([1, 2, 4]), min_size=1, max_size=2, unique=True))
    raw = _raw(
        model=model,
        context=draw(st.sampled_from([1024, 8192, 32768])),
        target=draw(st.sampled_from([5.0, 20.0, 50.0, 100.0, 200.0, 400.0])),
        users=draw(st.integers(1, 40)),
        objective=draw(st.sampled_from(OBJECTIVES)),
        chips=chips,
        tp=tp,
        pp=pp,
        max_batch=draw(st.integers(1, 24)),
    )
    limit = draw(st.sampled_from([None, "max_chips", "max_power", "max_capex_usd"]))
    if limit == "max_chips":
        raw["limits"] = {"max_chips": draw(st.integers(1, 64))}
    elif limit == "max_power":
        raw["limits"] = {"max_power": f"{draw(st.integers(1, 80))} kW"}
    elif limit == "max_capex_usd":
        raw["limits"] = {"max_capex_usd": float(draw(st.integers(20_000, 3_000_000)))}
    return raw, draw(st.booleans())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_milp_equals_brute_force_enumeration(case):
    raw, prune = case
    pr = problem_from_dict(raw)
    # the literal brute force: every chip, t, p, batch and replica count
    brute = enumerate_space(pr, replicas="all", max_replicas=pr.users)
    if brute.chip is None:
        with pytest.raises(InfeasibleError):
            solve(pr, prune=prune)
        return
    sol = solve(pr, prune=prune)
    assert sol.status == "optimal"
    assert sol.record["recheck"] == "passed"
    assert sol.objective == pytest.approx(brute.value, rel=1e-9)
    # and the faster enumeration (fewest replicas per batch) agrees too
    assert enumerate_space(pr).value == pytest.approx(brute.value, rel=1e-9)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_objective_on_the_paper_question(objective):
    raw = _raw(
        model="llama3.1-405b",
        context=131072,
        target=1000,
        users=32,
        objective=objective,
        chips=("xpu-hbm3", "xpu-hbm4", "xpu-3d-dram"),
        tp=(8, 16, 32, 64, 128, 256, 512),
        pp=(1, 2, 4),
        max_batch=64,
    )
    pr = problem_from_dict(raw)
    sol = solve(pr)
    assert sol.objective == pytest.approx(enumerate_space(pr).value, rel=1e-9)
    m = sol.metrics
    # the re-check by the forward model: every requirement met
    assert m["tokens_per_s_per_user"] >= 1000
    assert m["users_served"] >= 32
    assert m["memory_per_chip_bytes"] <= m["usable_memory_per_chip_bytes"]
    assert min(sol.record["residuals"].values()) >= -1e-9


def test_golden_llama405b_1000utps_128k_32_users_is_3d_dram_at_tp128():
    pr = problem_from_dict(
        _raw(
            model="llama3.1-405b",
            context=131072,
            target=1000,
            users=32,
            chips=("xpu-hbm3", "xpu-hbm4", "xpu-3d-dram"),
            tp=(8, 16, 32, 64, 128, 256),
            pp=(1, 2, 4),
            max_batch=64,
        )
    )
    sol = solve(pr)
    d = sol.design
    # HBM3 cannot reach 1,000 tokens/s/user at 128K (finding 3); 3D-DRAM at TP128 is the
    # cheapest design that does, with sync latency as the bottleneck (126·2·2.25 µs).
    assert (d["chip"], d["tp"], d["pp"], d["batch"], d["replicas"]) == (
        "xpu-3d-dram",
        128,
        1,
        32,
        1,
    )
    assert sol.record["bottleneck"] == "sync"
    assert sol.metrics["sync_time_s"] == pytest.approx(126 * 2 * 2.25e-6, rel=1e-12)
    assert "demand" in sol.record["binding"]


def test_limits_are_respected_and_change_the_answer():
    base = _raw(
        model="llama3.1-70b",
        target=40,
        users=256,
        chips=("h100-sxm", "b200", "mi300x"),
        tp=(1, 2, 4, 8),
        pp=(1, 2),
        max_batch=64,
    )
    free = solve(problem_from_dict(base))
    cap = 0.9 * free.metrics["power_w"]
    capped = problem_from_dict({**base, "limits": {"max_power": f"{cap} W"}})
    sol = solve(capped)
    assert sol.metrics["power_w"] <= cap
    assert sol.objective > free.objective  # the cheapest design no longer qualifies
    assert sol.objective == pytest.approx(enumerate_space(capped).value, rel=1e-9)


def test_persistent_resolve_equals_a_fresh_build():
    pr = problem_from_dict(
        _raw(
            model="llama3.1-70b",
            target=50,
            users=24,
            chips=("xpu-hbm3", "h100-sxm", "b200"),
            tp=(1, 2, 4, 8, 16),
            pp=(1, 2),
            max_batch=32,
        )
    )
    r = Resolver(pr, prune=False)
    changes = [
        {},
        {"sla.tokens_per_s_per_user": 120},
        {"chips.h100-sxm.memory_bandwidth": "6 TB/s"},
        {"sla.tokens_per_s_per_user": 20, "limits.max_power": "8 kW"},
        {"interconnects.paper.intra_domain_latency": "1 us", "sla.tokens_per_s_per_user": 300},
        {"workload.context_tokens": 32768},
    ]
    for ch in changes:
        fresh = solve(pr.with_changes(ch) if ch else pr)
        again = r.solve(ch)
        assert again.objective == pytest.approx(fresh.objective, rel=1e-9), ch
        assert again.design == fresh.design or again.objective == pytest.approx(fresh.objective)
    # built once, rebuilt when the power limit appears and when it goes; the rest moved Params
    assert r.rebuilds == 3


def test_infeasible_rate_is_explained_with_the_best_reachable_value():
    pr = problem_from_dict(
        _raw(
            model="llama3.1-405b",
            context=131072,
            target=1000,
            chips=("xpu-hbm3",),
            tp=(8, 16, 32, 64, 128),
            pp=(1,),
            max_batch=8,
        )
    )
    with pytest.raises(InfeasibleError) as exc:
        solve(pr)
    rec = exc.value.record
    best = rec["best_achievable"]["max_tokens_per_s_per_user"]
    assert 600 < best < 1000  # finding 2 and 3 of the paper
    assert "above the highest reachable" in rec["explanation"]
    assert rec["best_achievable"]["max_tokens_per_s_per_user_design"]["tp"] == 128


def test_infeasible_limits_report_the_most_users_within_them():
    pr = problem_from_dict(
        _raw(
            model="llama3.1-70b",
            target=50,
            users=500,
            chips=("h100-sxm",),
            tp=(2, 4, 8),
            pp=(1,),
            max_batch=16,
            max_chips=8,
        )
    )
    with pytest.raises(InfeasibleError) as exc:
        solve(pr)
    rec = exc.value.record
    assert 0 < rec["best_achievable"]["max_users_within_limits"] < 500
    most = rec["best_achievable"]["max_users_within_limits"]
    ok = problem_from_dict(
        _raw(
            model="llama3.1-70b",
            target=50,
            users=most,
            chips=("h100-sxm",),
            tp=(2, 4, 8),
            pp=(1,),
            max_batch=16,
            max_chips=8,
        )
    )
    assert solve(ok).metrics["users_served"] >= most
    too_many = problem_from_dict(
        _raw(
            model="llama3.1-70b",
            target=50,
            users=most + 1,
            chips=("h100-sxm",),
            tp=(2, 4, 8),
            pp=(1,),
            max_batch=16,
            max_chips=8,
        )
    )
    with pytest.raises(InfeasibleError):
        solve(too_many)


def test_weights_that_fit_nowhere_are_explained():
    pr = problem_from_dict(
        _raw(model="llama3.1-405b", target=1, chips=("tpu-v5e",), tp=(1, 2), pp=(1,))
    )
    with pytest.raises(InfeasibleError) as exc:
        solve(pr)
    assert "fit on no candidate" in exc.value.record["explanation"]


def test_solution_record_follows_the_json_contract():
    sol = solve(problem_from_dict(_raw()))
    rec = json.loads(json.dumps(sol.record))
    for key in (
        "status",
        "objective",
        "mip_gap",
        "design",
        "metrics",
        "bottleneck",
        "binding",
        "candidates",
        "solve_seconds",
    ):
        assert key in rec
    assert set(rec["design"]) == DESIGN_KEYS
    assert set(rec["metrics"]) >= METRIC_KEYS
    assert rec["objective"]["unit"] == "USD"

"""The demand row of a class that asks for a request rate: sized at each design's own TPOT
(`features.demand`), against the forward model, the SLA rate's sizing it replaced, and
finite differences of its marginal."""

from __future__ import annotations

import pytest

from designer.optimize import columns as cm
from designer.optimize.build import build
from designer.optimize.data import fleet_data
from designer.optimize.problem import problem_from_dict
from designer.optimize.sensitivity import objective_scale, relaxed_lp
from designer.optimize.solve import solve
from designer.optimize.solver import Solver
from tests.optimize import evaluate_row

RATE = 60.0  # requests/s


def _raw(rate: float = 20.0, **sla) -> dict:
    """Llama 3.1 8B on H100 (TP 1 or 2), 60 requests/s of 2,000 + 500 tokens, 1 s TTFT,
    aggregated: docs/model.md §9's example."""
    return {
        "workload": {"model": "llama3.1-8b", "prompt_tokens": 2000, "output_tokens": 500},
        "sla": {"tokens_per_s_per_user": rate, "requests_per_s": RATE, "ttft": "1 s", **sla},
        "serving": {"mode": "aggregated"},
        "space": {"chips": ["h100-sxm"], "tp": [1, 2], "pp": [1]},
    }


def test_the_need_is_the_request_rate_in_users_at_the_sla_rate():
    wc = problem_from_dict(_raw()).classes[0]
    assert wc.by_requests and wc.need == pytest.approx(RATE * 500 / 20)
    tiny = problem_from_dict(_raw(requests_per_s=1e-9)).classes[0]
    assert tiny.need == 1.0  # at least one user for any requests, as users_for_rate
    raw = _raw()
    raw["sla"] = {"tokens_per_s_per_user": 20, "concurrent_users": 1500, "ttft": "1 s"}
    users = problem_from_dict(raw).classes[0]
    assert not users.by_requests and users.need == 1500.0


def test_a_faster_design_serves_more_requests_with_the_same_users():
    """Columns of a request rate serve users × their own rate / the SLA rate, ≥ their users;
    a concurrent-users class's columns serve their users."""
    p = problem_from_dict(_raw())
    c = cm.build(p)
    assert len(c) and (c.serves >= c.users).all() and (c.serves > c.users).any()
    raw = _raw()
    raw["sla"] = {"tokens_per_s_per_user": 20, "concurrent_users": 1500, "ttft": "1 s"}
    u = cm.build(problem_from_dict(raw))
    assert (u.serves == u.users).all()


@pytest.mark.parametrize("confidence", [None, 0.9])
def test_every_row_turns_over_its_share_within_its_batch(confidence):
    """The rows turn over the asked requests/s in all; each row's users in flight at its TPOT
    (at the slow end under a confidence, λ·O·TPOT by Little's law) fit its batches, and its
    rate meets the SLA."""
    sla = {} if confidence is None else {"confidence": confidence}
    sol = solve(problem_from_dict(_raw(**sla)))
    served = sum(r["requests_per_s"] for r in sol.fleet)
    assert served == pytest.approx(RATE, rel=1e-9)
    for r in sol.fleet:
        tpot = r["tpot_s"]
        slow = 1.0
        if confidence is not None:
            slow = r["tokens_per_s_per_user"] / r["guaranteed_tokens_per_s_per_user"]
        in_flight = r["requests_per_s"] / r["replicas"] * 500 * tpot * slow
        assert in_flight <= r["pp"] * r["batch"] * (1 + 1e-9)
        assert tpot * slow <= 1 / 20 * (1 + 1e-9)
        assert r["system_tokens_per_s"] == pytest.approx(r["requests_per_s"] * 500)


def test_the_cost_rises_with_the_sla_rate():
    """Sized at the SLA rate (λ·O/r users) the cheapest fleet did not rise with the rate: 650,000
    USD at 20 tokens/s per user, 325,000 at 25. Sized at each design's own TPOT it does, and
    the fleet at 20 is the one `evaluate` confirms."""
    costs = [solve(problem_from_dict(_raw(rate))).objective for rate in (10, 15, 20, 25, 30, 35)]
    assert costs == sorted(costs)
    sol = solve(problem_from_dict(_raw(20)))
    assert sol.objective <= 325_000
    for r in sol.fleet:
        m = evaluate_row(r, "llama3.1-8b", 2000, 500)
        assert m["serves_rate"] and m["ttft_p90_s"] <= 1.0 and 1 / m["tpot_s"] >= 20
        assert m["system_tokens_per_s"] == pytest.approx(r["requests_per_s"] * 500)


def test_the_demand_marginal_is_per_request_per_second():
    """The LP's demand row is in users at the SLA rate; the answer reads it per request/s
    (r/O of them a user): the finite difference of the LP in λ."""
    p = problem_from_dict(_raw())
    data = fleet_data(p, cm.build(p))
    m = build(data)
    solver = Solver()
    solver.solve(m)
    solver.load()
    sol = solve(p)
    (entry,) = [e for e in sol.record["sensitivity"] if e["requirement"].startswith("demand")]
    assert entry["unit"] == "USD per request/s"

    def lp_at(requests: float) -> float:
        lp = relaxed_lp(m)
        lp.demand[0].set_value((requests * 500 / 20, lp.demand[0].body, None))
        st = Solver().solve(lp)
        assert st.status == "optimal"
        return st.incumbent * objective_scale(data)

    h = 1e-3
    fd = (lp_at(RATE + h) - lp_at(RATE)) / h
    assert entry["marginal"] == pytest.approx(fd, rel=1e-6)
    if entry["slack"] > 1e-6:
        assert entry["note"].startswith(
            f"the fleet has room for {entry['slack']:.4g} requests/s more than asked"
        )


@pytest.mark.parametrize("rate", [45.0, 45.28, 45.2806])
def test_a_replica_with_one_slot_more_turns_over_a_lighter_load(rate):
    """At 166 slots 4 × H100 TP 2 turn 60 requests/s over at 45.2807 tokens/s per user
    (`evaluate`), though 166 users turning over at their own TPOT would bring more prompt
    chunks and miss 45.28. A column held at the largest fully loaded batch (165) answered
    8 × H200 for $341,000 at 45.28; a column may take one slot more at a lighter load
    (`columns._part_loaded`), and the answer is the fleet `evaluate` confirms."""
    raw = _raw(rate)
    raw["space"]["chips"] = ["h100-sxm", "h200"]
    sol = solve(problem_from_dict(raw))
    assert sol.objective <= 325_000
    for r in sol.fleet:
        m = evaluate_row(r, "llama3.1-8b", 2000, 500)
        assert m["ttft_p90_s"] <= 1.0 and 1 / m["tpot_s"] >= rate * (1 - 1e-12)
        assert m["requests_per_s"] == pytest.approx(r["requests_per_s"])
        in_flight = r["requests_per_s"] * 500 * m["tpot_s"]
        assert in_flight <= r["pp"] * r["batch"] * r["replicas"] * (1 + 1e-9)


def test_a_moe_row_with_dp_attention_is_judged_at_its_columns_slots():
    """Qwen3-30B-A3B on B200 TP8×PP2 with data-parallel attention under a confidence: its row
    was judged at 52 slots, the users in flight, where the p90 TTFT is slower (2.4998 s) than
    at its column's 56 (2.4597 s), since a chunk's further experts fall as the batch grows:
    the re-check failed (a review's reproducer). The row keeps its column's slots."""
    raw = {
        "workload": {"model": "qwen3-30b-a3b", "prompt_tokens": 4000, "output_tokens": 200},
        "sla": {"tokens_per_s_per_user": 8.699, "requests_per_s": 14.07, "ttft": "2.464 s",
                "confidence": 0.9},
        "serving": {"mode": "aggregated", "chunk_tokens": 256},
        "space": {"chips": ["b200"], "tp": [8], "pp": [2]},
    }  # fmt: skip
    sol = solve(problem_from_dict(raw))
    assert sol.record["recheck"] == "passed"
    for r in sol.fleet:
        assert r["ttft_p90_s"] <= 2.464


def test_a_dp_attention_column_tries_every_batch():
    """With data-parallel attention a rank's batch is ⌈b/t⌉, so the full turnover is a sawtooth
    in b: an H200 TP8 column held at b* = 50 (10.6126 requests/s) where 48 slots serve 10.6421
    (a review's reproducer). `solve` answered $1,364,000; three TP8 replicas with 48 slots cost
    $1,023,000, which `evaluate` confirms."""
    raw = {
        "workload": {"model": "llama3.1-8b", "prompt_tokens": 8000, "output_tokens": 500},
        "sla": {"tokens_per_s_per_user": 67.788, "requests_per_s": 31.9, "ttft": "0.2004 s"},
        "serving": {"mode": "aggregated", "chunk_tokens": 2048},
        "space": {"chips": ["h200"], "tp": [4, 8], "pp": [1, 2], "max_batch": 512},
    }
    sol = solve(problem_from_dict(raw))
    assert sol.objective <= 1_023_000
    for r in sol.fleet:
        m = evaluate_row(r, "llama3.1-8b", 8000, 500)
        assert m["ttft_p90_s"] <= 0.2004 and 1 / m["tpot_s"] >= 67.788 * (1 - 1e-12)


def test_the_cost_per_mtoken_of_a_rate_below_one_user_counts_its_tokens():
    """A request rate below one user at the SLA rate (0.01 requests/s of 500 tokens at 20
    tokens/s: 0.25 of a user) keeps one user in its demand row, but its $/Mtoken counted that
    user's 20 tokens/s, not the 5 asked for, so it read 4x low; the prompt-inclusive figure
    counted the real rate (a review's fuzzing)."""
    from designer.model.cost import cost_per_mtoken

    raw = _raw()
    raw["sla"]["requests_per_s"] = 0.01
    p = problem_from_dict(raw)
    tot = solve(p).record["totals"]
    tco = tot["tco_usd_per_year"]
    assert tot["cost_per_mtoken_usd"] == pytest.approx(cost_per_mtoken(p.catalog, tco, 0.01 * 500))
    with_prompts = cost_per_mtoken(p.catalog, tco, 0.01 * (500 + 2000))
    assert tot["cost_per_mtoken_with_prompts_usd"] == pytest.approx(with_prompts)

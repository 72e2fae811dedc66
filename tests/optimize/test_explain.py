"""Explanations of infeasible problems that come from a per-configuration requirement's
`explain` face."""

from __future__ import annotations

import pytest

from designer.model import serving
from designer.model.errors import InfeasibleError
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve

SERVED = {
    "workload": {"model": "llama3.1-70b", "prompt_tokens": 6000, "output_tokens": 1000},
    "sla": {"tokens_per_s_per_user": 30, "requests_per_s": 30, "ttft": "2 s"},
    "serving": {"mode": "disaggregated"},
    "objective": {"minimize": "capex"},
    "space": {"chips": ["b200"]},
}


def test_kv_transfer_no_decode_replica_can_take_one_user():
    """A scale-out network a million times slower: every decode replica that meets the rate
    takes in less than one user's KV. The explanation says so with the numbers by hand (was a
    RecursionError: the 'most users within the limits' question asked itself again). Users
    asked for as concurrent users: a request rate's decode replicas are capped in requests/s
    instead (`kv_transfer`), and giant replicas pool enough links to answer."""
    sla = {"tokens_per_s_per_user": 30, "concurrent_users": 1000, "ttft": "2 s"}
    pr = problem_from_dict({**SERVED, "sla": sla}).with_changes(
        {"chips.*.server_scale_out_bandwidth": "x1e-6"}
    )
    with pytest.raises(InfeasibleError) as exc:
        solve(pr)
    rec = exc.value.record
    wl = pr.classes[0].workload
    need = 30 * 6000 * wl.kv_bytes_per_token / 1000  # r·P·K/O, B/s per user
    assert "KV cache of one user" in rec["explanation"]
    assert f"{need / 1e6:.3g} MB/s" in rec["explanation"]
    best = rec["best_achievable"]
    d = best["max_decode_kv_bandwidth_design"]
    per_stage = serving.scale_out_per_chip(pr.catalog, "b200") * d["tp"]  # t·p chips over p
    assert best["max_decode_kv_bandwidth_per_stage_bytes_per_s"] == pytest.approx(per_stage)
    assert per_stage < need


def test_kv_transfer_does_not_explain_aggregated_serving():
    """The same network with serving.mode = best: aggregated replicas move no KV, so the
    problem is feasible."""
    raw = {**SERVED, "serving": {"mode": "best"}}
    pr = problem_from_dict(raw).with_changes({"chips.*.server_scale_out_bandwidth": "x1e-6"})
    sol = solve(pr)
    assert {r["phase"] for r in sol.record["fleet"]} == {"aggregated"}


def test_a_rate_no_configuration_meets_with_its_prompt_chunks():
    """Aggregated serving: each step carries the prompt chunks of the users it turns over, so
    a rate the batch-1 decode check passes (184.1 tokens/s per user for Llama 3.1 8B on an H100
    at TP 2) may be one no configuration reaches for concurrent users. The explanation says so
    (was a RecursionError: the 'most users within the limits' question, asked of a class
    without a column, asked itself again). A request rate is served there: a replica may turn
    over fewer requests than its batch would, with fewer chunks a step (it was infeasible
    before round 26, the screens judging batch 1 at its full turnover)."""
    raw = {
        "workload": {"model": "llama3.1-8b", "prompt_tokens": 2000, "output_tokens": 500},
        "sla": {"tokens_per_s_per_user": 183, "concurrent_users": 32, "ttft": "1 s"},
        "serving": {"mode": "aggregated"},
        "objective": {"minimize": "capex"},
        "space": {"chips": ["h100-sxm"], "tp": [1, 2], "pp": [1]},
    }
    pr = problem_from_dict(raw)
    by_rate = problem_from_dict(
        {**raw, "sla": {**{k: v for k, v in raw["sla"].items() if k != "concurrent_users"},
                        "requests_per_s": 4}}
    )  # fmt: skip
    sol = solve(by_rate)
    for row in sol.fleet:  # each replica lightly loaded: every requirement holds
        assert 1 / row["tpot_s"] >= 183 and row["prefill_utilization"] < 0.1
    assert sol.record["recheck"] == "passed"
    with pytest.raises(InfeasibleError) as exc:
        solve(pr)
    text = exc.value.record["explanation"]
    assert "no configuration of the space meets every requirement at 183 tokens/s" in text
    assert "leave out the prompt chunks each aggregated step also carries" in text
    assert solve(pr.with_changes({"sla.tokens_per_s_per_user": 182})).status == "optimal"
    # the highest rate with the prompt chunks, at batch 1: between the two, and named
    best = exc.value.record["best_achievable"]
    reach = best["max_tokens_per_s_per_user_with_prompts"]
    assert 182 <= reach < 183
    assert f"reaches at most {reach:.4g} tokens/s per user at batch 1" in text
    d = best["max_tokens_per_s_per_user_with_prompts_design"]
    again = solve(pr.with_changes({"sla.tokens_per_s_per_user": reach * (1 - 1e-9)}))
    assert (again.fleet[0]["chip"], again.fleet[0]["tp"]) == (d["chip"], d["tp"])


def test_a_request_rate_over_the_limits_is_answered_in_requests_per_s():
    """A request rate the limits cannot hold: the answer names the rate asked and the requests/s
    the fleet of the most users turns over, which fit (it said "3000 concurrent users … at most
    338 users", 3.4 requests/s at the SLA rate, though 17.5 fit). Disaggregated, a decode
    pool's users count at the SLA rate: still a rate that fits."""
    raw = {
        "workload": {"model": "llama3.1-8b", "prompt_tokens": 2000, "output_tokens": 500},
        "sla": {"tokens_per_s_per_user": 5, "requests_per_s": 30, "ttft": "1 s"},
        "objective": {"minimize": "capex"},
        "space": {"chips": ["h100-sxm"], "tp": [1, 2], "pp": [1]},
        "limits": {"max_chips": 2},
    }
    with pytest.raises(InfeasibleError) as exc:
        solve(problem_from_dict(raw))
    rec = exc.value.record
    turned = rec["best_achievable"]["requests_per_s_within_limits"]
    assert 1 < turned < 30
    assert rec["explanation"].startswith("30 requests/s at 5 tokens/s per user do not fit")
    assert f"at least {turned:.4g} requests/s fit (the fleet holding the most" in rec["explanation"]
    raw["sla"]["requests_per_s"] = turned * (1 - 1e-6)
    assert solve(problem_from_dict(raw)).record["status"] == "optimal"
    raw["sla"]["requests_per_s"] = 30
    raw["serving"] = {"mode": "disaggregated"}
    raw["limits"] = {"max_chips": 4}
    with pytest.raises(InfeasibleError) as exc:
        solve(problem_from_dict(raw))
    turned = exc.value.record["best_achievable"]["requests_per_s_within_limits"]
    raw["sla"]["requests_per_s"] = turned * (1 - 1e-6)
    assert solve(problem_from_dict(raw)).record["status"] == "optimal"


def test_a_serving_class_no_candidate_of_holds_is_explained():
    """DeepSeek-V3 on H100 TP4/TP8: the weights fit on no candidate, so none reaches the
    serving phases, whose batch-1 screen read the serving metrics of an empty set (KeyError
    'ttft_p90_s', a review's reproducer in both trees). It is the weights' explanation."""
    raw = {
        "workload": {"model": "deepseek-v3", "prompt_tokens": 1000, "output_tokens": 8000},
        "sla": {"tokens_per_s_per_user": 6.445, "requests_per_s": 0.1172, "ttft": "4.477 s"},
        "serving": {"mode": "best", "chunk_tokens": 16384},
        "space": {"chips": ["h100-sxm"], "tp": [4, 8], "pp": [1], "max_batch": 512},
    }
    with pytest.raises(InfeasibleError, match="fit on no candidate"):
        solve(problem_from_dict(raw))


def test_a_disaggregated_class_under_one_configuration_is_explained():
    """Prefill and decode pools are two configurations of their class: under
    `fleet.max_configurations = 1` no fleet serves a disaggregated class. The explanation
    said "the classes together do not fit within the limits (none, …)" (a review)."""
    raw = {
        "workload": {"model": "llama3.1-8b", "prompt_tokens": 128, "output_tokens": 32},
        "sla": {"tokens_per_s_per_user": 8, "concurrent_users": 8, "ttft": "1.7 s"},
        "serving": {"mode": "disaggregated"},
        "space": {"chips": ["b200"], "tp": [8], "pp": [1], "max_batch": 8},
        "fleet": {"max_configurations": 1},
    }
    p = problem_from_dict(raw)
    with pytest.raises(InfeasibleError) as exc:
        solve(p)
    text = exc.value.record["explanation"]
    assert "a prefill and a decode pool, two configurations" in text
    assert "fleet.max_configurations = 1" in text and "together" not in text
    assert solve(p.with_changes({"fleet.max_configurations": 2})).status == "optimal"


def test_a_request_rate_class_that_fits_alone_is_not_blamed():
    """A class asking for a request rate was judged by the most users a fleet of it holds
    (λ·O/r users asked), though faster replicas turn over more requests with fewer users:
    a class that fits alone was named as the one that does not fit (24 of 286 infeasible
    random multi-class problems, a review). Here each class fits alone in the 2 chips; the
    two together need 3."""
    one = {"model": "llama3.1-8b", "prompt_tokens": 500, "output_tokens": 200,
           "tokens_per_s_per_user": 10, "ttft": "2 s"}  # fmt: skip
    raw = {
        "class": [
            {"name": "chat", **one, "requests_per_s": 2},
            {"name": "batch", **one, "concurrent_users": 32},
        ],
        "serving": {"mode": "aggregated"},
        "space": {"chips": ["h100-sxm"], "tp": [1], "pp": [1], "max_batch": 16},
        "objective": {"minimize": "capex"},
        "limits": {"max_chips": 2},
    }
    with pytest.raises(InfeasibleError) as exc:
        solve(problem_from_dict(raw))
    assert exc.value.record["explanation"].startswith("the classes together do not fit")
    for c in raw["class"]:
        assert solve(problem_from_dict({**raw, "class": [c]})).status == "optimal"

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
    RecursionError: the 'most users within the limits' question asked itself again)."""
    pr = problem_from_dict(SERVED).with_changes({"chips.*.server_scale_out_bandwidth": "x1e-6"})
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

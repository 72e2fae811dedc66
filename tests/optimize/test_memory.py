"""The memory requirement (`features/memory.py`): aggregated serving counts the KV of the
prompts being prefilled in chunks."""

from __future__ import annotations

import numpy as np
import pytest

from designer.model import serving
from designer.model.errors import InfeasibleError
from designer.optimize import columns as cm
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve

# long prompts, a slow rate and a loose TTFT: memory binds
RAW = {
    "workload": {"model": "llama3.1-8b", "prompt_tokens": 30000, "output_tokens": 500},
    "sla": {"tokens_per_s_per_user": 5, "requests_per_s": 0.5, "ttft": "300 s"},
    "serving": {"mode": "aggregated"},
    "objective": {"minimize": "capex"},
    "space": {"chips": ["h100-sxm", "l40s"], "tp": [1, 2], "pp": [1, 2], "max_batch": 128},
}


def test_aggregated_batch_counts_the_prompts_in_prefill():
    """Brute force: every column's batch is the largest b at which the weights, b users' KV
    and the prompts in prefill fit (with the rate and TTFT met), scanning b; and it is below
    what the memory allows without the prompts for at least one column."""
    pr = problem_from_dict(RAW)
    wc = pr.classes[0]
    g = cm.grid(pr, wc)
    cols = cm.build(pr, prune=False)
    assert len(cols)
    lower = 0
    for k in range(len(cols)):
        sel = (g.chip == cols.chip[k]) & (g.t == cols.t[k]) & (g.p == cols.p[k])
        i = np.array([int(np.flatnonzero(sel & (g.attention == cols.attention[k]))[0])])
        ok, plain = [], []
        for b in range(1, pr.max_batch + 1):
            m = g.aggregated(wc, np.array([b]), i, g.metrics(wc, np.array([b]), i))
            held = serving.prefill_kv_per_chip(
                wc.workload, g.t[i], g.p[i], m["prompt_tokens_per_step"], g.attention[i]
            )
            cap = float(g.hw["usable_capacity"][i][0]) * (1 + 1e-12)
            timely = m["tpot_s"][0] * 5 <= 1 and m["ttft_p90_s"][0] <= 300
            ok.append(bool(timely and m["memory_per_chip_bytes"][0] + held[0] <= cap))
            plain.append(bool(timely and m["fits"][0]))
        best = max((b for b, good in enumerate(ok, 1) if good), default=0)
        assert all(ok[:best])
        assert int(cols.batch[k]) == best
        lower += best < max((b for b, good in enumerate(plain, 1) if good), default=0)
    assert lower  # the prompts' KV changes some answer


def test_the_answer_keeps_the_prompts_in_memory():
    sol = solve(problem_from_dict(RAW))
    for i, r in enumerate(sol.record["fleet"]):
        assert r["prefill_kv_per_chip_bytes"] > 0
        used = r["memory_per_chip_bytes"] + r["prefill_kv_per_chip_bytes"]
        key = f"memory-capacity[{i}]" if len(sol.record["fleet"]) > 1 else "memory-capacity"
        assert sol.record["residuals"][key] == pytest.approx(
            1 - used / r["usable_memory_per_chip_bytes"], rel=1e-12
        )
        assert used <= r["usable_memory_per_chip_bytes"] * (1 + 1e-9)


def test_no_room_for_a_prompt_in_prefill_is_explained():
    """Weights 16.1 GB + one user's KV 15.9 GB fit an L40S's 43.2 GB usable; a 120,000-token
    prompt in prefill (15.7 GB more) does not. Aggregated only: infeasible and said so;
    `best` serves it disaggregated."""
    raw = {
        **RAW,
        "workload": {"model": "llama3.1-8b", "prompt_tokens": 120000, "output_tokens": 1000},
        "sla": {"tokens_per_s_per_user": 5, "requests_per_s": 0.01, "ttft": "600 s"},
        "space": {"chips": ["l40s"], "tp": [1], "pp": [1]},
    }
    with pytest.raises(InfeasibleError) as exc:
        solve(problem_from_dict(raw))
    text = exc.value.record["explanation"]
    assert "KV of one prompt in prefill (15.73 GB" in text  # 120,000 · 131,072 B
    best = {**raw, "serving": {"mode": "best"}}
    phases = {r["phase"] for r in solve(problem_from_dict(best)).record["fleet"]}
    assert phases == {"decode", "prefill"}

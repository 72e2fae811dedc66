"""The user-rate requirement (`features/rate.py`) under `[sla] confidence` for aggregated
serving: TPOT, prompt chunks included, is held at the slow end of the interval."""

from __future__ import annotations

import numpy as np
import pytest

from designer.calibration import intervals, profiles
from designer.optimize import columns as cm
from designer.optimize.candidates import Candidates
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve
from tests.optimize import candidate_of

RAW = {
    "workload": {"model": "llama3.1-8b", "prompt_tokens": 2000, "output_tokens": 500},
    "sla": {"tokens_per_s_per_user": 40, "requests_per_s": 2, "ttft": "1 s", "confidence": 0.9},
    "serving": {"mode": "aggregated"},
    "objective": {"minimize": "capex"},
    "space": {"chips": ["h100-sxm", "mi300x"], "tp": [1, 2], "pp": [1], "max_batch": 64},
}


def _factor(pr, g, i, b) -> float:
    """The slow-end factor of candidate i at batch b, from `intervals` directly."""
    chip = pr.chips[int(g.chip[i])]
    return float(
        intervals.slow_factor(
            profiles.for_problem(pr, chip),
            g.workloads[g.group[i]],
            chip,
            g.t[i : i + 1],
            g.p[i : i + 1],
            g.ep[i : i + 1],
            g.attention[i : i + 1],
            np.array([b]),
            pr.classes[0].confidence,
        )[0]
    )


def test_aggregated_batch_is_the_largest_meeting_tpot_at_the_slow_end():
    """Brute force: every aggregated column's b* (`batch_cap`, its users turning over at their
    own TPOT) is the largest b ≤ max_batch at which TPOT(b) · factor(b) ≤ 1/r, the p90 TTFT ≤
    target and the memory fits, scanning b. (A request rate's column may then hold other slots
    at a lighter load: tests/test_serving.py scans those.)"""
    pr = problem_from_dict(RAW)
    wc = pr.classes[0]
    g = cm.grid(pr, wc)
    cols = cm.build(pr, prune=False)
    assert len(cols)
    for k in range(len(cols)):
        i = candidate_of(g, cols, k)
        ok = []
        for b in range(1, pr.max_batch + 1):
            m = g.metrics(wc, np.array([b]), np.array([i]))
            a = g.aggregated(wc, np.array([b]), np.array([i]), m)
            tpot = float(a["tpot_s"][0]) * _factor(pr, g, i, b)
            ok.append(
                tpot <= (1 / wc.target_utps) * (1 + 1e-9)
                and float(a["ttft_p90_s"][0]) <= wc.serving.ttft_s
                and bool(m["fits"][0])
            )
        best = max((b for b, good in enumerate(ok, 1) if good), default=0)
        assert all(ok[:best])  # a prefix: the bisection's premise
        c = Candidates(pr, wc, g, "aggregated")
        assert int(cm.batch_cap(c, np.array([i]))[0]) == best


def test_the_answer_holds_tpot_at_the_slow_end_and_costs_at_least_nominal():
    pr = problem_from_dict(RAW)
    sol = solve(pr)
    rec = sol.record
    for r in rec["fleet"]:
        factor = intervals.slow_factor(
            profiles.for_problem(pr, r["chip"]),
            profiles.workload_for(pr, r["chip"], pr.classes[0].workload),
            r["chip"],
            r["tp"],
            r["pp"],
            r["ep"],
            r["attention"],
            r["batch"],
            0.9,
        )
        guaranteed = 1.0 / (r["tpot_s"] * float(factor))  # by hand from the row's TPOT
        assert r["guaranteed_tokens_per_s_per_user"] == pytest.approx(guaranteed, rel=1e-12)
        assert guaranteed >= 40 * (1 - 1e-9)
    assert all(v >= -1e-9 for k, v in rec["residuals"].items() if k.startswith("user-rate"))
    margin = rec["margin"]
    assert margin["guaranteed"]["objective"] >= margin["nominal"]["objective"]
    raw = {**RAW, "sla": {k: v for k, v in RAW["sla"].items() if k != "confidence"}}
    nominal = solve(problem_from_dict(raw))
    assert nominal.record["objective"]["value"] == margin["nominal"]["objective"]

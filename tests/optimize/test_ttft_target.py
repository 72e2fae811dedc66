"""The TTFT requirement (`features/ttft.py`) under `[sla] ttft_confidence`: the prompt's service
time at the slow end of its TTFT interval, checked against brute force and by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from designer.calibration import engines, profiles, ttft_interval
from designer.interface.cli import main
from designer.model import serving
from designer.model.errors import InfeasibleError
from designer.optimize import columns as cm
from designer.optimize.candidates import Candidates, prefill_service
from designer.optimize.features import ttft as ttft_feature
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve
from tests.optimize import candidate_of

RAW = {
    "workload": {"model": "llama3.1-8b", "prompt_tokens": 2000, "output_tokens": 500},
    "sla": {
        "tokens_per_s_per_user": 40,
        "requests_per_s": 2,
        "ttft": "1 s",
        "ttft_confidence": 0.9,
    },
    "serving": {"mode": "best"},
    "objective": {"minimize": "capex"},
    "space": {"chips": ["h100-sxm", "h200"], "tp": [1, 2], "pp": [1, 2], "max_batch": 64},
}
QUICKSTART = "problems/serving-llama3.1-70b-30rps-ttft2s.toml"


def _ratio(pr, chip: str, tp: int, pp: int) -> float:
    """The slow-end factor of a design, from `ttft_interval` directly (the answer an
    `evaluate` of it on that chip's default profile is judged by)."""
    wc = pr.classes[0]
    prof = profiles.for_problem(pr, chip, wc.workload)
    wl = profiles.workload_for(pr, chip, wc.workload)
    a = ttft_interval.answer_for(pr.catalog, prof, engines.of_profile(prof), chip, wl, tp, pp)
    return ttft_interval.slow_ratio(a, wc.ttft_confidence)


def _columns(phase: str):
    """The problem, its class, grid and the unpruned columns of `phase` (at least one)."""
    pr = problem_from_dict(RAW)
    g = cm.grid(pr, pr.classes[0])
    cols = cm.build(pr, prune=False)
    ks = [k for k in range(len(cols)) if cols.phase[k] == phase]
    assert ks
    return pr, pr.classes[0], g, cols, ks


def test_aggregated_batch_is_the_largest_meeting_the_ttft_at_the_slow_end():
    """Brute force: each aggregated column's b* (`batch_cap`, its users turning over at their
    own TPOT) is the largest b ≤ max_batch at which TPOT(b) ≤ 1/r, memory fits and the p90 TTFT
    with the chunk steps `ratio` times slower (the queue at its load then) ≤ target, scanning
    b."""
    pr, wc, g, cols, agg = _columns("aggregated")
    for k in agg:
        i = candidate_of(g, cols, k)
        chip = pr.chips[int(g.chip[i])]
        r = _ratio(pr, chip, int(g.t[i]), int(g.p[i]))
        ok = []
        for b in range(1, pr.max_batch + 1):
            m = g.metrics(wc, np.array([b]), np.array([i]))
            a = g.aggregated(wc, np.array([b]), np.array([i]), m)
            service = float(a["prefill_service_s"][0]) * r
            lam = float(a["requests_per_s"][0])
            wait90 = serving.md1_wait(lam / int(g.p[i]) * service, service)[1]
            ok.append(
                float(a["tpot_s"][0]) <= (1 / wc.target_utps) * (1 + 1e-9)
                and service + wait90 <= wc.serving.ttft_s
                and bool(m["fits"][0])
            )
        best = max((b for b, good in enumerate(ok, 1) if good), default=0)
        assert all(ok[:best])  # a prefix: the bisection's premise
        c = Candidates(pr, wc, g, "aggregated")
        assert int(cm.batch_cap(c, np.array([i]))[0]) == best


def test_a_column_at_a_lighter_load_meets_the_ttft_at_the_slow_end():
    """A request rate's aggregated column that holds more slots than b* (a lighter load,
    `columns._part_loaded`): at its requests/s per replica, by hand from `serving.aggregated`
    and the slow end's `ratio`, TPOT ≤ 1/r, the p90 TTFT ≤ target, memory with the prompts in
    prefill fits and the users in flight fit the slots; 0.0001% more requests miss one."""
    pr, wc, g, cols, agg = _columns("aggregated")
    c = Candidates(pr, wc, g, "aggregated")
    moved = 0
    for k in agg:
        i = candidate_of(g, cols, k)
        b = int(cols.batch[k])
        if b == int(cm.batch_cap(c, np.array([i]))[0]):
            continue
        moved += 1
        r = _ratio(pr, pr.chips[int(g.chip[i])], int(g.t[i]), int(g.p[i]))
        lam = float(cols.serves[k]) * wc.target_utps / wc.workload.output_tokens
        m = g.metrics(wc, np.array([b, b]), np.array([i, i]))
        wl = g.workloads[g.group[i]]
        hw = {key: v[[i, i]] for key, v in g.hw.items()}
        a = serving.aggregated(
            wl, hw, g.t[[i, i]], g.p[[i, i]], np.array([b, b]), m, wc.serving.chunk_tokens,
            requests_per_s=np.array([lam, lam * (1 + 1e-6)]),
        )  # fmt: skip
        service = a["prefill_service_s"] * r
        wait90 = serving.md1_wait(a["requests_per_s"] / int(g.p[i]) * service, service)[1]
        held = m["memory_per_chip_bytes"] + serving.prefill_kv_per_chip(
            wl, int(g.t[i]), int(g.p[i]), a["prompt_tokens_per_step"], str(g.attention[i])
        )
        ok = (
            (a["tpot_s"] <= (1 / wc.target_utps) * (1 + 1e-12))
            & (service + wait90 <= wc.serving.ttft_s * (1 + 1e-12))
            & (held <= g.hw["usable_capacity"][i] * (1 + 1e-12))
            & (a["requests_per_s"] * wl.output_tokens * a["tpot_s"] <= int(g.p[i]) * b)
        )
        assert ok.tolist() == [True, False], k
    assert moved


def test_a_prefill_replica_serves_what_its_slow_end_allows():
    """Each prefill column's requests/s: at it the p90 TTFT with the prefill `ratio` times
    slower meets the target (up to the bisection), and 0.1% more requests miss it."""
    pr, wc, g, cols, pf = _columns("prefill")
    for k in pf:
        i = candidate_of(g, cols, k)
        r = _ratio(pr, pr.chips[int(g.chip[i])], int(g.t[i]), int(g.p[i]))
        service, kv_s, _ = prefill_service(pr, g, np.array([i]))
        lam = float(cols.requests_capacity[k])
        assert lam > 0

        slow = service * r
        at = [
            float(serving.prefill_queue(slow, g.p[i], kv_s, x)["ttft_p90_s"][0])
            for x in (lam, lam * 1.001)
        ]
        assert at[0] <= wc.serving.ttft_s * (1 + 1e-9)
        assert at[1] > wc.serving.ttft_s
    # the screen's ratio is the one worked out above
    c = Candidates(pr, wc, g, "prefill")
    idx = np.array([candidate_of(g, cols, k) for k in pf])
    expected = [_ratio(pr, pr.chips[int(g.chip[i])], int(g.t[i]), int(g.p[i])) for i in idx]
    assert ttft_feature.slow_ratio(c, idx) == pytest.approx(expected)


def test_the_answer_holds_the_ttft_at_the_slow_end_and_costs_at_least_nominal():
    pr = problem_from_dict(RAW)
    rec = solve(pr).record
    rows = [r for r in rec["fleet"] if r["ttft_s"] is not None]
    assert rows
    for r in rows:
        ratio = _ratio(pr, r["chip"], r["tp"], r["pp"])
        wl = profiles.workload_for(pr, r["chip"], pr.classes[0].workload)
        by_hand = serving.replica(  # one replica at its share of the row's requests
            wl,
            pr.catalog,
            r["chip"],
            tp=r["tp"],
            pp=r["pp"],
            batch=r["batch"],
            ep=r["ep"],
            attention=r["attention"],
            phase=r["phase"],
            requests_per_s=r["requests_per_s"] / r["replicas"],
            service_scale=ratio,
        )["ttft_p90_s"]
        assert r["guaranteed_ttft_p90_s"] == pytest.approx(by_hand, rel=1e-12)
        assert r["guaranteed_ttft_p90_s"] <= 1.0 * (1 + 1e-9)
        assert r["guaranteed_ttft_p90_s"] > r["ttft_p90_s"]
    assert all(v >= -1e-9 for k, v in rec["residuals"].items() if k.startswith("ttft"))
    margin = rec["margin"]
    assert margin["ttft_confidence"] == {"default": 0.9}
    assert margin["confidence"] == {"default": None}
    raw = {**RAW, "sla": {k: v for k, v in RAW["sla"].items() if k != "ttft_confidence"}}
    nominal = solve(problem_from_dict(raw))
    assert nominal.record["objective"]["value"] == margin["nominal"]["objective"]
    assert margin["guaranteed"]["objective"] >= margin["nominal"]["objective"]
    assert "guaranteed_ttft_p90_s" not in nominal.record["fleet"][0]
    assert rec["inputs"]["classes"][0]["ttft_confidence"] == 0.9


def test_the_cli_flag_is_the_toml_key(capsys):
    assert main(["solve", QUICKSTART, "--ttft-confidence", "0.9", "--json"]) == 0
    flag = json.loads(capsys.readouterr().out)
    assert main(["solve", QUICKSTART, "--set", "sla.ttft_confidence=0.9", "--json"]) == 0
    key = json.loads(capsys.readouterr().out)
    assert flag["objective"] == key["objective"]
    assert flag["margin"]["ttft_confidence"] == {"default": 0.9}
    assert main(["solve", QUICKSTART, "--ttft-confidence", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "the TTFT target holds at its interval's slow end with confidence 0.9" in out
    assert "guaranteed p90" in out


@pytest.mark.parametrize("value", ["0.3", "0.99"])
def test_a_ttft_confidence_out_of_range_is_bad_input(value, capsys):
    assert main(["solve", QUICKSTART, "--ttft-confidence", value]) == 2
    assert "--ttft-confidence" in capsys.readouterr().err
    assert main(["solve", QUICKSTART, "--set", f"sla.ttft_confidence={value}"]) == 2
    assert "sla.ttft_confidence" in capsys.readouterr().err


def test_a_ttft_confidence_without_a_ttft_target_is_bad_input(capsys):
    assert main(["solve", "problems/quickstart.toml", "--ttft-confidence", "0.9"]) == 2
    assert "TTFT target" in capsys.readouterr().err
    rc = main(["solve", "problems/quickstart.toml", "--set", "sla.ttft_confidence=0.9"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "sla.ttft_confidence" in err and "TTFT target" in err


@pytest.mark.parametrize("mode", ["aggregated", "best"])
def test_a_chunk_budget_no_replica_keeps_up_with_names_the_budget(mode):
    """Chunks of one token spread each prompt over thousands of steps: no aggregated replica
    of a class of concurrent users reaches a finite TTFT. The explanation names
    `serving.chunk_tokens` (and, aggregated only, the disaggregated mode), not an infinite
    TTFT to raise the target above; a mode with prefill pools still solves. A request rate may
    load a replica as lightly as it likes: its lowest TTFT is the prompt's 2,000 chunk steps,
    and the explanation names the budget with it."""
    raw = json.loads(json.dumps(RAW))
    raw["sla"].pop("ttft_confidence")
    raw["serving"] = {"mode": mode, "chunk_tokens": 1}
    if mode == "aggregated":
        with pytest.raises(InfeasibleError) as exc:
            solve(problem_from_dict(raw))
        text = exc.value.record["explanation"]
        assert "lowest reachable p90 time to first token" in text
        assert "each 2,000-token prompt takes 2,000 chunk steps" in text
        assert "raise sla.ttft, serving.chunk_tokens (now 1) or space.tp" in text
        least = exc.value.record["best_achievable"]["min_ttft_s"]
        assert 1.0 < least < np.inf
    raw["sla"]["concurrent_users"] = 16
    raw["sla"].pop("requests_per_s")
    if mode == "best":  # disaggregated prefill pools serve the prompts
        sol = solve(problem_from_dict(raw))
        assert {r["phase"] for r in sol.fleet} == {"prefill", "decode"}
        return
    with pytest.raises(InfeasibleError) as exc:
        solve(problem_from_dict(raw))
    rec = exc.value.record
    assert "serving.chunk_tokens = 1" in rec["explanation"]
    assert "2,000 chunk steps" in rec["explanation"]
    assert "serving.mode = disaggregated" in rec["explanation"]
    assert " inf " not in rec["explanation"]
    assert "min_ttft_design" not in rec["best_achievable"]

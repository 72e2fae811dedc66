"""The time to first token: its p90 stays within `[sla] ttft` (serving classes).

- Screen: aggregated, the p90 TTFT at the batch (`serving.aggregated`: the prompt's chunk steps
  plus the M/D/1 wait, non-decreasing in the batch) in `check`; a disaggregated prefill
  replica, the most requests/s whose p90 TTFT (service, KV transfer and wait) stays within the
  target (`requests`, `serving.prefill_capacity`).
- With `[sla] ttft_confidence`: the prompt's service time (its chunk steps, or its prefill) at
  the slow end of its TTFT interval (`slow_ratio`, `ttft_interval.slow_ratio`), the load it
  puts on the queue with it.
- Residual: `ttft`, 1 − p90 TTFT / target (with a confidence, the row's
  `guaranteed_ttft_p90_s`).
- Explanation: the lowest p90 TTFT a lightly loaded replica reaches (with a confidence, at the
  slow end).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from designer.model import serving

if TYPE_CHECKING:
    from designer.optimize.candidates import Candidates
    from designer.optimize.problem import Problem, WorkloadClass

NAME = "ttft"
TARGET = "sla.ttft"
STAGE = "too_slow_at_batch_1"
REL = serving.REL


def applies(wc: WorkloadClass, phase: str) -> bool:
    """Serving classes, in the phases that serve prompts."""
    return wc.serving is not None and phase in ("aggregated", "prefill")


def slow_ratios(problem: Problem, wc: WorkloadClass, g) -> np.ndarray:
    """Per candidate of the grid `g` (`columns.Grid`), the factor on the prompt's service time
    at the slow end of its TTFT interval under the class's `ttft_confidence`
    (`ttft_interval.slow_ratio` of the answer on its chip, TP and PP, under its chip's profile
    and the problem's engine): `columns.grid` keeps it as `Grid.ttft_slow`."""
    from designer.calibration import ttft_interval

    keys = np.stack([g.chip, g.t, g.p], axis=1)
    combos, first, back = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    answers: dict[int, ttft_interval.Answer] = {}
    ratio = np.empty(len(combos))
    for n, (chip, t, p) in enumerate(combos):
        if chip not in answers:  # what an answer on the chip is judged by, at TP = PP = 1
            prof, wl = g.chip_profiles[chip], g.workloads[g.group[first[n]]]
            answers[chip] = ttft_interval.answer_for(
                problem.catalog, prof, problem.engine, g.chip_ids[chip], wl, 1, 1
            )
        a = answers[chip]._replace(tp=int(t), pp=int(p))
        ratio[n] = ttft_interval.slow_ratio(a, wc.ttft_confidence)
    return ratio[back.ravel()]


def slow_ratio(c: Candidates, idx) -> np.ndarray:
    """Per candidate `idx`, the factor on the prompt's service time at the slow end of its
    TTFT interval under the class's `ttft_confidence` (`Grid.ttft_slow`); 1 without one."""
    idx = np.asarray(idx, dtype=np.int64)
    if c.g.ttft_slow is None:
        return np.ones(idx.shape)
    return c.g.ttft_slow[idx]


def p90(c: Candidates, where, m: dict) -> np.ndarray:
    """The p90 TTFT of aggregated candidates `where` the target holds (`m`: their aggregated
    metrics): the model's, or with a confidence the prompt's chunk steps at the slow end."""
    if not c.wc.ttft_confidence:
        return m["ttft_p90_s"]
    service = m["prefill_service_s"] * slow_ratio(c, where)
    return serving.aggregated_ttft(service, m["requests_per_s"], c.g.p[where])[1]


def check(c: Candidates, b, where, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """(met, excess) of the p90 TTFT of aggregated replicas at batch `b`."""
    e = p90(c, where, m) / (c.wc.serving.ttft_s * (1 - REL)) - 1.0
    return e <= 0, e


def requests(c: Candidates, idx) -> np.ndarray:
    """Per prefill candidate `idx`: the most requests/s within the p90 TTFT (its own KV
    transfer time included, not its KV egress: `kv_transfer.requests`; with a confidence, the
    prompt's prefill at the slow end)."""
    from designer.optimize.candidates import prefill_service

    service, kv_s, _ = prefill_service(c.problem, c.g, idx)
    service = service * slow_ratio(c, idx)
    return serving.prefill_capacity(service, c.g.p[idx], kv_s, c.wc.serving.ttft_s, np.inf)


def residual(problem: Problem, wc: WorkloadClass, row: dict) -> float | None:
    """1 − p90 TTFT / target (rows that serve prompts; with a confidence, the guaranteed p90)."""
    m = row["metrics"]
    if wc.serving is None or m["ttft_p90_s"] is None:
        return None
    return 1.0 - m.get("guaranteed_ttft_p90_s", m["ttft_p90_s"]) / wc.serving.ttft_s


def explain(
    problem: Problem, wc: WorkloadClass, g, idx, m1: dict, best: dict, within: str = ""
) -> str | None:
    """The lowest p90 TTFT any replica reaches, lightly loaded (aggregated at batch 1 under
    its own load, or none where it takes a share of a request rate,
    `Candidates.lightest_load`; a disaggregated prefill replica idle, its KV sent), when above
    the target."""
    from designer.optimize.candidates import Candidates, describe, prefill_service

    if wc.serving is None:
        return None
    phases = wc.serving.phases()
    c = Candidates(problem, wc, g)
    ttft = np.full(len(idx), np.inf)
    if "aggregated" in phases:
        one = {k: v[idx] for k, v in m1.items()}
        m = g.aggregated(wc, np.ones(len(idx)), idx, one, c.lightest_load)
        ttft = np.minimum(ttft, p90(c, idx, m))
    chunked = ttft.copy()  # aggregated: a prompt's chunk steps
    if "prefill" in phases:
        service, kv_s, _ = prefill_service(problem, g, idx)
        ttft = np.minimum(ttft, service * slow_ratio(c, idx) + kv_s)
    i = int(np.argmin(ttft))
    best["min_ttft_s"] = float(ttft[i])
    if not np.isfinite(ttft[i]):  # every replica's prompts fill its queue: no TTFT, no design
        return _no_steady_state(wc, phases)
    best["min_ttft_design"] = describe(problem, g, int(idx[i]), 1)
    if ttft[i] <= wc.serving.ttft_s:
        return None
    k = int(idx[i])
    slow = (
        f" at the slow end of its interval (confidence {wc.ttft_confidence:g})"
        if wc.ttft_confidence
        else ""
    )
    prompt, chunk = wc.workload.prompt_tokens, wc.serving.chunk_tokens
    steps, budget = "", ""
    if chunked[i] == ttft[i] and chunk < prompt:  # the budget spreads the prompt over steps
        n = int(serving.chunk_steps(prompt, chunk))
        steps = f"; each {prompt:,}-token prompt takes {n:,} chunk steps"
        budget = f", serving.chunk_tokens (now {chunk})"
    return (
        f"{TARGET} = {wc.serving.ttft_s:g} s is below the lowest reachable p90 time to first "
        f"token{slow}, {ttft[i]:.3g} s ({problem.chips[int(g.chip[k])]}, tp={g.t[k]}, "
        f"pp={g.p[k]}; "
        f"serving.mode = {wc.serving.mode}{steps}): raise {TARGET}{budget} or space.tp"
        + (" or lower sla.ttft_confidence" if wc.ttft_confidence else "")
    )


def _no_steady_state(wc: WorkloadClass, phases) -> str:
    """Why no replica reaches a finite TTFT: its prompts arrive faster than it prefills them,
    lightly loaded (for an aggregated one, a small chunk budget spreads each prompt over many
    steps, each with its decoders)."""
    prompt, chunk = wc.workload.prompt_tokens, wc.serving.chunk_tokens
    if "aggregated" in phases and chunk < prompt:
        steps = int(serving.chunk_steps(prompt, chunk))
        return (
            f"no configuration keeps up with its own prompts, even at batch 1: with "
            f"serving.chunk_tokens = {chunk} each {prompt:,}-token prompt takes {steps:,} chunk "
            f"steps, and its users send them faster (serving.mode = {wc.serving.mode}): raise "
            f"serving.chunk_tokens (default {serving.DEFAULT_CHUNK_TOKENS})"
            + ("" if "prefill" in phases else " or set serving.mode = disaggregated")
        )
    return (
        f"no configuration keeps up with its prompts (serving.mode = {wc.serving.mode}): every "
        f"replica's prompts fill its queue, so no p90 time to first token exists; raise "
        f"{TARGET} or space.tp"
    )

"""The time to first token: its p90 stays within `[sla] ttft` (serving classes).

- Screen: aggregated, the p90 TTFT at the batch (`serving.aggregated`: the prompt's chunk steps
  plus the M/D/1 wait, non-decreasing in the batch) in `check`; a disaggregated prefill
  replica, the most requests/s whose p90 TTFT (service, KV transfer and wait) stays within the
  target (`requests`, `serving.prefill_capacity`).
- Residual: `ttft`, 1 − p90 TTFT / target.
- Explanation: the lowest p90 TTFT a lightly loaded replica reaches.
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


def check(c: Candidates, b, where, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """(met, excess) of the p90 TTFT of aggregated replicas at batch `b`."""
    e = m["ttft_p90_s"] / (c.wc.serving.ttft_s * (1 - REL)) - 1.0
    return e <= 0, e


def requests(c: Candidates, idx) -> np.ndarray:
    """Per prefill candidate `idx`: the most requests/s within the p90 TTFT (its own KV
    transfer time included, not its KV egress: `kv_transfer.requests`)."""
    from designer.optimize.candidates import prefill_service

    service, kv_s, _ = prefill_service(c.problem, c.g, idx)
    return serving.prefill_capacity(service, c.g.p[idx], kv_s, c.wc.serving.ttft_s, np.inf)


def residual(problem: Problem, wc: WorkloadClass, row: dict) -> float | None:
    """1 − p90 TTFT / target (rows that serve prompts)."""
    m = row["metrics"]
    if wc.serving is None or m["ttft_p90_s"] is None:
        return None
    return 1.0 - m["ttft_p90_s"] / wc.serving.ttft_s


def explain(
    problem: Problem, wc: WorkloadClass, g, idx, m1: dict, best: dict, within: str = ""
) -> str | None:
    """The lowest p90 TTFT any replica reaches, lightly loaded (aggregated at batch 1 under
    its own load; a disaggregated prefill replica idle, its KV sent), when above the target."""
    from designer.optimize.candidates import describe, prefill_service

    if wc.serving is None:
        return None
    phases = wc.serving.phases()
    ttft = np.full(len(idx), np.inf)
    if "aggregated" in phases:
        one = {k: v[idx] for k, v in m1.items()}
        ttft = np.minimum(ttft, g.aggregated(wc, np.ones(len(idx)), idx, one)["ttft_p90_s"])
    if "prefill" in phases:
        service, kv_s, _ = prefill_service(problem, g, idx)
        ttft = np.minimum(ttft, service + kv_s)
    i = int(np.argmin(ttft))
    best["min_ttft_s"] = float(ttft[i])
    best["min_ttft_design"] = describe(problem, g, int(idx[i]), 1)
    if ttft[i] <= wc.serving.ttft_s:
        return None
    k = int(idx[i])
    return (
        f"{TARGET} = {wc.serving.ttft_s:g} s is below the lowest reachable p90 time to first "
        f"token, {ttft[i]:.3g} s ({problem.chips[int(g.chip[k])]}, tp={g.t[k]}, pp={g.p[k]}; "
        f"serving.mode = {wc.serving.mode}): raise {TARGET} or space.tp"
    )

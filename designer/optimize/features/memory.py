"""Memory capacity: the weights and the KV cache of a configuration's users fit in each chip's
usable memory (`perf.memory_per_chip`).

- Screen: `check`, the forward model's `fits` at the batch (non-decreasing in the batch; the
  excess, memory over usable capacity − 1, guides the bisection); aggregated serving adds the
  KV of the prompts being prefilled in chunks (`serving.prefill_kv_per_chip`, non-decreasing
  in the batch too). A candidate whose weights and one user do not fit is `weights_do_not_fit`,
  screened once per class; one that also cannot hold a prompt in prefill is removed at that
  stage in the aggregated phase.
- Residual: `memory-capacity`, 1 − memory per chip (with the prompts in prefill) / usable
  memory per chip.
- Explanation: the weights and one user's KV (aggregated only: and one prompt in prefill) fit
  on no candidate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from designer.model import serving
from designer.optimize.candidates import Candidates

if TYPE_CHECKING:
    from designer.optimize.problem import Problem, WorkloadClass

NAME = "memory-capacity"
TARGET = "chips.*.memory_capacity"
STAGE = "weights_do_not_fit"


def applies(wc: WorkloadClass, phase: str) -> bool:
    return True


def check(c: Candidates, b, where, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """(fits, memory per chip / usable capacity − 1) at batch `b` of the candidates `where`;
    aggregated serving (`m` has the prompt tokens per step), with the KV of the prompts in
    prefill (`serving.prefill_kv_per_chip`)."""
    cap = c.g.hw["usable_capacity"][where]
    mem, fits = m["memory_per_chip_bytes"], m["fits"]
    if "prompt_tokens_per_step" in m:
        g = c.g
        mem = mem + serving.prefill_kv_per_chip(
            c.wc.workload, g.t[where], g.p[where], m["prompt_tokens_per_step"], g.attention[where]
        )
        fits = mem <= cap * (1 + 1e-12)  # as perf's `fits`
    return fits, mem / np.where(cap > 0, cap, np.nan) - 1.0


def residual(problem: Problem, wc: WorkloadClass, row: dict) -> float | None:
    """1 − memory per chip (with the prompts in prefill, aggregated) / usable memory."""
    m = row["metrics"]
    held = m["memory_per_chip_bytes"] + (m.get("prefill_kv_per_chip_bytes") or 0.0)
    return 1.0 - held / m["usable_memory_per_chip_bytes"]


def explain(
    problem: Problem, wc: WorkloadClass, g, idx, m1: dict, best: dict, within: str = ""
) -> str | None:
    """When no candidate `idx` holds the weights and one user's KV — or, for a class served
    aggregated only, also the KV of one prompt in prefill — the candidate that comes closest:
    what one of its chips holds against its usable memory (and, as before, the most usable
    memory of any candidate's replica, `max_usable_memory_bytes`)."""
    from designer.optimize.candidates import describe

    wl = wc.workload
    cap = g.hw["usable_capacity"][idx]
    what = f"the weights ({wl.weight_bytes / 1e9:.1f} GB) and one user's KV cache"
    if m1["fits"][idx].any():
        if wc.serving is None or wc.serving.phases() != ("aggregated",):
            return None
        c = Candidates(problem, wc, g, "aggregated")
        one = np.ones(len(idx))
        m = g.aggregated(wc, one, idx, {k: v[idx] for k, v in m1.items()}, c.lightest_load)
        fits, excess = check(c, one, idx, m)
        if fits.any():
            return None
        held = (excess + 1.0) * cap
        prompt = wl.kv_bytes_held(wl.prompt_tokens)
        what = (
            f"the weights ({wl.weight_bytes / 1e9:.1f} GB), one user's KV cache "
            f"({wl.kv_bytes_per_user / 1e9:.2f} GB) and the KV of one prompt in prefill "
            f"({float(prompt) / 1e9:.2f} GB; serving.mode = aggregated)"
        )
    else:
        held = m1["memory_per_chip_bytes"][idx]
        what += f" ({wl.kv_bytes_per_user / 1e9:.2f} GB)"
    largest = float(np.max(cap * g.t[idx] * g.p[idx], initial=0))
    best["max_usable_memory_bytes"] = largest
    j = int(np.nanargmin(held / np.where(cap > 0, cap, np.nan)))
    design = describe(problem, g, int(idx[j]), 1)
    best["least_memory_per_chip_bytes"] = float(held[j])
    best["least_memory_per_chip_design"] = design
    return (
        f"{what} fit on no candidate: the closest, {design['chip']} at tp={design['tp']}, "
        f"pp={design['pp']}, batch 1, holds {held[j] / 1e9:.3g} GB per chip of its "
        f"{cap[j] / 1e9:.3g} GB usable (raise space.tp/space.pp or add chips with more memory)"
    )

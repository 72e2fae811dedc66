"""Memory capacity: the weights and the KV cache of a configuration's users fit in each chip's
usable memory (`perf.memory_per_chip`).

- Screen: `check`, the forward model's `fits` at the batch (non-decreasing in the batch; the
  excess, memory over usable capacity − 1, guides the bisection). Memory does not depend on
  the serving phase: a candidate that fails at batch 1 is `weights_do_not_fit`, screened once
  per class.
- Residual: `memory-capacity`, 1 − memory per chip / usable memory per chip.
- Explanation: the weights and one user's KV fit on no candidate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from designer.optimize.candidates import Candidates
    from designer.optimize.problem import Problem, WorkloadClass

NAME = "memory-capacity"
TARGET = "chips.*.memory_capacity"
STAGE = "weights_do_not_fit"


def applies(wc: WorkloadClass, phase: str) -> bool:
    return True


def check(c: Candidates, b, where, m: dict) -> tuple[np.ndarray, np.ndarray]:
    """(fits, memory per chip / usable capacity − 1) at batch `b` of the candidates `where`."""
    cap = c.g.hw["usable_capacity"][where]
    return m["fits"], m["memory_per_chip_bytes"] / np.where(cap > 0, cap, np.nan) - 1.0


def residual(problem: Problem, wc: WorkloadClass, row: dict) -> float | None:
    m = row["metrics"]
    return 1.0 - m["memory_per_chip_bytes"] / m["usable_memory_per_chip_bytes"]


def explain(
    problem: Problem, wc: WorkloadClass, g, idx, m1: dict, best: dict, within: str = ""
) -> str | None:
    """When no candidate `idx` holds the weights and one user's KV: the most usable memory of
    any of them."""
    if m1["fits"][idx].any():
        return None
    wl = wc.workload
    largest = float(np.max(g.hw["usable_capacity"][idx] * g.t[idx] * g.p[idx], initial=0))
    best["max_usable_memory_bytes"] = largest
    return (
        f"the weights ({wl.weight_bytes / 1e9:.1f} GB) and one user's KV cache "
        f"({wl.kv_bytes_per_user / 1e9:.2f} GB) fit on no candidate: the most usable "
        f"memory in the space is {largest / 1e9:.1f} GB (raise space.tp/space.pp or add "
        f"chips with more memory)"
    )

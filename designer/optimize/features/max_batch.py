"""`space.max_batch`: the most users per micro-batch a configuration may run — a bound of the
design space, not a requirement: its zero slack is not reported as binding (`BOUND`), and a
configuration whose batch stops there says `max-batch`.

- Screen: `check`, met up to the bound (it never moves the bisection of `columns.batch_cap`,
  whose search ends there: the excess is −∞).
- Residual: `max-batch`, 1 − batch / max_batch.
- Explanation: none — batch 1 is always within the bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from designer.optimize.candidates import Candidates
    from designer.optimize.problem import Problem, WorkloadClass

NAME = "max-batch"
TARGET = "space.max_batch"
STAGE = "too_slow_at_batch_1"
BOUND = True


def applies(wc: WorkloadClass, phase: str) -> bool:
    return phase != "prefill"


def check(c: Candidates, b, where, m: dict) -> tuple[np.ndarray, np.ndarray]:
    b = np.broadcast_to(np.asarray(b), np.shape(where))
    return b <= c.problem.max_batch, np.full(np.shape(where), -np.inf)


def residual(problem: Problem, wc: WorkloadClass, row: dict) -> float | None:
    return 1.0 - row["design"]["batch"] / problem.max_batch


def explain(
    problem: Problem, wc: WorkloadClass, g, idx, m1: dict, best: dict, within: str = ""
) -> str | None:
    return None  # batch 1 is always within space.max_batch (≥ 1)

"""Users in flight fit the slots: a class asking for a request rate keeps `λ·O·TPOT` users
decoding at once (Little's law, a mean; TPOT at the slow end of its interval under a
`[sla] confidence`), and the replicas of a configuration hold at most their slots,
replicas × p × batch.

- Screen (`load`, at a given load): an aggregated column of such a class takes the slots and
  the load that serve the most requests/s (`columns._part_loaded`), and a load whose users
  overflow its slots is not served there (`columns._Load.holds`). At a batch's own full
  turnover the users are its slots by construction, so the batch bisection needs no `check`;
  a decode column serves its full batch (`columns._serves`).
- Residual: `slots`, 1 − the users a row's share of the rate keeps in flight (at its own
  TPOT, the guaranteed one under a confidence) / its slots, where a minimized problem asks for
  the rate. The re-check gives each row the whole users of its share (`recheck`); this says
  whether they fit rather than cutting them to fit.
- Explanation: none — at a light enough load a replica keeps fewer users in flight than one
  slot.
- A bound: a full replica's slots are its batch, and what stops its batch is the row's
  `limited_by`, so no slack here is not reported as binding (`BOUND`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from designer.optimize.candidates import Candidates
    from designer.optimize.problem import Problem, WorkloadClass

NAME = "slots"
TARGET = "sla.requests_per_s"
STAGE = "too_slow_at_batch_1"
BOUND = True


def applies(wc: WorkloadClass, phase: str) -> bool:
    """Classes asking for a request rate, in the phases that decode."""
    return wc.by_requests and phase != "prefill"


def load(c: Candidates, b, where, m: dict, lam, slow) -> tuple[np.ndarray, np.ndarray]:
    """(met, excess) of candidates `where` at `b` slots per micro-batch serving `lam`
    requests/s per replica: their users in flight, `lam·O·TPOT·slow` (`m`: the phase metrics
    at that load; `slow`, the step-time factor at the slow end, `rate.slow_factor`), over the
    slots `p·b`, − 1."""
    held = np.asarray(lam) * c.wc.workload.output_tokens * m["tpot_s"] * slow
    e = held / (c.g.p[where] * np.asarray(b, dtype=float)) - 1.0
    return e <= 0, e


def residual(problem: Problem, wc: WorkloadClass, row: dict) -> float | None:
    """1 − users in flight / slots, for a row that decodes a request rate a minimized
    problem asks for (its share spread by the re-check): its requests/s × O × its TPOT (1 /
    the guaranteed rate under a confidence). Under `maximize` a row's requests/s are its full
    slots turning over at their nominal TPOT: they hold by construction."""
    m, d = row["metrics"], row["design"]
    asked = wc.by_requests and problem.sense == "minimize"
    if not asked or row["phase"] == "prefill" or not m.get("requests_per_s"):
        return None
    per_user = m.get("guaranteed_tokens_per_s_per_user") or 1.0 / m["tpot_s"]
    if not per_user > 0:  # no steady state (TPOT unbounded): users without bound
        return -np.inf
    held = m["requests_per_s"] * wc.workload.output_tokens / per_user
    return 1.0 - held / (d["replicas"] * d["pp"] * d["batch"])


def explain(
    problem: Problem, wc: WorkloadClass, g, idx, m1: dict, best: dict, within: str = ""
) -> str | None:
    return None  # a light enough load keeps fewer users in flight than one slot

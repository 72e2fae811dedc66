"""Exchange bounds on replicas: caps that some lexicographically optimal fleet meets.

Two columns k and k' of the same class, chip type and serving phase: when b replicas of k'
serve at least what a replicas of k serve (`Columns.serves`; requests/s for prefill) on fewer chips
(b·chips_k' < a·chips_k), or on as many chips in fewer, larger replicas (b < a), then a
replicas of k can be exchanged for b of k' in any fleet. The exchange keeps every requirement
row met (demand and the prefill pool count what replicas serve on their ≥ side), the servers
bought (chips of that type do not grow, so the same whole servers hold them) and therefore
capex, power, TCO, limits, supply and chip types; the chips do not grow either. So it keeps a
fleet optimal under the objective and every tie-break (capex, power, chips). Each exchange
lowers (chips, replicas) lexicographically, so exchanging while any applies ends, at an
optimal fleet with R_k ≤ a − 1 for every such pair at once: a cap the MILP may add without
changing its optimal value (`replica_caps`). Among fleets tied on chips the larger replicas
are kept (a replica half the size of another that serves half the users is capped at one): HiGHS
proves the planet problem's optimum faster this way round (benchmarks/README.md).

Caps are set for a minimize problem of two classes or more (`applies`: one class is solved
in milliseconds). They hold for integer fleets only: they go to the MILP, never to the LP
relaxation the sensitivity reads. They do not hold when the number of configurations is
limited (`[fleet] max_configurations`: an exchange can bring in a configuration), nor under
maximize (more users of a decode column ask the prefill pool for more): none are set there.
"""

from __future__ import annotations

import numpy as np

from designer.optimize.columns import Columns
from designer.optimize.problem import Problem

# exchanges of up to this many replicas of k are looked for
MAX_EXCHANGE = 64


def applies(problem: Problem) -> bool:
    """Caps for many classes, where they pay: one class is solved in milliseconds and keeps
    HiGHS' pick among fleets tied on every criterion; none under a cap on configurations."""
    return (
        len(problem.classes) > 1
        and problem.max_configurations is None
        and problem.sense == "minimize"  # (maximize takes one class)
    )


def replica_caps(problem: Problem, c: Columns, rmax: np.ndarray) -> np.ndarray:
    """Per column, the replicas some optimal fleet does not exceed: `rmax` lowered by every
    exchange (module doc) of at most MAX_EXCHANGE replicas."""
    caps = np.array(rmax, dtype=np.int64)
    if not applies(problem) or not len(c):
        return caps
    served = np.where(c.phase == "prefill", c.requests_capacity, c.serves)
    keys = np.stack([c.cls, c.chip, np.unique(c.phase, return_inverse=True)[1]], axis=1)
    _, group = np.unique(keys, axis=0, return_inverse=True)
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        if len(idx) < 2:
            continue
        a = _smallest_exchange(served[idx], c.chips[idx].astype(float))
        caps[idx] = np.minimum(caps[idx], a - 1)
    return np.maximum(caps, 0)


def _smallest_exchange(served: np.ndarray, chips: np.ndarray) -> np.ndarray:
    """Per column k of one group, the smallest a ≤ MAX_EXCHANGE such that a replicas of k can
    be exchanged for b of another column k' of the group (module doc: fewer chips, or as many
    in fewer replicas); beyond MAX_EXCHANGE where none is found (no cap)."""
    n = len(served)
    a = np.arange(1, MAX_EXCHANGE + 1, dtype=float)[None, None, :]  # [k, k', a]
    need = a * served[:, None, None]
    per = served[None, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):  # never enough: b = inf
        b = np.ceil(need / per * (1 - 1e-12))
        b = np.where(b * per >= need, b, b + 1)  # the float quotient's rounding undone
        b = np.where(per > 0, b, np.inf)
        used, held = b * chips[None, :, None], a * chips[:, None, None]
        ok = (used <= held) & ((used < held) | (b < a)) & (b * per >= need)
    ok &= ~np.eye(n, dtype=bool)[:, :, None]
    hit = ok.any(axis=1)  # [k, a]
    return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, np.iinfo(np.int64).max // 4)

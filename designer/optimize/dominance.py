"""Exchange bounds on replicas: caps that some lexicographically optimal fleet meets.

Two columns k and k' of the same class, chip type and serving phase: when b replicas of k'
serve at least what a replicas of k serve (users; requests/s for prefill; the maximized
quantity too) on no more chips, with fewer chips or fewer replicas (b·chips_k' < a·chips_k or
b < a), then a replicas of k can be exchanged for b of k' in any fleet. The exchange keeps
every requirement row met (demand and the prefill pool count what replicas serve on their ≥
side), the servers bought (chips of that type do not grow, so the same whole servers hold them)
and therefore capex, power, TCO, limits, supply and chip types; the chips do not grow either.
So it keeps a fleet optimal under the objective and every tie-break (capex, power, chips).
Each exchange lowers (chips, replicas) lexicographically, so exchanging while any applies
ends, at an optimal fleet with R_k ≤ a − 1 for every such pair at once: a cap the MILP may
add without changing its optimal value (`replica_caps`).

The caps hold for integer fleets only: they go to the MILP, never to the LP relaxation the
sensitivity reads. They do not hold when the number of configurations is limited (`[fleet]
max_configurations`: an exchange can bring in a configuration), nor, under maximize, for
decode columns (their users ask the prefill pool for more) — none are set there.
"""

from __future__ import annotations

import numpy as np

from designer.optimize.columns import Columns
from designer.optimize.problem import Problem

# exchanges of up to this many replicas of k are looked for
MAX_EXCHANGE = 64


def replica_caps(problem: Problem, c: Columns, rmax: np.ndarray) -> np.ndarray:
    """Per column, the replicas some optimal fleet does not exceed: `rmax` lowered by every
    exchange (module doc) of at most MAX_EXCHANGE replicas."""
    caps = np.array(rmax, dtype=np.int64)
    if problem.max_configurations is not None or not len(c):
        return caps
    served = np.where(c.phase == "prefill", c.requests_capacity, c.users.astype(float))
    extra = _maximized(problem, c)
    eligible = np.ones(len(c), dtype=bool)
    if problem.sense == "maximize":
        eligible = c.phase != "decode"
    keys = np.stack([c.cls, c.chip, np.unique(c.phase, return_inverse=True)[1]], axis=1)
    _, group = np.unique(keys, axis=0, return_inverse=True)
    for g in np.unique(group[eligible]):
        idx = np.flatnonzero((group == g) & eligible)
        if len(idx) < 2:
            continue
        a = _smallest_exchange(
            served[idx], c.chips[idx].astype(float), None if extra is None else extra[idx]
        )
        caps[idx] = np.minimum(caps[idx], a - 1)
    return np.maximum(caps, 0)


def _maximized(problem: Problem, c: Columns) -> np.ndarray | None:
    """Per replica, what a maximize objective counts (None under minimize)."""
    if problem.sense != "maximize":
        return None
    if problem.objective == "system_tokens_per_s":
        return np.asarray(c.tokens_per_s, dtype=float)
    return c.users.astype(float)


def _smallest_exchange(served: np.ndarray, chips: np.ndarray, extra: np.ndarray | None):
    """Per column k of one group, the smallest a ≤ MAX_EXCHANGE such that a replicas of k can
    be exchanged for b of another column k' of the group (module doc); MAX_EXCHANGE + 1 and
    beyond where none is found (no cap)."""
    n = len(served)
    best = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    other = ~np.eye(n, dtype=bool)  # [k, k']
    for a in range(1, MAX_EXCHANGE + 1):
        if not open_.any():
            break
        rows = np.flatnonzero(open_)
        with np.errstate(invalid="ignore"):  # never enough (b = inf) × 0 served: not a pair
            ok, b = _exchange(a, rows, served, extra)
        fewer_chips = b * chips[None, :] < a * chips[rows, None]
        ok &= (b * chips[None, :] <= a * chips[rows, None]) & (fewer_chips | (b < a))
        ok &= other[rows]
        hit = ok.any(axis=1)
        best[rows[hit]] = a
        open_[rows[hit]] = False
    return best


def _exchange(a: int, rows: np.ndarray, served: np.ndarray, extra: np.ndarray | None):
    """For a replicas of each column of `rows` against every column k': b, the fewest replicas
    of k' that serve as much (and count as much under maximize), and whether they do."""
    need = a * served[rows, None]
    b = _fewest(need, served)
    if extra is None:
        return b * served[None, :] >= need, b
    more = a * extra[rows, None]
    b = np.maximum(b, _fewest(more, extra))
    return (b * served[None, :] >= need) & (b * extra[None, :] >= more), b


def _fewest(need: np.ndarray, per: np.ndarray) -> np.ndarray:
    """⌈need / per⌉ per pair (per ≤ 0: never enough), the float quotient's rounding undone."""
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.ceil(need / per[None, :] * (1 - 1e-12))
    b = np.where(b * per[None, :] >= need, b, b + 1)
    return np.where(per[None, :] > 0, b, np.inf)

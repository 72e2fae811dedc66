"""Expert parallelism: how much of a MoE layer's routed work lands on its busiest chip group.

With expert-parallel degree e, a layer's E routed experts are spread over e groups of E/e.
A step routes n tokens, each to k distinct experts chosen uniformly (the paper's routing
assumption). A step waits for the busiest group, so what counts is the expected maximum over
groups, not the mean:

- distinct experts a group must read: each expert is touched with probability
  q = 1 − (1 − k/E)^n, so a group's count is about Binomial(E/e, q);
- token-expert pairs a group must compute: each of the n·k pairs lands in a group with
  probability 1/e, so a group's count is about Binomial(n·k, 1/e).

Both maxima are taken over e independent copies: E[max] = Σ_x (1 − F(x)^e). Groups are in fact
slightly negatively correlated (their counts share a total), so this is a little pessimistic;
`tests/test_experts.py` checks it against a Monte Carlo of random routing.

`busiest_group` is the definition, one pair at a time; `busiest_group_arrays`, what the forward
model calls, computes every new (groups, tokens) pair of a call at once
(`expected_max_binomial_arrays`: the same terms within a few units in the last place) and keeps
them in a table per (experts, top-k) for the rest of the process.

>>> round(busiest_group(256, 8, 8, 1)[0], 2)   # DeepSeek-V3, batch 1, 8 chips: mean is 1
2.54
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


def expected_max_binomial(n: int, q: float, copies: int) -> float:
    """E[max of `copies` independent Binomial(n, q)] = Σ_{x<n} (1 − F(x)^copies)."""
    if n <= 0 or q <= 0.0:
        return 0.0
    if q >= 1.0:
        return float(n)
    x = np.arange(n + 1, dtype=float)
    lg = _log_factorials(n)
    logpmf = lg[n] - lg - lg[::-1] + x * math.log(q) + (n - x) * math.log1p(-q)
    cdf = np.minimum(np.cumsum(np.exp(logpmf)), 1.0)
    return float(np.sum(1.0 - cdf[:-1] ** copies))


_LOG_FACTORIALS = np.zeros(1)  # log(v!) for v = 0…, math.lgamma(v + 1) each, grown on demand


def _log_factorials(n: int) -> np.ndarray:
    """log(v!) for v = 0…n (a view of one table shared by every call: the same
    `math.lgamma` values, computed once rather than n + 1 of them per call)."""
    global _LOG_FACTORIALS
    have = len(_LOG_FACTORIALS)
    if have <= n:
        more = [math.lgamma(v + 1.0) for v in range(have, max(n + 1, 2 * have))]
        _LOG_FACTORIALS = np.concatenate([_LOG_FACTORIALS, more])
        _LOG_FACTORIALS.setflags(write=False)
    return _LOG_FACTORIALS[: n + 1]


@lru_cache(maxsize=65536)
def busiest_group(num_experts: int, top_k: int, groups: int, tokens: int) -> tuple[float, float]:
    """(expected distinct experts, expected token-expert pairs) of the busiest of `groups`
    expert groups when `tokens` tokens are each routed to `top_k` of `num_experts` experts."""
    if tokens <= 0:
        return 0.0, 0.0
    if groups <= 1:
        distinct = num_experts * (1.0 - (1.0 - top_k / num_experts) ** tokens)
        return distinct, float(tokens * top_k)
    per_group = math.ceil(num_experts / groups)
    q = 1.0 - (1.0 - top_k / num_experts) ** tokens
    # the busiest group holds at least its share of one token's k experts (and of all pairs),
    # and a group needs one pair per distinct expert
    distinct = max(expected_max_binomial(per_group, q, groups), math.ceil(top_k / groups))
    pairs = expected_max_binomial(tokens * top_k, per_group / num_experts, groups)
    pairs = max(pairs, distinct, math.ceil(tokens * top_k / groups))
    return min(distinct, float(per_group)), pairs


def expected_max_binomial_arrays(n, q, copies) -> np.ndarray:
    """`expected_max_binomial` over 1-d arrays of n, q and copies at once, within a few units
    in the last place: the same terms (pmf from the shared log-factorials, running CDF capped
    at 1, Σ_{x<n} (1 − F(x)^copies)), evaluated only where they are not constant
    (`_window`), rows of similar width padded to one."""
    n = np.asarray(n, dtype=np.int64)
    q = np.asarray(q, dtype=float)
    copies = np.asarray(copies, dtype=np.int64)
    out = np.zeros(len(n))
    whole = (n > 0) & (q >= 1.0)
    out[whole] = n[whole]
    rows = np.flatnonzero((n > 0) & (q > 0.0) & (q < 1.0))
    lo, hi = _window(n[rows], q[rows])
    order = np.argsort(hi - lo, kind="stable")
    rows, lo, hi = rows[order], lo[order], hi[order]
    for chunk in _chunks(hi - lo + 1):
        r = rows[chunk]
        out[r] = _expected_max_rows(n[r], q[r], copies[r], lo[chunk], hi[chunk])
    return out


def _window(n: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per Binomial(n, q), the x range [lo, hi] ⊆ [0, n − 1] outside which the terms of
    `expected_max_binomial` are constant, by Chernoff bounds on the tails (mean μ = nq):
    P(X < lo) ≤ e^−100, so below lo F^copies < 2^−54 and each term is exactly 1 (and the mass
    left out of the running sum is under 10^−27 of any F that changes a term); P(X > hi) ≤
    e^−40 < 2^−56, so above hi no pmf changes the running sum, near 1, and every term is the
    one at hi."""
    mu = n * q
    lo = np.maximum(np.floor(mu - np.sqrt(200.0 * mu)), 0.0).astype(np.int64)
    t = (80.0 / 3.0 + np.sqrt((80.0 / 3.0) ** 2 + 320.0 * mu)) / 2.0
    hi = np.minimum(np.ceil(mu + t).astype(np.int64) + 1, n - 1)
    return np.minimum(lo, hi), hi


_CHUNK_ELEMENTS = 1 << 19  # padded (rows × width) entries evaluated at once


def _chunks(sorted_width: np.ndarray) -> list[slice]:
    """Slices of `sorted_width` (ascending) whose rows pad to one width with little waste (the
    widest at most 1/8 wider than the narrowest, plus 16) and at most `_CHUNK_ELEMENTS`."""
    out, start = [], 0
    while start < len(sorted_width):
        widest = int(sorted_width[start] * 1.125) + 16
        stop = int(np.searchsorted(sorted_width, widest, side="right"))
        width = int(sorted_width[stop - 1])
        stop = min(stop, start + max(1, _CHUNK_ELEMENTS // width))
        out.append(slice(start, stop))
        start = stop
    return out


def _expected_max_rows(n, q, copies, lo, hi) -> np.ndarray:
    """`expected_max_binomial` per row (0 < q < 1, n ≥ 1): lo terms of exactly 1, the terms at
    x = lo … hi (the rows padded to the widest window), and n − 1 − hi more of the term at hi."""
    x = lo[:, None] + np.arange(int((hi - lo).max()) + 1)
    inside = x <= hi[:, None]
    x = np.minimum(x, n[:, None])
    lg = _log_factorials(int(n.max()))
    log_q = np.array([math.log(v) for v in q])[:, None]
    log_1q = np.array([math.log1p(-v) for v in q])[:, None]
    xf = x.astype(float)
    logpmf = lg[n][:, None] - lg[x] - lg[n[:, None] - x] + xf * log_q + (n[:, None] - xf) * log_1q
    cdf = np.minimum(np.cumsum(np.where(inside, np.exp(logpmf), 0.0), axis=1), 1.0)
    terms = np.where(inside, 1.0 - cdf ** copies[:, None].astype(float), 0.0)
    last = terms[np.arange(len(n)), hi - lo]
    return lo + terms.sum(axis=1) + (n - 1 - hi) * last


def busiest_group_many(num_experts: int, top_k: int, groups, tokens) -> tuple[np.ndarray, ...]:
    """`busiest_group` over 1-d arrays of groups (> 1) and whole tokens (> 0), each pair once:
    the same bounds, with `expected_max_binomial_arrays` for the two expected maxima."""
    g = np.asarray(groups, dtype=np.int64)
    n = np.asarray(tokens, dtype=np.int64)
    per_group = -(-num_experts // g)
    # q = 1 − (1 − k/E)^n and the pairs' 1/E share per expert in Python floats, as the scalar
    base = 1.0 - top_k / num_experts
    q = np.array([1.0 - base ** int(v) for v in n], dtype=float)
    distinct = expected_max_binomial_arrays(per_group, q, g)
    distinct = np.maximum(distinct, np.ceil(top_k / g))
    share = np.array([int(v) / num_experts for v in per_group], dtype=float)
    pairs = expected_max_binomial_arrays(n * top_k, share, g)
    pairs = np.maximum(np.maximum(pairs, distinct), np.ceil(n * top_k / g))
    return np.minimum(distinct, per_group.astype(float)), pairs


# per (num_experts, top_k): the table's row of each groups count (−1: none yet) and
# busiest_group's (distinct, pairs) by [row, whole tokens], NaN where not yet computed; grown on
# demand up to _TABLE_ENTRIES entries (beyond, the pairs of a call are computed for it alone)
_TABLES: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
_TABLE_ENTRIES = 1 << 22


def _table(num_experts: int, top_k: int, groups: np.ndarray, max_tokens: int):
    """(the row of each groups count, the table) of (num_experts, top_k), grown to hold
    `groups` and `max_tokens`; None when it would be over `_TABLE_ENTRIES` entries."""
    key = (num_experts, top_k)
    row_of, values = _TABLES.get(key, (np.zeros(0, np.int64), np.full((0, 0, 2), np.nan)))
    top = int(groups.max())
    if len(row_of) <= top:
        row_of = np.concatenate([row_of, np.full(top + 1 - len(row_of), -1, np.int64)])
    missing = row_of[groups] < 0
    new = np.unique(groups[missing]) if missing.any() else groups[:0]
    have_rows, have_cols = values.shape[:2]
    cols = have_cols if have_cols > max_tokens else max(max_tokens + 1, 2 * have_cols)
    if (have_rows + len(new)) * cols > _TABLE_ENTRIES:
        return None
    if len(new) or cols > have_cols:
        row_of[new] = np.arange(have_rows, have_rows + len(new))
        grown = np.full((have_rows + len(new), cols, 2), np.nan)
        grown[:have_rows, :have_cols] = values
        values = grown
    _TABLES[key] = (row_of, values)
    return row_of, values


def busiest_group_arrays(num_experts: int, top_k: int, groups, tokens) -> tuple[np.ndarray, ...]:
    """`busiest_group` over broadcast arrays of groups and tokens: in closed form where there
    is one group, else looked up per (groups, whole tokens) in a table filled on demand by
    `busiest_group_many` (each pair computed once per process)."""
    g, n = np.broadcast_arrays(np.asarray(groups, dtype=np.int64), np.asarray(tokens, dtype=float))
    distinct = np.array(num_experts * (1.0 - (1.0 - top_k / num_experts) ** n))
    pairs = np.array(n * top_k)
    many = g > 1
    if not many.any():
        return distinct, pairs
    gm = g[many]
    whole = np.maximum(np.ceil(n[many] - 1e-9).astype(np.int64), 0)
    table = _table(num_experts, top_k, gm, int(whole.max()))
    if table is None:  # too large to keep: each distinct pair once, this call only
        kg, kn, inverse = _distinct_pairs(gm, whole)
        vals = np.stack(_busiest_or_zero(num_experts, top_k, kg, kn), axis=-1)[inverse]
    else:
        row_of, values = table
        rows = row_of[gm]
        vals = values[rows, whole]
        todo = np.isnan(vals[:, 0])
        if todo.any():
            kg, kn, _ = _distinct_pairs(gm[todo], whole[todo])
            values[row_of[kg], kn] = np.stack(_busiest_or_zero(num_experts, top_k, kg, kn), axis=-1)
            vals = values[rows, whole]
    distinct[many] = vals[:, 0]
    pairs[many] = vals[:, 1]
    return distinct, pairs


def _distinct_pairs(g: np.ndarray, n: np.ndarray):
    """The distinct (g, n) pairs of two non-negative int arrays, and where each entry's is."""
    width = int(n.max()) + 1
    keys, inverse = np.unique(g * width + n, return_inverse=True)
    return keys // width, keys % width, np.asarray(inverse).ravel()


def _busiest_or_zero(num_experts: int, top_k: int, g: np.ndarray, n: np.ndarray):
    """`busiest_group_many`, with (0, 0) where no token is routed (as the scalar)."""
    distinct, pairs = np.zeros(len(g)), np.zeros(len(g))
    some = n > 0
    if some.any():
        distinct[some], pairs[some] = busiest_group_many(num_experts, top_k, g[some], n[some])
    return distinct, pairs

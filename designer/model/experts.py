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


def busiest_group_arrays(num_experts: int, top_k: int, groups, tokens) -> tuple[np.ndarray, ...]:
    """`busiest_group` over broadcast arrays of groups and tokens: in closed form where there
    is one group, else computed once per distinct (groups, tokens) pair."""
    g, n = np.broadcast_arrays(np.asarray(groups, dtype=np.int64), np.asarray(tokens, dtype=float))
    distinct = np.array(num_experts * (1.0 - (1.0 - top_k / num_experts) ** n))
    pairs = np.array(n * top_k)
    many = g > 1
    if not many.any():
        return distinct, pairs
    whole = np.ceil(n[many] - 1e-9).astype(np.int64)
    keys, inverse = np.unique(g[many] * (1 << 32) + whole, return_inverse=True)
    vals = np.array(
        [busiest_group(num_experts, top_k, int(k >> 32), int(k & 0xFFFFFFFF)) for k in keys],
        dtype=float,
    ).reshape(-1, 2)
    inverse = np.asarray(inverse).ravel()
    distinct[many] = vals[inverse, 0]
    pairs[many] = vals[inverse, 1]
    return distinct, pairs

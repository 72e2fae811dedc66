"""designer.model.experts: the busiest expert group's expected share, against a Monte Carlo of
random routing."""

from __future__ import annotations

import numpy as np
import pytest

from designer.model.experts import busiest_group, busiest_group_arrays, expected_max_binomial


def monte_carlo(experts: int, top_k: int, groups: int, tokens: int, trials: int, seed: int):
    """Route `tokens` tokens each to `top_k` distinct uniformly chosen experts; experts
    spread over `groups` contiguous groups. Mean over trials of the busiest group's distinct
    experts and token-expert pairs."""
    rng = np.random.default_rng(seed)
    per_group = experts // groups
    distinct, pairs = [], []
    for _ in range(trials):
        chosen = np.argsort(rng.random((tokens, experts)), axis=1)[:, :top_k]
        touched = np.zeros(experts, dtype=bool)
        touched[chosen.ravel()] = True
        distinct.append(touched.reshape(groups, per_group).sum(axis=1).max())
        pairs.append(np.bincount((chosen // per_group).ravel(), minlength=groups).max())
    return float(np.mean(distinct)), float(np.mean(pairs))


@pytest.mark.parametrize(
    "experts, top_k, groups, tokens",
    [
        (256, 8, 8, 1),  # DeepSeek-V3, batch 1, EP 8
        (256, 8, 8, 8),
        (256, 8, 32, 16),
        (256, 8, 8, 64),
        (128, 8, 16, 32),  # Qwen3-235B-A22B
        (128, 4, 8, 1),  # gpt-oss-120b
        (8, 2, 2, 4),  # Mixtral
        (8, 2, 8, 1),
    ],
)
def test_busiest_group_matches_monte_carlo(experts, top_k, groups, tokens):
    distinct, pairs = busiest_group(experts, top_k, groups, tokens)
    mc_distinct, mc_pairs = monte_carlo(experts, top_k, groups, tokens, trials=2000, seed=7)
    # groups are slightly negatively correlated; treating them as independent errs high
    assert distinct == pytest.approx(mc_distinct, rel=0.03)
    assert pairs == pytest.approx(mc_pairs, rel=0.05)


def test_batch_1_top_8_on_8_chips_is_2_5_to_3_times_the_mean():
    distinct, pairs = busiest_group(256, 8, 8, 1)
    mean = 8 / 8
    assert 2.5 <= distinct / mean <= 3.0
    assert pairs >= distinct  # a group computes at least one pair per expert it reads


def test_one_group_is_the_expected_distinct_experts():
    distinct, pairs = busiest_group(256, 8, 1, 32)
    assert distinct == pytest.approx(256 * (1 - (1 - 8 / 256) ** 32), rel=1e-12)
    assert pairs == 32 * 8


def test_large_batch_touches_every_expert_of_the_group():
    distinct, _ = busiest_group(256, 8, 8, 4096)
    assert distinct == pytest.approx(32, abs=1e-6)


def test_expected_max_binomial_by_hand():
    # max of 2 Bernoulli(1/2): 1 − 1/4
    assert expected_max_binomial(1, 0.5, 2) == pytest.approx(0.75, rel=1e-12)
    # one copy: the mean n·q
    assert expected_max_binomial(20, 0.3, 1) == pytest.approx(6.0, rel=1e-9)


def test_arrays_map_each_pair():
    d, p = busiest_group_arrays(256, 8, np.array([1, 8, 8]), np.array([32, 1, 1]))
    assert d[1] == d[2] == busiest_group(256, 8, 8, 1)[0]
    assert p[0] == 256

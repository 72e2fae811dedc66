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


# ---- the vectorized counts against the scalar definition --------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from designer.model import experts  # noqa: E402

REL = 1e-12  # the vectorized sums split rows elsewhere than the scalar's: a few ulps


def close(a, b) -> bool:
    return a == b or abs(a - b) <= REL * max(abs(a), abs(b))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3000),
            st.one_of(st.sampled_from([0.0, 1.0, 1e-300, 1 - 1e-16]), st.floats(0.0, 1.0)),
            st.integers(1, 600),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_expected_max_binomial_arrays_is_the_scalar(rows):
    n, q, copies = (np.array(c) for c in zip(*rows, strict=True))
    got = experts.expected_max_binomial_arrays(n, q, copies)
    for (ni, qi, ci), g in zip(rows, got, strict=True):
        assert close(g, experts.expected_max_binomial(ni, qi, ci)), (ni, qi, ci)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([(256, 8), (384, 8), (128, 8), (128, 4), (32, 4), (16, 1), (8, 2), (4, 4)]),
    st.lists(st.tuples(st.integers(2, 600), st.integers(0, 400)), min_size=1, max_size=30),
)
def test_busiest_group_arrays_is_the_scalar(model, pairs):
    """Every (groups, tokens) pair, looked up in the table or computed anew (fresh tables),
    equals `busiest_group` — with fractional tokens rounded up, as the scalar's callers do."""
    experts._TABLES.clear()
    num_experts, top_k = model
    g = np.array([p[0] for p in pairs])
    whole = np.array([p[1] for p in pairs], dtype=float)
    tokens = np.where(whole > 0, whole - 0.25 * (g % 2), whole)
    for _ in range(2):  # the second time from the table
        distinct, routed = busiest_group_arrays(num_experts, top_k, g, tokens)
        for gi, ti, d, r in zip(g, tokens, distinct, routed, strict=True):
            want = busiest_group(num_experts, top_k, int(gi), int(np.ceil(ti)))
            assert close(d, want[0]) and close(r, want[1]), (gi, ti)


def test_busiest_group_arrays_without_a_table_is_the_same(monkeypatch):
    """Pairs too many to keep in a table are computed for the call alone, to the same values."""
    g, tokens = np.array([8, 8, 32, 3]), np.array([1.0, 4096.0, 17.0, 1.0])
    with_table = busiest_group_arrays(256, 8, g, tokens)
    monkeypatch.setattr(experts, "_TABLE_ENTRIES", 16)
    monkeypatch.setattr(experts, "_TABLES", {})
    without = busiest_group_arrays(256, 8, g, tokens)
    assert not experts._TABLES
    np.testing.assert_array_equal(with_table[0], without[0])
    np.testing.assert_array_equal(with_table[1], without[1])


def test_table_rows_added_across_calls_keep_their_pairs():
    """Groups counts met in later calls (smaller and larger) get rows of their own."""
    experts._TABLES.clear()
    for g, tokens in (([8], [3.0]), ([2, 64, 8], [5.0, 1.0, 300.0]), ([4, 2], [7.0, 5.0])):
        distinct, routed = busiest_group_arrays(256, 8, np.array(g), np.array(tokens))
        for gi, ti, d, r in zip(g, tokens, distinct, routed, strict=True):
            want = busiest_group(256, 8, gi, int(ti))
            assert close(d, want[0]) and close(r, want[1]), (gi, ti)

"""designer.model.workload: the paper's memory footprints, MoE expert reads, FLOPs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from designer.model.errors import InputError
from designer.model.workload import Efficiency, Workload
from tests.contract import MOE_IDS

GiB = 2**30


def footprint_gib(wl: Workload, users: int) -> float:
    return (wl.weight_bytes + users * wl.kv_bytes_per_user) / GiB


@pytest.mark.parametrize(
    ("model_id", "users", "context", "gib"),
    [
        ("deepseek-v3", 1, 131072, 629),  # finding 1: at least 629 GB
        ("deepseek-v3", 32, 131072, 762),  # finding 1: 762 GB - 1.4 TB at 32 users
        ("llama3.1-405b", 32, 65536, 881),
        ("llama3.1-405b", 32, 131072, 1385),
    ],
)
def test_paper_footprints(catalog, model_id, users, context, gib):
    wl = Workload(catalog.model(model_id), context, "fp8", "fp8")
    assert footprint_gib(wl, users) == pytest.approx(gib, rel=5e-3)


def test_footprint_components(catalog):
    wl = Workload(catalog.model("deepseek-v3"), 131072)
    assert wl.weight_bytes == catalog.model("deepseek-v3").total_params()
    assert wl.kv_bytes_per_token == 35136
    assert wl.kv_bytes_per_user == 35136 * 131072
    assert wl.kv_bytes_per_user / GiB == pytest.approx(4.289, rel=1e-3)
    ll = Workload(catalog.model("llama3.1-405b"), 65536)
    assert ll.kv_bytes_per_user * 32 / GiB == 504.0  # exact: 258048 B × 64K × 32


def test_dtype_scales_bytes(catalog):
    a = catalog.model("llama3.1-70b")
    fp8 = Workload(a, 8192, "fp8", "fp8")
    bf16 = Workload(a, 8192, "bf16", "bf16")
    fp4 = Workload(a, 8192, "fp4", "fp8")
    assert bf16.weight_bytes == 2 * fp8.weight_bytes
    assert bf16.kv_bytes_per_token == 2 * fp8.kv_bytes_per_token == 327_680
    assert fp4.weight_bytes == 0.5 * fp8.weight_bytes


@pytest.mark.parametrize(("batch", "expected"), [(1, 8.0), (8, 57.4), (32, 163.0), (64, 222.0)])
def test_deepseek_expected_experts(catalog, batch, expected):
    wl = Workload(catalog.model("deepseek-v3"), 8192)
    assert float(wl.expected_experts(batch)) == pytest.approx(expected, abs=0.5)


def test_expected_experts_vectorized_formula(catalog):
    wl = Workload(catalog.model("deepseek-v3"), 8192)
    b = np.arange(1, 300)
    np.testing.assert_allclose(wl.expected_experts(b), 256 * (1 - (1 - 8 / 256) ** b), rtol=1e-14)


@pytest.mark.parametrize("model_id", MOE_IDS)
def test_expected_experts_monotone_and_bounded(catalog, model_id):
    wl = Workload(catalog.model(model_id), 8192)
    E, k = wl.model.num_experts, wl.model.num_experts_per_tok
    b = np.arange(1, 2049)
    ee = wl.expected_experts(b)
    assert ee[0] == pytest.approx(k)
    assert np.all(np.diff(ee) >= 0)
    assert np.all(np.diff(ee[ee < E - 1e-6]) > 0)  # strictly increasing until saturated
    assert np.all(ee <= E)
    assert ee[-1] == pytest.approx(E, rel=1e-6)


@pytest.mark.parametrize("model_id", MOE_IDS)
def test_moe_bytes_read_at_most_dense_weight_bytes(catalog, model_id):
    wl = Workload(catalog.model(model_id), 8192)
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 10**6])
    read = wl.weight_bytes_read(b)
    assert np.all(read <= wl.weight_bytes * (1 + 1e-12))
    assert np.all(np.diff(read) >= 0)
    assert read[-1] == pytest.approx(wl.weight_bytes, rel=1e-9)
    # at batch 1: the non-routed weights plus k experts per MoE layer
    m = wl.model
    one = wl.weight_bytes - wl.routed_bytes + m.moe_layers * m.num_experts_per_tok * wl.expert_bytes
    assert read[0] == pytest.approx(one, rel=1e-12)


def test_deepseek_bytes_read_at_batch_1(catalog):
    # ~ active weights plus the embedding table (held, and counted as "read" with the
    # non-routed weights): 36.6 B + 0.93 B at 1 byte each.
    wl = Workload(catalog.model("deepseek-v3"), 8192)
    assert float(wl.weight_bytes_read(1)) == pytest.approx(
        wl.model.active_params() + wl.model.embedding_params(), rel=1e-12
    )


def test_dense_bytes_read(catalog):
    wl = Workload(catalog.model("llama3.1-405b"), 131072)
    b = np.array([1, 4, 32])
    np.testing.assert_array_equal(wl.weight_bytes_read(b), np.full(3, wl.weight_bytes))
    np.testing.assert_allclose(wl.bytes_read(b), wl.weight_bytes + b * 258048 * 131072)
    assert np.all(wl.expected_experts(b) == 0)


def test_flops(catalog):
    wl = Workload(catalog.model("llama3.1-405b"), 131072)
    per_token = 2 * wl.model.active_params() + 4 * 131072 * 128 * 128 * 126
    assert wl.flops_per_token == per_token
    np.testing.assert_allclose(wl.flops(np.array([1, 3])), [per_token, 3 * per_token])
    assert wl.layers == 126
    assert wl.compute_dtype == "fp8"


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"context_tokens": 0}, "workload.context_tokens"),
        ({"weight_dtype": "fp9"}, "workload.weight_dtype"),
        ({"kv_dtype": "int3"}, "workload.kv_dtype"),
        ({"collectives_per_layer": -1}, "workload.collectives_per_layer"),
    ],
)
def test_invalid_workload(catalog, kwargs, key):
    args = {"context_tokens": 8192, **kwargs}
    with pytest.raises(InputError) as info:
        Workload(catalog.model("llama3.1-8b"), **args)
    assert info.value.key == key


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"bandwidth": 0.0}, "efficiency.bandwidth"),
        ({"bandwidth": 1.5}, "efficiency.bandwidth"),
        ({"compute": -0.1}, "efficiency.compute"),
        ({"overhead_per_layer": -1e-6}, "efficiency.overhead_per_layer"),
    ],
)
def test_invalid_efficiency(kwargs, key):
    with pytest.raises(InputError) as info:
        Efficiency(**kwargs)
    assert info.value.key == key


@given(b=st.integers(min_value=1, max_value=5000), model_id=st.sampled_from(MOE_IDS))
def test_expected_experts_concave(catalog, b, model_id):
    wl = Workload(catalog.model(model_id), 8192)
    f = wl.expected_experts(np.array([b, b + 1, b + 2]))
    second = f[2] - 2 * f[1] + f[0]
    assert second <= 1e-9 * wl.model.num_experts
    assert f[1] - f[0] >= -1e-9

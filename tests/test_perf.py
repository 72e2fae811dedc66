"""designer.model.perf: the LIMINAL forward model, checked against the paper (docs/model.md §3,
§4)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.calibration.evaluate import evaluate
from designer.model import perf
from designer.model.architecture import from_mapping
from designer.model.workload import Efficiency, Workload

TiB = 2**40
S128K = 131072
L405 = 126
TP_ALL = [2**i for i in range(8)]  # 1 … 128: TP divides the 128 heads of Llama3-405B


def test_h100_gemv_binary_units(catalog):
    """docs/model.md §3: 2^29 B at 3.35 'TB/s' read as TiB/s = 145.8 µs ≈ the stated 146 µs."""
    cat = catalog.with_overrides({"chips.h100-sxm.memory_bandwidth": "3.35 TiB/s"})
    bw = cat.chip("h100-sxm").memory_bandwidth
    assert bw == pytest.approx(3.35 * TiB)
    matrix_bytes = 16384 * 16384 * 2
    assert matrix_bytes == 2**29
    # A one-layer model whose weights are the matrix: one head of width d/4 gives q, k, v, o =
    # 4·d·(d/4) = d² parameters; no MLP (no model a file may describe: set after the checks);
    # its three norms and the one-token vocabulary (embedding and LM head) add 5·d, taken off
    # below.
    arch = from_mapping(
        "gemv",
        {
            "num_hidden_layers": 1,
            "hidden_size": 16384,
            "num_attention_heads": 1,
            "num_key_value_heads": 1,
            "head_dim": 4096,
            "vocab_size": 1,
            "intermediate_size": 1,
        },
        where="test",
    )
    arch = dataclasses.replace(arch, intermediate_size=0)
    assert arch.total_params() == 16384 * 16384 + 5 * 16384
    wl = Workload(arch, 1, "bf16", "bf16")
    t = float(perf.memory_time(wl, bw, 1, 0))  # batch 0: weights only, no KV
    norms = 5 * 16384 * 2 / bw
    assert t - norms == pytest.approx(2**29 / (3.35 * TiB), rel=1e-12)
    assert (t - norms) * 1e6 == pytest.approx(145.8, abs=0.05)
    assert round((t - norms) * 1e6) == 146
    # with decimal units (the datasheet value) it would be 160 µs
    assert 2**29 / catalog.chip("h100-sxm").memory_bandwidth * 1e6 == pytest.approx(160.3, abs=0.1)


@pytest.mark.parametrize("tp", TP_ALL)
def test_paper_sync_time(catalog, tp):
    r = evaluate("llama3.1-405b", "xpu-hbm3", tp=tp, context_tokens=S128K, catalog=catalog)
    sync = r["metrics"]["sync_time_s"]
    if tp == 1:
        assert sync == 0.0
    elif tp <= 8:
        assert sync == pytest.approx(L405 * 2 * 0.2e-6, rel=1e-12)
    else:
        assert sync == pytest.approx(L405 * 2 * 2.25e-6, rel=1e-12)


@pytest.mark.parametrize("tp", TP_ALL)
def test_paper_step_time_by_hand(catalog, tp):
    """T = (W + S·K) / (t·4 TiB/s) + T_sync at batch 1 (memory-bound: compute ≪ memory)."""
    r = evaluate("llama3.1-405b", "xpu-hbm3", tp=tp, context_tokens=S128K, catalog=catalog)
    m = r["metrics"]
    w = catalog.model("llama3.1-405b").total_params()
    t_mem = (w + S128K * 258048) / (tp * 4 * TiB)
    tau = 0.0 if tp == 1 else (0.2e-6 if tp <= 8 else 2.25e-6)
    assert m["memory_time_s"] == pytest.approx(t_mem, rel=1e-12)
    assert m["step_time_s"] == pytest.approx(t_mem + L405 * 2 * tau, rel=1e-12)
    assert m["compute_time_s"] < 0.01 * m["memory_time_s"]  # ≤1% compute utilization
    assert r["fits"] == (tp >= 8)  # 405 GB of FP8 weights need ≥ 5 chips of 96 GiB


def test_finding_2_tp128_exceeds_600_utps(catalog):
    r = evaluate("llama3.1-405b", "xpu-hbm3", tp=128, context_tokens=S128K, catalog=catalog)
    assert r["fits"]
    assert r["metrics"]["tokens_per_s_per_user"] > 600
    assert r["metrics"]["tokens_per_s_per_user"] == pytest.approx(741.8, abs=0.1)
    assert r["bottleneck"] == "memory-bandwidth"


def test_finding_3_hbm3_below_1000_utps_up_to_128_chips(catalog):
    """No TP of the paper's sweep (1 … 128 chips) reaches 1000 UTPS for 405B at 128K, batch 1."""
    best = max(
        evaluate("llama3.1-405b", "xpu-hbm3", tp=tp, context_tokens=S128K, catalog=catalog)[
            "metrics"
        ]["tokens_per_s_per_user"]
        for tp in TP_ALL[:8]
    )
    assert 600 < best < 1000
    assert best == pytest.approx(741.8, abs=0.1)  # the best is TP128


def test_finding_3_holds_because_tp_cannot_exceed_the_heads(catalog):
    """Past 128 chips memory time would keep halving while sync stays at 567 µs (TP256 would
    reach 1044 UTPS), but Llama3-405B has 128 attention heads: TP 256 is no partition of it,
    so finding 3 holds over every possible TP."""
    from designer.model.errors import InputError

    for tp in (256, 1024):
        with pytest.raises(InputError, match="must divide the 128 attention heads"):
            evaluate("llama3.1-405b", "xpu-hbm3", tp=tp, context_tokens=S128K, catalog=catalog)


def _405b_tp128(catalog, bandwidth: str | None = None):
    """Llama3-405B on xPU-HBM3 at TP128, 128K context, optionally at another bandwidth."""
    overrides = {"chips.xpu-hbm3.memory_bandwidth": bandwidth} if bandwidth else None
    return evaluate(
        "llama3.1-405b",
        "xpu-hbm3",
        tp=128,
        context_tokens=S128K,
        catalog=catalog,
        overrides=overrides,
    )


def test_doubling_bandwidth_is_sync_limited_at_tp128(catalog):
    base = _405b_tp128(catalog)
    fast = _405b_tp128(catalog, "8 TiB/s")
    b = base["metrics"]["tokens_per_s_per_user"]
    f = fast["metrics"]["tokens_per_s_per_user"]
    assert fast["metrics"]["memory_time_s"] == pytest.approx(
        base["metrics"]["memory_time_s"] / 2, rel=1e-12
    )
    assert 1.0 < f / b < 2.0
    assert f / b == pytest.approx(1.408, abs=0.005)
    assert fast["metrics"]["sync_time_s"] == base["metrics"]["sync_time_s"]


def test_finding_5_8x_bandwidth_gives_far_less_than_8x(catalog):
    base = _405b_tp128(catalog)
    fast = _405b_tp128(catalog, "32 TiB/s")
    ratio = fast["metrics"]["tokens_per_s_per_user"] / base["metrics"]["tokens_per_s_per_user"]
    assert 1.1 <= ratio <= 4.5  # "8x bandwidth buys only 1.1-4.5x UTPS"


# ---- equations and identities --------------------------------------------------------------
@pytest.fixture(scope="module")
def hw3(catalog):
    return perf.ChipArrays.build(catalog, ["xpu-hbm3", "h100-sxm", "tpu-v5e"], "fp8")


def test_chip_arrays(hw3):
    assert hw3.ids == ("xpu-hbm3", "h100-sxm", "tpu-v5e")
    assert hw3.memory == ("hbm3e", "hbm3", "hbm2")
    np.testing.assert_allclose(hw3.bandwidth, [4 * TiB, 3.35e12, 819e9])
    np.testing.assert_allclose(hw3.flops, [2.25e15, 1979e12, 197e12])  # v5e: fp8 at bf16
    np.testing.assert_allclose(hw3.usable_capacity, [96 * 2**30, 0.9 * 80e9, 0.9 * 16e9])
    np.testing.assert_allclose(hw3.domain_size, [8, 8, 256])


def test_step_time_identity(catalog, hw3):
    wl = Workload(catalog.model("deepseek-v3"), 32768, efficiency=Efficiency(0.8, 0.6, 3e-6))
    idx = np.array([0, 1, 2, 0, 1])
    t = np.array([1, 8, 16, 64, 2])
    p = np.array([1, 2, 1, 4, 8])
    b = np.array([1, 64, 3, 256, 7])
    m = perf.evaluate_arrays(wl, hw3.take(idx), t, p, b)
    np.testing.assert_allclose(
        m["step_time_s"],
        np.maximum(m["memory_time_s"], m["compute_time_s"])
        + m["sync_time_s"]
        + m["overhead_time_s"],
        rtol=1e-15,
    )
    np.testing.assert_allclose(m["tokens_per_s_per_user"], 1 / m["step_time_s"], rtol=1e-15)
    np.testing.assert_allclose(m["system_tokens_per_s"], p * b / m["step_time_s"], rtol=1e-15)
    np.testing.assert_allclose(m["overhead_time_s"], 61 * 3e-6, rtol=1e-15)
    # the slowest stage holds ⌈61/p⌉ whole layers: 61 layers over 2, 4, 8 stages → 31, 16, 8
    stage_layers = np.array([61, 31, 61, 16, 8])
    np.testing.assert_allclose(
        m["memory_per_chip_bytes"],
        (wl.weight_bytes + p * b * wl.kv_bytes_per_user) * stage_layers / 61 / t,
    )
    np.testing.assert_array_equal(
        m["fits"], m["memory_per_chip_bytes"] <= hw3.usable_capacity[idx] * (1 + 1e-12)
    )


def test_pipeline_sync(catalog, hw3):
    wl = Workload(catalog.model("llama3.1-70b"), 8192)
    hw = hw3.take(np.array([0, 0, 0]))
    s = perf.sync_time(
        wl,
        np.array([1, 1, 8]),
        np.array([1, 4, 4]),
        hw["domain_size"],
        hw["intra_latency"],
        hw["inter_latency"],
        hw["pipeline_latency"],
    )
    np.testing.assert_allclose(s, [0.0, 4 * 2.25e-6, 80 * 2 * 0.2e-6 + 4 * 2.25e-6], rtol=1e-12)


def test_collectives_per_layer_scale_sync(catalog):
    a = catalog.model("llama3.1-405b")
    one = perf.sync_time(Workload(a, 8192, collectives_per_layer=1), 16, 1, 8, 0.2e-6, 2.25e-6, 0)
    two = perf.sync_time(Workload(a, 8192), 16, 1, 8, 0.2e-6, 2.25e-6, 0)
    assert float(one) == pytest.approx(126 * 2.25e-6)
    assert float(two) == pytest.approx(2 * float(one))


def test_bandwidth_efficiency_doubles_memory_time(catalog):
    design = {"tp": 8, "batch": 4, "context_tokens": 8192, "catalog": catalog}
    base = evaluate("llama3.1-70b", "h100-sxm", **design, profile="limit")
    half = evaluate("llama3.1-70b", "h100-sxm", **design, efficiency=Efficiency(bandwidth=0.5))
    assert half["metrics"]["memory_time_s"] == pytest.approx(
        2 * base["metrics"]["memory_time_s"], rel=1e-12
    )
    assert half["metrics"]["compute_time_s"] == base["metrics"]["compute_time_s"]


def test_compute_efficiency_scales_compute_time(catalog):
    base = evaluate("llama3.1-8b", "xpu-hbm3", batch=64, catalog=catalog)
    slow = evaluate(
        "llama3.1-8b", "xpu-hbm3", batch=64, catalog=catalog, efficiency=Efficiency(compute=0.25)
    )
    assert slow["metrics"]["compute_time_s"] == pytest.approx(
        4 * base["metrics"]["compute_time_s"], rel=1e-12
    )


def test_overhead_per_layer_adds_L_tau(catalog):
    base = evaluate(
        "llama3.1-70b", "h100-sxm", tp=8, context_tokens=8192, catalog=catalog, profile="limit"
    )
    over = evaluate(
        "llama3.1-70b",
        "h100-sxm",
        tp=8,
        context_tokens=8192,
        catalog=catalog,
        efficiency=Efficiency(overhead_per_layer=114e-6),
    )
    assert over["metrics"]["overhead_time_s"] == pytest.approx(80 * 114e-6, rel=1e-12)
    assert over["metrics"]["step_time_s"] - base["metrics"]["step_time_s"] == pytest.approx(
        80 * 114e-6, rel=1e-9
    )
    assert over["bottleneck"] == "overhead"  # 9.1 ms of overhead vs ~2 ms of memory


def test_bottleneck_labels(catalog):
    mem = evaluate("llama3.1-405b", "xpu-hbm3", tp=8, catalog=catalog)
    cmp_ = evaluate("llama3.1-8b", "xpu-hbm3", batch=4096, context_tokens=128, catalog=catalog)
    syn = evaluate("llama3.1-405b", "xpu-3d-dram", tp=128, context_tokens=1024, catalog=catalog)
    assert mem["bottleneck"] == "memory-bandwidth"
    assert cmp_["bottleneck"] == "compute"
    assert cmp_["metrics"]["compute_time_s"] > cmp_["metrics"]["memory_time_s"]
    assert syn["bottleneck"] == "sync"


def test_moe_memory_time_uses_expected_experts(catalog):
    wl = Workload(catalog.model("deepseek-v3"), 4096)
    bw = 4 * TiB
    for b in (1, 8, 64):
        t = float(perf.memory_time(wl, bw, 8, b))
        m = wl.model
        read = (
            wl.weight_bytes
            - wl.routed_bytes
            + m.moe_layers * 256 * (1 - (1 - 8 / 256) ** b) * wl.expert_bytes
            + b * 35136 * 4096
        )
        assert t == pytest.approx(read / (8 * bw), rel=1e-12)


# ---- vectorization -------------------------------------------------------------------------
CHIPS = ["xpu-hbm3", "xpu-sram", "h100-sxm", "gb200", "tpu-v5e", "cerebras-wse3"]


@pytest.fixture(scope="module")
def vec_setup(catalog):
    wl = Workload(catalog.model("deepseek-v3"), 16384, efficiency=Efficiency(0.7, 0.5, 2e-6))
    return wl, perf.ChipArrays.build(catalog, CHIPS, wl.compute_dtype)


designs = st.lists(
    st.tuples(
        st.integers(0, len(CHIPS) - 1),
        st.sampled_from([1, 2, 4, 8, 16, 64, 72, 128, 256, 1024]),
        st.sampled_from([1, 2, 3, 8]),
        st.integers(1, 512),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(designs)
def test_evaluate_arrays_equals_scalar_calls(vec_setup, rows):
    wl, hw = vec_setup
    idx, t, p, b = (np.array(col) for col in zip(*rows, strict=True))
    vec = perf.evaluate_arrays(wl, hw.take(idx), t, p, b)
    for i, (k, ti, pi, bi) in enumerate(rows):
        one = perf.evaluate_arrays(wl, hw.take(k), ti, pi, bi)
        for key, value in one.items():
            if value.dtype.kind in "fc":
                assert vec[key][i] == pytest.approx(float(value), rel=1e-12), key
            else:
                assert vec[key][i] == value, key


def test_evaluate_arrays_broadcasts_a_batch_array(vec_setup):
    wl, hw = vec_setup
    m = perf.evaluate_arrays(wl, hw.take(0), 8, 1, np.array([1, 2, 4]))
    assert m["step_time_s"].shape == (3,)


def test_per_sequence_overlap_hides_the_per_sequence_time_under_the_memory_stream(catalog):
    """docs/model.md §6 "Variant": with `per_sequence_overlap` the step is
    max(T_mem, T_compute + L·g(B)·τ_seq·w) + T_sync + τ_step + L·τ_layer; without it T_over adds
    (w = d/8192 = 0.5 for Llama 3 8B, `perf.sequence_scale`; g = `perf.sequence_batch`)."""
    from designer.model.assumptions import Assumptions

    eff = Efficiency(per_sequence=1e-6, overhead_per_step=2e-3, overhead_per_layer=1e-5)
    arch = catalog.model("llama3-8b")
    hw = perf.ChipArrays.build(catalog, ["h100-sxm"], "bf16").take(0)
    results = {}
    for overlap in (False, True):
        a = Assumptions.preset("deployment", per_sequence_overlap=overlap)
        wl = Workload(arch, 1024, "bf16", "bf16", efficiency=eff, assumptions=a)
        results[overlap] = {b: perf.evaluate_arrays(wl, hw, 1, 1, b) for b in (1, 64, 4096)}
    layers, w = arch.num_hidden_layers, arch.hidden_size / 8192
    assert perf.sequence_scale(arch) == w == 0.5
    for b in (1, 64, 4096):
        off, on = results[False][b], results[True][b]
        seq = layers * float(perf.sequence_batch(b)) * 1e-6 * w
        fixed = 2e-3 + layers * 1e-5
        mem, cmp = float(on["memory_time_s"]), float(on["compute_time_s"])
        assert float(off["step_time_s"]) == pytest.approx(max(mem, cmp) + seq + fixed, rel=1e-12)
        assert float(on["step_time_s"]) == pytest.approx(max(mem, cmp + seq) + fixed, rel=1e-12)
    # memory-bound at batch 64: the per-sequence time is hidden entirely
    m64 = results[True][64]
    assert float(m64["compute_time_s"]) + layers * 64e-6 < float(m64["memory_time_s"])
    assert float(m64["step_time_s"]) == pytest.approx(
        float(m64["memory_time_s"]) + 2e-3 + layers * 1e-5, rel=1e-12
    )
    # the switch is off in both presets: the paper's equations are unchanged
    assert not Assumptions.preset("paper").per_sequence_overlap


def test_per_sequence_cost_is_charged_on_each_ranks_share_under_dp_attention():
    """Under data-parallel attention a rank runs ⌈B/t⌉ sequences' attention, so T_over is
    τ_step + L·τ_layer + L·g(⌈B/t⌉)·τ_seq·w; under TP attention every rank runs all B (w =
    7168/8192 for DeepSeek-V3's width, `perf.sequence_scale`; g = `perf.sequence_batch`)."""
    eff = Efficiency(overhead_per_step=1e-3, overhead_per_layer=2e-5, per_sequence=1e-6)
    rec = {
        att: evaluate(
            "deepseek-v3",
            "h200",
            tp=8,
            ep=8,
            attention=att,
            batch=500,
            efficiency=eff,
            assumptions="deployment",
        )["metrics"]["overhead_time_s"]
        for att in ("tp", "dp")
    }
    layers, w = 61, 7168 / 8192
    g = {b: float(perf.sequence_batch(b)) for b in (500, 63)}
    assert rec["tp"] == pytest.approx(1e-3 + layers * 2e-5 + layers * g[500] * 1e-6 * w)
    assert rec["dp"] == pytest.approx(1e-3 + layers * 2e-5 + layers * g[63] * 1e-6 * w)


def test_moe_and_mla_layer_times_add_once_per_such_layer():
    """T_over gains L_moe·τ_moe + L_mla·τ_mla: DeepSeek-V3 has 61 MLA layers, 58 of them MoE; a
    dense GQA model gains nothing (by hand: 58 × 300 µs + 61 × 200 µs = 29.6 ms)."""
    eff = Efficiency(moe_layer=300e-6, mla_layer=200e-6)
    kw = {"tp": 8, "batch": 16, "assumptions": "deployment", "efficiency": eff}
    ds = evaluate("deepseek-v3", "h200", **kw)["metrics"]
    assert ds["overhead_time_s"] == pytest.approx(58 * 300e-6 + 61 * 200e-6, rel=1e-12)
    assert ds["overhead_time_s"] == pytest.approx(29.6e-3, rel=1e-12)
    dense = evaluate("llama3.1-70b", "h200", **kw)["metrics"]
    assert dense["overhead_time_s"] == 0.0


def test_attention_kernel_and_sampling_costs_follow_kv_bytes_and_sequences(catalog):
    """T_seq's physical terms: κ_attn × (KV bytes a chip reads / its peak bandwidth), and B·τ_sample
    once per step (not per layer). Llama 3.1 70B at TP8, 64 users of 8K context, bf16 KV."""
    eff = Efficiency(attention_kernel=0.5, per_sequence_step=20e-6)
    rec = evaluate(
        "llama3.1-70b",
        "h100-sxm",
        tp=8,
        batch=64,
        context_tokens=8192,
        assumptions="deployment",
        efficiency=eff,
        catalog=catalog,
    )["metrics"]
    bw = catalog.chip("h100-sxm").memory_bandwidth
    kv = rec["kv_per_chip_bytes"]  # no prompt/output split: the context read is the one held
    assert kv == pytest.approx(64 * 8192 * 80 * 2 * 1 * 128 * 2, rel=1e-12)  # one KV head/chip
    assert rec["overhead_time_s"] == pytest.approx(0.5 * kv / bw + 64 * 20e-6, rel=1e-12)


def test_profile_activation_dtype_sets_the_gemm_rate_under_deployment(catalog):
    """FP4 weights: bf16 GEMMs by default (weight-only kernels), the FP4 rate when the profile's
    engine runs W4A4, FP8 when it runs W8A8; the paper computes at the weight dtype."""
    m = catalog.model("llama3.1-70b")
    from designer.model.assumptions import Assumptions

    dep = Assumptions.preset("deployment")
    wl = {
        act: Workload(
            m, 4096, "fp4", "fp8", assumptions=dep, efficiency=Efficiency(activation_dtype=act)
        )
        for act in ("", "fp4", "fp8")
    }
    assert [wl[a].compute_dtype for a in ("", "fp4", "fp8")] == ["bf16", "fp4", "fp8"]
    assert Workload(m, 4096, "fp4", "fp8").compute_dtype == "fp4"  # paper
    assert (
        Workload(
            m, 4096, "bf16", "fp8", assumptions=dep, efficiency=Efficiency(activation_dtype="fp4")
        ).compute_dtype
        == "bf16"
    )
    kw = {"tp": 1, "batch": 256, "weight_dtype": "fp4", "assumptions": "deployment"}
    slow = evaluate("llama3.1-70b", "b200", efficiency=Efficiency(), **kw)["metrics"]
    fast = evaluate("llama3.1-70b", "b200", efficiency=Efficiency(activation_dtype="fp4"), **kw)
    chip = catalog.chip("b200")
    assert slow["compute_time_s"] / fast["metrics"]["compute_time_s"] == pytest.approx(
        chip.flops("fp4") / chip.flops("bf16"), rel=1e-12
    )


def test_expert_time_adds_once_per_distinct_expert_a_chip_computes():
    """T_over gains L_moe · E_busy · τ_expert. By hand: Mixtral 8x7B (32 MoE layers, top-2 of 8)
    at batch 1 computes 2 distinct experts per layer: 64 × 5 µs = 320 µs; at batch 64 all 8
    (8 · (1 − (6/8)^64) = 8 − 8.1e-8): 256 × 5 µs; DeepSeek-V3 at batch 1, 58 × 8 × 5 µs."""
    eff = Efficiency(moe_expert=5e-6)
    kw = {"tp": 4, "assumptions": "deployment", "efficiency": eff}
    one = evaluate("mixtral-8x7b", "h100-sxm", batch=1, **kw)["metrics"]
    assert one["overhead_time_s"] == pytest.approx(32 * 2 * 5e-6, rel=1e-12)
    many = evaluate("mixtral-8x7b", "h100-sxm", batch=64, **kw)["metrics"]
    assert many["overhead_time_s"] == pytest.approx(32 * 8 * 5e-6, rel=1e-6)
    ds = evaluate("deepseek-v3", "h200", tp=8, batch=1, assumptions="deployment", efficiency=eff)
    assert ds["metrics"]["overhead_time_s"] == pytest.approx(58 * 8 * 5e-6, rel=1e-12)
    dense = evaluate("llama3.1-70b", "h100-sxm", batch=64, **kw)["metrics"]
    assert dense["overhead_time_s"] == 0.0


@given(st.floats(1.0, 1e5), st.floats(1.0, 1e5))
def test_the_per_sequence_batch_grows_with_the_batch_sub_linearly_above_its_reference(a, b):
    lo, hi = sorted((a, b))
    g_lo, g_hi = (float(perf.sequence_batch(x)) for x in (lo, hi))
    assert g_lo <= g_hi  # a larger batch never costs less: bisections over the batch stay exact
    ref = perf.SEQUENCE_REFERENCE_BATCH
    assert float(perf.sequence_batch(ref)) == pytest.approx(ref)
    # per sequence, a wider batch costs less: B ≥ 64 charged fewer than B, B ≤ 64 more
    assert g_hi / hi <= g_lo / lo * (1 + 1e-12)
    assert (g_hi <= hi * (1 + 1e-12)) if hi >= ref else (g_hi >= hi * (1 - 1e-12))


def test_sequence_time_charges_tau_seq_for_the_sequence_batch(catalog):
    eff = Efficiency(per_sequence=1e-6)
    t = perf.sequence_time(eff, 80, np.array([0.0, 1.0, 64.0, 1500.0]), width=0.5)
    expected = 80 * 1e-6 * 0.5 * perf.sequence_batch(np.array([0.0, 1.0, 64.0, 1500.0]))
    assert np.allclose(t, expected, rtol=1e-12)
    assert t[0] == 0.0 and t[2] == pytest.approx(80 * 64 * 0.5e-6)

"""designer.model.perf under the `deployment` assumptions: KV placement, data-parallel attention,
collectives with bytes, expert parallelism, model features, speculative decoding, context as
a distribution — each checked by hand, and the paper's switches reproducing the paper."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.calibration.evaluate import Design, assess, evaluate
from designer.model import perf
from designer.model.assumptions import Assumptions
from designer.model.workload import Workload

S128K = 131072
GiB = 2**30
W405 = 405_853_388_800  # Llama 3.1 405B weights at fp8, bytes
K405 = 258_048  # its KV bytes per token at fp8 (2·126·8·128)
KDS = 35_136  # DeepSeek-V3 MLA latent per token at fp8 (61·576)
PAPER = Assumptions.preset("paper")
DEPLOY = Assumptions.preset("deployment")


def hw(catalog, chip, dtype="fp8"):
    return perf.ChipArrays.build(catalog, [chip], dtype).take(0)


def wl(catalog, model, context=S128K, assumptions=DEPLOY, **kw):
    return Workload(catalog.model(model), context, "fp8", "fp8", assumptions=assumptions, **kw)


# ---- the paper's switches reproduce the paper -------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(["llama3.1-70b", "deepseek-v3", "gpt-oss-120b", "mixtral-8x22b"]),
    t=st.sampled_from([1, 2, 8, 16, 128]),
    p=st.sampled_from([1, 2, 4]),
    batch=st.integers(1, 64),
)
def test_deployed_equations_with_paper_switches_are_the_paper(catalog, model, t, p, batch):
    w = wl(catalog, model, 8192, PAPER)
    h = hw(catalog, "xpu-hbm4")
    ref = perf.evaluate_arrays(w, h, t, p, batch)
    t_mem, t_cmp, t_syn, mem = perf._deployed_terms(
        w, h, t, p, batch, np.asarray(1), np.asarray(False)
    )
    assert t_mem == pytest.approx(ref["memory_time_s"], rel=1e-12)
    assert t_cmp == pytest.approx(ref["compute_time_s"], rel=1e-12)
    assert t_syn == pytest.approx(ref["sync_time_s"], rel=1e-12)
    assert mem == pytest.approx(ref["memory_per_chip_bytes"], rel=1e-12)


# ---- KV placement -----------------------------------------------------------------------------
def test_gqa_kv_per_chip_at_tp_above_kv_heads(catalog):
    """405B has 8 KV heads: at TP128 each head is held by 16 chips, so a chip holds 1/8 of
    every user's KV (the issue's 129 GiB on 3D-DRAM at batch 32), not 1/128."""
    w = wl(catalog, "llama3.1-405b")
    m = perf.evaluate_arrays(w, hw(catalog, "xpu-3d-dram"), 128, 1, 32)
    kv = 32 * S128K * K405 / 8
    assert m["kv_per_chip_bytes"] == pytest.approx(kv, rel=1e-12)
    assert m["memory_per_chip_bytes"] == pytest.approx(W405 / 128 + kv, rel=1e-12)
    assert m["memory_per_chip_bytes"] / GiB == pytest.approx(129.0, abs=0.05)
    assert not m["fits"]  # 36 GiB usable
    paper = perf.evaluate_arrays(
        wl(catalog, "llama3.1-405b", assumptions=PAPER), hw(catalog, "xpu-3d-dram"), 128, 1, 32
    )
    assert paper["memory_per_chip_bytes"] == pytest.approx((W405 + 32 * S128K * K405) / 128)


def test_gqa_kv_at_tp_up_to_kv_heads_is_split_evenly(catalog):
    w = wl(catalog, "llama3.1-405b")
    m = perf.evaluate_arrays(w, hw(catalog, "xpu-hbm4"), 4, 1, 2)
    assert m["kv_per_chip_bytes"] == pytest.approx(2 * S128K * K405 / 4, rel=1e-12)


def test_mla_latent_is_replicated_under_tp_and_split_by_user_under_dp(catalog):
    w = wl(catalog, "deepseek-v3")
    h = hw(catalog, "xpu-hbm4")
    tp = perf.evaluate_arrays(w, h, 16, 1, 20)
    assert tp["kv_per_chip_bytes"] == pytest.approx(20 * S128K * KDS, rel=1e-12)  # every rank
    dp = perf.evaluate_arrays(w, h, 16, 1, 20, attention="dp")
    assert dp["kv_per_chip_bytes"] == pytest.approx(2 * S128K * KDS, rel=1e-12)  # ⌈20/16⌉ users
    # DP attention holds the attention weights whole on every rank
    held = (w.attention_bytes + (w.weight_bytes - w.attention_bytes) / 16) + 2 * S128K * KDS
    assert dp["memory_per_chip_bytes"] == pytest.approx(held, rel=1e-12)
    assert dp["tokens_per_s_per_user"] > tp["tokens_per_s_per_user"]


# ---- collectives with bytes -------------------------------------------------------------------
def ring_all_reduce_bytes_sent(t: int, elements: int, elem_bytes: float) -> np.ndarray:
    """Simulate a ring all-reduce chunk by chunk and count the bytes each chip sends:
    reduce-scatter (t − 1 steps, one chunk each), then all-gather (t − 1 steps)."""
    chunk = elements / t
    sent = np.zeros(t)
    data = [np.full(t, float(r)) for r in range(t)]  # chip r holds value r in every chunk
    for step in range(t - 1):  # reduce-scatter
        for r in range(t):
            c = (r - step) % t
            data[(r + 1) % t][c] += data[r][c] if step == 0 else 0.0
            sent[r] += chunk * elem_bytes
    for _ in range(t - 1):  # all-gather
        sent += chunk * elem_bytes
    return sent


def test_all_reduce_bytes_are_a_ring_all_reduce(catalog):
    for t in (2, 8, 128):
        n, d = 32, 16384
        by_hand = ring_all_reduce_bytes_sent(t, n * d, 2.0)
        assert np.allclose(by_hand, by_hand[0])
        assert perf.all_reduce_bytes(t, n, d, 2.0) == pytest.approx(by_hand[0], rel=1e-12)
        assert by_hand[0] == pytest.approx(2 * (t - 1) / t * n * d * 2)


def test_sync_time_with_bytes_by_hand(catalog):
    """405B TP128 batch 32 over the paper's interconnect (900 GB/s bidirectional): each of the
    126·2 all-reduces costs 2.25 µs + 2·127/128·32·16384·2 B / 450 GB/s."""
    m = perf.evaluate_arrays(wl(catalog, "llama3.1-405b"), hw(catalog, "xpu-3d-dram"), 128, 1, 32)
    one = 2.25e-6 + 2 * 127 / 128 * 32 * 16384 * 2 / 450e9
    assert m["sync_time_s"] == pytest.approx(126 * 2 * one, rel=1e-12)
    off = Assumptions.preset("deployment", collective_bandwidth=False)
    m0 = perf.evaluate_arrays(
        wl(catalog, "llama3.1-405b", assumptions=off), hw(catalog, "xpu-3d-dram"), 128, 1, 32
    )
    assert m0["sync_time_s"] == pytest.approx(126 * 2 * 2.25e-6, rel=1e-12)


def test_pipeline_hops_move_activations(catalog):
    w = wl(catalog, "llama3.1-70b", 8192)
    h = hw(catalog, "xpu-hbm3")
    m = perf.evaluate_arrays(w, h, 1, 4, 16)
    assert m["sync_time_s"] == pytest.approx(4 * (2.25e-6 + 16 * 8192 * 2 / 450e9), rel=1e-12)


def test_dp_attention_collectives(catalog):
    """DP attention: no all-reduce after attention; the dense MLP's all-gather +
    reduce-scatter (2τ and one all-reduce's bytes); MoE layers with EP: dispatch + combine
    all-to-alls of ⌈B/t⌉·k·d·2 B·(t−1)/t each."""
    w = wl(catalog, "deepseek-v3")
    h = hw(catalog, "xpu-hbm4")
    t, b, tau, bw = 8, 16, 0.2e-6, 450e9
    m = perf.evaluate_arrays(w, h, t, 1, b, attention="dp", ep=8)
    ar = 2 * (t - 1) / t * b * 7168 * 2
    dense = 3 * (2 * tau + ar / bw)
    a2a = 2 * 8 * 7168 * 2 * (t - 1) / t
    moe = 58 * 2 * (tau + a2a / bw)
    assert m["sync_time_s"] == pytest.approx(dense + moe, rel=1e-12)


# ---- expert parallelism -----------------------------------------------------------------------
def test_expert_parallel_reads_the_busiest_groups_experts(catalog):
    from designer.model.experts import busiest_group

    w = wl(catalog, "deepseek-v3", 4096)
    h = hw(catalog, "xpu-hbm4")
    m1 = perf.evaluate_arrays(w, h, 8, 1, 1)
    m8 = perf.evaluate_arrays(w, h, 8, 1, 1, ep=8)
    distinct, _ = busiest_group(256, 8, 8, 1)
    extra = 58 * (distinct - 8 / 8) * w.expert_bytes  # busiest chip vs the TP-sharded mean
    assert (m8["memory_time_s"] - m1["memory_time_s"]) * h["bandwidth"] == pytest.approx(
        extra, rel=1e-9
    )


# ---- model features ---------------------------------------------------------------------------
def test_embedding_read_as_rows(catalog):
    a = Assumptions.preset("paper", embedding_rows=True)
    w = wl(catalog, "llama3.1-8b", 8192, a)
    m = perf.evaluate_arrays(w, hw(catalog, "xpu-hbm3"), 1, 1, 4)
    V, d = 128256, 4096
    read = 8_030_261_248 - V * d + 4 * d + 4 * 8192 * 131072 / 2
    assert m["memory_time_s"] == pytest.approx(read / 4 / 2**40, rel=1e-12)


def test_weight_only_quantization_computes_at_the_activation_rate(catalog):
    arch = catalog.model("gpt-oss-120b")
    paper = Workload(arch, 8192, "mxfp4", "bf16", assumptions=PAPER)
    deploy = Workload(arch, 8192, "mxfp4", "bf16", assumptions=DEPLOY)
    assert paper.compute_dtype == "mxfp4"
    assert deploy.compute_dtype == "bf16"
    assert (
        Workload(
            arch, 8192, "fp4", "bf16", activation_dtype="fp8", assumptions=DEPLOY
        ).compute_dtype
        == "fp8"
    )
    assert Workload(arch, 8192, "fp8", "fp8", assumptions=DEPLOY).compute_dtype == "fp8"


def test_native_dtype_is_the_deployment_default(catalog):
    assert evaluate("deepseek-v3", "h100-sxm", tp=8, assumptions="deployment", catalog=catalog)[
        "metrics"
    ]["weight_bytes"] == pytest.approx(catalog.model("deepseek-v3").total_params())
    llama = evaluate("llama3.1-8b", "h100-sxm", assumptions="deployment", catalog=catalog)
    assert llama["metrics"]["weight_bytes"] == 2 * 8_030_261_248
    assert llama["metrics"]["kv_bytes_per_token"] == 2 * 32 * 8 * 128 * 2


def test_sliding_window_switch(catalog):
    on = wl(catalog, "gpt-oss-120b", S128K)
    off = wl(catalog, "gpt-oss-120b", S128K, Assumptions.preset("deployment", sliding_window=False))
    per_layer = 2 * 8 * 64  # elements per token per layer, fp8
    assert on.kv_bytes_held() == per_layer * (18 * S128K + 18 * 128)
    assert off.kv_bytes_held() == per_layer * 36 * S128K


def test_mistral_style_window_applies_to_every_layer():
    from designer.model.architecture import from_mapping

    raw = {
        "num_hidden_layers": 32,
        "hidden_size": 4096,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 32000,
        "intermediate_size": 14336,
        "sliding_window": 4096,
    }
    assert from_mapping("mistral", raw, where="t").sliding_window_layers == 32
    gemma3 = {**raw, "sliding_window_pattern": 6, "num_hidden_layers": 48}
    assert from_mapping("g3", gemma3, where="t").sliding_window_layers == 40


# ---- context as a distribution ----------------------------------------------------------------
def test_kv_held_is_the_peak_and_read_is_the_mean(catalog):
    w = wl(catalog, "llama3.1-70b", 16384, prompt_tokens=8192, output_tokens=8192)
    assert w.held_context == 16384 and w.read_context == 12288
    h = hw(catalog, "xpu-hbm3")
    m = perf.evaluate_arrays(w, h, 8, 1, 4)
    k = 163840  # 70B KV per token at fp8
    assert m["kv_per_chip_bytes"] == pytest.approx(4 * 16384 * k / 8, rel=1e-12)
    full = wl(catalog, "llama3.1-70b", 16384)
    mf = perf.evaluate_arrays(full, h, 8, 1, 4)
    saved = 4 * (16384 - 12288) * k / 8 / h["bandwidth"]
    assert mf["memory_time_s"] - m["memory_time_s"] == pytest.approx(saved, rel=1e-9)
    with pytest.raises(Exception, match="prompt_tokens"):
        wl(catalog, "llama3.1-70b", 1000, prompt_tokens=8192, output_tokens=8192)


# ---- speculative decoding ---------------------------------------------------------------------
def test_mtp_multiplies_tokens_per_user(catalog):
    base = wl(catalog, "deepseek-v3", 4096)
    mtp = wl(catalog, "deepseek-v3", 4096, speculative="mtp", draft_tokens=1, acceptance_rate=0.85)
    assert mtp.accepted_tokens_per_step == pytest.approx(1.85, rel=1e-12)
    h = hw(catalog, "xpu-hbm4")
    m0 = perf.evaluate_arrays(base, h, 8, 1, 4)
    m1 = perf.evaluate_arrays(mtp, h, 8, 1, 4)
    # one verification step (2 tokens per user) plus one MTP-layer step
    assert m1["step_time_s"] == pytest.approx(
        max(m1["memory_time_s"], m1["compute_time_s"]) + m1["sync_time_s"] + m1["draft_time_s"]
    )
    assert m1["tokens_per_s_per_user"] == pytest.approx(1.85 / m1["step_time_s"], rel=1e-12)
    assert 1.0 < m1["tokens_per_s_per_user"] / m0["tokens_per_s_per_user"] < 1.85
    # the MTP layer's weights (no embedding or head: shared) are held too: one MoE layer,
    # 11.5 B parameters (DeepSeek: "11.5B unique" MTP parameters), fp8
    a = catalog.model("deepseek-v3")
    layer = (
        a.attention_params()
        + a.shared_expert_params()
        + a.router_params()
        + 256 * a.expert_params()
        + 3 * a.hidden_size
    )
    assert mtp.draft_weight_bytes_held == layer
    assert layer / 1e9 == pytest.approx(11.5, abs=0.05)
    kv = perf.kv_bytes_per_chip(mtp.draft(), 8, 4, False, read=False)
    assert m1["memory_per_chip_bytes"] == pytest.approx(
        m0["memory_per_chip_bytes"] + layer / 8 + kv, rel=1e-12
    )


def test_draft_model(catalog):
    w = Workload(
        catalog.model("llama3.1-405b"),
        8192,
        "fp8",
        "fp8",
        assumptions=DEPLOY,
        speculative="llama3.1-8b",
        draft_model=catalog.model("llama3.1-8b"),
        draft_tokens=4,
        acceptance_rate=0.7,
    )
    assert w.accepted_tokens_per_step == pytest.approx((1 - 0.7**5) / 0.3)
    m = perf.evaluate_arrays(w, hw(catalog, "xpu-hbm4"), 8, 1, 1)
    assert m["draft_time_s"] > 0
    assert w.draft_weight_bytes_held == 8_030_261_248


# ---- partition options and designs ----------------------------------------------------------
def test_partition_options(catalog):
    assert perf.partition_options(wl(catalog, "deepseek-v3", assumptions=PAPER), 64) == [
        {"attention": "tp", "ep": 1}
    ]
    dense = perf.partition_options(wl(catalog, "llama3.1-70b"), 8)
    assert dense == [{"attention": "tp", "ep": 1}, {"attention": "dp", "ep": 1}]
    moe = perf.partition_options(wl(catalog, "mixtral-8x22b"), 16)
    assert {o["ep"] for o in moe} == {1, 2, 4, 8}  # divisors of 16, at most 8 experts
    assert perf.partition_options(wl(catalog, "deepseek-v3"), 1) == [{"attention": "tp", "ep": 1}]


def test_design_fields_reach_the_record(catalog):
    w = wl(catalog, "deepseek-v3")
    rec = assess(w, catalog, Design("xpu-hbm4", 16, 1, 8, 1, ep=16, attention="dp"))
    assert rec["design"]["ep"] == 16 and rec["design"]["attention"] == "dp"
    assert rec["assumptions"]["preset"] == "deployment"
    with pytest.raises(Exception, match="ep"):
        Design("xpu-hbm4", 16, 1, 8, ep=3)
    with pytest.raises(Exception, match="attention"):
        Design("xpu-hbm4", 16, 1, 8, attention="cp")


def test_partition_arrays_equal_scalar_calls(catalog):
    """The optimizer passes ep and attention as arrays, one entry per design."""
    w = wl(catalog, "deepseek-v3", 32768, prompt_tokens=30000, output_tokens=2768)
    chips = ["xpu-hbm4", "h200", "b200"]
    arrays = perf.ChipArrays.build(catalog, chips, w.compute_dtype)
    rows = [
        (c, t, p, b, o)
        for c in range(3)
        for t in (1, 8, 16)
        for p in (1, 2)
        for b in (1, 7, 64)
        for o in perf.partition_options(w, t)
    ]
    ci, t, p, b = (np.array([r[i] for r in rows]) for i in range(4))
    ep = np.array([r[4]["ep"] for r in rows])
    att = np.array([r[4]["attention"] for r in rows])
    vec = perf.evaluate_arrays(w, arrays.take(ci), t, p, b, ep=ep, attention=att)
    for i, (c, tt, pp, bb, o) in enumerate(rows):
        one = perf.evaluate_arrays(w, arrays.take(c), tt, pp, bb, **o)
        for key in ("step_time_s", "tokens_per_s_per_user", "memory_per_chip_bytes", "fits"):
            assert vec[key][i] == pytest.approx(one[key], rel=1e-12), (key, rows[i])

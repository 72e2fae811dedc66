"""designer.model.prefill: prefill FLOPs, bytes and time by hand; `evaluate --prompt-tokens`."""

from __future__ import annotations

import json

import pytest

from designer.interface.cli import main
from designer.model import perf
from designer.model.architecture import from_mapping
from designer.model.prefill import (
    allreduce_bytes,
    causal_attention_flops,
    prefill,
    prefill_bytes,
    prefill_flops,
    prefill_time,
)
from designer.model.workload import Efficiency, Workload

# A tiny dense model: 2 layers, d = 64, 4 query heads and 2 KV heads of 16, SwiGLU 128, vocab 100.
TINY = {
    "num_hidden_layers": 2,
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
    "intermediate_size": 128,
    "vocab_size": 100,
}


def tiny(**changes) -> Workload:
    arch = from_mapping("tiny", {**TINY, **changes}, where="test")
    return Workload(arch, 1024, "bf16", "bf16")


def test_tiny_active_params_by_hand():
    wl = tiny()
    attention = 64 * 64 + 2 * 64 * 32 + 64 * 64  # q, k, v (2 heads × 16), o
    mlp = 3 * 64 * 128
    norms = 2 * 64
    layer = attention + mlp + norms
    lm_head = 100 * 64
    assert wl.model.active_params() == 2 * layer + 64 + lm_head == 80_448


def test_prefill_flops_by_hand():
    wl = tiny()
    n, P = 3, 10
    weights = n * P * 2 * 80_448
    # causal attention: QKᵀ and PV, 4·h·d_h per attended token, token i attends to i tokens
    attention = n * 2 * 4 * 4 * 16 * sum(range(1, P + 1))
    assert prefill_flops(wl, n, P) == weights + attention


def test_causal_attention_with_a_window_by_hand():
    # one of the two layers keeps a 4-token window: it attends to min(i, 4) tokens
    wl = tiny(sliding_window=4, sliding_window_layers=1)
    P = 10
    full = sum(range(1, P + 1))
    windowed = sum(min(i, 4) for i in range(1, P + 1))
    assert causal_attention_flops(wl, P) == 4 * 4 * 16 * (full + windowed)
    short = 3  # shorter than the window: both layers attend to everything
    assert causal_attention_flops(wl, short) == 4 * 4 * 16 * 2 * sum(range(1, short + 1))


def test_prefill_bytes_by_hand():
    wl = tiny()
    n, P = 3, 10
    weights = wl.model.total_params() * 2
    kv_per_token = 2 * 2 * 2 * 16 * 2  # K and V · layers · KV heads · head dim · 2 bytes
    assert prefill_bytes(wl, n, P) == weights + n * P * kv_per_token


def test_allreduce_bytes_ring_by_hand():
    # ring all-reduce: each chip sends 2(t−1)/t of the message; 1000 tokens × 64 × 2 bytes
    assert float(allreduce_bytes(1000, 64, 4)) == pytest.approx(2 * 3 / 4 * 1000 * 64 * 2)
    assert float(allreduce_bytes(1000, 64, 1)) == 0.0


def test_prefill_time_is_compute_bound_plus_collectives_by_hand(catalog):
    # Llama 3.3 70B, FP8, one 5000-token prompt on 2 H100 (1979 TFLOP/s dense FP8 each)
    wl = Workload(catalog.model("llama3.3-70b"), 5000)
    pf = prefill(wl, catalog, "h100-sxm", tp=2, prompt_tokens=5000)
    flops = prefill_flops(wl, 1, 5000)
    assert pf.compute_s == pytest.approx(flops / (2 * 1979e12), rel=1e-12)
    assert pf.compute_s > pf.memory_s  # 7e14 FLOPs against 70 GB
    allreduce = 2 * 1 / 2 * 5000 * 8192 * 2 / (900e9 / 2)  # 82 MB at 450 GB/s per direction
    assert pf.collective_s == pytest.approx(160 * (2.3e-6 + allreduce), rel=1e-12)
    assert pf.overhead_s == 0.0
    assert pf.time_s == pytest.approx(pf.compute_s + pf.collective_s, rel=1e-12)
    # the measured TTFT of this setup is 407 ms (NIM 1.8, catalogs/measurements/decode.csv
    # cal-01); the hardware limit is about half of it
    assert 0.2 < pf.time_s < 0.23


def test_prefill_uses_the_profile(catalog):
    eff = Efficiency(
        bandwidth=0.5,
        compute=0.5,
        overhead_per_layer=1e-5,
        per_sequence=1e-6,
        collective_latency=2e-5,
        overhead_per_step=3e-4,
        prefill_compute=0.4,
    )
    wl = Workload(catalog.model("llama3.1-8b"), 128, efficiency=eff)
    hw = perf.ChipArrays.build(catalog, ["h100-sxm"], "fp8").take(0)
    pf = prefill_time(wl, hw, 0.0, tp=2, prompts=4, prompt_tokens=128)
    # prefill runs at η_pf (0.4), not the decode η_f (0.5); one pass pays τ_step once, and
    # τ_seq per layer for g(4) prompts (`perf.sequence_batch`) at Llama 3.1 8B's width (4096 / 8192)
    assert pf.compute_s == pytest.approx(prefill_flops(wl, 4, 128) / (2 * 1979e12 * 0.4))
    assert pf.overhead_s == pytest.approx(
        3e-4 + 32 * (1e-5 + float(perf.sequence_batch(4)) * 1e-6 * 0.5)
    )
    assert pf.collective_s == pytest.approx(32 * 2 * (2.3e-6 + 2e-5))  # no link bandwidth given


def test_evaluate_prompt_tokens_reports_ttft(capsys, catalog):
    code = main(
        [
            "evaluate",
            "--model",
            "llama3.3-70b",
            "--chip",
            "h100-sxm",
            "--tp",
            "2",
            "--prompt-tokens",
            "5000",
            "--profile",
            "limit",
            "--assumptions",
            "paper",
            "--json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    rec = json.loads(out)
    wl = Workload(catalog.model("llama3.3-70b"), 5000, prompt_tokens=5000)
    expected = prefill(wl, catalog, "h100-sxm", tp=2, prompt_tokens=5000).time_s
    assert rec["metrics"]["ttft_s"] == pytest.approx(expected, rel=1e-12)


def test_evaluate_bad_prompt_tokens_exits_2(capsys):
    code = main(
        ["evaluate", "--model", "llama3.1-8b", "--chip", "h100-sxm", "--prompt-tokens", "0"]
    )
    _, err = capsys.readouterr()
    assert code == 2
    assert "--prompt-tokens" in err and "expected a token count" in err

"""Prefill: the time to process prompts before the first output token (TTFT).

One forward pass over `n` prompts of `P` tokens each, on a `t`-chip tensor-parallel group
(and `p` pipeline stages run one after the other):

- FLOPs `= n·P·2·P_active + n·Σ_{i=1..P} a(i)`, where `a(S)` is the attention FLOPs of one
  token against `S` tokens of context (`Architecture.attention_flops_per_token`): causal
  attention, sliding-window layers capped at their window;
- bytes `= weights read once (MoE: the experts n·P tokens touch) + the KV written, n·P·K`;
- collectives: `perf.sync_time` (`L · n_coll · (τ(t) + τ_coll)`, `p·τ_pp`) plus the bytes of
  each all-reduce, `2(t−1)/t · n·P·d·a / (BW_link/2)` (ring all-reduce; `a` = 2-byte
  activations; the catalog's link bandwidth is bidirectional);
- `T_prefill = max(FLOPs/(t·F·η_pf), bytes/(t·BW·η_bw)) + T_coll + T_over(n)` with `perf`'s
  `overhead_time` at `n` sequences.

The memory and software terms use the workload's `Efficiency` (a calibration profile), as
decode does in `perf`; the compute term uses the profile's own prefill efficiency `η_pf`
(`prefill_compute`): a prefill runs large GEMMs and causal attention kernels whose share of peak
differs from decode's (1 at the hardware limit). The equations for the shared parts
(`collective_latency`, `overhead_time`) are `perf`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.model import perf
from designer.model.catalog import Catalog
from designer.model.workload import Workload

ACTIVATION_BYTES = 2.0  # bf16/fp16 activations in the all-reduces, whatever the weight dtype


def causal_attention_flops(wl: Workload, prompt_tokens: int) -> float:
    """Σ_{i=1..P} a(i): the attention FLOPs of one prompt processed causally.

    `a(S)` is linear in the tokens each layer attends to (full layers S, windowed layers
    min(S, W)), so the sum is taken in closed form from `a(1)` per layer.

    >>> from designer.model.catalog import Catalog
    >>> wl = Workload(Catalog.load().model("llama3.1-8b"), 1024)
    >>> causal_attention_flops(wl, 3) == 4 * 32 * 32 * 128 * (1 + 2 + 3)
    True
    """
    m = wl.model
    per_layer_token = m.attention_flops_per_token(1) / m.num_hidden_layers
    windowed = m.sliding_window_layers if m.sliding_window else 0
    full = m.num_hidden_layers - windowed
    P = int(prompt_tokens)
    full_sum = P * (P + 1) / 2
    if windowed:
        W = m.sliding_window
        win_sum = W * (W + 1) / 2 + (P - W) * W if P > W else full_sum
    else:
        win_sum = 0.0
    return per_layer_token * (full * full_sum + windowed * win_sum)


def prefill_flops(wl: Workload, prompts: int, prompt_tokens: int) -> float:
    """n·P·2·P_active + n·Σ a(i)."""
    return prompts * (
        prompt_tokens * 2.0 * wl.model.active_params() + causal_attention_flops(wl, prompt_tokens)
    )


def prefill_bytes(wl: Workload, prompts: int, prompt_tokens: int) -> float:
    """Weights read once (MoE: the experts n·P tokens touch) plus the KV written."""
    tokens = prompts * prompt_tokens
    return float(wl.weight_bytes_read(tokens)) + tokens * wl.kv_bytes_per_token


def allreduce_bytes(tokens: float, hidden: int, t) -> np.ndarray:
    """Bytes each chip sends in one ring all-reduce of `tokens` activations: 2(t−1)/t·n·d·a."""
    t = np.asarray(t, dtype=float)
    return 2.0 * (t - 1.0) / t * tokens * hidden * ACTIVATION_BYTES


@dataclass(frozen=True)
class Prefill:
    """The parts of one prefill pass, in seconds."""

    compute_s: float
    memory_s: float
    collective_s: float
    overhead_s: float
    flops: float
    bytes: float

    @property
    def time_s(self) -> float:
        return float(total_time(self.compute_s, self.memory_s, self.collective_s, self.overhead_s))

    @property
    def bottleneck(self) -> str:
        """The largest term of the pass, named as a decode step's (`perf.BOTTLENECKS`: a
        prompt of thousands of tokens is usually compute-bound where its decode step is
        memory-bound)."""
        terms = (self.memory_s, self.compute_s, self.collective_s, self.overhead_s)
        return str(perf.BOTTLENECKS[int(np.argmax(terms))])

    def metrics(self) -> dict[str, float | str]:
        """The pass as metrics (`serving.PREFILL_METRICS`), in seconds, beside a decode step's
        `step_time_s`, `compute_time_s`, … and `bottleneck`."""
        return {
            "prefill_time_s": self.time_s,
            "prefill_compute_time_s": float(self.compute_s),
            "prefill_memory_time_s": float(self.memory_s),
            "prefill_collective_time_s": float(self.collective_s),
            "prefill_overhead_time_s": float(self.overhead_s),
            "prefill_bottleneck": self.bottleneck,
        }


def total_time(compute_s, memory_s, collective_s, overhead_s):
    """T_prefill = max(T_compute, T_mem) + T_coll + T_over (arrays broadcast)."""
    return np.maximum(compute_s, memory_s) + collective_s + overhead_s


def link_bandwidth(catalog: Catalog, chip: str) -> float:
    """The chip's scale-up link bandwidth (B/s, bidirectional); 0 when the catalog has none."""
    return catalog.interconnect(catalog.chip(chip).interconnect).link_bandwidth or 0.0


def prefill_time(
    wl: Workload,
    hw: dict,
    link_bw: float,
    *,
    tp: int = 1,
    pp: int = 1,
    prompts: int = 1,
    prompt_tokens: int,
) -> Prefill:
    """Prefill of `prompts` prompts of `prompt_tokens` tokens on `tp × pp` chips described by
    `hw` (`perf.ChipArrays.take`) with scale-up links of `link_bw` B/s (0: latency only)."""
    e = wl.efficiency
    flops = prefill_flops(wl, prompts, prompt_tokens)
    nbytes = prefill_bytes(wl, prompts, prompt_tokens)
    compute_s = flops / (tp * float(hw["flops"]) * e.prefill_compute)
    memory_s = nbytes / (tp * float(hw["bandwidth"]) * e.bandwidth)
    collective_s = float(
        perf.sync_time(
            wl,
            tp,
            pp,
            hw["domain_size"],
            hw["intra_latency"],
            hw["inter_latency"],
            hw["pipeline_latency"],
        )
    )
    if tp > 1 and link_bw:
        moved = allreduce_bytes(prompts * prompt_tokens, wl.model.hidden_size, tp)
        collective_s += wl.layers * wl.collectives_per_layer * float(moved) / (link_bw / 2.0)
    overhead_s = float(perf.overhead_time(wl, prompts, moe_tokens=prompts * prompt_tokens))
    return Prefill(compute_s, memory_s, collective_s, overhead_s, flops, nbytes)


def prefill(wl: Workload, catalog: Catalog, chip: str, **partition: int) -> Prefill:
    """`prefill_time` on catalog chips: `partition` holds `prompt_tokens` and optionally `tp`,
    `pp` and `prompts`.

    Example: Llama 3.3 70B in FP8 on 2 H100 at the hardware limit prefills a 5,000-token
    prompt in about 0.21 s: 7.0e14 FLOPs of weights and 3.3e13 of causal attention over
    2 × 1979 TFLOP/s (0.186 s), plus 160 all-reduces of 82 MB activations over 450 GB/s links
    (0.029 s at 2.3 µs latency each).

    >>> from designer.model.catalog import Catalog
    >>> cat = Catalog.load()
    >>> wl = Workload(cat.model("llama3.3-70b"), 5000)
    >>> round(prefill(wl, cat, "h100-sxm", tp=2, prompt_tokens=5000).time_s, 3)
    0.213
    """
    hw = perf.ChipArrays.build(catalog, [chip], wl.compute_dtype).take(0)
    return prefill_time(wl, hw, link_bandwidth(catalog, chip), **partition)

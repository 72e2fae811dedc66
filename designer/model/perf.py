"""The LIMINAL forward model in numpy, vectorized over designs (docs/model.md §1).

Each equation has one function here, by the paper's name; the optimizer (`designer.optimize`)
computes its columns with `evaluate_arrays` and re-derives nothing. Inputs broadcast: chip
properties, `t` (chips per pipeline stage), `p` (pipeline stages) and `batch` (users per
micro-batch) may be scalars or arrays of one shape.

Under any assumption set other than `paper` (see `designer.model.assumptions`), or with a partition
other than plain tensor parallelism (`ep` > 1 experts spread over chip groups,
`attention="dp"` for data-parallel attention) or with speculative decoding, `evaluate_arrays`
places every part of the model on the busiest chip (the "deployed" equations below); with
the paper's switches and plain TP they reduce to the paper's equations
(`tests/test_deployment.py` pins that).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.model.catalog import Catalog
from designer.model.dtypes import dtype_bytes
from designer.model.errors import InputError
from designer.model.experts import busiest_group_arrays
from designer.model.workload import COLLECTIVE_DTYPE, Workload

BOTTLENECKS = np.array(["memory-bandwidth", "compute", "sync", "overhead"])


@dataclass(frozen=True)
class ChipArrays:
    """Per-chip hardware numbers as arrays, in the order of `ids`."""

    ids: tuple[str, ...]
    memory: tuple[str, ...]
    bandwidth: np.ndarray  # B/s
    flops: np.ndarray  # FLOP/s at the workload's compute dtype
    usable_capacity: np.ndarray  # B, capacity × usable fraction
    domain_size: np.ndarray
    intra_latency: np.ndarray  # s
    inter_latency: np.ndarray  # s
    pipeline_latency: np.ndarray  # s
    link_bandwidth: np.ndarray  # B/s per chip, bidirectional (inf when the catalog has none)

    @classmethod
    def build(cls, catalog: Catalog, chip_ids: list[str], dtype: str | list[str]) -> ChipArrays:
        """`dtype`: the compute dtype of every chip, or one per chip (each chip's profile may
        run its GEMMs at another precision, `Workload.compute_dtype`)."""
        chips = [catalog.chip(c) for c in chip_ids]
        dtypes = [dtype] * len(chips) if isinstance(dtype, str) else list(dtype)
        ics = [catalog.interconnect(c.interconnect) for c in chips]
        return cls(
            ids=tuple(chip_ids),
            memory=tuple(c.memory_technology for c in chips),
            bandwidth=np.array([c.memory_bandwidth for c in chips]),
            flops=np.array([_flops_or_nan(c, d) for c, d in zip(chips, dtypes, strict=True)]),
            usable_capacity=np.array([c.memory_capacity * c.usable_memory_fraction for c in chips]),
            domain_size=np.array([ic.domain_size for ic in ics], dtype=float),
            intra_latency=np.array([ic.intra_domain_latency for ic in ics]),
            inter_latency=np.array([ic.inter_domain_latency for ic in ics]),
            pipeline_latency=np.array([ic.pipeline_latency for ic in ics]),
            link_bandwidth=np.array(
                [ic.link_bandwidth if ic.link_bandwidth else np.inf for ic in ics], dtype=float
            ),
        )

    def take(self, index) -> dict[str, np.ndarray]:
        """Chip properties gathered for an index array (one entry per design)."""
        return {
            name: getattr(self, name)[index]
            for name in (
                "bandwidth",
                "flops",
                "usable_capacity",
                "domain_size",
                "intra_latency",
                "inter_latency",
                "pipeline_latency",
                "link_bandwidth",
            )
        }


def _flops_or_nan(chip, dtype: str) -> float:
    """The chip's FLOP/s for `dtype`, NaN when it has no rate for it or a wider dtype (the
    optimizer screens such candidates out; `evaluate` names the missing rate)."""
    try:
        return chip.flops(dtype)
    except InputError:
        return float("nan")


# ---- the equations ---------------------------------------------------------------------------
def memory_time(wl: Workload, bandwidth, t, batch):
    """T_mem = (weight bytes read + B·S·K) / (t · BW · η_bw)."""
    return wl.bytes_read(batch) / (np.asarray(t) * bandwidth * wl.efficiency.bandwidth)


def compute_time(wl: Workload, flops, t, batch):
    """T_compute = FLOPs / (t · F · η_f)."""
    return wl.flops(batch) / (np.asarray(t) * flops * wl.efficiency.compute)


def collective_latency(t, domain_size, intra_latency, inter_latency):
    """τ(t): intra-domain latency when the tensor-parallel group fits one scale-up domain."""
    return np.where(np.asarray(t) <= domain_size, intra_latency, inter_latency)


def sync_time(wl: Workload, t, p, domain_size, intra_latency, inter_latency, pipeline_latency):
    """T_sync = L · n_coll · (τ(t) + τ_coll) when t > 1, plus p · τ_pp when p > 1; τ_coll is
    the serving stack's own latency per collective (0 at the hardware limit)."""
    t = np.asarray(t)
    p = np.asarray(p)
    tp_sync = (
        wl.layers
        * wl.collectives_per_layer
        * (
            collective_latency(t, domain_size, intra_latency, inter_latency)
            + wl.efficiency.collective_latency
        )
    )
    return np.where(t > 1, tp_sync, 0.0) + np.where(p > 1, p * pipeline_latency, 0.0)


def overhead_time(wl: Workload, batch=0.0, kv_s=0.0, *, ep=1, moe_tokens=None, busiest=None):
    """T_over of the workload's model and profile (`software_time`); `kv_s` is the KV bytes
    a chip reads per step at its peak bandwidth (s), for the attention-kernel term;
    `moe_tokens` the tokens the MoE layers route in the pass (default `batch` × tokens per
    step), over `ep` expert groups (`expert_passes`; `busiest`: its `busiest_experts`)."""
    m = wl.model
    tokens = moe_tokens
    if tokens is None:
        tokens = np.asarray(batch, dtype=float) * wl.tokens_per_step
    return software_time(
        wl.efficiency,
        wl.layers,
        batch,
        m.moe_layers,
        wl.layers if m.is_mla else 0,
        kv_s,
        expert_passes(wl, ep, tokens, busiest),
        sequence_scale(m),
    )


def busiest_experts(wl: Workload, ep, tokens):
    """(distinct experts, token-expert pairs) of the busiest of `ep` expert groups per MoE
    layer when `tokens` tokens are routed (`experts.busiest_group_arrays`); None for dense
    models. Computed once per evaluation and handed to the terms that read it."""
    m = wl.model
    if not m.is_moe:
        return None
    return busiest_group_arrays(m.num_experts, m.num_experts_per_tok, ep, tokens)


def expert_passes(wl: Workload, ep, tokens, busiest=None):
    """L_moe · E_busy: MoE layers times the distinct routed experts the busiest chip computes
    per layer when `tokens` tokens are routed (all its expert group's distinct experts: under
    tensor parallelism each chip runs a slice of every selected expert); 0 for dense models.
    `busiest`: `busiest_experts(wl, ep, tokens)` when known."""
    m = wl.model
    if not m.is_moe:
        return np.zeros_like(np.asarray(tokens, dtype=float))
    distinct, _ = busiest_experts(wl, ep, tokens) if busiest is None else busiest
    return m.moe_layers * distinct


# the model width τ_seq is stated at: Llama 3 70B's hidden size (docs/model.md §6)
SEQUENCE_REFERENCE_WIDTH = 8192


def sequence_scale(model) -> float:
    """How a sequence's per-layer time scales with the model: its width over 8,192 (τ_seq is
    the per-layer time of a sequence of a model 8,192 wide). Fitted on decode.csv, the width-
    scaled form predicts held-out platforms 22.1% off against 24.7% for a time per layer alone
    (docs/model.md §6).

    >>> from designer.model.catalog import Catalog
    >>> cat = Catalog.load()
    >>> sequence_scale(cat.model("llama3.1-70b")), sequence_scale(cat.model("llama3.1-405b"))
    (1.0, 2.0)
    """
    return model.hidden_size / SEQUENCE_REFERENCE_WIDTH


def per_sequence_time(wl: Workload, batch=0.0, kv_s=0.0):
    """T_seq of the workload's model and profile (`sequence_time`)."""
    return sequence_time(wl.efficiency, wl.layers, batch, kv_s, sequence_scale(wl.model))


def software_time(
    efficiency, layers, batch=0.0, moe_layers=0, mla_layers=0, kv_s=0.0, moe_experts=0.0, width=1.0
):
    """T_over = τ_step + L · τ_layer + L_moe · τ_moe + L_mla · τ_mla + L_moe · E_busy · τ_expert
    + T_seq: exposed software and kernel time once per step (the host's scheduling and launch
    loop), per layer, per MoE layer (routing, dispatch beyond their bytes and FLOPs), per MLA
    layer (the latent attention kernels), per distinct expert a chip computes in a MoE layer
    (`moe_experts` = `expert_passes`: the grouped GEMM's per-expert work beyond its bytes and
    FLOPs), and per sequence (`sequence_time`); all 0 at the hardware limit. Arguments may be
    arrays (calibration predicts many rows at once)."""
    e = efficiency
    return (
        e.overhead_per_step
        + np.asarray(layers) * e.overhead_per_layer
        + np.asarray(moe_layers) * e.moe_layer
        + np.asarray(mla_layers) * e.mla_layer
        + np.asarray(moe_experts) * e.moe_expert
        + sequence_time(e, layers, batch, kv_s, width)
    )


# the batch τ_seq is stated at, and the power of the batch the per-layer per-sequence time
# grows with: chosen among 1, 0.9 and 0.8 by decode.csv's held-out error (docs/model.md §6)
SEQUENCE_REFERENCE_BATCH = 64
SEQUENCE_BATCH_EXPONENT = 0.9


def sequence_batch(batch):
    """g(B) = 64 · (B/64)^0.9, the sequences the per-layer per-sequence time τ_seq is charged
    for: B at 64 sequences, fewer above (a layer's per-sequence kernels amortize their work
    over a wider batch: 1,500 sequences cost as 1,094), more below (1 costs as 1.52). Fitted
    on decode.csv, this form predicts held-out publications 23.7% off against 23.9% for g(B) = B,
    with intervals of the same width (docs/model.md §6).

    >>> [round(float(sequence_batch(b)), 2) for b in (0, 1, 64, 1500)]
    [0.0, 1.52, 64.0, 1094.21]
    """
    a = SEQUENCE_BATCH_EXPONENT
    return SEQUENCE_REFERENCE_BATCH ** (1.0 - a) * np.power(np.asarray(batch, dtype=float), a)


def sequence_time(efficiency, layers, batch=0.0, kv_s=0.0, width=1.0):
    """T_seq = L · g(B) · τ_seq · w + B · τ_sample + κ_attn · T_kv: per layer per sequence
    (g(B) = `sequence_batch`, sub-linear in the batch; `width` w = d / 8,192, `sequence_scale`:
    the per-sequence work of a layer grows with the model's width), per sequence per step
    (sampling, scheduling), and the attention kernels' time beyond the memory stream, κ_attn
    times the KV read at peak bandwidth (`kv_s` = KV bytes / BW); the last grows with the bytes
    the kernels read, not with a count of sequences, so it stays physical at thousands of short
    sequences."""
    e = efficiency
    b = np.asarray(batch, dtype=float)
    return (
        np.asarray(layers) * sequence_batch(b) * e.per_sequence * np.asarray(width, dtype=float)
        + b * e.per_sequence_step
        + e.attention_kernel * np.asarray(kv_s, dtype=float)
    )


def step_time(t_mem, t_compute, t_sync, t_over, t_seq=0.0, overlap=False):
    """T = max(T_mem, T_compute) + T_sync + T_over; with `overlap` (the assumption
    `per_sequence_overlap`) the per-sequence part T_seq of T_over runs on the compute units
    under the memory stream: T = max(T_mem, T_compute + T_seq) + T_sync + (T_over − T_seq)."""
    if overlap:
        return np.maximum(t_mem, t_compute + t_seq) + t_sync + (t_over - t_seq)
    return np.maximum(t_mem, t_compute) + t_sync + t_over


def memory_per_chip(wl: Workload, t, p, batch):
    """(W + p·B·S·K) · (⌈L/p⌉/L) / t: the slowest pipeline stage holds ⌈L/p⌉ whole layers of
    the weights and of the KV of p micro-batches, over its t chips ((W + p·B·S·K)/(t·p) when p
    divides L)."""
    t = np.asarray(t, dtype=float)
    p = np.asarray(p, dtype=float)
    return (wl.weight_bytes + p * np.asarray(batch) * wl.kv_bytes_per_user) * stage_share(wl, p) / t


def stage_share(wl: Workload, p):
    """⌈L/p⌉/L: the share of the layers the slowest of p pipeline stages holds."""
    return np.ceil(wl.layers / np.asarray(p, dtype=float)) / wl.layers


def user_rate(step):
    """UTPS = 1 / T."""
    return 1.0 / step


def system_rate(step, p, batch):
    """STPS per replica = p · B / T."""
    return np.asarray(p) * np.asarray(batch) / step


# ---- the deployed equations: each part of the model placed on the busiest chip ---------------
ATTENTION_LAYOUTS = ("tp", "dp")


def users_per_rank(t, batch, dp):
    """Users whose attention a chip runs: all B under TP attention (split by heads), ⌈B/t⌉ on
    the busiest rank under data-parallel attention. Their KV, attention FLOPs and per-sequence
    cost T_seq are that rank's."""
    t = np.asarray(t)
    b = np.asarray(batch, dtype=float)
    return np.where(dp, np.ceil(b / t - 1e-12), b)


def kv_fraction(wl: Workload, t, dp):
    """Share of one user's KV a chip holds and reads. Paper (`even`): 1/t. `heads`: a GQA chip
    holds ⌈h_kv/t⌉ of the h_kv heads (each head replicated t/h_kv times when t > h_kv); MLA's
    latent is shared by all heads, so every TP rank holds all of it. Data-parallel attention:
    the whole KV of its own users."""
    t = np.asarray(t, dtype=float)
    m = wl.model
    if wl.assumptions.kv_placement == "even":
        tp = 1.0 / t
    elif m.is_mla:
        tp = np.ones_like(t)
    else:
        tp = np.ceil(m.num_key_value_heads / t - 1e-12) / m.num_key_value_heads
    return np.where(dp, 1.0, tp)


def kv_bytes_per_chip(wl: Workload, t, batch, dp, *, read: bool):
    """KV bytes a chip holds (`read=False`: the peak context) or reads per step (the mean
    context under `context_distribution`): users per rank × share × one user's KV."""
    per_user = wl.kv_bytes_read_per_user if read else wl.kv_bytes_held()
    return users_per_rank(t, batch, dp) * kv_fraction(wl, t, dp) * per_user


def routed_experts_per_chip(wl: Workload, t, ep, tokens, busiest=None):
    """(distinct experts read, token-expert pairs computed) per MoE layer by the busiest chip:
    experts sharded over t (ep = 1: the expected distinct experts E·(1 − (1 − k/E)^n), /t), or
    spread over ep groups of t/ep chips (the busiest group's expected maximum, /(t/ep)).
    `busiest`: `busiest_experts(wl, ep, tokens)` when known."""
    distinct, pairs = busiest_experts(wl, ep, tokens) if busiest is None else busiest
    share = np.asarray(ep, dtype=float) / np.asarray(t, dtype=float)
    return distinct * share, pairs * share


def weight_bytes_read_per_chip(wl: Workload, t, batch, ep, dp, busiest=None):
    """Weight bytes the busiest chip reads per step: attention (whole under DP attention, else
    /t), the embedding (B rows under `embedding_rows`, else the table, /t), dense MLPs, shared
    experts and LM head /t, and its routed experts (`busiest`: `busiest_experts` of the
    step's tokens, when known)."""
    t = np.asarray(t, dtype=float)
    tokens = np.asarray(batch, dtype=float) * wl.tokens_per_step
    m = wl.model
    w = dtype_bytes(wl.weight_dtype)
    if wl.assumptions.embedding_rows:
        emb = np.minimum(tokens, m.vocab_size) * m.hidden_size * w
    else:
        emb = np.full_like(tokens, wl.embedding_bytes)
    total = np.where(dp, wl.attention_bytes, wl.attention_bytes / t) + (emb + wl.other_bytes) / t
    if m.is_moe:
        distinct, _ = routed_experts_per_chip(wl, t, ep, tokens, busiest)
        total = total + m.moe_layers * distinct * wl.expert_bytes
    return total


def weight_bytes_held_per_chip(wl: Workload, t, p, ep, dp):
    """Weight bytes a chip holds: its stage's share (⌈L/p⌉/L) of attention (whole under DP
    attention), of everything else /t, and of the routed experts (⌈E/ep⌉ per group)."""
    t = np.asarray(t, dtype=float)
    ep = np.asarray(ep, dtype=float)
    attn = np.where(dp, wl.attention_bytes, wl.attention_bytes / t)
    rest = (wl.weight_bytes - wl.attention_bytes - wl.routed_bytes) / t
    routed = 0.0
    if wl.model.is_moe:
        e = wl.model.num_experts
        routed = wl.routed_bytes * np.ceil(e / ep - 1e-12) * ep / e / t
    return (attn + rest + routed) * stage_share(wl, p)


def flops_per_chip(wl: Workload, t, batch, ep, dp, busiest=None):
    """FLOPs of the busiest chip per step: 2·P per token for the dense parts /t, attention
    (projections and scores) for its users (all B over t, or ⌈B/t⌉ whole under DP attention),
    2·P_expert per token-expert pair of its routed experts (`busiest`: `busiest_experts` of
    the step's tokens, when known). Speculative steps process draft_tokens + 1 tokens per
    user."""
    t = np.asarray(t, dtype=float)
    q = wl.tokens_per_step
    tokens = np.asarray(batch, dtype=float) * q
    m = wl.model
    attn_per_token = 2.0 * m.num_hidden_layers * m.attention_params() + (
        m.attention_flops_per_token(wl.read_context, windows=wl.assumptions.sliding_window)
    )
    attn = np.where(
        dp, users_per_rank(t, batch, dp) * q * attn_per_token, tokens * attn_per_token / t
    )
    total = tokens * 2.0 * wl.other_active_params / t + attn
    if m.is_moe:
        _, pairs = routed_experts_per_chip(wl, t, ep, tokens, busiest)
        total = total + m.moe_layers * pairs * 2.0 * m.expert_params()
    return total


def collective_time(latency, nbytes, link_bandwidth):
    """One collective: τ + bytes / per-direction link bandwidth (a chip sends and receives its
    bytes at once; `link_bandwidth` is bidirectional)."""
    return latency + nbytes / (np.asarray(link_bandwidth) / 2.0)


def all_reduce_bytes(t, tokens, hidden, elem_bytes):
    """Bytes each chip sends in a ring all-reduce of `tokens` activations: 2(t−1)/t · n·d·a."""
    t = np.asarray(t, dtype=float)
    return 2.0 * (t - 1.0) / t * np.asarray(tokens, dtype=float) * hidden * elem_bytes


def deployed_sync_time(wl: Workload, hw: dict[str, np.ndarray], t, p, batch, ep, dp):
    """T_sync with bytes and the partition's collectives, per layer:
    - plain TP: collectives_per_layer all-reduces (after attention and after the MLP);
    - DP attention: none after attention; the MLP's all-gather + reduce-scatter (2τ, the bytes
      of one all-reduce);
    - MoE layers with ep > 1: after TP attention every chip has every token, so the combine is
      one all-reduce; under DP attention a dispatch and a combine all-to-all (2 × (τ + bytes),
      each chip sending ⌈B/t⌉·k·d·a·(t−1)/t, times t/ep when an expert spans t/ep chips).
    Pipeline: p hand-offs of τ_pp + n·d·a bytes. Bytes cost nothing unless
    `collective_bandwidth`."""
    m = wl.model
    t = np.asarray(t)
    p = np.asarray(p)
    ep = np.asarray(ep)
    tokens = np.asarray(batch, dtype=float) * wl.tokens_per_step
    a = dtype_bytes(COLLECTIVE_DTYPE)
    d = m.hidden_size
    bw = hw["link_bandwidth"] if wl.assumptions.collective_bandwidth else np.inf
    tau = collective_latency(t, hw["domain_size"], hw["intra_latency"], hw["inter_latency"])
    tau = tau + wl.efficiency.collective_latency  # the serving stack's own latency
    ar = collective_time(tau, all_reduce_bytes(t, tokens, d, a), bw)
    ag_rs = collective_time(2.0 * tau, all_reduce_bytes(t, tokens, d, a), bw)
    plain = m.num_hidden_layers * wl.collectives_per_layer * ar
    mlp = np.where(dp, ag_rs, ar)
    attention = np.where(dp, 0.0, ar)
    # (t−1)/t of the pairs are remote, × t/ep chips per expert = (t−1)/ep
    pairs_sent = users_per_rank(t, batch, dp) * wl.tokens_per_step * m.num_experts_per_tok
    a2a_bytes = pairs_sent * d * a * (t - 1.0) / np.maximum(ep, 1)
    moe = np.where((ep > 1) & dp, 2.0 * collective_time(tau, a2a_bytes, bw), mlp)
    layered = m.num_hidden_layers * attention + m.dense_layers * mlp + m.moe_layers * moe
    tp_sync = np.where(dp | (ep > 1), layered, plain)
    hop = collective_time(hw["pipeline_latency"], tokens * d * a, bw)
    return np.where(t > 1, tp_sync, 0.0) + np.where(p > 1, p * hop, 0.0)


def _partition(ep, attention):
    """(ep array, DP-attention mask) from `evaluate_arrays`' keywords."""
    ep = np.asarray(1 if ep is None else ep)
    att = np.asarray("tp" if attention is None else attention)
    dp = att == "dp"
    bad = ~(dp | (att == "tp"))
    if np.any(bad):
        raise InputError(
            f"expected tp or dp, got {np.atleast_1d(att)[np.atleast_1d(bad)][0]!r}",
            key="attention",
        )
    return ep, dp


def _deployed_terms(wl: Workload, hw, t, p, batch, ep, dp, busiest=None):
    """(T_mem, T_compute, T_sync, memory per chip) of the deployed equations (`busiest`:
    `busiest_experts` of the step's tokens, when known)."""
    bw = hw["bandwidth"] * wl.efficiency.bandwidth
    read = weight_bytes_read_per_chip(wl, t, batch, ep, dp, busiest) + kv_bytes_per_chip(
        wl, t, batch, dp, read=True
    )
    t_mem = read / bw
    t_cmp = flops_per_chip(wl, t, batch, ep, dp, busiest) / (hw["flops"] * wl.efficiency.compute)
    t_syn = deployed_sync_time(wl, hw, t, p, batch, ep, dp)
    # the stage's layers hold the KV of the p micro-batches in flight
    kv_held = kv_bytes_per_chip(wl, t, batch, dp, read=False) * np.asarray(p) * stage_share(wl, p)
    mem = weight_bytes_held_per_chip(wl, t, p, ep, dp) + kv_held
    return t_mem, t_cmp, t_syn, mem


def kv_read_time(wl: Workload, hw: dict[str, np.ndarray], t, batch, dp):
    """T_kv: the KV bytes the busiest chip reads per step over its peak bandwidth (the paper's
    B·S·K/t under `paper`, `kv_bytes_per_chip` otherwise); the attention-kernel term of
    `sequence_time` scales it."""
    if wl.assumptions.is_paper:
        kv = np.asarray(batch, dtype=float) * wl.kv_bytes_per_user / np.asarray(t, dtype=float)
    else:
        kv = kv_bytes_per_chip(wl, t, batch, dp, read=True)
    return kv / hw["bandwidth"]


def draft_terms(wl: Workload, hw, t, batch, ep, dp):
    """(time of one drafted token, bytes the draft holds per chip): the draft workload's step
    on the same chips and partition (no pipeline), its weights (an MTP or EAGLE layer without
    the shared embedding and head) /t and its KV."""
    d = wl.draft()
    if d is None:
        return 0.0, 0.0
    t_mem, t_cmp, t_syn, _ = _deployed_terms(d, hw, t, 1, batch, ep, dp)
    step = step_time(t_mem, t_cmp, t_syn, overhead_time(d))
    held = wl.draft_weight_bytes_held / np.asarray(t, dtype=float) + kv_bytes_per_chip(
        d, t, batch, dp, read=False
    )
    return step, held


def partition_options(wl: Workload, t: int) -> list[dict]:
    """The partition choices besides (t, p) for a model at t chips per stage, as keyword
    arguments of `evaluate_arrays` / fields of `evaluate.Design`.

    Always plain TP `{"attention": "tp", "ep": 1}`. With t > 1: data-parallel attention under
    `kv_placement = "heads"`; for MoE models under `expert_parallel`, every expert-parallel
    degree ep > 1 dividing t (and at most E), with either attention layout.

    >>> from designer.model.catalog import Catalog
    >>> from designer.model.assumptions import Assumptions
    >>> wl = Workload(Catalog.load().model("deepseek-v3"), 4096,
    ...               assumptions=Assumptions.preset("deployment"))
    >>> [(o["attention"], o["ep"]) for o in partition_options(wl, 2)]
    [('tp', 1), ('dp', 1), ('tp', 2), ('dp', 2)]
    """
    opts = [{"attention": "tp", "ep": 1}]
    if t <= 1:
        return opts
    layouts = ["tp"] + (["dp"] if wl.assumptions.kv_placement == "heads" else [])
    opts += [{"attention": a, "ep": 1} for a in layouts[1:]]
    m = wl.model
    if m.is_moe and wl.assumptions.expert_parallel:
        for e in range(2, min(t, m.num_experts) + 1):
            if t % e == 0:
                opts += [{"attention": a, "ep": e} for a in layouts]
    return opts


# ---- all of it at once -----------------------------------------------------------------------
def evaluate_arrays(
    wl: Workload, hw: dict[str, np.ndarray], t, p, batch, *, ep=None, attention=None
) -> dict[str, np.ndarray]:
    """Every metric of docs/model.md §1 for arrays of designs. `hw` is `ChipArrays.take(index)`.

    `ep` (expert-parallel degree, default 1) and `attention` ("tp" or "dp", default "tp") are
    scalars or arrays broadcasting with t, p and batch; see `partition_options`. With speculative
    decoding `step_time_s` is one verification step and the rates count accepted tokens.
    """
    t = np.asarray(t)
    p = np.asarray(p)
    batch = np.asarray(batch)
    ep, dp = _partition(ep, attention)
    plain = not np.any(dp) and not np.any(ep > 1)
    t_draft = 0.0
    busiest = busiest_experts(wl, ep, batch * wl.tokens_per_step)
    if wl.assumptions.is_paper and plain and wl.speculative == "none":
        t_mem = memory_time(wl, hw["bandwidth"], t, batch)
        t_cmp = compute_time(wl, hw["flops"], t, batch)
        t_syn = sync_time(
            wl,
            t,
            p,
            hw["domain_size"],
            hw["intra_latency"],
            hw["inter_latency"],
            hw["pipeline_latency"],
        )
        mem = memory_per_chip(wl, t, p, batch)
        kv = np.asarray(batch) * wl.kv_bytes_per_user / np.asarray(t, dtype=float)
    else:
        t_mem, t_cmp, t_syn, mem = _deployed_terms(wl, hw, t, p, batch, ep, dp, busiest)
        kv = kv_bytes_per_chip(wl, t, batch, dp, read=False)
        t_draft, draft_held = draft_terms(wl, hw, t, batch, ep, dp)
        t_draft = wl.draft_tokens * np.asarray(t_draft) if wl.speculative != "none" else 0.0
        mem = mem + draft_held
    # the per-sequence cost runs on each rank's own sequences: all B under TP attention, ⌈B/t⌉
    # under data-parallel attention (a rank's attention kernels and their sampling)
    seqs = batch if plain or not np.any(dp) else users_per_rank(t, batch, dp)
    kv_s = kv_read_time(wl, hw, t, batch, dp)
    t_ovr = overhead_time(
        wl, seqs, kv_s, ep=ep, moe_tokens=batch * wl.tokens_per_step, busiest=busiest
    )
    t_ovr = np.broadcast_to(t_ovr, np.shape(t_mem)).astype(float)
    t_seq = per_sequence_time(wl, seqs, kv_s)
    s = wl.efficiency.step_scale
    if s != 1.0:  # a measured platform: every decode term at its measured time per modeled time
        t_mem, t_cmp, t_syn, t_ovr, t_seq, t_draft = (
            s * np.asarray(x, dtype=float) for x in (t_mem, t_cmp, t_syn, t_ovr, t_seq, t_draft)
        )
    step = step_time(t_mem, t_cmp, t_syn, t_ovr, t_seq, wl.assumptions.per_sequence_overlap)
    step = step + t_draft
    accepted = wl.accepted_tokens_per_step
    t_mem, t_cmp, t_syn, t_ovr, step, mem, kv, t_draft = np.broadcast_arrays(
        t_mem, t_cmp, t_syn, t_ovr, step, mem, kv, t_draft
    )
    terms = np.stack([t_mem, t_cmp, t_syn, t_ovr])
    return {
        "memory_time_s": t_mem,
        "compute_time_s": t_cmp,
        "sync_time_s": t_syn,
        "overhead_time_s": t_ovr,
        "draft_time_s": t_draft,
        "step_time_s": step,
        "tokens_per_s_per_user": accepted * user_rate(step),
        "system_tokens_per_s": accepted * system_rate(step, p, batch),
        "memory_per_chip_bytes": mem,
        "kv_per_chip_bytes": kv,
        "fits": mem <= hw["usable_capacity"] * (1 + 1e-12),
        "bottleneck": BOTTLENECKS[np.argmax(terms, axis=0)],
    }

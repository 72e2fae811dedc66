"""The LIMINAL forward model in numpy, vectorized over designs (docs/model.md §1).

Each equation has one function here and a twin of the same name in `formulation`; tests pin the
two to each other. Inputs broadcast: chip properties, `t` (chips per pipeline stage), `p`
(pipeline stages) and `batch` (users per micro-batch) may be scalars or arrays of one shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.catalog import Catalog
from designer.workload import Workload

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

    @classmethod
    def build(cls, catalog: Catalog, chip_ids: list[str], dtype: str) -> ChipArrays:
        chips = [catalog.chip(c) for c in chip_ids]
        ics = [catalog.interconnect(c.interconnect) for c in chips]
        return cls(
            ids=tuple(chip_ids),
            memory=tuple(c.memory_technology for c in chips),
            bandwidth=np.array([c.memory_bandwidth for c in chips]),
            flops=np.array([c.flops(dtype) for c in chips]),
            usable_capacity=np.array([c.memory_capacity * c.usable_memory_fraction for c in chips]),
            domain_size=np.array([ic.domain_size for ic in ics], dtype=float),
            intra_latency=np.array([ic.intra_domain_latency for ic in ics]),
            inter_latency=np.array([ic.inter_domain_latency for ic in ics]),
            pipeline_latency=np.array([ic.pipeline_latency for ic in ics]),
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
            )
        }


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
    """T_sync = L · n_coll · τ(t) when t > 1, plus p · τ_pp when p > 1."""
    t = np.asarray(t)
    p = np.asarray(p)
    tp_sync = (
        wl.layers
        * wl.collectives_per_layer
        * collective_latency(t, domain_size, intra_latency, inter_latency)
    )
    return np.where(t > 1, tp_sync, 0.0) + np.where(p > 1, p * pipeline_latency, 0.0)


def overhead_time(wl: Workload):
    """T_over = L · τ_layer."""
    return wl.layers * wl.efficiency.overhead_per_layer


def step_time(t_mem, t_compute, t_sync, t_over):
    """T = max(T_mem, T_compute) + T_sync + T_over."""
    return np.maximum(t_mem, t_compute) + t_sync + t_over


def memory_per_chip(wl: Workload, t, p, batch):
    """(W + p·B·S·K) · (⌈L/p⌉/L) / t: the slowest pipeline stage holds ⌈L/p⌉ whole layers of
    the weights and of the KV of p micro-batches, over its t chips ((W + p·B·S·K)/(t·p) when p
    divides L)."""
    t = np.asarray(t, dtype=float)
    p = np.asarray(p, dtype=float)
    stage = np.ceil(wl.layers / p) / wl.layers
    return (wl.weight_bytes + p * np.asarray(batch) * wl.kv_bytes_per_user) * stage / t


def user_rate(step):
    """UTPS = 1 / T."""
    return 1.0 / step


def system_rate(step, p, batch):
    """STPS per replica = p · B / T."""
    return np.asarray(p) * np.asarray(batch) / step


# ---- all of it at once -----------------------------------------------------------------------
def evaluate_arrays(wl: Workload, hw: dict[str, np.ndarray], t, p, batch) -> dict[str, np.ndarray]:
    """Every metric of docs/model.md §1 for arrays of designs. `hw` is `ChipArrays.take(index)`."""
    t = np.asarray(t)
    p = np.asarray(p)
    batch = np.asarray(batch)
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
    t_ovr = np.broadcast_to(overhead_time(wl), np.shape(t_mem)).astype(float)
    step = step_time(t_mem, t_cmp, t_syn, t_ovr)
    mem = memory_per_chip(wl, t, p, batch)
    t_mem, t_cmp, t_syn, t_ovr, step, mem = np.broadcast_arrays(
        t_mem, t_cmp, t_syn, t_ovr, step, mem
    )
    terms = np.stack([t_mem, t_cmp, t_syn, t_ovr])
    return {
        "memory_time_s": t_mem,
        "compute_time_s": t_cmp,
        "sync_time_s": t_syn,
        "overhead_time_s": t_ovr,
        "step_time_s": step,
        "tokens_per_s_per_user": user_rate(step),
        "system_tokens_per_s": system_rate(step, p, batch),
        "memory_per_chip_bytes": mem,
        "fits": mem <= hw["usable_capacity"] * (1 + 1e-12),
        "bottleneck": BOTTLENECKS[np.argmax(terms, axis=0)],
    }

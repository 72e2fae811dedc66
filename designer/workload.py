"""The decode workload: bytes held, bytes read and FLOPs per step (docs/model.md §1).

Everything here depends on the model and the serving settings only, never on the hardware;
`perf` divides these by bandwidth and compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.architecture import Architecture
from designer.catalog import dtype_bytes
from designer.errors import InputError


@dataclass(frozen=True)
class Efficiency:
    """Serving-stack efficiency: 1, 1 and 0 for hardware-limit studies (the paper's defaults)."""

    bandwidth: float = 1.0  # η_bw, share of peak memory bandwidth achieved
    compute: float = 1.0  # η_f, share of peak FLOP/s achieved
    overhead_per_layer: float = 0.0  # τ_layer in seconds, exposed software time per layer

    def __post_init__(self):
        for name in ("bandwidth", "compute"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                raise InputError(
                    f"expected a fraction in (0, 1], got {v!r}", key=f"efficiency.{name}"
                )
        if self.overhead_per_layer < 0:
            raise InputError("expected a non-negative time", key="efficiency.overhead_per_layer")


@dataclass(frozen=True)
class Workload:
    """A model served at a context length with given weight and KV dtypes."""

    model: Architecture
    context_tokens: int
    weight_dtype: str = "fp8"
    kv_dtype: str = "fp8"
    collectives_per_layer: int = 2
    efficiency: Efficiency = Efficiency()

    def __post_init__(self):
        if self.context_tokens < 1:
            raise InputError(
                f"expected a positive integer, got {self.context_tokens!r}",
                key="workload.context_tokens",
            )
        dtype_bytes(self.weight_dtype, key="workload.weight_dtype")
        dtype_bytes(self.kv_dtype, key="workload.kv_dtype")
        if self.collectives_per_layer < 0:
            raise InputError(
                "expected a non-negative integer", key="workload.collectives_per_layer"
            )

    # ---- bytes -----------------------------------------------------------------------------
    @property
    def weight_bytes(self) -> float:
        """W = P · w: every parameter is held in memory."""
        return self.model.total_params() * dtype_bytes(self.weight_dtype)

    @property
    def routed_bytes(self) -> float:
        return self.model.routed_params() * dtype_bytes(self.weight_dtype)

    @property
    def expert_bytes(self) -> float:
        """One routed expert's weights."""
        return self.model.expert_params() * dtype_bytes(self.weight_dtype)

    @property
    def kv_bytes_per_token(self) -> float:
        """K: GQA/MHA 2·L·h_kv·d_h·κ, MLA L·(r + d_r)·κ."""
        return self.model.kv_elements_per_token() * dtype_bytes(self.kv_dtype)

    @property
    def kv_bytes_per_user(self) -> float:
        """S·K, with sliding-window layers holding only their window."""
        return self.model.kv_elements_per_user(self.context_tokens) * dtype_bytes(self.kv_dtype)

    def expected_experts(self, batch) -> np.ndarray:
        """Expected distinct routed experts per MoE layer touched by `batch` tokens under uniform
        routing: E·(1 − (1 − k/E)^B)."""
        m = self.model
        b = np.asarray(batch, dtype=float)
        if not m.is_moe:
            return np.zeros_like(b)
        return m.num_experts * (1.0 - (1.0 - m.num_experts_per_tok / m.num_experts) ** b)

    def weight_bytes_read(self, batch) -> np.ndarray:
        """Weight bytes read per step: W for dense models; for MoE the non-routed weights plus
        the expected distinct experts of every MoE layer."""
        b = np.asarray(batch, dtype=float)
        if not self.model.is_moe:
            return np.full_like(b, self.weight_bytes)
        return (
            self.weight_bytes
            - self.routed_bytes
            + self.model.moe_layers * self.expected_experts(b) * self.expert_bytes
        )

    def bytes_read(self, batch) -> np.ndarray:
        """Bytes read per step: weights read + B·S·K."""
        b = np.asarray(batch, dtype=float)
        return self.weight_bytes_read(b) + b * self.kv_bytes_per_user

    # ---- FLOPs -----------------------------------------------------------------------------
    @property
    def flops_per_token(self) -> float:
        """2·P_active plus attention against the context (MLA in its absorbed form)."""
        return 2.0 * self.model.active_params() + self.model.attention_flops_per_token(
            self.context_tokens
        )

    def flops(self, batch) -> np.ndarray:
        """FLOPs per step for `batch` users (scalar ops are not counted)."""
        return np.asarray(batch, dtype=float) * self.flops_per_token

    @property
    def compute_dtype(self) -> str:
        return self.weight_dtype

    @property
    def layers(self) -> int:
        return self.model.num_hidden_layers

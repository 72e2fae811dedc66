"""The decode workload: bytes held, bytes read and FLOPs per step (docs/model.md §1).

Everything here depends on the model and the serving settings only, never on the hardware;
`perf` divides these by bandwidth and compute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from designer.model.architecture import Architecture
from designer.model.assumptions import PRESETS, Assumptions
from designer.model.dtypes import dtype_bytes, native_weight_dtype
from designer.model.errors import InputError

# Collectives (all-reduce, all-to-all, pipeline hand-offs) carry activations in bf16, as the
# serving engines' NCCL all-reduce does even for fp8 GEMMs (assumption).
COLLECTIVE_DTYPE = "bf16"
# Hugging Face torch_dtype spellings of the dtypes we know.
SPECULATIVE = ("none", "mtp", "eagle")


@dataclass(frozen=True)
class Efficiency:
    """Serving-stack efficiency: 1, 1 and 0s for hardware-limit studies (the paper's defaults).

    A calibration profile (`designer.calibration.profiles`) sets the eleven numbers from measured
    step times (the prefill of e2e and throughput rows fits `prefill_compute`; MoE and MLA rows
    `moe_layer` and `mla_layer`) and `activation_dtype` from its serving engine's GEMM precision
    (catalogs/engines.toml): the FP8/FP4 activations of W8A8/W4A4 kernels, which `Workload`
    computes at when the problem names none.
    """

    bandwidth: float = 1.0  # η_bw, share of peak memory bandwidth achieved
    compute: float = 1.0  # η_f, share of peak FLOP/s achieved
    overhead_per_layer: float = 0.0  # τ_layer in seconds, exposed software time per layer
    # τ_seq in s, per layer per sequence × d/8192 (perf.sequence_scale), for 64·(B/64)^0.9 of B
    per_sequence: float = 0.0
    collective_latency: float = 0.0  # s added to every collective's τ(t) by the software path
    overhead_per_step: float = 0.0  # τ_step in seconds, once per step (host loop, scheduling)
    prefill_compute: float = 1.0  # η_pf, share of peak FLOP/s a prefill pass achieves
    per_sequence_step: float = 0.0  # τ_sample in seconds, per sequence per step (sampling)
    attention_kernel: float = 0.0  # κ_attn, attention-kernel time per KV-read time at peak BW
    moe_layer: float = 0.0  # τ_moe in seconds, per MoE layer per step (routing, grouped GEMM)
    mla_layer: float = 0.0  # τ_mla in seconds, per MLA layer per step (latent attention)
    moe_expert: float = 0.0  # τ_expert in s, per distinct expert a chip computes per MoE layer
    activation_dtype: str = ""  # GEMM activations the engine runs ("" → `Workload`'s rule)
    # s, a measured platform's decode step time per modeled step time: every decode term is
    # multiplied by it (`perf.evaluate_arrays`); 1 except on a software generation's measured
    # platform (`profiles.on_platform`)
    step_scale: float = 1.0

    def __post_init__(self):
        for name in ("bandwidth", "compute", "prefill_compute"):
            v = getattr(self, name)
            if not 0 < v <= 1:
                raise InputError(
                    f"expected a fraction in (0, 1], got {v!r}", key=f"efficiency.{name}"
                )
        for name in (
            "overhead_per_layer",
            "per_sequence",
            "collective_latency",
            "overhead_per_step",
            "per_sequence_step",
            "attention_kernel",
            "moe_layer",
            "mla_layer",
            "moe_expert",
        ):
            if not 0 <= getattr(self, name) < math.inf:
                raise InputError("expected a finite non-negative time", key=f"efficiency.{name}")
        if not 0 < self.step_scale < math.inf:
            raise InputError(
                f"expected a positive factor, got {self.step_scale!r}",
                key="efficiency.step_scale",
            )
        if self.activation_dtype:
            dtype_bytes(self.activation_dtype, key="efficiency.activation_dtype")


def native_dtypes(
    model: Architecture, assumptions: Assumptions, weight: str | None = None
) -> tuple[str, str]:
    """Default (weight, KV) dtypes: the model's published native dtype and bf16 KV under the
    `native_dtype` switch (fp8 when the model publishes none), else fp8 and fp8; `weight`, when
    given, is kept. A Hugging Face config whose `torch_dtype` names no dtype designer models
    (float64) cannot default its weights: an error asking for them.

    >>> from designer.model.catalog import Catalog
    >>> native_dtypes(Catalog.load().model("gpt-oss-120b"), Assumptions.preset("deployment"))
    ('mxfp4', 'bf16')
    """
    if not assumptions.native_dtype:
        return weight or "fp8", "fp8"
    if weight is None and not model.native_dtype and model.extra.get("torch_dtype"):
        raise InputError(
            f"{model.id}'s config.json gives torch_dtype {model.extra['torch_dtype']!r}, no dtype "
            "designer models: give the weights' (--weight-dtype, or weight_dtype in [workload])",
            key="weight_dtype",
        )
    return weight or native_weight_dtype(model.native_dtype) or "fp8", "bf16"


@dataclass(frozen=True)
class Workload:
    """A model served at a context length with given weight and KV dtypes.

    `context_tokens` is the context every user holds at its peak. With `prompt_tokens` and
    `output_tokens` (their sum is the peak) and the `context_distribution` assumption, the KV
    read per step is the mean context of a request, prompt + output/2. Speculative decoding
    (`speculative` = "mtp", "eagle" or a draft model's catalog id) verifies `draft_tokens`
    proposed tokens per step, each accepted with probability `acceptance_rate`.
    """

    model: Architecture
    context_tokens: int
    weight_dtype: str = "fp8"
    kv_dtype: str = "fp8"
    collectives_per_layer: int = 2
    efficiency: Efficiency = Efficiency()
    assumptions: Assumptions = PRESETS["paper"]
    prompt_tokens: int = 0
    output_tokens: int = 0
    activation_dtype: str = ""  # "" → the weight dtype, or bf16 for sub-8-bit weights
    speculative: str = "none"
    draft_tokens: int = 0
    acceptance_rate: float = 0.0
    draft_model: Architecture | None = None  # the draft of `speculative = <model id>`

    def __post_init__(self):
        if self.context_tokens < 1:
            raise InputError(
                f"expected a positive integer, got {self.context_tokens!r}",
                key="workload.context_tokens",
            )
        dtype_bytes(self.weight_dtype, key="workload.weight_dtype")
        dtype_bytes(self.kv_dtype, key="workload.kv_dtype")
        if self.activation_dtype:
            dtype_bytes(self.activation_dtype, key="workload.activation_dtype")
        if self.collectives_per_layer < 0:
            raise InputError(
                "expected a non-negative integer", key="workload.collectives_per_layer"
            )
        if (self.prompt_tokens or self.output_tokens) and (
            self.prompt_tokens < 0
            or self.output_tokens < 0
            or self.prompt_tokens + self.output_tokens != self.context_tokens
        ):
            raise InputError(
                f"expected prompt_tokens + output_tokens = context_tokens "
                f"({self.prompt_tokens} + {self.output_tokens} != {self.context_tokens})",
                key="workload.context_tokens",
            )
        if self.speculative not in SPECULATIVE and self.draft_model is None:
            raise InputError(
                f"expected none, mtp, eagle or a draft model id, got {self.speculative!r}",
                key="workload.speculative",
            )
        if self.speculative != "none" and self.draft_tokens < 1:
            raise InputError(
                "expected draft_tokens ≥ 1 with speculative decoding", key="workload.draft_tokens"
            )
        if not 0 <= self.acceptance_rate < 1:
            raise InputError(
                f"expected a probability in [0, 1), got {self.acceptance_rate!r}",
                key="workload.acceptance_rate",
            )

    # ---- what produced it --------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The assumption set (preset name and every switch) behind this workload's numbers."""
        return self.assumptions.describe()

    def as_dict(self) -> dict[str, Any]:
        """The workload as it was evaluated: model, contexts, dtypes, speculation, assumptions."""
        return {
            "model": self.model.id,
            "context_tokens": self.context_tokens,
            "prompt_tokens": self.prompt_tokens or None,
            "output_tokens": self.output_tokens or None,
            "kv_context_held_tokens": self.held_context,
            "kv_context_read_tokens": self.read_context,
            "weight_dtype": self.weight_dtype,
            "kv_dtype": self.kv_dtype,
            "compute_dtype": self.compute_dtype,
            "speculative": self.speculative,
            "draft_tokens": self.draft_tokens,
            "acceptance_rate": self.acceptance_rate,
            "accepted_tokens_per_step": self.accepted_tokens_per_step,
            "assumptions": self.describe(),
        }

    # ---- context -------------------------------------------------------------------------------
    @property
    def held_context(self) -> int:
        """Tokens of KV each user holds: the peak, prompt + output (= context_tokens)."""
        return self.context_tokens

    @property
    def read_context(self) -> float:
        """Tokens of KV read per user per step: the mean context prompt + output/2 of a request
        under `context_distribution` when the prompt and output lengths are given, else the
        peak."""
        if self.assumptions.context_distribution and (self.prompt_tokens or self.output_tokens):
            return self.prompt_tokens + self.output_tokens / 2
        return float(self.context_tokens)

    def kv_bytes_held(self, context: float | None = None) -> float:
        """S·K for one user at the held context (or `context`), windows per the assumptions."""
        s = self.held_context if context is None else context
        return self.model.kv_elements_per_user(
            s, windows=self.assumptions.sliding_window
        ) * dtype_bytes(self.kv_dtype)

    @property
    def kv_bytes_read_per_user(self) -> float:
        """KV bytes one user's attention reads per step (all layers)."""
        return self.kv_bytes_held(self.read_context)

    # ---- speculative decoding ----------------------------------------------------------------
    @property
    def tokens_per_step(self) -> int:
        """Tokens each user's target model processes per step: 1, or draft_tokens + 1 when a
        speculative step verifies its drafts."""
        return 1 + (self.draft_tokens if self.speculative != "none" else 0)

    @property
    def accepted_tokens_per_step(self) -> float:
        """Expected tokens emitted per user per step: (1 − α^(k+1)) / (1 − α) for k drafts each
        accepted with probability α (Leviathan et al., 2023, arXiv 2211.17192); 1 without.

        >>> from designer.model.catalog import Catalog
        >>> wl = Workload(Catalog.load().model("deepseek-v3"), 4096, speculative="mtp",
        ...               draft_tokens=1, acceptance_rate=0.85)
        >>> round(wl.accepted_tokens_per_step, 2)
        1.85
        """
        k = self.tokens_per_step - 1
        a = self.acceptance_rate
        return (1 - a ** (k + 1)) / (1 - a)

    def draft(self) -> Workload | None:
        """The draft as a workload of its own, run once per drafted token: one layer of the
        target (DeepSeek MTP: a copy of its last, MoE layer; EAGLE: a dense decoder layer of
        the target's width) sharing its embedding and LM head, or a separate draft model."""
        if self.speculative == "none":
            return None
        m = self.model
        if self.draft_model is not None:
            arch = self.draft_model
        elif self.speculative == "mtp":
            arch = replace(m, num_hidden_layers=1, first_k_dense_replace=0)
        else:
            arch = replace(
                m,
                num_hidden_layers=1,
                num_experts=0,
                num_experts_per_tok=0,
                num_shared_experts=0,
                first_k_dense_replace=0,
                intermediate_size=m.intermediate_size or 4 * m.hidden_size,
            )
        return replace(
            self,
            model=arch,
            speculative="none",
            draft_tokens=0,
            acceptance_rate=0.0,
            draft_model=None,
        )

    @property
    def draft_weight_bytes_held(self) -> float:
        """Weights the draft adds to memory: a draft model whole; an MTP or EAGLE layer
        without the embedding and LM head it shares with the target."""
        d = self.draft()
        if d is None:
            return 0.0
        if self.draft_model is not None:
            return d.weight_bytes
        a = d.model
        return (a.total_params() - a.embedding_params() - a.lm_head_params()) * dtype_bytes(
            self.weight_dtype
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

    # ---- the parts of the weights, for placing them on chips ---------------------------------
    @property
    def attention_bytes(self) -> float:
        """All layers' attention projections (held whole by each rank under DP attention)."""
        return (
            self.model.num_hidden_layers
            * self.model.attention_params()
            * dtype_bytes(self.weight_dtype)
        )

    @property
    def embedding_bytes(self) -> float:
        return self.model.embedding_params() * dtype_bytes(self.weight_dtype)

    @property
    def other_bytes(self) -> float:
        """Dense MLPs, shared experts, routers, norms and the LM head: sharded over t."""
        return self.weight_bytes - self.attention_bytes - self.embedding_bytes - self.routed_bytes

    @property
    def other_active_params(self) -> float:
        """Parameters per token outside attention and the routed experts (LM head included,
        embedding lookup not)."""
        m = self.model
        return (
            m.active_params()
            - m.num_hidden_layers * m.attention_params()
            - m.moe_layers * m.num_experts_per_tok * m.expert_params()
        )

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
        """The dtype whose FLOP rate the matrix products run at: the weight dtype (the paper),
        or under `weight_only_quant` the activation dtype when the weights are narrower
        (fp4/int4 weights with bf16 activations run at the bf16 rate). The activation dtype is
        the workload's, else its profile's engine's (`Efficiency.activation_dtype`: an engine
        running W4A4/W8A8 kernels computes FP4/FP8 weights at the FP4/FP8 rate), else the weight
        dtype for 8-bit and wider weights and bf16 for narrower ones."""
        if not self.assumptions.weight_only_quant:
            return self.weight_dtype
        act = (
            self.activation_dtype
            or self.efficiency.activation_dtype
            or (self.weight_dtype if dtype_bytes(self.weight_dtype) >= 1 else "bf16")
        )
        if dtype_bytes(act) > dtype_bytes(self.weight_dtype):
            return act
        return self.weight_dtype

    @property
    def layers(self) -> int:
        return self.model.num_hidden_layers

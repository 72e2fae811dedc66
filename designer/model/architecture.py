"""LLM architectures: the config fields the decode model needs, and parameter counts from them.

Fields use Hugging Face `config.json` names. Parameters are always counted from the
architecture (never typed in): embeddings, attention (GQA/MHA or MLA), dense SwiGLU MLPs or
routed + shared experts with a router, RMSNorms, and an untied LM head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from designer.model.dtypes import DTYPE_BYTES, NATIVE_DTYPES, native_weight_dtype
from designer.model.errors import InputError, closest, excerpt
from designer.model.files import read_json

# Hugging Face spellings of the same field, per model family, mapped to ours.
ALIASES = {
    "n_routed_experts": "num_experts",
    "num_local_experts": "num_experts",
    "n_shared_experts": "num_shared_experts",
    "experts_per_token": "num_experts_per_tok",
    "num_layers": "num_hidden_layers",
    "n_layer": "num_hidden_layers",
    "n_embd": "hidden_size",
    "n_head": "num_attention_heads",
}


@dataclass(frozen=True)
class Architecture:
    """A decoder-only transformer, in Hugging Face config names."""

    id: str
    num_hidden_layers: int
    hidden_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    vocab_size: int
    intermediate_size: int = 0
    tie_word_embeddings: bool = False
    max_position_embeddings: int = 0
    # mixture of experts
    num_experts: int = 0
    num_experts_per_tok: int = 0
    num_shared_experts: int = 0
    moe_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0
    first_k_dense_replace: int = 0
    # multi-head latent attention
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    qk_rope_head_dim: int = 0
    qk_nope_head_dim: int = 0
    v_head_dim: int = 0
    # multi-token prediction: the MTP modules the checkpoint ships (DeepSeek-V3's one), which
    # `speculative = "mtp"` drafts with (0: none; the draft then assumes one, a warning)
    num_nextn_predict_layers: int = 0
    # extras
    attention_bias: bool = False
    sliding_window: int = 0
    sliding_window_layers: int = 0
    name: str = ""
    hf_id: str = ""
    native_dtype: str = ""
    published_total_params: float = 0.0
    published_active_params: float = 0.0
    source: str = ""
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    # ---- structure -------------------------------------------------------------------------
    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def moe_layers(self) -> int:
        return self.num_hidden_layers - self.first_k_dense_replace if self.is_moe else 0

    @property
    def dense_layers(self) -> int:
        return self.num_hidden_layers - self.moe_layers

    # ---- parameter counts ------------------------------------------------------------------
    def attention_params(self) -> int:
        """One layer's attention projections (and their biases, and MLA's latent norms)."""
        d, h = self.hidden_size, self.num_attention_heads
        if self.is_mla:
            qk = self.qk_nope_head_dim + self.qk_rope_head_dim
            if self.q_lora_rank:
                q = d * self.q_lora_rank + self.q_lora_rank + self.q_lora_rank * h * qk
            else:
                q = d * h * qk
            kv = (
                d * (self.kv_lora_rank + self.qk_rope_head_dim)
                + self.kv_lora_rank
                + self.kv_lora_rank * h * (self.qk_nope_head_dim + self.v_head_dim)
            )
            o = h * self.v_head_dim * d
            return q + kv + o
        hd, hkv = self.head_dim, self.num_key_value_heads
        n = d * h * hd + 2 * d * hkv * hd + h * hd * d
        if self.attention_bias:
            n += h * hd + 2 * hkv * hd + d
        return n

    def expert_params(self) -> int:
        """One routed expert (SwiGLU: gate, up, down; with biases when attention_bias is set,
        as in gpt-oss)."""
        d, i = self.hidden_size, self.moe_intermediate_size
        n = 3 * d * i
        if self.attention_bias:
            n += 2 * i + d
        return n

    def shared_expert_params(self) -> int:
        if self.shared_expert_intermediate_size:
            return 3 * self.hidden_size * self.shared_expert_intermediate_size
        return self.num_shared_experts * 3 * self.hidden_size * self.moe_intermediate_size

    def router_params(self) -> int:
        return self.hidden_size * self.num_experts + (
            self.num_experts if self.attention_bias else 0
        )

    def dense_mlp_params(self) -> int:
        return 3 * self.hidden_size * self.intermediate_size

    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size

    def lm_head_params(self) -> int:
        return 0 if self.tie_word_embeddings else self.vocab_size * self.hidden_size

    def routed_params(self) -> int:
        """All routed-expert weights of the model (read only in part at small batch)."""
        return self.moe_layers * self.num_experts * self.expert_params()

    def total_params(self) -> int:
        L = self.num_hidden_layers
        norms = 2 * self.hidden_size * L + self.hidden_size
        per_layer_attention = self.attention_params() * L
        dense = self.dense_layers * self.dense_mlp_params()
        moe = self.moe_layers * (self.shared_expert_params() + self.router_params())
        return (
            self.embedding_params()
            + self.lm_head_params()
            + norms
            + per_layer_attention
            + dense
            + moe
            + self.routed_params()
        )

    def active_params(self) -> int:
        """Parameters touched per token, counting the LM head but not the embedding lookup."""
        idle = (
            self.moe_layers * (self.num_experts - self.num_experts_per_tok) * self.expert_params()
        )
        return self.total_params() - idle - self.embedding_params()

    # ---- KV cache --------------------------------------------------------------------------
    def kv_elements_per_token(self) -> int:
        """KV-cache elements per token over all layers: GQA/MHA 2·L·h_kv·d_h; MLA L·(r + d_r)."""
        if self.is_mla:
            return self.num_hidden_layers * (self.kv_lora_rank + self.qk_rope_head_dim)
        return 2 * self.num_hidden_layers * self.num_key_value_heads * self.head_dim

    def attended_tokens(self, context_tokens: float, *, windows: bool = True) -> float:
        """Σ over layers of the tokens a layer attends to (and holds KV for) at
        `context_tokens`: full layers the context, sliding-window layers at most the window
        (with `windows=False`, every layer the full context)."""
        windowed = self.sliding_window_layers if (self.sliding_window and windows) else 0
        full = self.num_hidden_layers - windowed
        return full * context_tokens + windowed * min(context_tokens, self.sliding_window)

    def kv_elements_per_user(self, context_tokens: int, *, windows: bool = True) -> int:
        """KV elements held for one user at `context_tokens`; sliding-window layers keep only the
        window."""
        per_layer = self.kv_elements_per_token() // self.num_hidden_layers
        return per_layer * self.attended_tokens(context_tokens, windows=windows)

    def attention_flops_per_token(self, context_tokens: int, *, windows: bool = True) -> float:
        """FLOPs of attention for one decoded token against its context.

        GQA/MHA: QKᵀ and PV, 4·S·h·d_h per layer. MLA in its absorbed form (queries projected
        into the latent space, scores and values taken on the cached latent):
        2·S·h·(2r + d_r) per layer.
        """
        h = self.num_attention_heads
        tokens = self.attended_tokens(context_tokens, windows=windows)
        if self.is_mla:
            return 2.0 * tokens * h * (2 * self.kv_lora_rank + self.qk_rope_head_dim)
        return 4.0 * tokens * h * self.head_dim

    def describe(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "layers": self.num_hidden_layers,
            "hidden": self.hidden_size,
            "attention": "MLA" if self.is_mla else "GQA/MHA",
            "moe": f"{self.num_experts} routed / {self.num_experts_per_tok} active / "
            f"{self.num_shared_experts} shared"
            if self.is_moe
            else "dense",
            "total_params": self.total_params(),
            "active_params": self.active_params(),
            "kv_elements_per_token": self.kv_elements_per_token(),
        }


_INT_FIELDS = {f.name for f in fields(Architecture) if f.type in ("int", int)}
_BOOL_FIELDS = {f.name for f in fields(Architecture) if f.type in ("bool", bool)}
_FLOAT_FIELDS = {f.name for f in fields(Architecture) if f.type in ("float", float)}
_STR_FIELDS = {f.name for f in fields(Architecture) if f.type in ("str", str)}
REQUIRED = ["num_hidden_layers", "hidden_size", "num_attention_heads", "vocab_size"]
# the keys a catalog model entry or a config is read by (a config's others are kept as `extra`):
# an override (`--set models.ID.KEY`) of a key outside these and its entry is a misspelling
FIELDS = frozenset(_INT_FIELDS | _BOOL_FIELDS | _FLOAT_FIELDS | _STR_FIELDS) - {"id", "extra"}
MAX_FIELD = 2**31 - 1  # the largest integer a config field may hold (int32, as in HF configs)


def _check_int(value: object, where: str, key: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not math.isfinite(value))
        or int(value) != value
        or not 0 <= value <= MAX_FIELD
    ):
        raise InputError(
            f"expected a non-negative integer (at most {MAX_FIELD}), got {excerpt(value)}",
            where=where,
            key=key,
        )
    return int(value)


def from_mapping(model_id: str, raw: dict, *, where: str) -> Architecture:
    """Build an Architecture from a catalog table or a Hugging Face config, validating types.

    Errors name `where` and the field as `model_id.field`; null fields count as absent, and
    fields that contradict each other (experts per token beyond the experts, more
    sliding-window layers than layers, …) are errors.
    """
    prefix = model_id if len(model_id) <= 40 else model_id[:39] + "…"
    data = {ALIASES.get(k, k): v for k, v in raw.items()}
    if "text_config" in data and isinstance(data["text_config"], dict):
        data = {**{ALIASES.get(k, k): v for k, v in data["text_config"].items()}, **data}
    for key in REQUIRED:
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 1:
            raise InputError(
                f"expected a positive integer, got {excerpt(value)}",
                where=where,
                key=f"{prefix}.{key}",
            )
        if value is None:
            raise InputError(
                f"missing required field (expected an integer), model {excerpt(model_id)}",
                where=where,
                key=key,
            )
    kwargs: dict = {"id": model_id, "extra": {}}
    for key, value in data.items():
        if value is None and key in _INT_FIELDS | _BOOL_FIELDS | _FLOAT_FIELDS | _STR_FIELDS:
            continue  # null: the field's default, as if absent
        if key in _INT_FIELDS:
            kwargs[key] = _check_int(value, where, f"{prefix}.{key}")
        elif key in _BOOL_FIELDS:
            if not isinstance(value, bool):
                raise InputError(
                    f"expected true or false, got {excerpt(value)}",
                    where=where,
                    key=f"{prefix}.{key}",
                )
            kwargs[key] = value
        elif key in _FLOAT_FIELDS:
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not 0 <= value < 1e30
            ):
                raise InputError(
                    f"expected a number from 0 to 1e30, got {excerpt(value)}",
                    where=where,
                    key=f"{prefix}.{key}",
                )
            kwargs[key] = float(value)
        elif key in _STR_FIELDS and key != "id":
            if not isinstance(value, str):
                raise InputError(
                    f"expected a string, got {excerpt(value)}", where=where, key=f"{prefix}.{key}"
                )
            kwargs[key] = value
        else:
            kwargs["extra"][key] = value
    native = kwargs.get("native_dtype")
    if native and native_weight_dtype(native) is None:  # a catalog entry's or a --set's
        raise InputError(
            f"expected a weight dtype or a Hugging Face torch_dtype, got {excerpt(native)}"
            + closest(native, [*DTYPE_BYTES, *NATIVE_DTYPES]),
            where=where,
            key=f"{prefix}.native_dtype",
        )
    # Hugging Face conventions for fields that may be implicit.
    kwargs.setdefault("num_key_value_heads", kwargs["num_attention_heads"])
    if "head_dim" not in kwargs:
        if kwargs.get("qk_nope_head_dim"):
            kwargs["head_dim"] = kwargs["qk_nope_head_dim"] + kwargs.get("qk_rope_head_dim", 0)
        else:
            kwargs["head_dim"] = kwargs["hidden_size"] // kwargs["num_attention_heads"]
    extra = kwargs["extra"]
    if kwargs.get("num_experts") and "moe_intermediate_size" not in kwargs:
        # Mixtral and gpt-oss keep the expert width in intermediate_size.
        kwargs["moe_intermediate_size"] = kwargs.get("intermediate_size", 0)
    if kwargs.get("num_experts") and "first_k_dense_replace" not in kwargs:
        mlp_only = extra.get("mlp_only_layers") or []
        kwargs["first_k_dense_replace"] = len(mlp_only) if isinstance(mlp_only, list) else 0
    if "sliding_window_layers" not in kwargs and isinstance(extra.get("layer_types"), list):
        kwargs["sliding_window_layers"] = sum(
            1 for t in extra["layer_types"] if t == "sliding_attention"
        )
    if (
        kwargs.get("sliding_window")
        and not kwargs.get("sliding_window_layers")
        and not extra.get("use_sliding_window", True)
    ):
        kwargs["sliding_window"] = 0
    if kwargs.get("sliding_window") and "sliding_window_layers" not in kwargs:
        # Hugging Face conventions when no layer_types list says which layers are windowed:
        # Gemma 3 makes every `sliding_window_pattern`-th layer global, Gemma 2 alternates,
        # Mistral windows every layer.
        layers = kwargs["num_hidden_layers"]
        pattern = extra.get("sliding_window_pattern")
        if isinstance(pattern, int) and pattern > 0:
            kwargs["sliding_window_layers"] = layers - layers // pattern
        elif extra.get("model_type") == "gemma2":
            kwargs["sliding_window_layers"] = layers // 2
        else:
            kwargs["sliding_window_layers"] = layers
    arch = Architecture(**kwargs)
    _check_consistent(arch, where, prefix)
    return arch


def _check_consistent(arch: Architecture, where: str, prefix: str) -> None:
    """Fields that contradict each other: one InputError naming the field to change."""

    def fail(message: str, key: str) -> None:
        raise InputError(message, where=where, key=f"{prefix}.{key}")

    if not arch.is_mla and arch.num_key_value_heads < 1:
        fail("expected a positive integer, got 0", "num_key_value_heads")
    if arch.num_attention_heads % max(arch.num_key_value_heads, 1):
        fail(
            f"num_attention_heads ({arch.num_attention_heads}) is not a multiple of "
            f"num_key_value_heads ({arch.num_key_value_heads})",
            "num_key_value_heads",
        )
    if not arch.is_mla and arch.head_dim < 1:
        fail(
            f"head_dim is 0 (hidden_size {arch.hidden_size} < num_attention_heads "
            f"{arch.num_attention_heads}); give head_dim",
            "head_dim",
        )
    if arch.is_mla and (arch.qk_nope_head_dim + arch.qk_rope_head_dim < 1 or arch.v_head_dim < 1):
        fail(
            "MLA (kv_lora_rank > 0) needs positive qk_nope_head_dim + qk_rope_head_dim and "
            "v_head_dim",
            "v_head_dim" if arch.v_head_dim < 1 else "qk_nope_head_dim",
        )
    if arch.is_moe and not (0 < arch.num_experts_per_tok <= arch.num_experts):
        fail(
            f"expected 1 ≤ num_experts_per_tok ≤ num_experts ({arch.num_experts})",
            "num_experts_per_tok",
        )
    if arch.is_moe and arch.moe_intermediate_size < 1:
        fail("a mixture of experts needs a positive expert width", "moe_intermediate_size")
    dense = arch.first_k_dense_replace if arch.is_moe else arch.num_hidden_layers
    if dense > 0 and arch.intermediate_size < 1:
        fail(
            f"expected the MLP width of its {dense} dense layer(s), a positive integer, got "
            f"{arch.intermediate_size}",
            "intermediate_size",
        )
    if arch.is_moe and arch.first_k_dense_replace > arch.num_hidden_layers:
        fail("first_k_dense_replace exceeds num_hidden_layers", "first_k_dense_replace")
    if arch.sliding_window_layers > arch.num_hidden_layers:
        fail(
            f"sliding_window_layers ({arch.sliding_window_layers}) exceeds num_hidden_layers "
            f"({arch.num_hidden_layers})",
            "sliding_window_layers",
        )
    if arch.total_params() <= 0:
        fail("the architecture has no parameters", "num_hidden_layers")


def load_hf_config(path: str | Path) -> Architecture:
    """Import a Hugging Face `config.json` from a local file."""
    p = Path(path)
    raw = read_json(p, "a Hugging Face config.json or a catalog model id")
    if not isinstance(raw, dict):
        raise InputError("expected a JSON object", where=str(p))
    model_id = raw.get("_name_or_path")
    if not isinstance(model_id, str) or not model_id:
        model_id = p.parent.name or p.stem
    raw = {k: v for k, v in raw.items() if not k.startswith("_")}
    raw.setdefault("name", str(model_id))
    raw.setdefault("source", f"Hugging Face config.json: {p}")
    # a torch_dtype we do not model leaves it unset: its weights then need a dtype given
    # (`workload.native_dtypes`; fp8 under assumptions that do not use the native one)
    torch_dtype = str(raw.get("torch_dtype") or "")
    if native_weight_dtype(torch_dtype) and "native_dtype" not in raw:
        raw["native_dtype"] = torch_dtype
    return from_mapping(str(model_id), raw, where=str(p))

"""Which tensor × pipeline partitions a model admits.

Tensor parallelism splits the attention heads over the `t` chips of a stage: `t` must divide the
number of query heads (so `t ≤ heads`); Megatron-style TP of 128 on a 128-head model is the
largest. With data-parallel attention (`attention = "dp"`) each user's attention runs whole on
one chip of the group and only the MLP and experts are split over `t`, so the heads set no
bound. Pipeline stages hold whole layers: `p ≤ layers`, and the slowest stage, with
⌈L/p⌉ layers, sets the memory per chip (see `perf.memory_per_chip`).

The optimizer never considers an impossible partition (`valid`); `designer evaluate` rejects one
with the reason (`check`).
"""

from __future__ import annotations

import numpy as np

from designer.model.architecture import Architecture
from designer.model.errors import InputError

# Bounds of a design, so that no product of them (chips, users) wraps in int64 arithmetic:
# tp, pp and batch at most 2^20 each, replicas at most 2^30, chips and users at most 2^50.
MAX_PARTITION = 2**20
MAX_REPLICAS = 2**30
MAX_FLEET = 2**50


def valid(model: Architecture, t, p, attention="tp") -> np.ndarray:
    """Mask of the (t, p) pairs the model admits: t divides the heads (tensor-parallel
    attention), p ≤ layers."""
    t = np.asarray(t, dtype=np.int64)
    p = np.asarray(p, dtype=np.int64)
    heads = model.num_attention_heads
    t_ok = (t >= 1) & (t <= heads) & (heads % np.maximum(t, 1) == 0)
    t_ok = np.where(np.asarray(attention) == "dp", t >= 1, t_ok)
    return t_ok & (p >= 1) & (p <= model.num_hidden_layers)


def reason(model: Architecture, t: int, p: int, attention: str = "tp") -> str | None:
    """Why (t, p) is impossible for `model`, or None when it is possible."""
    heads, layers = model.num_attention_heads, model.num_hidden_layers
    if attention != "dp" and (t > heads or heads % t):
        return (
            f"tensor parallelism {t} must divide the {heads} attention heads of "
            f"{model.id} (largest: {heads})"
        )
    if p > layers:
        return f"{p} pipeline stages exceed the {layers} layers of {model.id}"
    return None


def expert_reason(t: int, ep: int) -> str | None:
    """Why an expert-parallel degree `ep` is impossible on a group of `t` tensor-parallel chips
    (the experts are spread over the group's chips, so `ep` divides `t`), or None.

    >>> expert_reason(8, 4), expert_reason(1, 8)
    (None, 'expected ep to divide tp (1), got 8')
    """
    return None if t % ep == 0 else f"expected ep to divide tp ({t}), got {ep}"


def check(model: Architecture, t: int, p: int, attention: str = "tp", ep: int = 1) -> None:
    """Raise InputError (exit 2) for an impossible partition."""
    why = reason(model, t, p, attention)
    if why:
        raise InputError(why, key="--pp" if why.startswith(f"{p} pipeline") else "--tp")
    if why := experts_reason(model, ep):
        raise InputError(why, key="--ep")


def experts_reason(model: Architecture, ep: int) -> str | None:
    """Why `ep` cannot spread `model`'s experts (more ranks than experts, or any for a dense
    model), or None.

    >>> from designer.model.catalog import Catalog
    >>> experts_reason(Catalog.load().model("llama3.1-70b"), 8)
    'expected 1: llama3.1-70b has no experts, got 8'
    """
    if ep <= 1 or ep <= model.num_experts:
        return None
    if model.is_moe:
        return f"expected at most the {model.num_experts} experts of {model.id}, got {ep}"
    return f"expected 1: {model.id} has no experts, got {ep}"

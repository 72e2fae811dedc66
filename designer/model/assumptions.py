"""Named assumption sets: which idealizations of the forward model are in force.

`paper` is the LIMINAL limit study exactly (arXiv 2507.14397): the KV cache split evenly over
the tensor-parallel group, collectives that cost latency only, experts sharded by tensor
parallelism and read on average, the whole embedding table read every step, compute at the
weight dtype's rate, every user at the full context at every step. `deployment` moves each of
these to what a serving engine (vLLM, SGLang, TensorRT-LLM) does. Each switch can also be set on
its own, e.g. `Assumptions.preset("deployment", collective_bandwidth=False)`.

>>> Assumptions.preset("paper").kv_placement
'even'
>>> Assumptions.preset("deployment", embedding_rows=False).name
'custom'
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any

from designer.model.errors import InputError, closest

KV_PLACEMENTS = ("even", "heads")


@dataclass(frozen=True)
class Assumptions:
    """Switches of the forward model (docs/model.md §1); `preset` names where they came from."""

    # "even": a chip holds S·K/t of each user's KV (the paper); "heads": a chip holds the KV
    # heads its attention runs (GQA replicates a head when t > h_kv, MLA replicates its latent
    # on every tensor-parallel rank; data-parallel attention keeps each user on one rank).
    kv_placement: str = "even"
    # collectives cost τ(t) only (False) or τ(t) + bytes / per-direction link bandwidth (True)
    collective_bandwidth: bool = False
    # MoE expert parallelism as a partition choice, the busiest chip's expected expert share
    # and the all-to-all exchanges (True); experts sharded by tensor parallelism only (False)
    expert_parallel: bool = False
    # sliding-window layers hold and read their window only (already in the paper's equations
    # for the bundled models, which have no windowed layers)
    sliding_window: bool = True
    # the embedding is read as B rows per step (True), or as the whole table (False)
    embedding_rows: bool = False
    # weights narrower than the activations compute at the activation dtype's rate (True),
    # or at the weight dtype's rate (False)
    weight_only_quant: bool = False
    # KV held for the peak context, KV read for the mean (prompt + output/2) (True), or every
    # user at the full context at every step (False)
    context_distribution: bool = False
    # a model's published native dtype is the default weight dtype, bf16 the default KV dtype
    # (True); fp8 weights and KV (False)
    native_dtype: bool = False
    # the per-sequence software time T_seq (perf.sequence_time) runs on the compute units under
    # the memory stream, T = max(T_mem, T_compute + T_seq) + …, (True), or adds to the step (False;
    # docs/model.md §6, "Variant")
    per_sequence_overlap: bool = False
    preset_name: str = "paper"

    def __post_init__(self):
        if self.kv_placement not in KV_PLACEMENTS:
            raise InputError(
                f"expected one of {', '.join(KV_PLACEMENTS)}, got {self.kv_placement!r}"
                f"{closest(str(self.kv_placement), KV_PLACEMENTS)}",
                key="assumptions.kv_placement",
            )
        for f in fields(self):
            if f.type in ("bool", bool) and not isinstance(getattr(self, f.name), bool):
                raise InputError(
                    f"expected true or false, got {getattr(self, f.name)!r}",
                    key=f"assumptions.{f.name}",
                )

    @classmethod
    def preset(cls, name: str = "paper", **switches: Any) -> Assumptions:
        """A named set, with any switch changed (then named `custom` unless it is unchanged)."""
        if name not in PRESETS:
            raise InputError(
                f"expected one of {', '.join(PRESETS)}, got {name!r}{closest(name, PRESETS)}",
                key="assumptions.preset",
            )
        for key in switches:
            if key not in SWITCHES:
                raise InputError(
                    f"unknown switch{closest(key, SWITCHES)}", key=f"assumptions.{key}"
                )
        base = PRESETS[name]
        changed = replace(base, **switches)
        if changed != base:
            changed = replace(changed, preset_name="custom")
        return changed

    @property
    def name(self) -> str:
        """`paper`, `deployment` or `custom` (a preset with switches changed)."""
        return self.preset_name

    @cached_property
    def is_paper(self) -> bool:
        """Every switch as in the paper (today's equations exactly); asked per evaluation, so
        computed once."""
        return self.switches() == PRESETS["paper"].switches()

    def switches(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SWITCHES}

    def describe(self) -> dict[str, Any]:
        """What produced an answer: the preset name and every switch (echoed in every answer)."""
        return {"preset": self.name, **self.switches()}


PRESETS: dict[str, Assumptions] = {
    "paper": Assumptions(preset_name="paper"),
    "deployment": Assumptions(
        kv_placement="heads",
        collective_bandwidth=True,
        expert_parallel=True,
        sliding_window=True,
        embedding_rows=True,
        weight_only_quant=True,
        context_distribution=True,
        native_dtype=True,
        preset_name="deployment",
    ),
}
SWITCHES = tuple(f.name for f in fields(Assumptions) if f.name != "preset_name")
DEFAULT_PRESET = "deployment"  # problem files and commands without a preset

# the [assumptions] section of a problem file: the preset, then any switch
ASSUMPTION_KEYS: dict[str, str] = {
    "preset": "str",
    **{
        f.name: ("str" if f.name == "kv_placement" else "bool")
        for f in fields(Assumptions)
        if f.name != "preset_name"
    },
}


def assumptions_from_table(table: dict[str, Any], *, where: str = "<problem>") -> Assumptions:
    """The `[assumptions]` section of a problem: `preset` (default `deployment`) and switches.

    >>> assumptions_from_table({"preset": "paper", "collective_bandwidth": True}).describe()[
    ...     "preset"]
    'custom'
    """
    for key in table:
        if key not in ASSUMPTION_KEYS:
            raise InputError(
                f"unknown key{closest(key, ASSUMPTION_KEYS)}", where=where, key=f"assumptions.{key}"
            )
    switches = {k: v for k, v in table.items() if k != "preset"}
    preset = table.get("preset", DEFAULT_PRESET)
    try:
        if not isinstance(preset, str):
            raise InputError(
                f"expected paper or deployment, got {preset!r}", key="assumptions.preset"
            )
        return Assumptions.preset(preset, **switches)
    except InputError as exc:
        message = str(exc).removeprefix(f"{exc.key}: ")
        raise InputError(message, where=where, key=exc.key) from None

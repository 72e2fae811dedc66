"""Evaluate one design with the forward model: `designer evaluate` and the re-check of optima."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from designer.calibration import engines, intervals, profiles
from designer.model import partition, perf, serving
from designer.model.assumptions import Assumptions
from designer.model.catalog import Catalog
from designer.model.cost import PURCHASE, CostBasis, chip_cost, cost_per_mtoken
from designer.model.dtypes import native_weight_dtype
from designer.model.errors import InputError, excerpt
from designer.model.partition import MAX_FLEET, MAX_PARTITION, MAX_REPLICAS
from designer.model.prefill import prefill
from designer.model.serving import check as check_serving
from designer.model.workload import SPECULATIVE, Efficiency, Workload, native_dtypes


@dataclass(frozen=True)
class Design:
    """One point of the design space: chip, tensor × pipeline partition, batch, replicas, and
    (for deployment realism) the expert-parallel degree `ep` (experts spread over ep groups of
    tp/ep chips; 1 = sharded by TP) and the attention layout (`"tp"` split by heads, `"dp"`
    each user's attention on one rank).

    >>> Design("xpu-hbm3", tp=8, pp=2, batch=16, replicas=3).chips
    48
    """

    chip: str
    tp: int
    pp: int
    batch: int
    replicas: int = 1
    ep: int = 1
    attention: str = "tp"

    def __post_init__(self):
        for name in ("tp", "pp", "batch", "replicas", "ep"):
            v = getattr(self, name)
            high = MAX_REPLICAS if name == "replicas" else MAX_PARTITION
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 1 <= v <= high:
                raise InputError(
                    f"expected a positive integer (at most {high}), got {excerpt(v)}", key=name
                )
        for name, v in (("chips", self.chips), ("users", self.users)):
            if v > MAX_FLEET:
                raise InputError(
                    f"a design of more than {MAX_FLEET} {name} ({v}); reduce tp, pp, batch or "
                    "replicas",
                    key=name,
                )
        if why := partition.expert_reason(self.tp, self.ep):
            raise InputError(why, key="ep")
        if self.attention not in perf.ATTENTION_LAYOUTS:
            raise InputError(f"expected tp or dp, got {self.attention!r}", key="attention")

    @property
    def chips(self) -> int:
        return int(self.replicas) * int(self.tp) * int(self.pp)

    @property
    def users(self) -> int:
        return int(self.replicas) * int(self.pp) * int(self.batch)


def assess(
    wl: Workload, catalog: Catalog, design: Design, basis: CostBasis = PURCHASE
) -> dict[str, Any]:
    """The JSON-contract record of a design: design, metrics (SI units), fits, bottleneck.

    Costs and power are those of the whole servers the design's chips occupy; $ per million
    tokens is at the design's own system rate (all its users served at their rate)."""
    catalog.chip(design.chip).flops(wl.compute_dtype)  # names a missing compute rate
    hw = perf.ChipArrays.build(catalog, [design.chip], wl.compute_dtype).take(0)
    m = perf.evaluate_arrays(
        wl, hw, design.tp, design.pp, design.batch, ep=design.ep, attention=design.attention
    )
    cc = chip_cost(catalog, design.chip, basis)
    stps = float(m["system_tokens_per_s"]) * design.replicas
    servers = int(cc.servers(design.chips))
    capex = cc.server_capex_usd * servers
    power = cc.server_power_w * servers
    tco = cc.server_tco_usd_per_year * servers
    metrics = {
        "tokens_per_s_per_user": float(m["tokens_per_s_per_user"]),
        "system_tokens_per_s": stps,
        "step_time_s": float(m["step_time_s"]),
        "memory_time_s": float(m["memory_time_s"]),
        "compute_time_s": float(m["compute_time_s"]),
        "sync_time_s": float(m["sync_time_s"]),
        "overhead_time_s": float(m["overhead_time_s"]),
        "memory_per_chip_bytes": float(m["memory_per_chip_bytes"]),
        "capex_usd": _num(capex),
        "power_w": _num(power),
        "tco_usd_per_year": _num(tco),
        "cost_per_mtoken_usd": _num(float(cost_per_mtoken(catalog, tco, stps))),
        "users_served": design.users,
        "servers": servers,
        "weight_bytes": wl.weight_bytes,
        "kv_bytes_per_token": wl.kv_bytes_per_token,
        "usable_memory_per_chip_bytes": float(hw["usable_capacity"]),
        "kv_per_chip_bytes": float(m["kv_per_chip_bytes"]),
        "draft_time_s": float(m["draft_time_s"]),
        "accepted_tokens_per_step": wl.accepted_tokens_per_step,
    }
    record = {
        "design": {
            **asdict(design),
            "memory": catalog.chip(design.chip).memory_technology,
            "chips": design.chips,
        },
        "metrics": metrics,
        "fits": bool(m["fits"]),
        "bottleneck": str(m["bottleneck"]),
        "assumptions": wl.describe(),
    }
    record["design"] = {
        k: record["design"][k]
        for k in ("chip", "memory", "tp", "pp", "batch", "replicas", "chips", "ep", "attention")
    }
    return record


def _num(x: float) -> float | None:
    """JSON has no NaN: unknown costs are null."""
    return None if x is None or not np.isfinite(x) else float(x)


def evaluate(
    model: str,
    chip: str,
    *,
    tp: int = 1,
    pp: int = 1,
    batch: int = 1,
    context_tokens: int | None = None,
    weight_dtype: str | None = None,
    kv_dtype: str | None = None,
    replicas: int = 1,
    overrides: dict[str, Any] | None = None,
    efficiency: Efficiency | None = None,
    catalog: Catalog | None = None,
    assumptions: str | Assumptions = "paper",
    ep: int = 1,
    attention: str = "tp",
    profile: str | profiles.Profile | None = None,
    cost_basis: CostBasis = PURCHASE,
    engine: str | None = None,
    requests_per_s: float | None = None,
    phase: str = "aggregated",
    chunk_tokens: int | None = None,
    **workload: Any,
) -> dict[str, Any]:
    """Evaluate `model` on `chip` at a (tp, pp, batch) partition; returns the JSON record.

    The Python default is the `paper` assumption set (the command line's is `deployment`);
    dtypes default to fp8 under `paper` and to the model's native dtype under `deployment`.
    Further keywords go to `Workload` (`prompt_tokens`, `output_tokens`, `speculative`, ...);
    with `prompt_tokens`, `metrics.ttft_s` is the prefill time of one such prompt, with its 80%
    interval (`metrics.ttft_low_s` / `ttft_high_s`; `ttft_interval`, the dimensions it
    extrapolated along and how such intervals held out), and `ttft_check` how the prefill model
    met published TTFTs (`ttft.published_check`). With
    `requests_per_s` too (and `output_tokens`), the replicas serve that many requests/s between
    them in `phase` (aggregated, prefill or decode; `serving.replica`): `metrics.ttft_s` is the
    loaded mean TTFT, `ttft_p90_s` its 90th percentile and `tpot_s` the time per output token
    with the prompt chunks (aggregated); `ttft_interval` then still bounds one prompt's prefill
    (no queue), its `loaded` the loaded TTFT (the queue model at the one prompt's interval
    ends, `ttft_interval.loaded`), which `metrics` repeats (`ttft_low_s`, `ttft_high_s`,
    `ttft_p90_low_s`, `ttft_p90_high_s`; null where the slow end fills the queue).

    The step time uses `efficiency` when given, else the calibration `profile` (a name, a
    profile TOML path or a Profile), else the chip's default profile (`profiles.default_for`:
    calibrated for shipping chips, `limit` for the paper's presets); the record names it under
    `profile`. Costs are on `cost_basis` (bought, typical power, by default), echoed under
    `cost_basis`. `engine` is the serving engine the answer names (`--engine`), which a
    profile falling back to a fit over every engine does not carry: a TTFT's interval judges
    it (`ttft_interval`).

    Example: `evaluate("llama3.1-405b", "xpu-hbm3", tp=128, context_tokens=131072)` gives
    about 742 tokens/s per user, memory-bandwidth bound, with 0.567 ms of the 1.35 ms step spent
    in synchronization (126 layers × 2 collectives × 2.25 µs across servers).
    """
    catalog = (catalog or Catalog.load()).with_overrides(overrides or {})
    if isinstance(assumptions, str):
        assumptions = Assumptions.preset(assumptions)
    prompt_tokens = workload.get("prompt_tokens")
    if prompt_tokens is not None and (isinstance(prompt_tokens, bool) or prompt_tokens < 1):
        raise InputError(f"expected a positive integer, got {prompt_tokens!r}", key="prompt_tokens")
    if context_tokens is None:  # the peak of a request, else 8K
        given = workload.get("prompt_tokens", 0) + workload.get("output_tokens", 0)
        context_tokens = given or 8192
    if efficiency is not None:
        prof = profiles.Profile("custom", efficiency, name="Efficiency given by the caller")
    elif isinstance(profile, profiles.Profile):
        prof = profile
    else:
        prof = profiles.select(catalog, chip, profile)
    fitted = engines.of_profile(prof)
    if fitted:  # a profile is a software build: only where its engine runs
        engines.check(catalog, chip, fitted, key="profile")
    arch = catalog.model(model)
    w_default, kv_default = native_dtypes(arch, assumptions, weight_dtype)
    if isinstance(workload.get("speculative"), str) and workload["speculative"] not in SPECULATIVE:
        try:  # a draft model by id (else one of SPECULATIVE's methods)
            workload["draft_model"] = catalog.model(workload["speculative"])
        except InputError as exc:
            raise InputError(
                f"expected {', '.join(SPECULATIVE)} or a draft model: {exc}", key="speculative"
            ) from None
    wl = Workload(
        arch,
        context_tokens,
        w_default if weight_dtype is None else weight_dtype,
        kv_default if kv_dtype is None else kv_dtype,
        efficiency=prof.efficiency,
        assumptions=assumptions,
        **workload,
    )
    design = Design(chip, tp, pp, batch, replicas, ep, attention)
    partition.check(wl.model, tp, pp, attention, ep)
    record = assess(wl, catalog, design, cost_basis)
    # the catalog entry answered (an extension): a model asked by an alias or its Hugging Face
    # id is answered as its entry, and says so
    record["model"] = {"id": arch.id, "name": arch.name or arch.id}
    if model != arch.id and catalog.model_id(model) == arch.id:
        record["model"]["asked"] = model
    record["cost_basis"] = cost_basis.describe()
    # the dtypes answered and where the weights' came from (an extension, round 21: a config
    # without a native dtype is answered in fp8, and says so)
    record["workload"] = {
        "context_tokens": wl.context_tokens,
        "weight_dtype": wl.weight_dtype,
        "kv_dtype": wl.kv_dtype,
        "weight_dtype_from": (
            "given"
            if weight_dtype is not None
            else "assumptions"  # fp8 unless the assumption set's native_dtype switch is on
            if not assumptions.native_dtype
            else "native"
            if native_weight_dtype(arch.native_dtype)
            else "default"
        ),
    }
    if wl.speculative != "none":  # what the accepted tokens per step came from
        record["workload"] |= {
            "speculative": wl.speculative,
            "draft_tokens": wl.draft_tokens,
            "acceptance_rate": wl.acceptance_rate,
            "accepted_tokens_per_step": wl.accepted_tokens_per_step,
        }
    ends = None
    if prompt_tokens is not None:
        from designer.calibration import ttft, ttft_interval

        pf = prefill(wl, catalog, chip, tp=tp, pp=pp, prompt_tokens=prompt_tokens)
        record["metrics"]["ttft_s"] = pf.time_s
        answer = ttft_interval.answer_for(catalog, prof, engine, chip, wl, tp, pp)
        ends = ttft_interval.ends(answer)
        record["ttft_interval"] = ttft_interval.record(pf.time_s, ends)
        if requests_per_s is None:  # the one-prompt TTFT is the answer's: its interval
            record["metrics"]["ttft_low_s"] = record["ttft_interval"]["ttft_low_s"]
            record["metrics"]["ttft_high_s"] = record["ttft_interval"]["ttft_high_s"]
        record["ttft_check"] = ttft.published_check()
    if requests_per_s is not None:
        check_serving(wl, "evaluate", "--requests-per-s", "--prompt-tokens and --output-tokens")

        def served(scale: float = 1.0) -> dict[str, Any]:
            return serving.replica(
                wl,
                catalog,
                chip,
                tp=tp,
                pp=pp,
                batch=batch,
                ep=ep,
                attention=attention,
                phase=phase,
                requests_per_s=requests_per_s / replicas,
                chunk_tokens=chunk_tokens or serving.DEFAULT_CHUNK_TOKENS,
                service_scale=scale,
            )

        loaded = served()
        loaded["requests_per_s"] = float(requests_per_s)
        tpot = loaded["tpot_s"]
        if phase != "prefill" and tpot is not None and np.isfinite(tpot):
            # Little's law: the users a replica must hold in flight at this rate, against the
            # p·B its micro-batches hold (a decode batch cannot grow past them)
            loaded["users_in_flight"] = serving.users_for_rate(
                requests_per_s / replicas, wl.output_tokens, 1.0 / tpot
            )
            loaded["serves_rate"] = loaded["users_in_flight"] <= pp * batch  # whole users
        record["metrics"].update(loaded)
        if phase == "prefill":  # a prefill replica is bound by its prompt's pass
            record["bottleneck"] = loaded["prefill_bottleneck"]
        if ends is not None and loaded["ttft_s"] is not None:  # the loaded TTFT's interval
            m = record["metrics"]
            if np.isfinite(loaded["ttft_s"]):
                iv = ttft_interval.loaded(served(ends.low), served(ends.high), ends)
                record["ttft_interval"]["loaded"] = iv
                m.update({key: iv[key] for key in serving.TTFT_ENDS})
            else:  # the prompts fill the queue at the prediction: no steady state, no ends
                m.update(dict.fromkeys(serving.TTFT_ENDS))
    record["profile"] = profiles.describe(prof)
    record = intervals.attach(record, prof, wl)
    if requests_per_s is not None and phase == "aggregated":
        _at_tpot(record)
    if requests_per_s is not None and phase != "prefill":
        _at_rate(record, float(requests_per_s) * wl.output_tokens)
    return record


def _at_rate(record: dict[str, Any], tokens: float) -> None:
    """Replicas whose batches hold the users the request rate keeps in flight (`serves_rate`)
    deliver that rate's tokens, λ·O tokens/s (Little's law), not their full batches' (fewer
    users are in flight); the cost per token with them. Otherwise they stay: the batch is full."""
    if record["metrics"].get("serves_rate") and tokens:
        serving.tokens_at_rate(record["metrics"], tokens)


def _at_tpot(record: dict[str, Any]) -> None:
    """An aggregated replica's rates at its loaded TPOT, prompt chunks included
    (`serving.rates_at_tpot`: tokens/s per user 1/TPOT and its interval), the system's tokens/s
    and the cost per token with them — as `solve` reports its aggregated rows (they were the
    decode-only step's). Without a TPOT (the prompts fill the queue) they stay."""
    m = record["metrics"]
    tpot = m.get("tpot_s")
    if not tpot or not np.isfinite(tpot) or not m["tokens_per_s_per_user"]:
        return
    scale = serving.rates_at_tpot(m, record["interval"])
    serving.tokens_at_rate(m, m["system_tokens_per_s"] * scale)

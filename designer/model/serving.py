"""Serving requests: prompts and answers at a request rate, aggregated or disaggregated.

A request brings `P` prompt tokens and receives `O` output tokens. Little's law links the
users decoding at once and the request rate: `U = λ · O / r` at `r` tokens/s per user
(https://en.wikipedia.org/wiki/Little%27s_law). docs/model.md ("Serving requests") states the
model; the equations, one place each:

**Aggregated** (one pool; chunked prefill, Sarathi-Serve https://arxiv.org/abs/2403.02310):
every decode step of a micro-batch of `b` users also carries `c` prompt tokens. In steady state
each of the `b` slots turns over every `O` steps, so `c = b·P/O` (the mean-field load AIConfigurator
uses, github.com/ai-dynamo/aiconfigurator `run_agg`); for a given per-replica request rate `λ`
it is the fixed point `c = λ·P·T(c)/p`. The mixed step adds the prompt tokens' FLOPs
(`c · f_p`, `f_p` the prompt's FLOPs per token, causal attention included) to the compute term,
their KV writes, the re-reads of earlier chunks' KV and (MoE) the further experts they touch to
the memory term, and their all-reduce bytes to the collectives (`mixed_step`): weights are read
once per step for both phases. TPOT is the mean step (over the accepted tokens per step): a
share `c/q` of the steps carry `q = max(min(C, P), c)` prompt tokens, the others none
(`mean_step`).

TTFT (aggregated): a prompt needs `n = ⌈P/C⌉` steps that carry a chunk of `min(C, P)` tokens
(chunk budget `C`, `[serving] chunk_tokens`), so its service time is `D = n · T(min(C, P))`.
Each micro-batch's chunk budget is one server of an **M/D/1 queue** (Poisson arrivals, FCFS,
deterministic service; DistServe eq. 1, https://arxiv.org/abs/2401.09670): utilization
`ρ = (λ/p)·D`, mean wait `W = ρ·D/(2(1−ρ))` (Pollaczek–Khinchine), p90 wait from the exponential
tail `P(W > t) ≈ ρ·exp(−t·ρ/W)`: `W90 = D/(2(1−ρ)) · ln⁺(ρ/0.1)`. TTFT = `D + W` (mean) and
`D + W90` (p90); `[sla] ttft` bounds the p90.

**Disaggregated** (DistServe, Splitwise https://arxiv.org/abs/2311.18677): a prefill replica
serves one prompt at a time in `D = prefill.prefill_time(P)`; its `p` pipeline stages hold up
to `p` prompts, so it is an M/D/1 queue of service `D/p` and utilization `ρ = λ·D/p`. The KV
cache of a request, `P · K` bytes, moves to a decode replica over the scale-out network in
`T_kv = P·K / BW_replica` (no layer-wise overlap: an upper bound), `BW_replica` the server's
scale-out bandwidth (`chips.*.server_scale_out_bandwidth`) times the replica's share of the
server's chips. TTFT p90 = `D + T_kv + W90` ≤ `[sla] ttft` gives the largest request rate per
prefill replica (`prefill_capacity`), capped by the KV the replica can send,
`λ ≤ BW_replica/(P·K)`; a decode replica at request rate `λ = p·b·r/O` must receive it:
`p·b ≤ BW_replica·O/(r·P·K)` (`decode_batch_cap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.model.catalog import Catalog
from designer.model.errors import InputError, unknown
from designer.model.prefill import allreduce_bytes, causal_attention_flops
from designer.model.workload import Workload

MODES = ("aggregated", "disaggregated", "best")
PHASES = ("aggregated", "prefill", "decode")
# vLLM V1's max_num_batched_tokens on GPUs of ≥ 70 GiB (API server), vllm/engine/arg_utils.py
# get_batch_defaults; TRT-LLM's max_num_tokens default is also 8192.
DEFAULT_CHUNK_TOKENS = 8192
# assumption: one 400 Gb/s NIC per accelerator (50 GB/s), as in NVIDIA's MLPerf H200 system
# https://raw.githubusercontent.com/mlcommons/inference_results_v4.1/main/closed/NVIDIA/systems/H200-SXM-141GBx8_TRT_MaxQ.json
DEFAULT_SCALE_OUT_PER_CHIP = 50e9
PERCENTILE = 0.9  # [sla] ttft bounds this percentile of TTFT
REL = 1e-12  # relative tolerance of every requirement test (rate, TTFT, capacity)
# a prefill replica's one-prompt pass, the service time D of its queue, in the parts a decode
# step has (`prefill.Prefill.metrics`); None for the other phases (an aggregated replica's
# prompts run as chunks inside its steps)
PREFILL_METRICS = (
    "prefill_time_s",
    "prefill_compute_time_s",
    "prefill_memory_time_s",
    "prefill_collective_time_s",
    "prefill_overhead_time_s",
    "prefill_bottleneck",
)
# what `replica` reports (None where a phase has no such number)
REPLICA_METRICS = (
    "requests_per_s",
    "ttft_s",
    "ttft_p90_s",
    "tpot_s",
    "prefill_utilization",
    "kv_transfer_s",
    "kv_link_utilization",
    "prefill_kv_per_chip_bytes",
    *PREFILL_METRICS,
)
# a loaded TTFT's 80% interval, mean then p90 (`ttft_interval.loaded`), as `evaluate` metrics
# and fleet rows carry it beside REPLICA_METRICS
TTFT_ENDS = ("ttft_low_s", "ttft_high_s", "ttft_p90_low_s", "ttft_p90_high_s")


@dataclass(frozen=True)
class Serving:
    """How a class's requests are served: the TTFT target (p90, s), the request rate the class
    asks for, the mode (aggregated | disaggregated | best) and the chunk budget (tokens).
    `requests_asked`: the problem asks for the request rate (`sla.requests_per_s`), not for
    concurrent users (the rate is then theirs at the SLA rate, `rate_for_users`)."""

    ttft_s: float
    requests_per_s: float
    mode: str = "best"
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    requests_asked: bool = False

    def __post_init__(self):
        if self.mode not in MODES:
            raise unknown("mode", self.mode, MODES)

    def phases(self) -> tuple[str, ...]:
        """The phases of the columns this class gets."""
        return {
            "aggregated": ("aggregated",),
            "disaggregated": ("prefill", "decode"),
            "best": PHASES,
        }[self.mode]


def users_for_rate(requests_per_s: float, output_tokens: int, tokens_per_s_per_user: float) -> int:
    """Little's law: users decoding at once, ⌈λ · O / r⌉, and at least one for any requests at
    all (a rate of one request a year still needs a replica to answer it)."""
    users = int(np.ceil(requests_per_s * output_tokens / tokens_per_s_per_user - 1e-9))
    return max(users, 1) if requests_per_s > 0 else users


def rates_at_tpot(metrics: dict, interval: dict) -> float:
    """A row's tokens/s per user set to its TPOT's, 1/TPOT (0 without one: a prefill row), and
    its 80% interval (in `metrics` and `interval`) to the same ratios about it as about the
    decode step's rate (the whole mean step, prompt chunks included, as uncertain as a decode
    step: docs/model.md §8); returns the scale applied to the rate."""
    tpot = metrics["tpot_s"]
    rate = 1.0 / tpot if tpot else 0.0
    scale = rate / metrics["tokens_per_s_per_user"] if metrics["tokens_per_s_per_user"] else 0.0
    for key in ("tokens_per_s_per_user_low", "tokens_per_s_per_user_high"):
        metrics[key] *= scale
        interval[key] *= scale
    metrics["tokens_per_s_per_user"] = rate
    return scale


def tokens_at_rate(metrics: dict, tokens: float) -> None:
    """A row's system tokens/s set to `tokens`, the λ·O tokens/s a request rate λ takes out of
    its replicas (Little's law: fewer users are in flight than its batches hold), and its cost
    per Mtoken (`metrics`, in place) to the same tokens."""
    old = metrics["system_tokens_per_s"]
    if metrics.get("cost_per_mtoken_usd") is not None and old:
        metrics["cost_per_mtoken_usd"] *= old / tokens
    metrics["system_tokens_per_s"] = tokens


def rate_for_users(users: float, output_tokens: int, tokens_per_s_per_user: float) -> float:
    """Little's law the other way: requests/s of `users` decoding at `r` tokens/s each."""
    return float(users) * tokens_per_s_per_user / output_tokens


def check(wl: Workload, where: str, key: str, lengths: str = "") -> None:
    """Serving needs the prompt and the answer lengths (`lengths`: how the caller's input
    names them; the problem file's keys by default)."""
    if not wl.prompt_tokens or not wl.output_tokens:
        named = lengths or "workload.prompt_tokens and workload.output_tokens"
        raise InputError(
            f"serving requests (ttft, requests_per_s) needs {named}",
            where=where,
            key=key,
        )


def prompt_flops_per_token(wl: Workload) -> float:
    """f_p: the FLOPs of one prompt token, weights plus its share of causal attention."""
    P = wl.prompt_tokens
    return 2.0 * wl.model.active_params() + causal_attention_flops(wl, P) / P


def kv_bytes_per_request(wl: Workload) -> float:
    """P · K: the KV cache of one prompt, moved from a prefill to a decode replica."""
    return float(wl.prompt_tokens) * wl.kv_bytes_per_token


def chunk_steps(prompt_tokens, chunk) -> np.ndarray:
    """⌈P/C⌉: the steps one prompt's chunks take under a budget of `chunk` tokens a step.

    >>> float(chunk_steps(6000, 8192)), float(chunk_steps(6000, 1))
    (1.0, 6000.0)
    """
    return np.ceil(np.asarray(prompt_tokens, dtype=float) / chunk)


def chunk_cost(wl: Workload, hw: dict, t, batch, c, chunk: int) -> tuple:
    """What carrying `c` prompt tokens (chunks of at most `chunk`) adds to a step of `batch`
    decoders, at `wl.efficiency`: memory time (their KV writes, the re-reads of earlier chunks'
    KV, the further experts they touch), compute time (their FLOPs at η_pf) and collective time
    (their all-reduce bytes), in seconds."""
    t = np.asarray(t, dtype=float)
    c = np.asarray(c, dtype=float)
    batch = np.asarray(batch, dtype=float)
    e = wl.efficiency
    P = wl.prompt_tokens
    K = wl.kv_bytes_per_token
    n = chunk_steps(P, chunk)
    reread = c / P * K * chunk * n * (n - 1) / 2.0  # earlier chunks' KV, per prompt token share
    extra_weights = wl.weight_bytes_read(batch + c) - wl.weight_bytes_read(batch)
    d_mem = (c * K + reread + extra_weights) / (t * hw["bandwidth"] * e.bandwidth)
    d_cmp = c * prompt_flops_per_token(wl) / (t * hw["flops"] * e.prefill_compute)
    link = np.asarray(hw["link_bandwidth"], dtype=float)
    moved = allreduce_bytes(c, wl.model.hidden_size, t)
    d_syn = np.where(
        (t > 1) & np.isfinite(link) & (link > 0),
        wl.layers * wl.collectives_per_layer * moved / np.where(link > 0, link / 2.0, 1.0),
        0.0,
    )
    return d_mem, d_cmp, d_syn


def with_chunk(step, memory, compute, d_mem, d_cmp, d_syn):
    """The mixed step: a decode step (`step`, of memory and compute times `memory`, `compute`)
    that also carries prompt tokens costing `d_mem`, `d_cmp`, `d_syn` (`chunk_cost`). Weights
    are read once for both phases: `T + max(M + ΔM, F + ΔF) − max(M, F) + ΔS`."""
    return step + np.maximum(memory + d_mem, compute + d_cmp) - np.maximum(memory, compute) + d_syn


def mixed_step(wl: Workload, hw: dict, t, p, batch, m: dict, c, chunk: int) -> np.ndarray:
    """Step time of a micro-batch of `batch` decoders that also carries `c` prompt tokens
    (chunks of at most `chunk`); `m` is `perf.evaluate_arrays` at `batch`."""
    return with_chunk(
        m["step_time_s"],
        m["memory_time_s"],
        m["compute_time_s"],
        *chunk_cost(wl, hw, t, batch, c, chunk),
    )


def chunk_share(wl: Workload, c, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """`(f, q)`: a micro-batch that carries `c` prompt tokens per step on average runs a share
    `f = c/q` of its steps with `q = max(min(C, P), c)` prompt tokens (a whole chunk, or more
    than one prompt), the others with none (`mean_step`)."""
    c = np.asarray(c, dtype=float)
    q = np.maximum(min(chunk, wl.prompt_tokens), c)
    return c / q, q


def averaged(share, mixed, decode):
    """The mean step: `f·T_mixed + (1 − f)·T_decode` (`mean_step`)."""
    return share * mixed + (1.0 - share) * decode


def mean_step(wl: Workload, hw: dict, t, p, batch, m: dict, c, chunk: int) -> np.ndarray:
    """The mean step of a micro-batch that carries `c` prompt tokens per step on average: a
    share `f = c/q` of its steps carry `q = max(min(C, P), c)` prompt tokens (`chunk_share`), the
    others none — AIConfigurator's mixed and decode-only steps (`run_agg`):
    `T = f·T_mixed(q) + (1 − f)·T_decode`. Averaging the steps rather than the tokens keeps what
    is not linear in the tokens (experts touched, max(memory, compute)) per step."""
    f, q = chunk_share(wl, c, chunk)
    return averaged(f, mixed_step(wl, hw, t, p, batch, m, q, chunk), m["step_time_s"])


FIXED_POINT_STEPS = 200  # `prompt_load`: iterations where more than a chunk rides each step
STEP_TIMES = ("step_time_s", "memory_time_s", "compute_time_s")  # what `mixed_step` reads


def prompt_load(wl: Workload, hw: dict, t, p, batch, m: dict, chunk: int, lam) -> np.ndarray:
    """`c`, the prompt tokens a step of each micro-batch carries on average at `lam` requests/s
    per replica: the fixed point `c = a·T(c)`, `a = λ·P/(p·accepted)`, `T` the mean step
    (`mean_step`), per entry.

    Up to a whole chunk `q = min(C, P)` the mean step is affine in `c`,
    `T(c) = T_d + c·s` with `s = (T_mixed(q) − T_d)/q`, so the fixed point is exact:
    `c = a·T_d/(1 − a·s)`. Both `a·s` and `c/q` are at most the prefill load
    `ρ = (λ/p)·⌈P/C⌉·T_mixed(q)`, so wherever the prompt queue is steady (ρ < 1; within an
    ulp or two of 1 rounding may land `c` just above `q`, and the iteration below returns it)
    this is the answer, however close to full (where an iteration from 0 needs about
    `1/(1 − a·s)` steps). Where it is not (above a chunk, the mean step is the mixed step at
    `c`), the iteration runs from `q`, each entry until it stops moving, at most
    `FIXED_POINT_STEPS` times: the load grows without bound there, and the callers judge such
    a replica by ρ ≥ 1.
    """
    P, accepted = wl.prompt_tokens, wl.accepted_tokens_per_step
    a = np.asarray(lam, dtype=float) * P / (accepted * np.asarray(p, dtype=float))
    q = float(min(chunk, P))
    decode = m["step_time_s"]
    slope = (mixed_step(wl, hw, t, p, batch, m, q, chunk) - decode) / q
    shape = np.broadcast(a, batch, decode, slope).shape
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c = np.where(a > 0, a * decode / (1.0 - a * slope), 0.0)
    c = np.broadcast_to(c, shape).ravel().copy()
    above = np.flatnonzero(~(np.broadcast_to(a * slope, shape).ravel() < 1.0) | ~(c <= q))
    if not len(above):
        return c.reshape(shape)

    def pick(v, i):  # the entries `above[i]` of an input
        return np.broadcast_to(v, shape).ravel()[above[i]]

    x, moving = np.full(len(above), q), np.ones(len(above), dtype=bool)
    for _ in range(FIXED_POINT_STEPS):  # c ← a·T(c), each entry until it stops moving
        i = np.flatnonzero(moving)
        if not len(i):
            break
        step = mean_step(
            wl, {k: pick(v, i) for k, v in hw.items()}, pick(t, i), pick(p, i), pick(batch, i),
            {k: pick(m[k], i) for k in STEP_TIMES}, x[i], chunk,
        )  # fmt: skip
        nxt = pick(a, i) * step
        moving[i] = ~np.isclose(nxt, x[i], rtol=1e-13, atol=0.0)
        x[i] = nxt
    c[above] = x
    return c.reshape(shape)


def md1_wait(rho, service) -> tuple[np.ndarray, np.ndarray]:
    """Mean and p90 wait of an M/D/1 queue at utilization ρ with service time `service`
    (inf when ρ ≥ 1)."""
    rho = np.asarray(rho, dtype=float)
    service = np.asarray(service, dtype=float)
    stable = rho < 1.0
    scale = np.where(stable, service / (2.0 * np.where(stable, 1.0 - rho, 1.0)), np.inf)
    mean = np.where(stable, rho * scale, np.inf)
    with np.errstate(divide="ignore"):
        tail = np.log(np.maximum(rho, 1e-300) / (1.0 - PERCENTILE))
    p90 = np.where(stable, scale * np.maximum(tail, 0.0), np.inf)
    return mean, p90


def queued_ttft(service_s, server_s, arrivals, extra_s=0.0) -> tuple[np.ndarray, ...]:
    """(mean TTFT, p90 TTFT, load ρ) of a prompt served in `service_s` by an M/D/1 server that
    takes `server_s` per prompt at `arrivals` prompts/s (`md1_wait`), `extra_s` after it (the
    KV transfer): `TTFT = service + extra + wait`, `ρ = arrivals · server`."""
    rho = np.asarray(arrivals, dtype=float) * np.asarray(server_s, dtype=float)
    wait, wait90 = md1_wait(rho, server_s)
    fixed = np.asarray(service_s, dtype=float) + extra_s
    return fixed + wait, fixed + wait90, rho


def aggregated_ttft(service_s, requests_per_s, p) -> tuple[np.ndarray, ...]:
    """(mean TTFT, p90 TTFT, load) of an aggregated replica of `p` micro-batches serving
    `requests_per_s`, a prompt's chunk steps taking `service_s`: each micro-batch's chunk
    budget is an M/D/1 server of its share of the requests (`queued_ttft`)."""
    return queued_ttft(service_s, service_s, np.asarray(requests_per_s) / np.asarray(p))


def aggregated(
    wl: Workload,
    hw: dict,
    t,
    p,
    batch,
    m: dict,
    chunk: int,
    requests_per_s=None,
    service_scale=1.0,
) -> dict[str, np.ndarray]:
    """TPOT, TTFT (mean, p90) and prefill utilization of aggregated replicas at `batch`.

    `requests_per_s` (per replica): the rate they serve; None: Little's law at their own
    TPOT (`c = b·P/O`, the most a full replica can see). `service_scale`: the prompt's chunk
    steps take that many times the model's time in its TTFT (an end of the TTFT's interval,
    `ttft_interval.loaded`); its TPOT and load of prompt tokens stay the model's."""
    P, out_tokens = wl.prompt_tokens, wl.output_tokens
    p = np.asarray(p, dtype=float)
    batch = np.asarray(batch, dtype=float)
    accepted = wl.accepted_tokens_per_step
    if requests_per_s is None:
        c = batch * P / out_tokens
        step = mean_step(wl, hw, t, p, batch, m, c, chunk)
        lam = p * batch / (out_tokens * step / accepted)
    else:
        lam = np.asarray(requests_per_s, dtype=float)
        c = prompt_load(wl, hw, t, p, batch, m, chunk, lam)
        step = mean_step(wl, hw, t, p, batch, m, c, chunk)
    service = chunk_steps(P, chunk) * mixed_step(wl, hw, t, p, batch, m, min(chunk, P), chunk)
    service = service * np.asarray(service_scale, dtype=float)
    ttft, ttft90, rho = aggregated_ttft(service, lam, p)
    return {
        "tpot_s": step / accepted,
        "ttft_s": ttft,
        "ttft_p90_s": ttft90,
        "prefill_utilization": rho,
        "prompt_tokens_per_step": c,
        "requests_per_s": lam,
        "prefill_service_s": service,
    }


def prefill_kv_per_chip(wl: Workload, t, p, prompt_tokens_per_step, attention="tp") -> np.ndarray:
    """KV bytes per chip held by the prompts being prefilled in chunks (aggregated serving).
    Each micro-batch's chunk budget serves one prompt at a time (the M/D/1 server of its TTFT);
    that prompt's KV grows chunk by chunk to its `P` tokens at its last chunk, and a step that
    carries more prompt tokens than one prompt (`c > P`) holds `c/P` prompts: `n = max(1, c/P)`
    prompts of KV(P) per micro-batch, placed like users' KV (`perf.users_per_rank`,
    `perf.kv_fraction`) on each of the `p` micro-batches, over the slowest stage's share of the
    layers (`perf.stage_share`). A peak, as the decoders' KV is counted at its peak context."""
    from designer.model import perf

    dp = np.asarray(attention, dtype=object) == "dp"
    n = np.maximum(1.0, np.asarray(prompt_tokens_per_step, dtype=float) / wl.prompt_tokens)
    per_prompt = wl.kv_bytes_held(wl.prompt_tokens)
    p = np.asarray(p, dtype=float)
    share = perf.kv_fraction(wl, t, dp) * per_prompt * p * perf.stage_share(wl, p)
    return perf.users_per_rank(t, n, dp) * share


def prefill_queue(service_s, pp, kv_s, requests_per_s) -> dict[str, np.ndarray]:
    """TTFT (mean, p90) of disaggregated prefill replicas serving `requests_per_s` each."""
    s = np.asarray(service_s, dtype=float) / np.asarray(pp, dtype=float)
    ttft, ttft90, rho = queued_ttft(service_s, s, requests_per_s, kv_s)  # pp prompts in flight
    return {"ttft_s": ttft, "ttft_p90_s": ttft90, "prefill_utilization": rho}


def prefill_capacity(service_s, pp, kv_s, ttft_s: float, kv_cap) -> np.ndarray:
    """The largest request rate per prefill replica whose p90 TTFT stays within `ttft_s`,
    capped by the KV it can send (`kv_cap`, requests/s); 0 where even an idle replica is too
    slow. Bisection on ρ (the p90 TTFT grows with it)."""
    service_s = np.asarray(service_s, dtype=float)
    s = service_s / np.asarray(pp, dtype=float)
    budget = ttft_s * (1 - REL) - service_s - np.asarray(kv_s, dtype=float)
    lo = np.zeros_like(s)
    hi = np.ones_like(s)
    for _ in range(80):
        mid = (lo + hi) / 2.0
        ok = md1_wait(mid, s)[1] <= budget
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    lam = np.where(budget >= 0, lo / s, 0.0)
    return np.minimum(lam, np.asarray(kv_cap, dtype=float))


def scale_out_per_chip(catalog: Catalog, chip: str) -> float:
    """B/s of scale-out network per accelerator: the server's bandwidth over its chips."""
    c = catalog.chip(chip)
    if c.server_scale_out_bandwidth is None:
        return DEFAULT_SCALE_OUT_PER_CHIP
    return c.server_scale_out_bandwidth / (c.server_chips or catalog.costs.chips_per_server)


def kv_transfer_time(wl: Workload, replica_bandwidth) -> np.ndarray:
    """T_kv = P·K / BW_replica."""
    return kv_bytes_per_request(wl) / np.asarray(replica_bandwidth, dtype=float)


def decode_batch_cap(wl: Workload, replica_bandwidth, pp, tokens_per_s_per_user) -> np.ndarray:
    """The most users per micro-batch a decode replica can take KV in for:
    ⌊BW·O / (p·r·P·K)⌋."""
    per = np.asarray(pp, dtype=float) * tokens_per_s_per_user * kv_bytes_per_request(wl)
    users = np.asarray(replica_bandwidth, dtype=float) * wl.output_tokens / per
    return np.floor(users * (1 + 1e-12)).astype(np.int64)


def replica(
    wl: Workload,
    catalog: Catalog,
    chip: str,
    *,
    tp: int,
    pp: int,
    batch: int,
    ep: int = 1,
    attention: str = "tp",
    phase: str = "aggregated",
    requests_per_s: float | None,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    service_scale: float = 1.0,
) -> dict[str, float | None]:
    """The loaded serving metrics of one replica in `phase` serving `requests_per_s`: TTFT
    (mean, p90; None for a decode replica, whose TTFT is its prefill pool's), TPOT (None for a
    prefill replica), the prefill utilization, aggregated the KV per chip of the prompts in
    prefill (`prefill_kv_per_chip`) and, disaggregated, the KV transfer time and the share of
    the scale-out bandwidth it uses. The re-check of every answer and `evaluate
    --requests-per-s` call this. `requests_per_s=None` (aggregated only): the rate of its
    `batch` users turning over at the TPOT they get (Little's law), as the columns count it.
    With the rates, tokens/s per user and system tokens/s become those of the phase: 1/TPOT
    and p·b/TPOT (0 for a prefill replica). `service_scale`: the prompt's service time (its
    prefill, or its chunk steps) in its TTFT is that many times the model's (an end of the
    TTFT's interval, `ttft_interval.loaded`), and with it the queue's load; nothing else
    moves."""
    from designer.model import perf
    from designer.model.prefill import prefill

    hw = perf.ChipArrays.build(catalog, [chip], wl.compute_dtype).take(0)
    bw = scale_out_per_chip(catalog, chip) * tp * pp
    out: dict = {**dict.fromkeys(REPLICA_METRICS), "phase": phase}
    out["requests_per_s"] = None if requests_per_s is None else float(requests_per_s)
    if phase == "prefill":
        pf = prefill(wl, catalog, chip, tp=tp, pp=pp, prompt_tokens=wl.prompt_tokens)
        service = pf.time_s * service_scale
        kv_s = float(kv_transfer_time(wl, bw))
        q = prefill_queue(service, pp, kv_s, requests_per_s)
        out.update(
            ttft_s=float(q["ttft_s"]),
            ttft_p90_s=float(q["ttft_p90_s"]),
            prefill_utilization=float(q["prefill_utilization"]),
            kv_transfer_s=kv_s,
            kv_link_utilization=float(requests_per_s * kv_bytes_per_request(wl) / bw),
            **pf.metrics(),  # the model's pass: `service_scale` moves the TTFT alone
        )
        return out
    m = perf.evaluate_arrays(wl, hw, tp, pp, batch, ep=ep, attention=attention)
    if phase == "decode":
        out.update(
            tpot_s=float(m["step_time_s"]) / wl.accepted_tokens_per_step,
            kv_link_utilization=float(requests_per_s * kv_bytes_per_request(wl) / bw),
        )
        return out
    a = aggregated(
        wl,
        hw,
        tp,
        pp,
        batch,
        m,
        chunk_tokens,
        requests_per_s=requests_per_s,
        service_scale=service_scale,
    )
    held = prefill_kv_per_chip(wl, tp, pp, a["prompt_tokens_per_step"], attention)
    # prompts arriving faster than the chunk budget serves them (a rate given, load ≥ 1): no
    # steady state, so no TPOT either (the chunk load's fixed point diverges)
    # (judged at the model's service time: a scaled one moves the TTFT alone)
    load = float(a["prefill_utilization"]) / service_scale
    full = requests_per_s is not None and load >= 1.0
    out.update(
        requests_per_s=float(a["requests_per_s"]),
        ttft_s=float(a["ttft_s"]),
        ttft_p90_s=float(a["ttft_p90_s"]),
        tpot_s=np.inf if full else float(a["tpot_s"]),
        prefill_utilization=float(a["prefill_utilization"]),
        prefill_kv_per_chip_bytes=np.inf if full else float(held),
    )
    return out

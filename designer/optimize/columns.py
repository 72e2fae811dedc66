"""Columns: what one replica of each (class, chip, t, p) can do, computed once in numpy.

For every workload class and every candidate (chip, t, p) of the design space, the forward model
of `perf` gives the largest batch per micro-batch `b*` that meets every per-configuration
requirement of the class (`features.PER_CONFIGURATION`: the user rate, the memory; serving, the
TTFT and the KV transfer), each non-decreasing in the batch, so a vectorized bisection is exact.
Every objective and limit depends on how many replicas run, never on how full they are, so a
replica never needs to run below `b*`: the column — users per replica `p·b*`, chips per replica
`t·p`, the system tokens/s at `b*` — is exact, and the MILP chooses among columns. For a class
asking for a request rate a column serves its users × the rate they get at `b*` / the SLA rate
(`_serves`: its requests/s at `b*` in users at the SLA rate, capped by the KV it takes in); an
aggregated column then takes the slots and the lighter load that serve the most requests/s,
which may be more slots than `b*` (`_part_loaded`: fewer users in flight than slots, fewer
prompt chunks per step; docs/model.md §9). The one exception: under `maximize` with disaggregated
serving, the prefill pool serves every request of a decode replica's users, so a fuller replica
needs more prefill; decode columns then come at every batch 1 … b* (`_partial_fills`).

The presolve removes, and counts, the candidates that cannot be in an optimal fleet: impossible
partitions (`partition`), weights that do not fit, rates out of reach at batch 1, chips without
the cost data the objective or a limit needs, a single replica over a limit or the supply,
columns dominated by another column of the same chip type (no more chips, serving no fewer
users: `serves`), and — against a feasible incumbent — columns whose cheapest use already costs
more.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from designer.calibration import profiles
from designer.model import partition, perf, serving
from designer.model.cost import ChipCost, ceil_div, chip_cost, mtokens_per_year, servers_for
from designer.optimize.candidates import Candidates
from designer.optimize.problem import Problem, WorkloadClass

REL = serving.REL  # relative tolerance of the rate and capacity tests

STAGES = (
    "no_rate_for_dtype",
    "partition_impossible",
    "weights_do_not_fit",
    "too_slow_at_batch_1",
    "no_cost_data",
    "over_limits",
    "dominated",
    "bound_pruned",
)
CLASS_STAGE = "weights_do_not_fit"  # screened once per class, before the serving phases
ESTIMATED = "an estimate and space.include_estimated = false"
REASONS = {
    "no_rate_for_dtype": "no compute rate for the workload's dtype or a wider one",
    "partition_impossible": "no partition of the space divides the model's heads and layers",
    "weights_do_not_fit": "weights and one user's KV cache do not fit",
    "too_slow_at_batch_1": "cannot reach the rate even at batch 1",
    "no_cost_data": "no price or power data for the objective or a limit",
    "over_limits": "one replica exceeds a limit or the supply",
    "dominated": "another partition of the same chip serves more users with no more chips",
    "bound_pruned": "costlier than the best fleet found, by a bound",
}


@dataclass(frozen=True)
class Grid:
    """Every (chip, t, p, ep, attention) of the space for one class, with hardware gathered
    per candidate. `ep` and `attention` are the options `perf.partition_options` gives for the
    class's assumptions (plain TP only under `paper`). Each chip is evaluated with its own
    serving-stack efficiency (`profiles.for_problem`): `workloads[group[i]]` for candidate i."""

    chip: np.ndarray  # index into Columns.chip_types
    t: np.ndarray
    p: np.ndarray
    ep: np.ndarray
    attention: np.ndarray  # "tp" | "dp" (fixed-width text: compared at numpy speed)
    group: np.ndarray  # index into workloads
    workloads: tuple = field(repr=False)
    hw: dict[str, np.ndarray] = field(repr=False)
    # with a class's `confidence`: the chips' ids and profiles, for the interval's slow end
    # (`features.rate.required_rate`)
    chip_ids: tuple[str, ...] = ()
    chip_profiles: tuple = field(default=(), repr=False)
    confidence: float | None = None
    # with a class's `ttft_confidence`: per candidate, the factor on the prompt's service time
    # at the slow end of its TTFT interval (`features.ttft.slow_ratios`; it does not depend
    # on the batch, so it is worked out once here, not at each step of a batch bisection)
    ttft_slow: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.t)

    def metrics(self, wc: WorkloadClass, batch, index=None) -> dict[str, np.ndarray]:
        """perf.evaluate_arrays for the candidates `index` (all by default) at `batch`."""
        idx = np.arange(len(self)) if index is None else np.asarray(index, dtype=np.int64)
        batch = np.broadcast_to(np.asarray(batch), idx.shape)
        mine = self.group[idx]
        if not len(idx) or (mine == mine[0]).all():  # one serving-stack profile: no scatter
            return self._evaluate(mine[0] if len(idx) else 0, idx, batch)
        # each profile's candidates in one block, evaluated, then put back in their places
        order = np.argsort(mine, kind="stable")
        cuts = np.flatnonzero(np.diff(mine[order])) + 1
        blocks = np.split(order, cuts)
        parts = [self._evaluate(mine[b[0]], idx[b], batch[b]) for b in blocks]
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        out = {}
        for k, v in parts[0].items():
            v = np.concatenate([v] + [p[k] for p in parts[1:]])[back]
            out[k] = v
        return out

    def aggregated(
        self, wc: WorkloadClass, batch, index, m: dict, requests_per_s=None
    ) -> dict[str, np.ndarray]:
        """`m` (perf metrics of the candidates `index` at `batch`) with the aggregated serving
        metrics of `serving.aggregated` added: TPOT with the prompt chunks, TTFT, load; at
        `requests_per_s` per replica, or (None) at their batches' own turnover."""
        idx = np.asarray(index, dtype=np.int64)
        batch = np.broadcast_to(np.asarray(batch), idx.shape)
        lam = None if requests_per_s is None else np.broadcast_to(requests_per_s, idx.shape)
        out = dict(m)
        for g in np.unique(self.group[idx]) if len(idx) else []:
            pos = np.flatnonzero(self.group[idx] == g)
            sel = idx[pos]
            r = serving.aggregated(
                self.workloads[g],
                {k: v[sel] for k, v in self.hw.items()},
                self.t[sel],
                self.p[sel],
                batch[pos],
                {k: np.asarray(m[k])[pos] for k in SERVING_INPUTS},
                wc.serving.chunk_tokens,
                requests_per_s=None if lam is None else lam[pos],
            )
            for k, v in r.items():
                out.setdefault(k, np.full(idx.shape, np.nan))[pos] = v
        return out

    def _evaluate(self, g, sel: np.ndarray, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Every metric of the candidates `sel` (all of profile group g), shaped like `sel`."""
        m = perf.evaluate_arrays(
            self.workloads[g],
            {k: v[sel] for k, v in self.hw.items()},
            self.t[sel],
            self.p[sel],
            batch,
            ep=self.ep[sel],
            attention=self.attention[sel],
        )
        return {
            k: v if np.shape(v) == sel.shape else np.broadcast_to(v, sel.shape)
            for k, v in m.items()
        }


def grid(problem: Problem, wc: WorkloadClass) -> Grid:
    chips = list(problem.chips)
    per_chip = [profiles.workload_for(problem, c, wc.workload) for c in chips]
    workloads = tuple(dict.fromkeys(per_chip))
    group_of_chip = np.array([workloads.index(w) for w in per_chip])
    arrays = perf.ChipArrays.build(problem.catalog, chips, [w.compute_dtype for w in per_chip])
    # every chip × every (t, partition option) × every p, in that order
    opts = [
        (t, o["ep"], o["attention"])
        for t in problem.tp
        for o in perf.partition_options(wc.workload, t)
    ]
    n_chips, n_opts, n_pp = len(chips), len(opts), len(problem.pp)
    ci = np.repeat(np.arange(n_chips), n_opts * n_pp)
    oi = np.tile(np.repeat(np.arange(n_opts), n_pp), n_chips)
    t, ep, att = (
        np.array([o[i] for o in opts], dtype=d)
        for i, d in ((0, np.int64), (1, np.int64), (2, "U2"))
    )
    g = Grid(
        ci,
        t[oi],
        np.tile(np.asarray(problem.pp, dtype=np.int64), n_chips * n_opts),
        ep[oi],
        att[oi],
        group_of_chip[ci],
        workloads,
        arrays.take(ci),
        tuple(chips),
        tuple(profiles.for_problem(problem, c, wc.workload) for c in chips)
        if wc.confidence or wc.ttft_confidence
        else (),
        wc.confidence,
    )
    if not wc.ttft_confidence:
        return g
    from designer.optimize.features import ttft as ttft_feature  # features import this module

    return replace(g, ttft_slow=ttft_feature.slow_ratios(problem, wc, g))


SERVING_INPUTS = ("step_time_s", "memory_time_s", "compute_time_s")


def requirements(wc: WorkloadClass | None = None, phase: str | None = None, face: str = ""):
    """The per-configuration requirements (`features.per_configuration.REQUIREMENTS`), those
    that apply to class `wc`'s columns in `phase` and have the face `face` when given. Imported
    when called, not at the top: the features package imports `data`, which imports this
    module."""
    from designer.optimize.features import per_configuration

    return tuple(
        f
        for f in per_configuration.REQUIREMENTS
        if (wc is None or f.applies(wc, phase)) and (not face or hasattr(f, face))
    )


def phase_metrics(
    c: Candidates, b, where, m: dict | None = None, requests_per_s=None
) -> dict[str, np.ndarray]:
    """The metrics the requirements read at batch `b` of the candidates `where` (`m`: their
    perf metrics, when known): perf's, with aggregated serving's (TPOT, TTFT) for a serving
    class in the aggregated phase, at `requests_per_s` per replica (None: their batches' own
    turnover)."""
    m = c.g.metrics(c.wc, b, where) if m is None else m
    if c.wc.serving is not None and c.phase == "aggregated":
        m = c.g.aggregated(c.wc, b, where, m, requests_per_s)
    return m


def check(c: Candidates, b, where, m: dict | None = None):
    """At batch `b` of the candidates `where`: whether every requirement with a `check` face
    is met, the largest excess (how far over a limit, ≤ 0 when met; what guides the
    bisection), and each requirement's (name, met) in registry order."""
    return meets(c, b, where, phase_metrics(c, b, where, m))


def meets(c: Candidates, b, where, m: dict):
    """`check` on `m`, the metrics in the phase (`phase_metrics`)."""
    ok = np.ones(np.shape(where), dtype=bool)
    excess = None
    each = []
    for f in requirements(c.wc, c.phase, "check"):
        met, e = f.check(c, b, where, m)
        ok &= met
        excess = e if excess is None else np.fmax(excess, e)
        each.append((f.NAME, met))
    return ok, np.nan_to_num(excess, nan=np.inf, posinf=np.inf), each


def batch_cap(c: Candidates, index: np.ndarray, at_1: dict | None = None) -> np.ndarray:
    """Largest integer batch in [1, space.max_batch] that meets every requirement with a
    `check` face (the user rate, memory; aggregated serving: TPOT with the prompt chunks and
    the p90 TTFT), for the candidates `index` (0 when batch 1 fails). Exact: each requirement
    is non-decreasing in the batch, and every bracket move rests on an evaluated point.

    Per candidate the search keeps a feasible `lo` and an infeasible `hi + 1` with the excess
    `f` at both (how far a requirement is over its limit, ≤ 0 when feasible). Each round
    probes, for the candidates still open only, the batch `b` interpolated from the two
    excesses, `b + 1`, and the bracket's midpoint. Step time and memory are affine in the batch
    under the paper's equations and nearly so otherwise, so the pair (b, b + 1) usually closes
    the bracket at once; the midpoint at least halves it, so no search takes more rounds than
    a bisection. `at_1`: the metrics of every candidate of the grid at batch 1, when known.
    One search per serving-stack profile of the grid: each round's metrics in one call."""
    n = len(index)
    if not n:
        return np.zeros(0, dtype=np.int64)
    profile = c.g.group[index]
    if (profile != profile[0]).any():
        out = np.empty(n, dtype=np.int64)
        for g in np.unique(profile):
            mine = np.flatnonzero(profile == g)
            out[mine] = batch_cap(c, index[mine], at_1)
        return out
    max_batch = c.problem.max_batch

    def excess(b: np.ndarray, where: np.ndarray, m: dict | None = None):
        """(feasible, f) at batch b of the candidates `where`."""
        return check(c, b, where, m)[:2]

    one = {k: v[index] for k, v in at_1.items()} if at_1 is not None else None
    ok_1, f_lo = excess(np.ones(n, np.int64), index, one)
    ok_max, f_up = excess(np.full(n, max_batch, np.int64), index)
    lo = np.where(ok_max, max_batch, np.where(ok_1, 1, 0))
    hi = np.where(ok_max | ~ok_1, lo, max_batch - 1)  # nothing feasible above hi
    f_up = np.where(ok_max, np.inf, f_up)  # f at hi + 1
    while True:
        op = np.flatnonzero(hi > lo)
        if not len(op):
            return lo
        a, z = lo[op], hi[op]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = -f_lo[op] / (f_up[op] - f_lo[op])
        frac = np.where(np.isfinite(frac), np.clip(frac, 0.0, 1.0), 0.5)
        guess = np.clip(a + np.floor((z + 1 - a) * frac).astype(np.int64), a, z - 1)
        probes = (guess, guess + 1, (a + z + 1) // 2)
        ok, f = excess(np.concatenate(probes), np.tile(index[op], len(probes)))
        k = len(op)
        for i, x in enumerate(probes):
            okx, fx = ok[i * k : (i + 1) * k], f[i * k : (i + 1) * k]
            up = okx & (x > lo[op])
            lo[op] = np.where(up, x, lo[op])
            f_lo[op] = np.where(up, fx, f_lo[op])
            down = ~okx & (x - 1 < hi[op])
            hi[op] = np.where(down, x - 1, hi[op])
            f_up[op] = np.where(down, fx, f_up[op])


def screens_at_batch_1(c: Candidates, idx: np.ndarray, m1: dict) -> dict[str, np.ndarray]:
    """Per presolve stage (`CLASS_STAGE`, `too_slow_at_batch_1`), whether each candidate `idx`
    meets that stage's requirements at batch 1 in the phase (not prefill, whose test is
    `prefill_capacity` > 0): each `check` (on `m1`, the metrics at batch 1) and `batch_limit`
    ≥ 1, at the lightest load a replica may carry (`Candidates.lightest_load`: its batch's own
    turnover, or none where it takes a share of a request rate). In a phase that adds to what
    the class screen saw (aggregated serving: the prompts in prefill hold KV), `CLASS_STAGE`
    removes more here."""
    ok = {stage: np.ones(len(idx), dtype=bool) for stage in (CLASS_STAGE, "too_slow_at_batch_1")}
    mine = requirements(c.wc, c.phase)
    if any(hasattr(f, "check") for f in mine) and len(idx):  # none left: nothing to screen
        one = np.ones(len(idx))
        m = phase_metrics(c, one, idx, {k: v[idx] for k, v in m1.items()}, c.lightest_load)
        for f in mine:
            if hasattr(f, "check"):
                ok[f.STAGE] &= f.check(c, np.ones(len(idx)), idx, m)[0]
    for f in mine:
        if hasattr(f, "batch_limit"):
            ok[f.STAGE] &= f.batch_limit(c, idx) >= 1
    return ok


def prefill_capacity(c: Candidates, idx: np.ndarray):
    """Per candidate `idx` as a disaggregated prefill replica: the most requests/s every
    requirement with a `requests` face allows (the p90 TTFT, the KV egress) and which of them
    binds (the later in the registry on a tie)."""
    cap, limited = None, None
    for f in requirements(c.wc, c.phase, "requests"):
        r = np.asarray(f.requests(c, idx), dtype=float)
        if cap is None:
            cap, limited = r, np.full(len(idx), f.NAME, dtype=object)
            continue
        cap = np.minimum(cap, r)
        limited = np.where(cap >= r * (1 - 1e-12), f.NAME, limited).astype(object)
    return cap, limited


# the per-column arrays of Columns, in its field order
ARRAYS = (
    "cls",
    "chip",
    "t",
    "p",
    "ep",
    "attention",
    "batch",
    "users",
    "chips",
    "tokens_per_s",
    "limited_by",
    "phase",
    "requests_capacity",
    "serves",
)


@dataclass(frozen=True)
class Columns:
    """The columns that can hold an optimum, one entry per (class, chip, t, p); immutable."""

    cls: np.ndarray  # class index
    chip: np.ndarray  # index into chip_types
    t: np.ndarray
    p: np.ndarray
    ep: np.ndarray  # expert-parallel degree (1: experts sharded by TP)
    attention: np.ndarray  # "tp" | "dp"
    batch: np.ndarray  # b*, the largest feasible batch per micro-batch
    users: np.ndarray  # p · b*: users one replica serves
    chips: np.ndarray  # t · p
    tokens_per_s: np.ndarray  # system tokens/s of one replica at b*
    limited_by: np.ndarray  # what stops b* + 1: user-rate | memory-capacity | max-batch | …
    phase: np.ndarray  # aggregated | prefill | decode (serving.PHASES)
    requests_capacity: np.ndarray  # prefill columns: requests/s one replica serves (else 0)
    # what one replica adds to its class's demand row, in users at the SLA rate: its users, or
    # for a class asking for a request rate users × its rate / the SLA rate (features.demand)
    serves: np.ndarray
    chip_types: tuple[ChipCost, ...]
    stats: tuple[dict[str, int], ...]  # per class: what each presolve step removed
    excluded: tuple[tuple[str, str], ...]  # (chip, why) for chips with no column left
    incumbent: float | None  # objective of the best feasible single-configuration fleet

    def __post_init__(self):
        for name in ARRAYS:
            getattr(self, name).setflags(write=False)

    def __len__(self) -> int:
        return len(self.t)

    def per_server(self, what: str) -> np.ndarray:
        """Per replica, one whole server of its chip type: capex, power or tco."""
        return _per_server(self.chip_types, what)[self.chip]

    def share(self, what: str) -> np.ndarray:
        """Per replica, its chips' share of whole servers: capex, power or tco (USD, W, USD/yr),
        a lower bound of what the replica adds to a fleet."""
        per_chip = np.array([c.per_chip(what) for c in self.chip_types], dtype=float)
        return per_chip[self.chip] * self.chips


def _per_server(costs, what: str) -> np.ndarray:
    """One whole server's capex, power or tco for each chip type of `costs`."""
    return np.array([c.per_server(what) for c in costs], dtype=float)


def needs(problem: Problem) -> tuple[str, ...]:
    """The cost data the objective and the limits need: capex, power."""
    out = set()
    if problem.objective in ("capex", "tco", "cost_per_mtoken"):
        out.add("capex")
    if problem.objective in ("power", "tco", "cost_per_mtoken"):
        out.add("power")
    if problem.max_capex_usd is not None or problem.chip_type_fixed_cost_usd:
        out.add("capex")
    if problem.max_power is not None or problem.max_facility_power is not None:
        out.add("power")
    return tuple(sorted(out))


def problem_costs(problem: Problem) -> list[ChipCost]:
    """The cost data of every chip of the space, on the problem's cost basis."""
    return [chip_cost(problem.catalog, c, problem.cost_basis) for c in problem.chips]


def missing_cost_data(problem: Problem, cc: ChipCost) -> str | None:
    """Why a chip type cannot take part in the problem's objective and limits (None: it can):
    a cost number the problem needs is unknown, or its price (renting: its $/h) is an estimate
    and the problem admits sourced prices only (`space.include_estimated = false`)."""
    need = needs(problem)
    rent = problem.cost_basis.basis == "rent"
    if "capex" in need and not np.isfinite(cc.per_server("capex")):
        return f"no price: {cc.rent_basis if rent else cc.price_basis}"
    if not problem.include_estimated:  # renting, the rent is the price
        if rent and cc.rent_kind == "estimate":
            return f"$/h is {ESTIMATED}: {cc.rent_basis}"
        if not rent and cc.price_kind == "estimate":
            return f"price is {ESTIMATED}: {cc.price_basis}"
    if "power" in need and not (
        np.isfinite(cc.per_server("power")) and np.isfinite(cc.per_server("power_limit"))
    ):
        return f"no power: {cc.power_basis}"
    return None


def cost_known(problem: Problem, costs) -> np.ndarray:
    """Per chip type of `costs`, whether it has every cost number the problem needs (and, with
    space.include_estimated = false, a price that is not an estimate)."""
    return np.array([missing_cost_data(problem, c) is None for c in costs], dtype=bool)


def cost_coefficient(problem: Problem) -> str | None:
    """Which per-server number the minimized objective sums (None: chips or a maximization)."""
    return (
        {
            "capex": "capex",
            "power": "power",
            "tco": "tco",
            "cost_per_mtoken": "tco",
        }.get(problem.objective)
        if problem.sense == "minimize"
        else None
    )


def over_limits(problem: Problem, costs, chip, chips, servers=None) -> np.ndarray:
    """True where `chips` accelerators of chip types `chip` (indices into `costs`), in their
    whole servers, break a limit or the supply on their own."""
    sc = np.array([c.server_chips for c in costs])[chip]
    servers = servers_for(chips, sc) if servers is None else servers
    capex = _per_server(costs, "capex")[chip] * servers
    power = _per_server(costs, "power_limit")[chip] * servers
    over = np.zeros(len(chip), dtype=bool)
    if problem.max_chips:
        over |= chips > problem.max_chips
    if problem.max_power is not None:
        over |= power > problem.max_power * (1 + 1e-9)
    if problem.max_facility_power is not None:
        over |= power * problem.catalog.costs.pue > problem.max_facility_power * (1 + 1e-9)
    if problem.max_capex_usd is not None:
        over |= capex + problem.chip_type_fixed_cost_usd > problem.max_capex_usd * (1 + 1e-9)
    supply = dict(problem.supply)
    if supply:
        cap = np.array([supply.get(c.chip, np.iinfo(np.int64).max) for c in costs])[chip]
        over |= servers * sc > cap
    return over


def _dominance(chip, chips, value) -> np.ndarray:
    """Keep, per chip type, the columns no other column beats: fewer or equal chips and more
    `value` (users, or tokens/s), strictly better in one. Ties keep the first. In the order
    (chip type, chips, most value first) a column is kept when its value beats every earlier
    one of its chip type (NaN beats nothing and is beaten by nothing)."""
    keep = np.zeros(len(chip), dtype=bool)
    order = np.lexsort((-value, chips, chip))
    for block in _blocks(chip[order]):
        sel = order[block]
        keep[sel] = value[sel] > _most_before(value[sel][None, :])[0]
    return keep


def _dominance_with_prefill(chip, chips, users, value, wc: WorkloadClass) -> np.ndarray:
    """`_dominance` for decode columns under `maximize`, where each user also costs prefill
    (`_partial_fills`): keep, per chip type, the columns no other beats on all three of fewer
    or equal chips, fewer or equal users and more `value`, strictly better in one (ties keep
    the first). With a demand for the class, where users also count for it, nothing goes.

    Every dominator comes before in the order (chip type, users, chips, most value, index): a
    column is kept when its value beats every earlier one of its chip type on as many chips
    or fewer (the running maximum per chip count, then over the chip counts up to its own)."""
    keep = np.ones(len(chip), dtype=bool)
    if wc.users:
        return keep
    order = np.lexsort((np.arange(len(chip)), -value, chips, users, chip))
    for block in _blocks(chip[order]):
        sel = order[block]
        v = value[sel]
        levels, level = np.unique(chips[sel], return_inverse=True)
        on_level = np.where(level == np.arange(len(levels))[:, None], v, -np.inf)
        best = np.fmax.accumulate(_most_before(on_level), axis=0)  # on ≤ this many chips
        keep[sel] = best[level, np.arange(len(sel))] < v
    return keep


def _most_before(v: np.ndarray) -> np.ndarray:
    """Per row of `v`, the largest value strictly before each entry, NaN ignored (−inf
    before the first)."""
    out = np.full(v.shape, -np.inf)
    out[:, 1:] = np.fmax.accumulate(v[:, :-1], axis=1)
    return np.fmax(out, -np.inf)


def _blocks(key: np.ndarray) -> list[slice]:
    """The runs of equal entries of a sorted `key`, as slices."""
    cuts = (np.flatnonzero(np.diff(key)) + 1).tolist()
    return [slice(a, b) for a, b in zip([0, *cuts], [*cuts, len(key)], strict=True)]


def build(problem: Problem, *, prune: bool = True) -> Columns:
    """The columns of `problem`, presolved (see the module doc); `prune=False` keeps every
    feasible column (no dominance or bound pruning)."""
    costs = problem_costs(problem)
    known = cost_known(problem, costs)
    parts: list[dict[str, np.ndarray]] = []
    stats: list[dict[str, int]] = []
    removed_by: dict[int, str] = {}
    alive_chips: set[int] = set()
    for j, wc in enumerate(problem.classes):
        g = grid(problem, wc)
        st = {"candidates": len(g)}
        rated = np.isfinite(g.hw["flops"])
        _count(st, "no_rate_for_dtype", np.ones(len(g), dtype=bool), rated, g, removed_by)
        keep = rated & partition.valid(wc.workload.model, g.t, g.p, g.attention)
        _count(st, "partition_impossible", rated, keep, g, removed_by)
        m1 = g.metrics(wc, np.ones(len(g)))
        fits = fits_at_batch_1(Candidates(problem, wc, g, None), m1)
        _count(st, CLASS_STAGE, keep, fits, g, removed_by)
        keep &= fits
        phases = wc.serving.phases() if wc.serving is not None else ("aggregated",)
        mine = []
        for phase in phases:
            part = _phase_columns(problem, wc, j, g, keep, m1, costs, known, phase, st, prune)
            removed_by.update(part.pop("removed_by"))
            mine.append(part)
        served = [part for part, ph in zip(mine, phases, strict=True) if ph != "prefill"]
        if not any(len(part["chip"]) for part in served):  # prompts alone serve no one
            mine = [{k: v[:0] for k, v in part.items()} for part in mine]
        for part in mine:
            alive_chips.update(int(c) for c in part["chip"])
            parts.append(part)
        stats.append(st)
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    excluded = tuple(
        (chip_id, _reason(problem, costs[i], removed_by.get(i, "partition_impossible")))
        for i, chip_id in enumerate(problem.chips)
        if i not in alive_chips
    )
    columns = Columns(
        **cols,
        chip_types=tuple(costs),
        stats=tuple(stats),
        excluded=excluded,
        incumbent=None,
    )
    if prune and problem.sense == "minimize" and len(columns):
        columns = _bound_prune(problem, columns)
    for st, j in zip(columns.stats, range(len(problem.classes)), strict=True):
        st["kept"] = int((columns.cls == j).sum())
    return columns


def fits_at_batch_1(c: Candidates, m1: dict) -> np.ndarray:
    """Per candidate of the grid, whether the requirements screened once per class
    (`CLASS_STAGE`: the weights and one user's KV fit) hold at batch 1 (`m1`, the metrics)."""
    ok = np.ones(len(c.g), dtype=bool)
    for f in requirements(face="check"):
        if f.STAGE == CLASS_STAGE:
            ok &= f.check(c, np.ones(len(c.g)), np.arange(len(c.g)), m1)[0]
    return ok


def _reason(problem: Problem, cc: ChipCost, stage: str) -> str:
    """Why a chip has no column: the stage's reason, naming the missing data for no_cost_data."""
    if stage == "no_cost_data":
        return missing_cost_data(problem, cc) or REASONS[stage]
    return REASONS[stage]


def _phase_columns(
    problem: Problem,
    wc: WorkloadClass,
    j: int,
    g: Grid,
    keep: np.ndarray,
    m1: dict,
    costs,
    known: np.ndarray,
    phase: str,
    st: dict,
    prune: bool,
) -> dict[str, np.ndarray]:
    """The columns of class j in one serving phase, from the candidates `keep` (rated, a
    valid partition, weights that fit): presolve counts are added to `st`. The requirements
    of the phase (`requirements`) screen the candidates at batch 1 and set each column's
    batch (a prefill replica's requests/s) and what limits it."""
    removed_by: dict[int, str] = {}
    sub: dict[str, int] = {}
    c = Candidates(problem, wc, g, phase)
    idx = np.flatnonzero(keep)
    if phase == "prefill":  # one prompt at a time: the requirements bound its requests/s
        cap, lim = prefill_capacity(c, idx)
        fast = _scatter(len(g), idx, cap > 0)
        capacity = _scatter(len(g), idx, cap)
        limited_all = np.empty(len(g), dtype=object)
        limited_all[idx] = lim
    else:
        at_1 = screens_at_batch_1(c, idx, m1)
        holds = _scatter(len(g), idx, at_1[CLASS_STAGE])
        _count(sub, CLASS_STAGE, keep, holds, g, removed_by)
        keep = keep & holds
        fast = _scatter(len(g), idx, at_1["too_slow_at_batch_1"])
    limits = requirements(wc, phase, "batch_limit")
    blimit = np.zeros(len(g), dtype=np.int64)
    for f in limits:  # closed-form batch limits (one at most per phase today)
        blimit[idx] = f.batch_limit(c, idx)
    _count(sub, "too_slow_at_batch_1", keep, fast, g, removed_by)
    keep = keep & fast
    _count(sub, "no_cost_data", keep, known[g.chip], g, removed_by)
    keep &= known[g.chip]
    idx = np.flatnonzero(keep)
    bcap = np.ones(len(idx), dtype=np.int64) if phase == "prefill" else batch_cap(c, idx, at_1=m1)
    chips = (g.t * g.p)[idx]
    over = over_limits(problem, costs, g.chip[idx], chips)
    sub["over_limits"] = int(over.sum())
    for i in idx[over]:
        removed_by[int(g.chip[i])] = "over_limits"
    idx, bcap, chips = idx[~over], bcap[~over], chips[~over]
    fills = phase == "decode" and problem.sense == "maximize"  # a user also costs prefill
    # screened on users (p · b* under the closed-form limits), the dominance needs no metrics:
    # it goes first, and only the columns it keeps are evaluated at b* and b* + 1
    early = prune and phase != "prefill" and not fills
    early &= problem.objective != "system_tokens_per_s"
    early &= not wc.by_requests  # a column serves by its rate too, known at b*
    if early:
        cut = np.minimum(bcap, blimit[idx]) if limits else bcap
        dom = _dominance(g.chip[idx], chips, (g.p[idx] * cut).astype(float))
        sub["dominated"] = int((~dom).sum())
        idx, bcap, chips = idx[dom], bcap[dom], chips[dom]
    n = len(idx)
    if phase == "prefill":
        tokens = np.zeros(n)
        users = np.zeros(n, dtype=np.int64)
        requests = capacity[idx]
        limited = limited_all[idx]
        value = requests
    else:
        # at b* and b* + 1 at once: what stops the batch (the last requirement in the
        # registry that fails at b* + 1, the first by default), and the tokens/s at b* (b* = 0:
        # a part-loaded candidate that misses at batch 1 only at its full turnover, 1 and 1)
        both = np.concatenate([idx, idx])
        at = np.concatenate([np.maximum(bcap, 1), bcap + 1])
        mb = g.metrics(wc, at, both)
        m2 = phase_metrics(c, at, both, mb)
        each = meets(c, at, both, m2)[2] if n else []
        limited = np.full(n, each[0][0] if each else "", dtype=object)
        for name, met in each[1:]:
            limited = np.where(~met[n:], name, limited).astype(object)
        if "tpot_s" in m2 and n:  # output tokens/s with the prompt chunks, p·b*/TPOT
            tokens = g.p[idx] * bcap / m2["tpot_s"][:n]
        else:
            tokens = mb["system_tokens_per_s"][:n]
        # the rates at b*, which `_serves` reads, unless a limit below cuts it
        at_b = {k: m2[k][:n] for k in ("tpot_s", "tokens_per_s_per_user") if k in m2}
        for f in limits:  # a closed-form limit below b* cuts it and binds
            cap = blimit[idx]
            limited = np.where(bcap > cap, f.NAME, limited).astype(object)
            if (bcap > cap).any():
                at_b = None
            bcap = np.minimum(bcap, cap)
            tokens = g.metrics(wc, bcap, idx)["system_tokens_per_s"] if n else tokens
        users = g.p[idx] * bcap
        requests = np.zeros(n)
    serves = np.zeros(n)
    if phase != "prefill":
        serves, capped = _serves(c, bcap, idx, at_b)
        limited = np.where(capped != "", capped, limited).astype(object)
    if c.part_loaded and n:
        bcap, serves, tokens, limited = _part_loaded(c, idx, bcap, serves, tokens, limited)
        users = g.p[idx] * bcap
        # kept by the screens at the lightest load, yet no load of any batch meets everything
        none = bcap == 0
        sub["too_slow_at_batch_1"] += int(none.sum())
        for i in idx[none]:
            removed_by[int(g.chip[i])] = "too_slow_at_batch_1"
        idx, bcap, chips, tokens, users, limited, requests, serves = (
            a[~none] for a in (idx, bcap, chips, tokens, users, limited, requests, serves)
        )
    if fills and n:
        idx, bcap, chips, tokens, users, limited = _partial_fills(
            wc, g, idx, bcap, chips, tokens, limited
        )
        requests = np.zeros(len(idx))
        serves = users.astype(float)
    if phase != "prefill":
        value = tokens if problem.objective == "system_tokens_per_s" else serves
    if prune and not early:
        if fills:
            dom = _dominance_with_prefill(g.chip[idx], chips, users, value.astype(float), wc)
        else:
            dom = _dominance(g.chip[idx], chips, value.astype(float))
        sub["dominated"] = int((~dom).sum())
        idx, bcap, chips, tokens, users, limited, requests, serves = (
            a[dom] for a in (idx, bcap, chips, tokens, users, limited, requests, serves)
        )
    elif not prune:
        sub["dominated"] = 0
    for k, v in sub.items():
        st[k] = st.get(k, 0) + v
    return {
        "cls": np.full(len(idx), j, dtype=np.int64),
        "chip": g.chip[idx],
        "t": g.t[idx],
        "p": g.p[idx],
        "ep": g.ep[idx],
        "attention": g.attention[idx].astype(object),
        "batch": bcap,
        "users": users,
        "chips": chips,
        "tokens_per_s": tokens,
        "limited_by": limited,
        "phase": np.full(len(idx), phase, dtype=object),
        "requests_capacity": requests.astype(float),
        "serves": serves.astype(float),
        "removed_by": removed_by,
    }


PARTIAL = "prefill-pool"  # what a decode column below its b* is there for (`_partial_fills`)


def _partial_fills(wc: WorkloadClass, g: Grid, idx, bcap, chips, tokens, limited):
    """Decode columns at every batch 1 … b* under `maximize` (disaggregated serving): there the
    prefill pool serves every request of a decode replica's users
    (`features.prefill_pool`), so a fuller replica needs more prefill; with whole replicas a
    partly filled one may serve more in all than leaving it out. Below b* a column is limited
    by the prefill pool, not by a requirement of its own. The b* columns keep their place."""
    below = np.maximum(bcap - 1, 0)
    rep = np.repeat(np.arange(len(idx)), below)
    if not len(rep):
        return idx, bcap, chips, tokens, g.p[idx] * bcap, limited
    start = np.repeat(np.cumsum(below) - below, below)
    b = np.arange(len(rep)) - start + 1  # 1 … b*−1 for each column
    m = g.metrics(wc, b, idx[rep])
    cat = np.concatenate
    idx2, bcap2 = cat([idx, idx[rep]]), cat([bcap, b])
    limited2 = cat([limited, np.full(len(rep), PARTIAL, dtype=object)]).astype(object)
    tokens2 = cat([tokens, m["system_tokens_per_s"]])
    return idx2, bcap2, cat([chips, chips[rep]]), tokens2, g.p[idx2] * bcap2, limited2


def _scatter(n: int, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=values.dtype)
    out[idx] = values
    return out


def _count(st, stage, keep, ok, g: Grid, removed_by) -> None:
    """Count the candidates a stage removes and remember, per chip, the last stage that
    removed any of its candidates: for a chip with no column left, what removed the last."""
    gone = ~keep if ok is None else keep & ~ok
    st[stage] = int(gone.sum())
    for c in np.unique(g.chip[gone]):
        removed_by[int(c)] = stage


def units_to_serve(users, per_unit) -> np.ndarray:
    """⌈users / per_unit⌉: replicas (or batch) that hold `users` at `per_unit` each."""
    return ceil_div(users, np.maximum(np.asarray(per_unit, dtype=np.int64), 1))


def class_needs(problem: Problem) -> np.ndarray:
    """Per class, its demand row's right-hand side (`WorkloadClass.need`: users, or a
    request rate as users at the SLA rate)."""
    return np.array([wc.need for wc in problem.classes], dtype=float)


def _serves(c: Candidates, b, idx, m: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`Columns.serves` of the candidates `idx` at batch `b` in `c`'s phase, and the name of the
    requirement that caps it ("" where none does): their users p·b, or for a class asking for
    a request rate (`features.demand`) those users times the rate they get at b over the SLA
    rate: 1/TPOT with the prompt chunks (aggregated) or the decode step's, at the slow end
    under a confidence (`rate.slow_factor`); ≥ 1 where the rate requirement holds. A decode
    replica's requests/s are capped by each requirement with a `requests` face (the KV it
    takes in, `kv_transfer`), in users at the SLA rate: its requests/s × O / r. `m`: their
    phase metrics at `b`, when known."""
    from designer.optimize.features import rate

    idx = np.asarray(idx, dtype=np.int64)
    users = (c.g.p[idx] * np.asarray(b)).astype(float)
    capped = np.full(len(idx), "", dtype=object)
    if not c.wc.by_requests or not len(idx):
        return users, capped
    m = phase_metrics(c, b, idx) if m is None else m
    each = 1.0 / m["tpot_s"] if "tpot_s" in m else m["tokens_per_s_per_user"]
    serves = users * each / rate.slow_factor(c.g, b, idx) / c.wc.target_utps
    if c.phase == "decode":
        per_request = c.wc.workload.output_tokens / c.wc.target_utps
        for f in requirements(c.wc, c.phase, "requests"):
            cap = np.asarray(f.requests(c, idx), dtype=float) * per_request
            capped = np.where(cap < serves, f.NAME, capped).astype(object)
            serves = np.minimum(serves, cap)
    return serves, capped


PAIRS = 100_000  # `_part_loaded` holds the metrics of at most about this many (column, b)
LOAD_RTOL = 1e-10  # `_part_loaded` bisects the requests/s to this relative bracket width


def _part_loaded(c: Candidates, idx, bcap, serves, tokens, limited):
    """Aggregated columns of a class asking for a request rate, at their best load. At b* + 1
    the users turning over at their own TPOT miss a requirement, but a replica turning over
    fewer requests keeps fewer users in flight than its slots (λ·O·TPOT, a mean), with fewer
    prompt chunks per step, and may meet every requirement at more requests/s than at b*;
    under a confidence, b*'s users were counted turning over at the slow end of the load of
    their nominal TPOT, and a lighter load may serve more at a batch of either side.

    Only a batch b whose slots, turning over at the decode step alone, would serve more than
    the column's best so far (`_Load.bound`) and where that best still meets every
    requirement and fits the slots can serve more (exact: each requirement rises with the
    load). Of those left, each column's middle batch has its most requests/s λ_b found
    (`_Load.most`); the best rises, and the batches are screened again, until none is left.
    Without a confidence only b* + 1 is a candidate for tensor-parallel attention: a fuller
    batch turns over more (b* is full), and above b* + 1 every requirement is met at a given
    load by fewer slots, while the slots hold whatever load b* + 1 serves. Under a confidence
    the slots bind at the slow end, and with data-parallel attention a rank's batch is
    ⌈b/t⌉ (its full turnover is a sawtooth in b) and a chunk's further MoE experts fall as the
    batch grows: there every batch 1 … max_batch is a candidate (tests/test_serving.py checks
    both against scans).

    A candidate the screens kept at no load whose batch 1 misses at its own full turnover
    comes with b* = 0 and serves 0: it is searched the same way (b* + 1 = 1) and keeps b = 0,
    to be removed, if no load serves.

    A column takes the best b, with serves λ_b·O/r and tokens/s λ_b·O; the decode step is that
    of its full slots, as the re-check and `evaluate` count it; what limits it is the
    requirement that a little more load misses there, else the one that one slot more misses
    at that load (`limited_by`). Returns the columns' batch, serves, tokens/s and what limits
    each."""
    top = c.problem.max_batch
    per = max(1, PAIRS // top)  # columns at a time: every batch of each is a (column, b) pair
    if len(idx) > per:
        parts = [
            _part_loaded(c, *(np.asarray(a)[s : s + per] for a in (idx, bcap, serves)),
                         np.asarray(tokens)[s : s + per], np.asarray(limited)[s : s + per])
            for s in range(0, len(idx), per)
        ]  # fmt: skip
        return tuple(np.concatenate([q[i] for q in parts]) for i in range(4))
    wc = c.wc
    out_tokens, target = wc.workload.output_tokens, wc.target_utps
    best = serves * target / out_tokens  # requests/s at b*
    batches = np.arange(1, top + 1)
    col = np.repeat(np.arange(len(idx)), len(batches))
    b = np.tile(batches, len(idx))
    if not c.g.confidence:  # only b* + 1 can serve more (below), but with dp attention
        keep = (b == bcap[col] + 1) | (c.g.attention[idx[col]] == "dp")
        col, b = col[keep], b[keep]
    if not len(b):
        return bcap, serves, tokens, limited
    load = _Load(c, idx[col], b)
    left = np.flatnonzero(load.bound() > best[col] * (1 + 1e-12))
    bcap, serves, tokens = bcap.copy(), serves.copy(), np.array(tokens, dtype=float)
    moved = np.zeros(len(idx), dtype=bool)
    while True:
        # the pairs that may still serve more than their column's best (met there: exact)
        left = left[load.holds(best[col[left]], left)[0]]
        if not len(left):
            break
        # per column, the middle batch of those left (pairs are in batch order per column)
        starts = np.flatnonzero(np.r_[True, col[left][1:] != col[left][:-1]])
        ends = np.r_[starts[1:], len(left)]
        pick = left[(starts + ends) // 2]
        lam = load.most(pick, best[col[pick]])
        gain = lam > best[col[pick]] * (1 + 1e-12)
        at = col[pick[gain]]
        best[at], bcap[at], moved[at] = lam[gain], b[pick[gain]], True
        serves[at] = lam[gain] * out_tokens / target
        tokens[at] = lam[gain] * out_tokens
        left = left[~np.isin(left, pick)]
    limited = np.array(limited, dtype=object)
    at = np.flatnonzero(moved)
    if len(at):
        limited[at] = _what_limits(c, idx[at], bcap[at], best[at], limited[at])
    return bcap, serves, tokens, limited


def _what_limits(c: Candidates, index, batch, lam, before) -> np.ndarray:
    """What limits aggregated candidates `index` at `batch` slots serving `lam` requests/s:
    the requirement a little more load misses there, else the one that one slot more misses
    at that load (`max-batch` at the space's largest batch), else `before` (later entries of
    the registry first, as `limited_by`)."""
    from designer.optimize.features import max_batch

    n = len(index)
    top = c.problem.max_batch
    index2, batch2 = np.tile(index, 2), np.r_[batch, np.minimum(batch + 1, top)]
    m = phase_metrics(c, batch2, index2, None, np.r_[lam * (1 + 1e-6), lam])
    load = np.full(n, "", dtype=object)
    slot = np.where(batch >= top, max_batch.NAME, "").astype(object)
    for name, met in meets(c, batch2, index2, m)[2]:
        load = np.where(~met[:n], name, load).astype(object)
        slot = np.where(~met[n:] & (batch < top), name, slot).astype(object)
    out = np.where(load != "", load, slot)
    return np.where(out != "", out, before).astype(object)


class _Load:
    """Aggregated candidates `index` at `batch` slots per micro-batch (one entry per pair), and
    the requests/s per replica they serve: `holds` (every requirement met at that load: each
    `check`, and each `load`, the users in flight within the slots, `features.slots`) and
    `most`."""

    def __init__(self, c: Candidates, index, batch):
        from designer.optimize.features import rate

        self.c, self.index, self.batch = c, index, batch
        self.base = c.g.metrics(c.wc, batch, index)
        self.slots = (c.g.p[index] * batch).astype(float)
        self.slow = rate.slow_factor(c.g, batch, index)

    def _at(self, sel) -> tuple:
        return self.batch[sel], self.index[sel], {k: v[sel] for k, v in self.base.items()}

    def bound(self) -> np.ndarray:
        """Per pair, more requests/s than it can serve: the users its slots hold turning over
        at the decode step alone (prompt chunks only lengthen it), at the slow end; 0 where
        that step alone misses the user rate."""
        wc = self.c.wc
        tpot = self.base["step_time_s"] / wc.workload.accepted_tokens_per_step * self.slow
        most = self.slots / (wc.workload.output_tokens * tpot)
        return np.where(tpot * wc.target_utps * (1 - REL) <= 1.0, most, 0.0)

    def holds(self, lam, sel) -> tuple[np.ndarray, np.ndarray]:
        """(met, excess) at `lam` requests/s per replica of the pairs `sel`."""
        if not len(sel):
            return np.zeros(0, dtype=bool), np.zeros(0)
        b, i, base = self._at(sel)
        m = phase_metrics(self.c, b, i, base, lam)
        ok, excess = meets(self.c, b, i, m)[:2]
        for f in requirements(self.c.wc, self.c.phase, "load"):  # the slots hold the users
            met, e = f.load(self.c, b, i, m, lam, self.slow[sel])
            ok &= met
            excess = np.fmax(excess, e)
        queue = m["prefill_utilization"] - 1.0  # < 0: a steady state
        ok &= queue < 0
        excess = np.fmax(excess, np.where(queue < 0, queue, np.inf))
        return ok, np.nan_to_num(excess, nan=np.inf)

    def most(self, sel, lo) -> np.ndarray:
        """The most requests/s of the pairs `sel`, where `lo` (≥ 0) is met: their full
        turnover where that holds (the slots' bound), else by `_bracket` below it; a load
        within the bracket's tolerance of none (`LOAD_RTOL` of the full turnover) is none: a
        requirement met only at no load (a rate at the decode step's own) serves no one."""
        if not len(sel):
            return np.zeros(0)
        b, i, base = self._at(sel)
        full = np.asarray(phase_metrics(self.c, b, i, base)["requests_per_s"], dtype=float)
        full = np.maximum(full, lo)
        out = np.array(lo, dtype=float)
        at_full, f_hi = self.holds(full, sel)
        out[at_full] = full[at_full]
        rest = np.flatnonzero(~at_full)
        if len(rest):
            lo, hi, f_hi = out[rest], full[rest], f_hi[rest]
            _bracket(self.holds, sel[rest], lo, hi, self.holds(lo, sel[rest])[1], f_hi)
            out[rest] = np.where(lo > LOAD_RTOL * full[rest], lo, 0.0)
        return out


def _bracket(holds, sel, lo, hi, f_lo, f_hi) -> None:
    """Narrow [lo, hi] (met at lo, in place) to `LOAD_RTOL` around where `holds` stops being
    met, for the candidates `sel`. Each round probes the point x interpolated from the
    excesses at both ends (regula falsi; the excess rises with the load; a bisection every
    third round and where the excess is not finite) and x + LOAD_RTOL/2 of the bracket's top,
    which closes the bracket once x is just below the edge."""
    rounds = 0
    while True:
        wide = np.flatnonzero(hi - lo > LOAD_RTOL * hi)
        if not len(wide):
            return
        rounds += 1
        a, z, fa, fz = lo[wide], hi[wide], f_lo[wide], f_hi[wide]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = (a * fz - z * fa) / (fz - fa)
        mid = 0.5 * (a + z)
        inside = np.isfinite(x) & (x > a) & (x < z)
        x = mid if rounds % 3 == 0 else np.where(inside, x, mid)
        x2 = np.minimum(x + 0.5 * LOAD_RTOL * z, 0.5 * (x + z))
        ok, f = holds(np.concatenate([x, x2]), np.tile(sel[wide], 2))
        n = len(wide)
        for probe, met, fx in ((x, ok[:n], f[:n]), (x2, ok[n:], f[n:])):
            up = met & (probe > lo[wide])
            lo[wide[up]], f_lo[wide[up]] = probe[up], fx[up]
            down = ~met & (probe < hi[wide])
            hi[wide[down]], f_hi[wide[down]] = probe[down], fx[down]


def replicas_to_serve(need, serves) -> np.ndarray:
    """⌈need / serves⌉: replicas of columns serving `serves` each (`Columns.serves`) that meet
    a demand row's `need` (0 where nothing is asked, or where a column serves none: a prefill
    column), to the row's relative tolerance."""
    serves = np.asarray(serves, dtype=float)
    need = np.broadcast_to(np.asarray(need, dtype=float), serves.shape)
    out = np.zeros(serves.shape, dtype=np.int64)
    on = serves > 0
    out[on] = np.ceil(need[on] / serves[on] * (1 - 1e-12)).clip(min=0)
    return out


def single_configuration_fleets(problem: Problem, c: Columns) -> dict[str, np.ndarray]:
    """Per column, the fleet that serves its class with that column alone (the fewest
    replicas, whole servers), for a one-class problem: replicas, chips, servers and the
    objective `value` (inf where a limit breaks)."""
    reps = replicas_to_serve(class_needs(problem)[c.cls], c.serves)
    chips = reps * c.chips
    sc = np.array([t.server_chips for t in c.chip_types])[c.chip]
    servers = servers_for(chips, sc)
    value = _fleet_value(problem, c, servers, chips)
    over = over_limits(problem, c.chip_types, c.chip, chips, servers)
    over |= c.phase != "aggregated"  # a prefill or a decode pool alone serves no request
    return {
        "replicas": reps,
        "chips": chips,
        "servers": servers,
        "value": np.where(over, np.inf, value),
    }


def single_configuration_values(problem: Problem, c: Columns) -> np.ndarray:
    """Per column, the objective of its single-configuration fleet (see
    `single_configuration_fleets`); inf where a limit breaks."""
    return single_configuration_fleets(problem, c)["value"]


def _fleet_value(problem: Problem, c: Columns, servers, chips) -> np.ndarray:
    f = problem.chip_type_fixed_cost_usd
    if problem.objective == "chips":
        return chips.astype(float)
    what = cost_coefficient(problem)
    per_server = c.per_server(what)
    fixed = {"capex": f, "power": 0.0, "tco": f / problem.catalog.costs.amortization_years}[what]
    value = per_server * servers + fixed
    if problem.objective == "cost_per_mtoken":
        value = value / demanded_mtokens_per_year(problem)
    return value


def demanded_tokens_per_s(problem: Problem) -> float:
    """Tokens/s the asked-for users receive at their SLA rates (0 when none are asked for); for
    a request rate λ, λ·O: the tokens asked for, also below one user at the SLA rate (where
    `WorkloadClass.need` keeps one, and a $/Mtoken counted that user's r tokens/s)."""
    return float(
        sum(
            wc.serving.requests_per_s * wc.workload.output_tokens
            if wc.by_requests
            else wc.need * wc.target_utps
            for wc in problem.classes
        )
    )


def demanded_mtokens_per_year(problem: Problem) -> float:
    """Million tokens a year the asked-for users receive at their SLA rates, at utilization."""
    return float(mtokens_per_year(problem.catalog, demanded_tokens_per_s(problem)))


def objective_share(problem: Problem, c: Columns) -> np.ndarray:
    """What one replica of each column adds to the objective: its share of whole servers' cost
    (chips for `chips`), per demanded Mtoken for `cost_per_mtoken`."""
    what = cost_coefficient(problem)
    share = c.chips.astype(float) if what is None else c.share(what)
    if problem.objective == "cost_per_mtoken":
        share = share / demanded_mtokens_per_year(problem)
    return share


def _bound_prune(problem: Problem, c: Columns) -> Columns:
    """Drop columns whose cheapest use costs more than a feasible incumbent.

    A fleet that runs one replica of column k (class j) costs at least k's share of whole
    servers plus the cheapest cost per user of class j times the users left, plus the cheapest
    cost of every other class (whole servers only round up; fixed costs are ≥ 0). The incumbent
    is the best single-configuration fleet, for one class and no cap on chip types that could
    make it infeasible."""
    if len(problem.classes) != 1:
        return c
    value = single_configuration_values(problem, c)
    incumbent = float(np.min(value)) if len(value) else np.inf
    if not np.isfinite(incumbent):
        return _replace(c, incumbent=None)
    share = objective_share(problem, c)
    rho = np.min(np.where(c.serves > 0, share / np.where(c.serves > 0, c.serves, 1), np.inf))
    need = class_needs(problem)[0]
    bound = share + rho * np.maximum(need - c.serves, 0)
    keep = bound <= incumbent * (1 + 1e-9) + 1e-12
    stats = tuple({**s, "bound_pruned": int((~keep).sum())} for s in c.stats)
    return _replace(c, mask=keep, stats=stats, incumbent=incumbent)


def _replace(c: Columns, mask=None, **changes) -> Columns:
    """A copy of `c` with the columns of `mask` (all by default) and other fields changed."""
    arrays = {k: np.array(getattr(c, k) if mask is None else getattr(c, k)[mask]) for k in ARRAYS}
    base = {
        "chip_types": c.chip_types,
        "stats": c.stats,
        "excluded": c.excluded,
        "incumbent": c.incumbent,
    }
    return Columns(**arrays, **{**base, **changes})

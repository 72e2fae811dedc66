"""An independent brute force, written from the equations with scalar Python: it shares no code
with `perf`, `workload`, `partition` or `designer.optimize`. It reads only the catalog's parsed
values, the architecture's parameter counts and the cost model's per-server numbers.

Per (chip, t, p) of the space it finds the largest feasible batch by a linear scan; fleets are
then searched exactly: the fewest chips of a chip type that serve at least u users (an unbounded
covering knapsack over that type's partitions) for every u, and every split of each class's
users over the chip types. Every objective and limit grows with the chips of each type (whole
servers round up), so the fewest chips per type are optimal for a split.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from designer.model.cost import chip_cost
from designer.model.dtypes import dtype_bytes


def step_and_memory(problem, wc, chip_id: str, t: int, p: int, b: int) -> tuple[float, float]:
    """(step time in s, memory per chip in B) of the decode model, written out by hand."""
    cat = problem.catalog
    chip = cat.chip(chip_id)
    ic = cat.interconnect(chip.interconnect)
    wl = wc.workload
    a = wl.model
    eff = wl.efficiency
    wb = dtype_bytes(wl.weight_dtype)
    W = a.total_params() * wb
    if a.is_moe:
        E, k = a.num_experts, a.num_experts_per_tok
        touched = E * (1.0 - (1.0 - k / E) ** b)
        read = W - a.routed_params() * wb + a.moe_layers * touched * a.expert_params() * wb
    else:
        read = W
    kv_user = a.kv_elements_per_user(wl.context_tokens) * dtype_bytes(wl.kv_dtype)
    t_mem = (read + b * kv_user) / (t * chip.memory_bandwidth * eff.bandwidth)
    flops_tok = 2.0 * a.active_params() + a.attention_flops_per_token(wl.context_tokens)
    t_cmp = b * flops_tok / (t * chip.flops(wl.compute_dtype) * eff.compute)
    L = a.num_hidden_layers
    sync = 0.0
    if t > 1:
        tau = ic.intra_domain_latency if t <= ic.domain_size else ic.inter_domain_latency
        sync += L * wl.collectives_per_layer * tau
    if p > 1:
        sync += p * ic.pipeline_latency
    step = max(t_mem, t_cmp) + sync + L * eff.overhead_per_layer
    memory = (W + p * b * kv_user) * (math.ceil(L / p) / L) / t
    return step, memory


@dataclass(frozen=True)
class Partition:
    chip: str
    t: int
    p: int
    users: int  # p · largest feasible batch
    chips: int


def partitions(problem, wc) -> list[Partition]:
    """Every possible (chip, t, p) with its largest feasible batch, by a linear scan."""
    out = []
    a = wc.workload.model
    for chip_id in problem.chips:
        chip = problem.catalog.chip(chip_id)
        usable = chip.memory_capacity * chip.usable_memory_fraction
        for t in problem.tp:
            if a.num_attention_heads % t:
                continue
            for p in problem.pp:
                if p > a.num_hidden_layers:
                    continue
                best = 0
                for b in range(1, problem.max_batch + 1):
                    step, mem = step_and_memory(problem, wc, chip_id, t, p, b)
                    if step <= (1 / wc.target_utps) * (1 + 1e-12) and mem <= usable * (1 + 1e-12):
                        best = b
                    else:
                        break
                if best:
                    out.append(Partition(chip_id, t, p, p * best, t * p))
    return out


def fewest_chips(parts: list[Partition], most_users: int, single: bool) -> list[float]:
    """fewest[u]: the fewest chips of these partitions serving at least u users (inf if none);
    `single`: one partition, replicated."""
    fewest = [0.0] + [math.inf] * most_users
    for u in range(1, most_users + 1):
        for q in parts:
            if single:
                fewest[u] = min(fewest[u], math.ceil(u / q.users) * q.chips)
            else:
                fewest[u] = min(fewest[u], q.chips + fewest[max(u - q.users, 0)])
    return fewest


def best_fleet(problem, *, single: bool = False) -> float:
    """The optimum of a minimize problem by exhaustive search (inf when infeasible).
    `single`: each class served by one partition (max_configurations = 1)."""
    costs = {c: chip_cost(problem.catalog, c, problem.cost_basis) for c in problem.chips}
    return min(
        (_evaluate(problem, costs, used) for used in _fleets(problem, single)), default=math.inf
    )


def lexicographic_best(problem, *, rel: float = 1e-9) -> tuple[float, float, float, float]:
    """(objective, capex, power, chips) of the best fleet of a minimize problem with ties
    broken as `designer.optimize.solve` breaks them: lower capex, then lower power, then fewer
    chips,
    each compared within `rel` (sums in another order differ in the last bits). Every
    criterion grows with the chips of each type, so the fewest chips per type of some split
    of the users holds the lexicographic optimum too. (inf, …) when infeasible."""
    costs = {c: chip_cost(problem.catalog, c, problem.cost_basis) for c in problem.chips}
    rows = []
    for used in _fleets(problem, False):
        value = _evaluate(problem, costs, used)
        if math.isfinite(value):
            tot = _totals(problem, costs, used)
            rows.append((value, tot["capex"], tot["power"], tot["chips"]))
    for i in range(4):
        if not rows:
            return (math.inf,) * 4
        low = min(r[i] for r in rows)
        rows = [r for r in rows if r[i] <= low + rel * max(abs(low), 1.0)]
    return min(rows)


def _fleets(problem, single: bool):
    """Every fleet that can be optimal, as chips per chip type: for every split of each
    class's users over the chip types, the fewest chips of each type that serve its share.
    `single`: each class served by one partition (max_configurations = 1)."""
    chips = list(problem.chips)
    classes = problem.classes
    tables = []  # per class: {chip: fewest[u]}
    for wc in classes:
        parts = partitions(problem, wc)
        tables.append(
            {c: fewest_chips([q for q in parts if q.chip == c], wc.users, single) for c in chips}
        )
    per_class_splits = []
    for j, wc in enumerate(classes):
        if single:  # the whole class on one chip type
            splits = [
                tuple(wc.users if i == n else 0 for i in range(len(chips)))
                for n in range(len(chips))
            ]
        else:
            splits = [s for s in _splits(wc.users, len(chips))]
        per_class_splits.append(
            [
                s
                for s in splits
                if all(tables[j][c][u] < math.inf for c, u in zip(chips, s, strict=True))
            ]
        )
    for combo in itertools.product(*per_class_splits):
        used = {c: 0 for c in chips}
        for j, split in enumerate(combo):
            for c, u in zip(chips, split, strict=True):
                used[c] += tables[j][c][u]
        yield used


def _splits(total: int, n: int):
    if n == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _splits(total - first, n - 1):
            yield (first, *rest)


def _totals(problem, costs, used: dict[str, float]) -> dict[str, float]:
    servers = {c: math.ceil(n / costs[c].server_chips) for c, n in used.items() if n > 0}
    fixed = problem.chip_type_fixed_cost_usd * len(servers)
    tco = sum(costs[c].server_tco_usd_per_year * s for c, s in servers.items())
    return {
        "servers": servers,
        "capex": sum(costs[c].server_capex_usd * s for c, s in servers.items()) + fixed,
        "power": sum(costs[c].server_power_w * s for c, s in servers.items()),
        # power limits hold the servers' power on the limit basis (maximum by default)
        "power_limit": sum(costs[c].server_power_limit_w * s for c, s in servers.items()),
        "tco": tco + fixed / problem.catalog.costs.amortization_years,
        "chips": float(sum(used.values())),
    }


def _within_limits(problem, costs, tot: dict) -> bool:
    tol = 1 + 1e-9
    servers = tot["servers"]
    checks = [
        not problem.max_chips or tot["chips"] <= problem.max_chips,
        problem.max_power is None or tot["power_limit"] <= problem.max_power * tol,
        problem.max_facility_power is None
        or tot["power_limit"] * problem.catalog.costs.pue <= problem.max_facility_power * tol,
        problem.max_capex_usd is None or tot["capex"] <= problem.max_capex_usd * tol,
        problem.max_chip_types is None or len(servers) <= problem.max_chip_types,
    ]
    checks += [servers.get(c, 0) * costs[c].server_chips <= n for c, n in problem.supply]
    return all(checks)


def _evaluate(problem, costs, used: dict[str, float]) -> float:
    """The objective of a fleet using `used[c]` chips of each type, inf if a limit breaks."""
    tot = _totals(problem, costs, used)
    if not _within_limits(problem, costs, tot):
        return math.inf
    if problem.objective != "chips" and not all(math.isfinite(tot[k]) for k in ("capex", "power")):
        return math.inf
    demanded = sum(wc.users * wc.target_utps for wc in problem.classes)
    mtok = demanded * problem.catalog.costs.utilization * 8766.0 * 3600.0 / 1e6
    value = {**tot, "cost_per_mtoken": tot["tco"] / mtok}
    return value[problem.objective]


def most_users(problem) -> int:
    """maximize users (one class) by exhaustive search over servers per chip type."""
    wc = problem.classes[0]
    parts = partitions(problem, wc)
    chips = list(problem.chips)
    costs = {c: chip_cost(problem.catalog, c, problem.cost_basis) for c in chips}
    # the most servers of a type any limit allows
    bound = {}
    for c in chips:
        s = 0
        while _evaluate_max(problem, costs, {c: s + 1}) and s < 64:
            s += 1
        bound[c] = s
    cap = max((bound[c] * costs[c].server_chips for c in chips), default=0)
    # most users with at most n chips of a type (unbounded knapsack)
    most = {}
    for c in chips:
        qs = [q for q in parts if q.chip == c]
        m = [0] * (cap + 1)
        for n in range(1, cap + 1):
            m[n] = max([m[n - 1]] + [q.users + m[n - q.chips] for q in qs if q.chips <= n])
        most[c] = m
    best = 0
    for combo in itertools.product(*[range(bound[c] + 1) for c in chips]):
        servers = dict(zip(chips, combo, strict=True))
        if not _evaluate_max(problem, costs, servers):
            continue
        users = sum(most[c][s * costs[c].server_chips] for c, s in servers.items())
        best = max(best, users)
    return best


def _evaluate_max(problem, costs, servers: dict[str, int]) -> bool:
    """Whether whole servers stay within the limits (tests use no chip limit with maximize)."""
    used = {c: s * costs[c].server_chips for c, s in servers.items() if s}
    return _within_limits(problem, costs, _totals(problem, costs, used))

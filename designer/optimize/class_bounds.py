"""Per-class knapsack bounds, and the replica caps they prove against a fleet's value.

Every minimized criterion of the fleet — capex, power, TCO (and $/Mtoken), chips — is a sum
over chip types of a non-negative number per whole server (plus non-negative fixed costs per
chip type adopted), or the chips themselves. Whole servers hold at least the chips in use, so
any fleet's criterion is at least Σ_k w_k · R_k, with w_k = chips_k × the criterion per chip
of column k's type. That sum splits by class: class j's replicas must cover its U_j users,
Σ_{k of j} serves_k · R_k ≥ U_j (`features.demand`; where a request rate makes them
fractional, in whole units ⌈serves_k⌉ against ⌈U_j⌉, a relaxation), so it is at least K_j,
the least cost of whole replicas that cover them — an integer knapsack-cover, solved exactly by
dynamic programming (`_cover`). The fleet's criterion is then at least B = Σ_j K_j: a bound
that knows replicas are whole, which the LP relaxation does not (with few users per class it
is most of the distance to the optimum).

Forcing r replicas of column k of class j costs class j at least
Δ_k(r) = r · w_k + K_j(U_j − r · users_k) − K_j(U_j) more (K_j of what the r replicas leave,
non-decreasing in r). A fleet whose criterion is at most V therefore runs R_k ≤ r − 1 for the
first r with B + Δ_k(r) > V (`ClassBounds.caps`). `solve` applies the caps against the first
fleet's value, the proven optimum, and each tie-break criterion's incumbent: every fleet the
objective or a tie-break stage can still choose meets them, so they change no answer, only how
much HiGHS searches.

Classes with a prefill pool (disaggregated serving) have two rows per class: their columns
keep their bounds and they add 0 to B (still a bound). Demands are counted in units of
g = ⌈U_j / MAX_UNITS⌉ users, columns as ⌈users_k / g⌉ units against ⌈U_j / g⌉ (a relaxation:
any whole replicas that cover U_j users cover that many units), which keeps the tables small
at planet scale; g = 1 (exact) below MAX_UNITS users.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.optimize import features
from designer.optimize.data import FleetData
from designer.optimize.solver import tie_limit

MAX_UNITS = 4096  # the largest table per class (demand units)
# Δ(r) is compared with the budget plus this share of K(need): the table's float sums may put
# an exactly-on-budget Δ a few ulps above it, which would cap below a fleet that meets it
# (found by hypothesis: one item of cost 6.11, need 5, budget 0 capped 5 replicas at 1)
SLACK = 1e-12
CRITERIA = ("capex", "power", "tco", "cost_per_mtoken", "chips")


def applies(data: FleetData) -> bool:
    """Minimize problems of several classes (one class is solved in milliseconds)."""
    return data.problem.sense == "minimize" and len(data.problem.classes) > 1


def weights(data: FleetData, criterion: str) -> np.ndarray:
    """w_k: what one replica of each column adds to `criterion` at least (model units: k$,
    kW, k$/year, chips) — its chips' share of whole servers."""
    c = data.columns
    per_server = data.per_server(criterion)
    per_chip = np.zeros(int(c.chip.max()) + 1 if len(c) else 0)
    for ty in data.types:
        per_chip[ty] = per_server[ty] / data.server_chips[ty]
    return per_chip[c.chip] * c.chips


@dataclass(frozen=True)
class ClassBounds:
    """B and, per column, what forcing its replicas costs (module doc), for one criterion."""

    bound: float  # B = Σ_j K_j (model units)
    weight: np.ndarray  # w_k
    units: np.ndarray  # per column, the demand units one replica covers (0: no table)
    tables: tuple[np.ndarray | None, ...]  # per class, K_j(x) for x = 0 … its demand units
    cls: np.ndarray

    def caps(self, value: float, upper: np.ndarray) -> np.ndarray:
        """Per column, the most replicas (≤ `upper`) any fleet whose criterion is at most
        `value` runs (`upper` where the column has no table)."""
        upper = np.asarray(upper, dtype=np.int64)
        out = upper.copy()
        budget = value - self.bound
        for j, table in enumerate(self.tables):
            if table is None:
                continue
            idx = np.flatnonzero((self.cls == j) & (upper > 0))
            if not len(idx):
                continue
            out[idx] = _most(table, self.units[idx], self.weight[idx], upper[idx], budget)
        return np.minimum(out, upper)


def class_bounds(data: FleetData, criterion: str, upper: np.ndarray) -> ClassBounds:
    """The bounds of `criterion` over the columns that may run (`upper` > 0)."""
    c = data.columns
    w = weights(data, criterion)
    units = np.zeros(len(c), dtype=np.int64)
    tables: list[np.ndarray | None] = []
    two_rows = set(features.prefill_pool.classes(data))
    bound = 0.0
    for j, demand in enumerate(data.demand):
        idx = np.flatnonzero((c.cls == j) & (np.asarray(upper) > 0))
        if demand <= 0 or j in two_rows or not len(idx):
            tables.append(None)
            continue
        # whole units: a demand in users at the SLA rate that a request rate makes fractional
        # is rounded up and so is what a column serves, a relaxation (the bound stays below)
        demand = int(np.ceil(demand - 1e-9))
        served = np.ceil(c.serves[idx] - 1e-9).astype(np.int64)
        g = -(-demand // MAX_UNITS)
        need = -(-demand // g)
        units[idx] = np.minimum(-(-served // g), need)
        table = _cover(units[idx], w[idx], need)
        tables.append(table)
        bound += float(table[need])
    return ClassBounds(bound, w, units, tuple(tables), np.asarray(c.cls))


def _cover(units: np.ndarray, cost: np.ndarray, need: int) -> np.ndarray:
    """K(x) for x = 0 … need: the least cost of whole items (any number of each; item i
    covers units[i] ≥ 1 for cost[i]) covering at least x units. Exact, by columns of
    residues: reaching exactly y with m more copies of an item of u units is
    min_{p ≤ q} (reach[p·u + r] − p·c) + q·c at y = q·u + r, a running minimum."""
    best_of: dict[int, float] = {}
    for u, w in zip(units.tolist(), cost.tolist(), strict=True):
        if u > 0 and w < best_of.get(u, np.inf):
            best_of[u] = w
    items, cheapest = [], np.inf  # drop an item a larger one covers for no more
    for u in sorted(best_of, reverse=True):
        if best_of[u] < cheapest:
            items.append((u, best_of[u]))
            cheapest = best_of[u]
    size = 2 * need + 1  # covering x never overshoots by more than an item (≤ need units)
    reach = np.full(size, np.inf)
    reach[0] = 0.0
    for u, w in items:
        rows = -(-size // u)
        a = np.full(rows * u, np.inf)
        a[:size] = reach
        a = a.reshape(rows, u)
        steps = (np.arange(rows) * w)[:, None]
        reach = (np.minimum.accumulate(a - steps, axis=0) + steps).ravel()[:size]
    return np.minimum.accumulate(reach[::-1])[::-1][: need + 1]


def _most(
    table: np.ndarray, units: np.ndarray, w: np.ndarray, upper: np.ndarray, budget: float
) -> np.ndarray:
    """Per column, the largest r ≤ upper with Δ(r) = r·w + K(need − r·units) − K(need) ≤
    budget (to `SLACK`; Δ is non-decreasing in r and Δ(0) = 0): a bisection, all columns at
    once."""
    need = len(table) - 1
    full = table[need]
    budget = budget + SLACK * max(1.0, abs(float(full)))

    def delta(r: np.ndarray) -> np.ndarray:
        return r * w + table[np.maximum(need - r * units, 0)] - full

    lo = np.zeros(len(w), dtype=np.int64)  # Δ(lo) ≤ budget
    hi = upper.astype(np.int64)  # the answer is in [lo, hi]
    ok = delta(hi) <= budget
    lo[ok] = hi[ok]
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = (lo + hi + 1) // 2
        fits = delta(mid) <= budget
        lo = np.where(open_ & fits, mid, lo)
        hi = np.where(open_ & ~fits, mid - 1, hi)


class Caps:
    """The replica bounds the MILP holds, lowered by each criterion's class bounds as values
    become known (`lowered`); each criterion's tables are built once, on first use."""

    def __init__(self, data: FleetData, upper: np.ndarray):
        self.data = data
        self.upper = np.array(upper, dtype=np.int64)
        self._bounds: dict[str, ClassBounds] = {}

    def lowered(self, criterion: str, value: float) -> list[tuple[int, int]]:
        """(column, new bound) for every column whose bound falls once every fleet left to
        choose from has `criterion` at most `value` (to `solver.tie_limit`)."""
        if criterion not in CRITERIA:
            return []
        b = self._bounds.get(criterion)
        if b is None:
            b = self._bounds[criterion] = class_bounds(self.data, criterion, self.upper)
        new = b.caps(tie_limit(value), self.upper)
        idx = np.flatnonzero(new < self.upper)
        self.upper = new
        return [(int(k), int(new[k])) for k in idx]

"""A first fleet for HiGHS to start from, for many classes.

HiGHS proves a many-class fleet optimal quickly once it holds a fleet close to the optimum;
without one its root spends most of the time (its cut rounds cannot fix columns by reduced
cost). The start, all of it side solves of the compiled model (`Solver.trial`):

1. the continuous relaxation within the replica caps; under `[fleet] max_chip_types = N`, the
   N chip types the relaxation spends most on are kept and it is solved again on them alone;
2. a rounding: a class with aggregated columns only keeps the whole replicas of the
   relaxation and covers the users left with the cheapest number of replicas of one of its
   columns; other classes (prefill pools count both phases) round every column up; whole
   servers hold the chips, the types with servers are adopted, the configurations with
   replicas switched on;
3. the MIP on the kept types and the columns the relaxation prices close to their cost
   (reduced cost within 1% of the rounding's distance to the relaxation, or used by it), to a
   relative gap of `GAP` (1e-5: at 1e-4 the planet's start stopped 2.3e-5 above the optimum and
   HiGHS took 7 s to close it; benchmarks/README.md), from the rounding — only when the
   rounding is within `SIDE_MIP_REACH` of the relaxation's bound. From farther off the side
   MIP never brought the start within `WARM_GAP` on the cases measured, so HiGHS started cold
   anyway and the side MIP's time was lost (benchmarks/README.md, "Fixing the servers").

The better of 2 and 3 is the start. A start that breaks a limit is not feasible and HiGHS
ignores it. The start changes where HiGHS begins, never what it proves.

HiGHS (1.16) is given the start, and the tie-break's re-solves their warm starts, only when the
start is within `WARM_GAP` of the relaxation's bound (`warm`). A start farther off — few users
per class, where whole replicas and servers are most of the distance — slowed every solve we
measured: HiGHS' own root heuristics found the optimum sooner than it did from the start
(benchmarks/README.md, "Warm or cold"). Its objective still fixes columns by reduced cost and
lowers the class bounds' caps. (A side MIP to 2% that improved such a start before the exact
solve was dropped once the tie-break fixed the servers: it cost more than it saved.)
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from designer.optimize.columns import replicas_to_serve
from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo
from designer.optimize.solver import Solver, tie_limit

# the side MIP's relative gap, the share of the rounding's distance to the relaxation within
# which a column's reduced cost keeps it, and the share of the time limit the start may use
GAP, NEAR, TIME_SHARE = 1e-5, 0.01, 0.25
# the start's relative distance to the relaxation's bound above which HiGHS starts cold, and
# the rounding's above which no side MIP is run (step 3)
WARM_GAP, SIDE_MIP_REACH = 0.05, 0.15


def applies(data: FleetData) -> bool:
    """Many classes under minimize: one class is solved faster than the relaxation takes."""
    return data.problem.sense == "minimize" and len(data.problem.classes) > 1


@dataclass(frozen=True)
class Relaxation:
    """The first relaxation's bound and, per column, its reduced cost and whether it is at
    zero there: enough for reduced-cost fixing against any fleet's objective (`unused`)."""

    bound: float
    reduced: np.ndarray
    at_zero: np.ndarray

    def unused(self, incumbent: float) -> np.ndarray:
        """The columns (at zero in the relaxation) one replica of which lifts its bound above
        `incumbent` with room to spare (`solver.tie_limit`, whose room also absorbs the
        relaxation's dual tolerances): neither the optimum nor any fleet the tie-break weighs
        uses it."""
        return np.flatnonzero(self.at_zero & (self.reduced > tie_limit(incumbent) - self.bound))


def warm(solver: Solver, x0: np.ndarray, relaxation: Relaxation) -> bool:
    """Whether HiGHS should start from `x0` and warm-start the tie-break (module doc)."""
    return _within(solver.value_of(x0), relaxation.bound, WARM_GAP)


def _within(value: float, bound: float, share: float) -> bool:
    """Whether `value` is no more than `share` of itself above the bound `bound`."""
    return value - bound <= share * max(abs(value), 1e-12)


def first_fleet(
    solver: Solver, m: pyo.ConcreteModel, data: FleetData, caps
) -> tuple[np.ndarray | None, Relaxation | None]:
    """A point for `solver.start` (see the module doc) and the first relaxation (None for
    both when it has no point)."""
    with _share(solver):
        return _first_fleet(solver, m, data, np.asarray(caps))


@contextmanager
def _share(solver: Solver):
    """The solver's time limit cut to its `TIME_SHARE` for the start's side solves, then back."""
    limit = solver.time_limit
    solver.time_limit = limit * TIME_SHARE
    try:
        yield
    finally:
        solver.time_limit = limit


def _first_fleet(solver: Solver, m, data: FleetData, caps: np.ndarray):
    upper = [(m.replicas[k], int(caps[k])) for k in m.K]
    lp = solver.trial(upper)
    if lp is None:
        return None, None
    col = {id(v): solver.column(v) for v in m.component_data_objects(pyo.Var)}
    kk = np.array([col[id(m.replicas[k])] for k in m.K])
    relaxation = Relaxation(solver.value_of(lp[0]), lp[1][kk], lp[0][kk] <= 1e-9)
    servers = {ty: lp[0][col[id(m.servers[ty])]] for ty in m.C}
    n_types = data.problem.max_chip_types
    dropped: set[int] = set()
    if n_types is not None and sum(v > 1e-9 for v in servers.values()) > n_types:
        per_server = data.per_server(data.problem.objective)
        spend = sorted(m.C, key=lambda ty: -servers[ty] * per_server[ty])
        dropped = set(spend[n_types:])
        upper += [(m.servers[ty], 0) for ty in dropped]
        lp = solver.trial(upper)
        if lp is None:
            return None, relaxation
    x, reduced = lp
    kept = {int(ty) for ty in m.C} - dropped
    start = _point(m, data, col, kk, _covered(data, x[kk], caps, kept), len(x))
    value, bound = solver.value_of(start), solver.value_of(x)
    if not _within(value, bound, SIDE_MIP_REACH):
        return start, relaxation
    gap = value - bound
    far = (reduced[kk] > NEAR * max(gap, 0.0)) & (x[kk] <= 1e-9)
    near = solver.trial(
        upper + [(m.replicas[k], 0) for k in np.flatnonzero(far)],
        relax=False,
        gap=GAP,
        start=start,
    )
    if near is not None and solver.value_of(near[0]) < solver.value_of(start):
        start = near[0]
    return start, relaxation


def _point(m, data: FleetData, col: dict, kk: np.ndarray, reps: np.ndarray, n: int) -> np.ndarray:
    """The model's point of whole replicas `reps`: the servers that hold them, the types
    adopted and the configurations switched on."""
    c = data.columns
    out = np.zeros(n)
    out[kk] = reps
    if hasattr(m, "use"):
        out[[col[id(m.use[k])] for k in m.K]] = reps > 0
    chips = np.bincount(c.chip, weights=c.chips * reps, minlength=max(m.C) + 1)
    for ty in m.C:
        s = float(-(-round(chips[ty]) // data.server_chips[ty]))
        out[col[id(m.servers[ty])]] = s
        if hasattr(m, "adopt"):
            out[col[id(m.adopt[ty])]] = float(s > 0)
    return out


def _covered(data: FleetData, x: np.ndarray, caps: np.ndarray, kept: set[int]) -> np.ndarray:
    """Whole replicas from the relaxation's `x` (step 2 of the module doc)."""
    c, p = data.columns, data.problem
    reps = np.ceil(x - 1e-6)
    per_server = data.per_server(data.problem.objective)
    per_chip = np.full(int(c.chip.max()) + 1, np.inf)
    for ty in kept:
        per_chip[ty] = per_server[ty] / data.server_chips[ty]
    for j, wc in enumerate(p.classes):
        mine = c.cls == j
        if not (c.phase[mine] == "aggregated").all() or not wc.users:
            continue
        down = np.where(mine, np.floor(x + 1e-6), 0.0)
        left = data.demand[j] - float(c.serves[mine] @ down[mine])
        n = replicas_to_serve(max(left, 0.0), c.serves).astype(float)
        # none to add (n = 0) costs nothing, also on a chip type not kept (0 · inf is NaN,
        # which `argmin` picks, and the rounded-down start was dropped)
        added = np.zeros(len(n))
        more = n > 0
        added[more] = n[more] * c.chips[more] * per_chip[c.chip[more]]
        cost = np.where(mine & (down + n <= caps), added, np.inf)
        k = int(np.argmin(cost))
        if np.isfinite(cost[k]):
            down[k] += n[k]
            reps[mine] = down[mine]
    return reps

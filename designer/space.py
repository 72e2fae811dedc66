"""The design space: candidates (chip, t, p) and their numpy presolve.

For every candidate the presolve computes, with the forward model of `perf`:
- whether the weights fit at batch 1, and whether the user rate is reachable at batch 1;
- `bcap`, the largest integer batch ≤ max_batch that meets both the user-rate requirement and
  the memory capacity (both grow monotonically with the batch, so a bisection is exact);
- per-replica chips, capex, IT power and TCO from `cost`;
- optionally, bound pruning: a candidate whose continuous lower bound (replicas not rounded up)
  is worse than a feasible incumbent cannot hold the optimum and is dropped.
Counts of what each step removed are kept in `stats`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from designer import perf
from designer.cost import SECONDS_PER_YEAR, chip_cost
from designer.problem import Problem


@dataclass
class Candidates:
    """Arrays with one entry per (chip, t, p) candidate."""

    problem: Problem = field(repr=False)
    chip: np.ndarray  # chip ids
    t: np.ndarray
    p: np.ndarray
    hw: dict[str, np.ndarray] = field(repr=False)
    bcap: np.ndarray  # largest feasible batch (0: none)
    chips_per_replica: np.ndarray
    capex: np.ndarray  # USD per replica
    power: np.ndarray  # W per replica (IT)
    tco: np.ndarray  # USD per year per replica
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t)

    def subset(self, mask: np.ndarray) -> Candidates:
        return Candidates(
            self.problem,
            self.chip[mask],
            self.t[mask],
            self.p[mask],
            {k: v[mask] for k, v in self.hw.items()},
            self.bcap[mask],
            self.chips_per_replica[mask],
            self.capex[mask],
            self.power[mask],
            self.tco[mask],
            dict(self.stats),
        )

    # ---- per-candidate quantities used by the MILP and the enumeration --------------------
    def metrics(self, batch) -> dict[str, np.ndarray]:
        return perf.evaluate_arrays(self.problem.workload, self.hw, self.t, self.p, batch)

    def objective_per_replica(self, objective: str) -> np.ndarray:
        """The objective's coefficient of one replica (cost_per_mtoken: its TCO)."""
        return {
            "capex": self.capex,
            "power": self.power,
            "tco": self.tco,
            "cost_per_mtoken": self.tco,
            "chips": self.chips_per_replica,
        }[objective]

    def min_replicas(self, batch) -> np.ndarray:
        """Replicas needed to serve the users at `batch` users per micro-batch."""
        return units_to_serve(self.problem.users, self.p * np.maximum(np.asarray(batch), 1))

    def max_replicas(self) -> np.ndarray:
        """No design needs more replicas than serving every user at batch 1 takes."""
        r = units_to_serve(self.problem.users, self.p)
        if self.problem.max_chips:
            r = np.minimum(r, self.problem.max_chips // self.chips_per_replica)
        return np.maximum(r, 0)

    def replica_limit(self) -> np.ndarray:
        """The most replicas the limits (chips, power, capex) allow: inf without limits, NaN
        where a limited cost is unknown."""
        pr = self.problem
        r = np.full(len(self), np.inf)
        if pr.max_chips:
            r = np.minimum(r, pr.max_chips // self.chips_per_replica)
        if pr.max_power is not None:
            r = np.minimum(r, np.floor(pr.max_power * (1 + 1e-9) / self.power))
        if pr.max_capex_usd is not None:
            r = np.minimum(r, np.floor(pr.max_capex_usd * (1 + 1e-9) / self.capex))
        return r


def units_to_serve(users, per_unit) -> np.ndarray:
    """⌈users / per_unit⌉: replicas for users at per_unit each, or the batch per stage that
    spreads users over per_unit stages of all replicas."""
    return np.ceil(users / np.asarray(per_unit, dtype=float) - 1e-9).astype(np.int64)


def grid(problem: Problem) -> Candidates:
    """Every (chip, t, p) of the problem's space, with hardware and cost data gathered."""
    cat = problem.catalog
    chips = list(problem.chips)
    arrays = perf.ChipArrays.build(cat, chips, problem.workload.compute_dtype)
    ci, ti, pi = np.meshgrid(
        np.arange(len(chips)), np.array(problem.tp), np.array(problem.pp), indexing="ij"
    )
    ci, t, p = ci.ravel(), ti.ravel().astype(np.int64), pi.ravel().astype(np.int64)
    costs = [chip_cost(cat, c) for c in chips]
    capex1 = np.array([c.capex_usd for c in costs])[ci]
    power1 = np.array([c.it_power_w for c in costs])[ci]
    tco1 = np.array([c.tco_usd_per_year for c in costs])[ci]
    n = t * p
    return Candidates(
        problem,
        np.array(chips, dtype=object)[ci],
        t,
        p,
        arrays.take(ci),
        np.zeros(len(t), dtype=np.int64),
        n,
        capex1 * n,
        power1 * n,
        tco1 * n,
        {"candidates": len(t)},
    )


def batch_cap(c: Candidates, target_utps: float, max_batch: int) -> np.ndarray:
    """Largest integer batch in [1, max_batch] meeting the user rate and the memory capacity
    (0 when batch 1 fails). Exact: step time and memory per chip are non-decreasing in B."""
    wl = c.problem.workload
    target_step = 1.0 / target_utps

    def ok(b: np.ndarray) -> np.ndarray:
        m = perf.evaluate_arrays(wl, c.hw, c.t, c.p, b)
        return (m["step_time_s"] <= target_step * (1 + 1e-12)) & m["fits"]

    lo = np.where(ok(np.ones(len(c), dtype=np.int64)), 1, 0)
    hi = np.full(len(c), max_batch, dtype=np.int64)
    hi = np.where(lo == 0, 0, hi)
    # invariant: ok(lo) (or lo == 0), and no feasible batch above hi
    while np.any(hi > lo):
        mid = (lo + hi + 1) // 2
        good = ok(np.maximum(mid, 1)) & (mid > lo)
        lo = np.where(good, mid, lo)
        hi = np.where(good | (hi <= lo), hi, mid - 1)
    return lo


def screen(c: Candidates, *, prune: bool = True) -> np.ndarray:
    """Set `c.bcap` and return the mask of candidates that can hold the optimum; `c.stats`
    counts what each step removed."""
    problem = c.problem
    stats = c.stats
    m1 = c.metrics(np.ones(len(c)))
    fits = m1["fits"]
    stats["weights_do_not_fit"] = int((~fits).sum())
    fast = m1["tokens_per_s_per_user"] >= problem.target_utps * (1 - 1e-12)
    stats["too_slow_at_batch_1"] = int((fits & ~fast).sum())
    keep = fits & fast
    c.bcap = np.where(keep, batch_cap(c, problem.target_utps, problem.max_batch), 0)
    coef = c.objective_per_replica(problem.objective)
    known = np.isfinite(coef)
    if problem.max_power is not None:
        known &= np.isfinite(c.power)
    if problem.max_capex_usd is not None:
        known &= np.isfinite(c.capex)
    stats["no_cost_data"] = int((keep & ~known).sum())
    keep &= known
    rmin = c.min_replicas(c.bcap)
    within = rmin <= c.replica_limit()
    stats["over_limits"] = int((keep & ~within).sum())
    keep &= within
    if prune and keep.any():
        value = objective_values(c, c.bcap, rmin)
        incumbent = np.min(np.where(keep, value, np.inf))
        pruned = keep & (lower_bounds(c) > incumbent * (1 + 1e-9) + 1e-12)
        stats["bound_pruned"] = int(pruned.sum())
        keep &= ~pruned
    stats["kept"] = int(keep.sum())
    return keep


def presolve(problem: Problem, *, prune: bool = True) -> Candidates:
    """Candidates that can hold the optimum, with `bcap` set and `stats` counting each step."""
    c = grid(problem)
    return c.subset(screen(c, prune=prune))


def objective_values(c: Candidates, batch, replicas) -> np.ndarray:
    """The objective of designs (candidate, batch, replicas), as the MILP defines it.

    cost_per_mtoken is TCO per year over the tokens of a year served at the SLA rate by the
    users the design can hold (replicas · p · B · target tokens/s/user) at the utilization.
    """
    pr = c.problem
    coef = c.objective_per_replica(pr.objective) * np.asarray(replicas)
    if pr.objective != "cost_per_mtoken":
        return coef
    users = np.asarray(replicas) * c.p * np.asarray(batch)
    return coef / mtokens_per_year_per_user(pr) / np.maximum(users, 1e-300)


def mtokens_per_year_per_user(pr: Problem) -> float:
    """Million tokens a year one user at the SLA rate receives, at the utilization."""
    return pr.target_utps * pr.catalog.costs.utilization * SECONDS_PER_YEAR / 1e6


def lower_bounds(c: Candidates) -> np.ndarray:
    """A bound no design of the candidate beats: replicas not rounded up (users / (p·bcap)),
    but at least one."""
    r = np.maximum(c.problem.users / (c.p * np.maximum(c.bcap, 1)), 1.0)
    if c.problem.objective == "cost_per_mtoken":
        return objective_values(c, c.bcap, np.ceil(r))
    return c.objective_per_replica(c.problem.objective) * r

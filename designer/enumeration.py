"""Brute-force enumeration of the design space with the numpy forward model.

The reference the MILP is tested against, and the baseline it is benchmarked against. Every
(chip, t, p, batch) is evaluated with `perf`; replicas are either enumerated too
(`replicas="all"`, the literal brute force for small spaces) or set to the fewest that serve the
users (`replicas="min"`, exact because every objective is non-decreasing in the replica count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer import perf
from designer.problem import Problem
from designer.space import grid, objective_values


@dataclass(frozen=True)
class Enumerated:
    """The best design found by enumeration, or value = inf when none is feasible."""

    value: float
    chip: str | None
    tp: int
    pp: int
    batch: int
    replicas: int
    points: int  # designs evaluated


def enumerate_space(
    problem: Problem, replicas: str = "min", max_replicas: int | None = None
) -> Enumerated:
    """The best design of `problem` by evaluating every (chip, t, p, batch) point; replicas are
    the fewest that serve the users (`"min"`) or every count up to `max_replicas` (`"all"`).
    The limit checks are written out here again, apart from `space.screen`, so that the oracle
    does not share the presolve's logic."""
    c = grid(problem)
    n, nb = len(c), problem.max_batch
    k = np.repeat(np.arange(n), nb)
    b = np.tile(np.arange(1, nb + 1), n)
    m = perf.evaluate_arrays(problem.workload, c.subset(k).hw, c.t[k], c.p[k], b)
    ok = (m["tokens_per_s_per_user"] >= problem.target_utps * (1 - 1e-12)) & m["fits"]
    coef = c.objective_per_replica(problem.objective)[k]
    ok &= np.isfinite(coef)
    if problem.max_power is not None:
        ok &= np.isfinite(c.power[k])
    if problem.max_capex_usd is not None:
        ok &= np.isfinite(c.capex[k])
    k, b = k[ok], b[ok]
    if replicas == "min":
        r = c.subset(k).min_replicas(b)
    else:
        top = max_replicas or int(np.ceil(problem.users))
        k, b = np.repeat(k, top), np.repeat(b, top)
        r = np.tile(np.arange(1, top + 1), len(k) // top)
        serve = r * c.p[k] * b >= problem.users
        k, b, r = k[serve], b[serve], r[serve]
    within = np.ones(len(k), dtype=bool)
    if problem.max_chips:
        within &= r * c.chips_per_replica[k] <= problem.max_chips
    if problem.max_power is not None:
        within &= r * c.power[k] <= problem.max_power * (1 + 1e-9)
    if problem.max_capex_usd is not None:
        within &= r * c.capex[k] <= problem.max_capex_usd * (1 + 1e-9)
    k, b, r = k[within], b[within], r[within]
    points = n * nb * (1 if replicas == "min" else (max_replicas or problem.users))
    if len(k) == 0:
        return Enumerated(float("inf"), None, 0, 0, 0, 0, points)
    sub = c.subset(k)
    values = objective_values(sub, b, r)
    i = int(np.argmin(values))
    return Enumerated(
        float(values[i]),
        str(sub.chip[i]),
        int(sub.t[i]),
        int(sub.p[i]),
        int(b[i]),
        int(r[i]),
        points,
    )

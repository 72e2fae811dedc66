"""Why a problem has no solution, and the best value reachable in its design space."""

from __future__ import annotations

from typing import Any

import numpy as np

from designer.problem import Problem
from designer.space import Candidates, batch_cap, grid


def _design(c: Candidates, i: int, batch: int) -> dict[str, Any]:
    return {"chip": str(c.chip[i]), "tp": int(c.t[i]), "pp": int(c.p[i]), "batch": int(batch)}


def explain(problem: Problem) -> tuple[str, dict[str, Any]]:
    """A one-paragraph reason and the best achievable values, from the numpy model over the
    whole space (no pruning)."""
    c = grid(problem)
    wl = problem.workload
    m1 = c.metrics(np.ones(len(c)))
    fits = m1["fits"]
    best: dict[str, Any] = {}
    if not fits.any():
        largest = float(np.max(c.hw["usable_capacity"] * c.t * c.p))
        best["max_usable_memory_bytes"] = largest
        return (
            f"the weights ({wl.weight_bytes / 1e9:.1f} GB) and one user's KV cache "
            f"({wl.kv_bytes_per_user / 1e9:.2f} GB) fit on no candidate: the most usable "
            f"memory in the space is {largest / 1e9:.1f} GB (raise space.tp/space.pp or add "
            f"chips with more memory)"
        ), best
    utps = np.where(fits, m1["tokens_per_s_per_user"], -np.inf)
    i = int(np.argmax(utps))
    best["max_tokens_per_s_per_user"] = float(utps[i])
    best["max_tokens_per_s_per_user_design"] = _design(c, i, 1)
    if utps[i] < problem.target_utps:
        return (
            f"sla.tokens_per_s_per_user = {problem.target_utps:g} is above the highest "
            f"reachable {utps[i]:.1f} tokens/s per user in the space ({c.chip[i]}, "
            f"tp={c.t[i]}, pp={c.p[i]}, batch 1, bottleneck {m1['bottleneck'][i]})"
        ), best
    bcap = np.where(
        fits & (utps >= problem.target_utps),
        batch_cap(c, problem.target_utps, problem.max_batch),
        0,
    )
    coef = c.objective_per_replica(problem.objective)
    known = np.isfinite(coef) & (bcap > 0)
    if not known.any():
        return (
            f"no chip that meets the rate has the cost data the objective "
            f"{problem.objective!r} needs (price or die area for capex, TDP or die area for "
            f"power); add them to the catalog or with --set"
        ), best
    rmax = np.where(known, np.nan_to_num(c.replica_limit(), nan=0.0, posinf=np.inf), 0)
    users = rmax * c.p * bcap
    j = int(np.argmax(users))
    best["max_users_within_limits"] = int(users[j]) if np.isfinite(users[j]) else None
    best["max_users_within_limits_design"] = {
        **_design(c, j, int(bcap[j])),
        "replicas": int(rmax[j]),
    }
    limits = [
        text
        for text, v in (
            (f"max_chips = {problem.max_chips}", problem.max_chips),
            (f"max_power = {(problem.max_power or 0) / 1e3:g} kW", problem.max_power),
            (f"max_capex_usd = {problem.max_capex_usd or 0:,.0f}", problem.max_capex_usd),
        )
        if v
    ]
    return (
        f"{problem.users} concurrent users at {problem.target_utps:g} tokens/s each do not "
        f"fit within the limits ({', '.join(limits) or 'space.max_chips'}): at most "
        f"{int(users[j])} users can be served ({c.chip[j]}, tp={c.t[j]}, pp={c.p[j]}, "
        f"batch {bcap[j]}, {int(rmax[j])} replicas)"
    ), best

"""The master problem's data: columns and the requirements that couple them, in model units.

Money is in k$, power in kW (HiGHS is steadier with coefficients near 1). Built once from a
`Problem` and its `Columns`; every feature module reads its numbers from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from designer.model.errors import InputError
from designer.optimize.columns import (
    Columns,
    class_needs,
    demanded_mtokens_per_year,
    replicas_to_serve,
)
from designer.optimize.problem import Problem

KUSD, KW = 1e-3, 1e-3


@dataclass(frozen=True)
class FleetData:
    problem: Problem
    columns: Columns
    types: tuple[int, ...]  # chip types (indices into columns.chip_types) with a column
    server_chips: dict[int, int]
    server_capex: dict[int, float]  # k$ per server
    server_power: dict[int, float]  # kW per server (energy basis: typical by default)
    server_power_limit: dict[int, float]  # kW per server, the basis power limits hold
    server_tco: dict[int, float]  # k$/year per server
    rmax: np.ndarray  # replicas bound per column
    smax: dict[int, int]  # servers bound per chip type
    # per class, the demand row's right-hand side in users at the SLA rate (0: none asked):
    # its users, or a request rate λ as λ·O/r (features.demand)
    demand: tuple[float, ...]
    mtokens: float  # million tokens a year the asked-for users receive (cost_per_mtoken)

    @property
    def problem_fixed_cost(self) -> float:
        return self.problem.chip_type_fixed_cost_usd * KUSD

    def per_server(self, criterion: str) -> dict[int, float]:
        """What one server of each chip type adds to a minimized criterion (model units):
        capex, power (energy basis), TCO (and $/Mtoken, TCO over a constant) or chips."""
        if criterion == "chips":
            return {ty: float(n) for ty, n in self.server_chips.items()}
        return {
            "capex": self.server_capex,
            "power": self.server_power,
            "tco": self.server_tco,
            "cost_per_mtoken": self.server_tco,
        }[criterion]


def fleet_data(problem: Problem, c: Columns) -> FleetData:
    types = tuple(sorted({int(x) for x in c.chip}))
    ct = c.chip_types
    rmax = _replica_bounds(problem, c)
    smax = {}
    for ty in types:
        chips = int(np.sum((rmax * c.chips)[c.chip == ty]))
        smax[ty] = int(-(-chips // ct[ty].server_chips))
    return FleetData(
        problem=problem,
        columns=c,
        types=types,
        server_chips={ty: ct[ty].server_chips for ty in types},
        server_capex={ty: _finite(ct[ty].per_server("capex")) * KUSD for ty in types},
        server_power={ty: _finite(ct[ty].per_server("power")) * KW for ty in types},
        server_power_limit={ty: _finite(ct[ty].per_server("power_limit")) * KW for ty in types},
        server_tco={ty: _finite(ct[ty].per_server("tco")) * KUSD for ty in types},
        rmax=rmax,
        smax=smax,
        demand=tuple(float(u) for u in class_needs(problem)),
        mtokens=demanded_mtokens_per_year(problem),
    )


def _finite(x: float) -> float:
    """Unknown numbers never reach the model: columns of chips whose cost a requirement needs
    were removed by the presolve, so what is left unknown is multiplied by nothing."""
    return float(x) if np.isfinite(x) else 0.0


def _replica_bounds(problem: Problem, c: Columns) -> np.ndarray:
    """No optimal fleet runs more replicas of a column than: (minimize) serving its class's
    users with that column alone; (maximize) what the tightest limit or supply allows for that
    column alone. The requirement rows do the rest (they are never left to these bounds)."""
    if problem.sense == "minimize":
        users = class_needs(problem)[c.cls]  # in users at the SLA rate
        r = replicas_to_serve(users, c.serves)
        pf = c.phase == "prefill"
        if pf.any():  # no more prompts than the requests of all the users
            per_user = np.array(
                [wc.target_utps / max(wc.workload.output_tokens, 1) for wc in problem.classes]
            )
            need = users * per_user[c.cls]
            r[pf] = np.ceil(need[pf] / c.requests_capacity[pf] - 1e-9).astype(np.int64)
        return r
    big = np.iinfo(np.int64).max // 4
    r = np.full(len(c), big, dtype=np.int64)
    if problem.max_chips:
        r = np.minimum(r, problem.max_chips // c.chips)
    supply = dict(problem.supply)
    for ty, t in enumerate(c.chip_types):
        if t.chip in supply:
            sel = c.chip == ty
            r[sel] = np.minimum(r[sel], supply[t.chip] // c.chips[sel])
    for limit, what, scale in (
        (problem.max_power, "power_limit", 1.0),
        (problem.max_facility_power, "power_limit", problem.catalog.costs.pue),
        (problem.max_capex_usd, "capex", 1.0),
    ):
        if limit is not None:
            share = c.share(what) * scale
            with np.errstate(divide="ignore"):
                r = np.minimum(r, np.floor(limit * (1 + 1e-9) / share).astype(np.int64))
    if np.any(r >= big):
        raise InputError(
            "maximize needs a bound: set [limits] (max_power, max_facility_power, "
            "max_capex_usd, max_chips) or [supply] for every chip of the space",
            where=problem.where,
            key=f"objective.maximize = {problem.objective}",
        )
    return np.maximum(r, 0)

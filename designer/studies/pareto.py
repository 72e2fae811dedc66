"""Exact Pareto frontiers by the ε-constraint method: cost (capex, power, TCO, …) against
tokens/s per user.

Every frontier point is the optimal design for its bound: minimize y subject to
tokens/s per user ≥ level, at `points` levels spaced geometrically from the lowest rate
(the achieved rate of the cheapest design with no rate requirement) to the highest rate the
space can reach for all users within the limits (from the infeasible answer's
`best_achievable.max_tokens_per_s_per_user`, refined by bisection when users or limits keep
it lower). Of the designs that tie at a level's optimum, a point is the fastest (`fastest`:
solved again just above its rate until the optimum gets worse), so no point is weakly
dominated by a design of the same value. Points repeated by several levels are kept once,
dominated points are removed, and levels with no answer are reported.

    >>> from designer.optimize.problem import load_problem
    >>> problem = load_problem("problems/quickstart.toml")  # from the repository's root
    >>> front = pareto(problem, "capex", points=8)
    >>> [(round(p["tokens_per_s_per_user"]), round(p["value"])) for p in front.points][:2]
    [(30, 200000), (46, 270639)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from designer.model.errors import InfeasibleError, InputError, unknown
from designer.optimize.problem import OBJECTIVES, Problem
from designer.studies.rows import (
    achieved_rate,
    describe,
    flatten,
    mixed_fleet,
    solve_record,
    synthesis_chosen,
)

if TYPE_CHECKING:
    import pandas as pd  # loaded by frame() only: tables are written from it

X_AXES = ("tokens_per_s_per_user",)
# the serving chart: for fixed hardware ([supply] or [limits]), the most output tokens/s per
# chip in use at each tokens/s per user (a maximization: higher is better)
PER_CHIP = "tokens_per_s_per_chip"
Y_AXES = (*OBJECTIVES, PER_CHIP)
RATE = "sla.tokens_per_s_per_user"
FEASIBLE = ("optimal", "feasible")
LOWEST_LEVEL = 1e-6  # tokens/s per user: "no rate requirement"
UNREACHABLE = 1e15  # tokens/s per user: a bound no design meets, to learn the highest rate
BISECTION_RTOL = 1e-4
WALK_STEP = 1e-9  # relative: the next level of a complete walk is just above the last rate
MAX_WALK = 1000
MAX_POINTS = 1000  # levels of the rate: each one solve
# relative: a design whose value is within this of a point's ties with it (`fastest`); the
# values are the forward model's, so designs of one cost agree to rounding
SAME_VALUE = 1e-9
GALLOP = 16  # `fastest`: how much further above each tied design the next probe asks
SEARCHED = ("capex", "power", "tco", "chips")  # the values `fastest` searches the ties of


@dataclass
class Frontier:
    """Frontier `points` (each `{level, tokens_per_s_per_user, value, design, metrics, fastest}`,
    with `fleet` when the optimum mixes configurations and, on a synthesis problem,
    `synthesis_chosen` (`rows.synthesis_chosen`), plus the full `record`; `fastest` as
    `fastest` proved it: True, False when a limit stopped the search, None when not searched),
    the `levels` tried
    and the `infeasible` ones (`{level, status, reason}`); `json()` is the `pareto --json`
    contract."""

    x: str
    y: str
    unit: str
    points: list[dict[str, Any]] = field(default_factory=list)
    levels: list[float] = field(default_factory=list)
    infeasible: list[dict[str, Any]] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        keys = ("level", self.x, "value", "design", "metrics", "fastest")
        return {
            "x": self.x,
            "y": self.y,
            "unit": self.unit,
            "points": [
                {k: p[k] for k in keys}
                | {"status": p["record"].get("status")}
                | mixed_fleet(p["record"])
                | _synthesis(p["record"])
                for p in self.points
            ],
            "infeasible_levels": self.infeasible,
        }

    def unproven(self) -> list[float]:
        """The levels of the points a solver limit left unproven: not optimal at the level
        (an upper bound of the frontier there), or optimal with the search for a faster design
        of its value stopped (`fastest` False)."""
        return [
            p["level"]
            for p in self.points
            if p["record"].get("status") != "optimal" or p["fastest"] is False
        ]

    def table(self):
        """The frontier as a rich table (what `designer pareto` prints)."""
        from rich.table import Table

        from designer.studies.compare import money

        what = "maximum" if self.y == PER_CHIP else "minimum"
        proven = not self.unproven()
        kind = "exact frontier" if proven else "frontier, NOT all points proven optimal"
        t = Table(title=f"{kind}: {what} {self.y} per tokens/s per user", title_justify="left")
        for col in ("level ≥", "tokens/s per user", f"{self.y} ({self.unit})", "design"):
            t.add_column(col)
        for p in self.points:
            t.add_row(
                f"{p['level']:,.1f}",
                f"{p[self.x]:,.1f}",
                f"{p['value']:,.1f}" if self.y == PER_CHIP else money(p["value"], self.unit),
                describe(p["record"]),
            )
        for bad in self.infeasible:
            t.add_row(f"{bad['level']:,.1f}", "-", bad["status"], bad["reason"])
        return t

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            [
                {"level": p["level"], "fastest": p["fastest"], **flatten(p["record"])}
                for p in self.points
            ]
        )


def _synthesis(record: dict[str, Any]) -> dict[str, Any]:
    """`{"synthesis_chosen": [...]}` for a synthesis problem's answer, else nothing."""
    chosen = synthesis_chosen(record)
    return {} if chosen is None else {"synthesis_chosen": chosen}


def _at(problem: Problem, level: float, time_limit: float, strict: bool = False) -> dict[str, Any]:
    return solve_record(
        problem, {RATE: level}, time_limit=time_limit, strict=strict, origin="pareto"
    )


def lowest_level(problem: Problem) -> float:
    """The lowest level a frontier of `problem` asks for: `LOWEST_LEVEL`, or where its users
    come from a request rate (`serving.users_for_rate`: λ·O/r users decoding at once) the rate at
    which they reach the most a problem sizes (`sla.concurrent_users`' bound), since a lower rate
    would ask for more users than any problem holds. The frontier's levels then start at the
    slowest rate that fleet's rows reach (`rate_range`); levels whose optimum a faster, cheaper
    design beats leave the frontier as dominated."""
    from designer.optimize.problem import INT_BOUNDS

    wc = problem.classes[0]
    if not wc.by_requests:
        return LOWEST_LEVEL
    most = INT_BOUNDS["sla.concurrent_users"]
    rate = wc.serving.requests_per_s * wc.workload.output_tokens / most  # λ·O/r = most
    return max(LOWEST_LEVEL, rate * (1 + 1e-6))


def rate_range(problem: Problem, *, time_limit: float = 60.0) -> tuple[float, float]:
    """(lowest, highest) tokens/s per user worth a frontier level for `problem`.

    Raises InfeasibleError when no design serves the users within the limits at any rate.
    """
    low = _at(problem, lowest_level(problem), time_limit, strict=True)  # bad input: exit 2
    if low.get("status") == "error":  # not an answer: nothing says the rates are out of reach
        raise InputError(f"the lowest level is an error: {low.get('error')}")
    if low.get("status") not in FEASIBLE:
        err = InfeasibleError(
            f"infeasible at any rate: {low.get('explanation') or low.get('error')}"
        )
        err.record = low
        raise err
    lo = achieved_rate(low)
    top = _at(problem, UNREACHABLE, time_limit)
    best = (top.get("best_achievable") or {}).get("max_tokens_per_s_per_user")
    if top.get("status") in FEASIBLE:
        return lo, achieved_rate(top)
    hi = float(best) if best else lo * 2
    while best is None and _at(problem, hi, time_limit).get("status") in FEASIBLE:
        lo, hi = hi, hi * 2  # no hint: grow until infeasible
    if _at(problem, hi, time_limit).get("status") in FEASIBLE:
        return achieved_rate(low), hi
    ok = lo
    while hi - ok > BISECTION_RTOL * hi:
        mid = math.sqrt(ok * hi)
        if _at(problem, mid, time_limit).get("status") in FEASIBLE:
            ok = mid
        else:
            hi = mid
    return achieved_rate(low), ok


def fastest(
    base: Problem, rec: dict[str, Any], y: str, time_limit: float
) -> tuple[dict[str, Any], bool | None]:
    """(the fastest design, whether that is proven) of the designs whose `y` ties with `rec`'s
    proven optimum: the one with the highest tokens/s per user (a level's optimum is any design
    of that value: `solve`'s tie-break does not ask for speed). `base` is solved above the rate
    of the fastest tied design found so far, first just above it and then further each time the
    optimum still ties (`GALLOP`), and, once a level's optimum is worse (or infeasible), at the
    geometric middle of the two, until they are `BISECTION_RTOL` apart: no design of the value
    is faster than the one returned by more than that (True). A probe not proven optimal, or one
    better than `rec` (an optimum that does not rise with the level), stops the search (False).
    Only the objectives of `SEARCHED` are searched, and not when the level moves the demand
    (`searchable`): `rec` and None."""
    if not (searchable(y) and rec.get("status") == "optimal"):
        return rec, None
    value = _value(rec, y)
    tie = SAME_VALUE * max(abs(value), 1.0)
    gap, above = WALK_STEP, None  # `above`: a level whose optimum does not tie
    for _ in range(MAX_WALK):
        rate = achieved_rate(rec)
        if above is not None and above <= rate * (1 + BISECTION_RTOL):
            return rec, True
        level = rate * (1 + gap) if above is None else math.sqrt(rate * above)
        probe = _at(base, level, time_limit)
        status = probe.get("status")
        diff = _value(probe, y) - value if status == "optimal" else 0.0
        if status == "infeasible" or (status == "optimal" and diff > tie):
            above = level
        elif status == "optimal" and abs(diff) <= tie:
            rec, gap = probe, max(gap * GALLOP, BISECTION_RTOL)
        else:
            return rec, False
    return rec, False


def searchable(y: str) -> bool:
    """Whether a frontier of `y` searches its points' ties (`fastest`): its
    objective must be one the level does not move (`SEARCHED`: not `cost_per_mtoken`, which
    counts tokens at the level, nor the serving chart, whose objective is the system's tokens/s
    and its value that per chip in use). Then a level's optimum only rises with the level (a
    request rate's demand too: it is sized at each design's own TPOT, `features.demand`, and
    a faster level only removes designs or shrinks their batches), and a level up to a point's
    rate has the point's value."""
    return y in SEARCHED


def non_dominated(
    points: list[dict[str, Any]], x: str, *, larger: bool = False
) -> list[dict[str, Any]]:
    """Points no other point beats (higher or equal x at lower — `larger`: higher — or equal
    value, one strictly), each design once, by increasing x."""
    out = []
    sign = -1.0 if larger else 1.0
    for p in points:
        dominated = any(
            q[x] >= p[x]
            and sign * q["value"] <= sign * p["value"]
            and (q[x] > p[x] or sign * q["value"] < sign * p["value"])
            for q in points
        )
        if not dominated and all((q[x], q["value"]) != (p[x], p["value"]) for q in out):
            out.append(p)
    return sorted(out, key=lambda p: p[x])


def pareto(
    problem: Problem,
    y: str = "capex",
    *,
    x: str = "tokens_per_s_per_user",
    points: int = 12,
    low: float | None = None,
    high: float | None = None,
    time_limit: float = 60.0,
    complete: bool = False,
) -> Frontier:
    """The exact frontier of `y` (an objective to minimize) against `x` = tokens/s per user.

    `low`/`high` bound the levels (default: the range `rate_range` finds). With `complete`,
    the levels walk the frontier instead: each next level is just above the rate the last
    optimum achieves, so every frontier design is found (one solve each, up to
    `MAX_WALK`). On a problem whose users come from a request rate a fleet reaches barely more
    than its level (`columns._part_loaded`), so the walk searches each point's ties
    (`fastest`) and steps on by that search's tolerance, `BISECTION_RTOL`."""
    if x not in X_AXES:
        raise unknown("x axis", x, X_AXES, key="--x")
    if y not in Y_AXES:
        raise unknown("objective", y, Y_AXES, key="--y")
    if not 2 <= points <= MAX_POINTS:
        raise InputError(
            f"expected from 2 to {MAX_POINTS} points (each one solve), got {points}", key="--points"
        )
    if "class" in problem.raw:  # its levels are [sla] tokens_per_s_per_user
        raise InputError(
            f"a frontier sweeps [sla] tokens_per_s_per_user; this problem has "
            f"{len(problem.classes)} [[class]] table(s) (designer sweep can vary one: "
            f"class.NAME.tokens_per_s_per_user)",
            where=problem.where,
            key="class",
        )
    if problem.sense == "maximize" and y != PER_CHIP:
        raise InputError(
            f"the frontier minimizes {y} (--y) at each tokens/s per user, but this problem "
            f"maximizes {problem.objective}: give --y {PER_CHIP} (the serving chart) or a "
            "problem that minimizes",
            key="--y",
        )
    base = (
        serving_chart_problem(problem)
        if y == PER_CHIP
        else problem.with_changes({"objective.minimize": y})
    )
    if low is None or high is None:
        try:
            lo, hi = rate_range(base, time_limit=time_limit)
        except InputError as exc:  # the chart's objective, not the problem's, needs a bound
            if y != PER_CHIP or not (exc.key or "").startswith("objective.maximize"):
                raise
            raise InputError(
                f"the serving chart is of fixed hardware: {exc.message}",
                where=problem.where,
                key=f"--y {PER_CHIP}",
            ) from None
        low, high = low or lo, high or hi
    levels = [float(v) for v in np.geomspace(low, max(high, low), points)]
    if complete:
        levels = [low]
    # an aggregated replica of a request rate serves the most requests/s its level allows
    # (`columns._part_loaded`), so the rate a fleet reaches barely exceeds the level and a
    # walk would creep up each cost's plateau: it searches the ties (`fastest`) instead, and
    # steps on from the fastest by that search's tolerance
    creeps = complete and any(wc.by_requests for wc in base.classes)
    found, infeasible, unit = [], [], ""
    for level in levels:
        if found and found[-1]["fastest"] and level <= found[-1][x]:
            continue  # the last point reaches it: the same optimum, its fastest design
        rec = _at(base, level, time_limit)
        unit = unit or (rec.get("objective") or {}).get("unit", "")
        if y == PER_CHIP:
            unit = "tokens/s/chip"
        if rec.get("status") not in FEASIBLE:
            reason = rec.get("explanation") or rec.get("error") or rec.get("status")
            infeasible.append({"level": level, "status": rec.get("status"), "reason": reason})
            continue
        searched = None
        if not complete or creeps:  # a walk reaches the tied designs itself, unless it creeps
            rec, searched = fastest(base, rec, y, time_limit)
        found.append(
            {
                "level": level,
                x: achieved_rate(rec),
                "value": _value(rec, y),
                "design": rec.get("design"),
                "metrics": rec.get("metrics"),
                "fastest": searched,
                "record": rec,
            }
        )
        nxt = found[-1][x] * (1 + (BISECTION_RTOL if creeps else WALK_STEP))
        if complete and nxt <= high and len(levels) < MAX_WALK:
            levels.append(nxt)
    return Frontier(x, y, unit, non_dominated(found, x, larger=y == PER_CHIP), levels, infeasible)


def _value(rec: dict[str, Any], y: str) -> float:
    if y == PER_CHIP:
        tot = rec["totals"]
        return float(tot["system_tokens_per_s"]) / max(int(tot["chips"]), 1)
    return float(rec["objective"]["value"])


def serving_chart_problem(problem: Problem) -> Problem:
    """`problem` asked as planners read a serving chart: the most system tokens/s its fixed
    hardware serves (`maximize = "system_tokens_per_s"` within its [supply] and [limits]; the
    users or requests asked for are dropped), so that the frontier gives tokens/s per chip at
    each tokens/s per user."""
    from designer.optimize.problem import problem_from_dict

    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in problem.raw.items()}
    raw["objective"] = {"maximize": "system_tokens_per_s"}
    drop = ("concurrent_users", "requests_per_s")
    if "class" in raw:
        raw["class"] = [{k: v for k, v in t.items() if k not in drop} for t in raw["class"]]
    else:
        raw["sla"] = {k: v for k, v in raw.get("sla", {}).items() if k not in drop}
    return problem_from_dict(
        raw, where=problem.where, catalog=problem.base_catalog, base_dir=problem.base_dir
    )

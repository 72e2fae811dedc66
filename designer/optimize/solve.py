"""`designer solve`: columns (numpy) → master MILP (Pyomo) → HiGHS → re-check (numpy).

Every question — one configuration or a mixed fleet, one workload class or several — goes this
one way. The answer is a JSON record (see `Solution`); every optimum is re-evaluated by the
forward model and the residual of every requirement is reported, and a failed re-check is an
error, never an answer. Ties are broken after the objective by lower capex, then lower power,
then fewer chips, then (one class) one configuration rather than several.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from designer.model.errors import DesignerError, InfeasibleError, SolverLimitError
from designer.model.serving import REPLICA_METRICS, TTFT_ENDS
from designer.optimize import class_bounds, recheck, server_windows
from designer.optimize import columns as columns_mod
from designer.optimize import start as first_fleet
from designer.optimize.build import build, export
from designer.optimize.data import FleetData, fleet_data
from designer.optimize.dominance import replica_caps
from designer.optimize.explain import explain
from designer.optimize.features.objective import TIE_BREAK, expression
from designer.optimize.modeling import pyo
from designer.optimize.problem import OBJECTIVE_UNITS, Problem
from designer.optimize.provenance import inputs, profiles_used
from designer.optimize.sensitivity import objective_scale, sensitivity
from designer.optimize.solver import TIE_OPTIONS, TIE_TOL, VERIFY_TOL, Solver


class RecheckError(DesignerError):
    """The forward model disagrees with the MILP's answer (a bug, never an answer)."""

    exit_code = 1


@dataclass
class Solution:
    """A solved problem: the JSON record plus the objects behind it."""

    record: dict[str, Any]
    columns: columns_mod.Columns | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.record["status"]

    @property
    def design(self) -> dict[str, Any] | None:
        """The configuration, for a fleet of one configuration (None for a mixed fleet)."""
        return self.record["design"]

    @property
    def metrics(self) -> dict[str, Any] | None:
        return self.record["metrics"]

    @property
    def fleet(self) -> list[dict[str, Any]]:
        return self.record["fleet"]

    @property
    def totals(self) -> dict[str, Any]:
        return self.record["totals"]

    @property
    def objective(self) -> float:
        return self.record["objective"]["value"]


def solve(
    problem: Problem,
    *,
    prune: bool = True,
    time_limit: float = 60.0,
    with_sensitivity: bool = True,
    compare_single: bool = True,
) -> Solution:
    """The optimal fleet of `problem`, proven by HiGHS and re-checked by the forward model.

    `time_limit` bounds the whole run (presolve included). Raises InfeasibleError (`.record`
    holds the explanation) when no fleet qualifies, SolverLimitError when the limit stops HiGHS
    with no feasible fleet; an answer stopped at the limit has status "feasible" (not proven).
    """
    start = time.perf_counter()
    cols = columns_mod.build(problem, prune=prune)
    if any(not (cols.cls == j).any() for j in range(len(problem.classes))):
        raise _infeasible(problem, cols, start)  # a class no column can serve
    data = fleet_data(problem, cols)
    m = build(data)
    solver = Solver(time_limit=_remaining(start, time_limit))
    caps = replica_caps(problem, cols, data.rmax) if prune else data.rmax
    solver.compile(m, [(m.replicas[k], int(caps[k])) for k in m.K if caps[k] < data.rmax[k]])
    relaxation = None
    bounds = class_bounds.Caps(data, caps) if prune and class_bounds.applies(data) else None
    if first_fleet.applies(data):
        x0, relaxation = first_fleet.first_fleet(solver, m, data, caps)
        if x0 is not None and solver.feasible(x0):  # its objective bounds the optimum
            unused = relaxation.unused(solver.value_of(x0))
            solver.tighten([(m.replicas[int(k)], 0) for k in unused])
            _lower(solver, m, bounds, problem.objective, solver.value_of(x0))
            solver.warm = first_fleet.warm(solver, x0, relaxation)
            solver.start(x0)
        solver.time_limit = _remaining(start, time_limit)
    st = solver.resolve()
    if st.status == "infeasible" or (not st.has_solution and st.status == "optimal"):
        raise _infeasible(problem, cols, start)
    if not st.has_solution:
        raise SolverLimitError(
            f"solver stopped ({st.message}) after {time.perf_counter() - start:.1f} s with no "
            f"feasible design; raise --time-limit or narrow [space]"
        )
    proven = st.status == "optimal"
    if proven:
        if relaxation is not None:  # the optimum fixes more columns than the start did
            solver.tighten([(m.replicas[int(k)], 0) for k in relaxation.unused(st.incumbent)])
        _lower(solver, m, bounds, problem.objective, st.incumbent)
        st = _tie_break(m, problem, solver, st, start, time_limit, bounds)
        proven = st.status == "optimal"
    solver.load()
    if proven:
        _prefer_one_configuration(m, data)
    record = answer(data, export(m, data), start, proven, st.gap or 0.0)
    if any(r.get("ttft_s") is not None for r in record["fleet"]):
        from designer.calibration import ttft

        record["ttft_check"] = ttft.published_check()
    record["solver"] = {
        "incumbent": st.incumbent,
        "bound": st.bound,
        "seconds": st.seconds,
        "termination": st.message,
    }
    if with_sensitivity and proven:
        record["sensitivity"] = sensitivity(data, m)
    if compare_single and proven:
        record["single_configuration"] = _single_configuration(problem, cols, record)
    if any(wc.confidence or wc.ttft_confidence for wc in problem.classes):
        record["margin"] = _margin(problem, record, prune, _remaining(start, time_limit))
    record["solve_seconds"] = time.perf_counter() - start
    return Solution(record, cols)


def _margin(problem: Problem, record: dict, prune: bool, time_limit: float) -> dict[str, Any]:
    """The nominal fleet (every class sized at the prediction) beside the guaranteed one (at
    the interval's slow end, `[sla] confidence`; the TTFT's, `[sla] ttft_confidence`), and what
    the margin costs."""
    nominal_problem = dataclasses.replace(
        problem,
        classes=tuple(
            dataclasses.replace(wc, confidence=None, ttft_confidence=None) for wc in problem.classes
        ),
    )
    nominal = solve(
        nominal_problem,
        prune=prune,
        time_limit=time_limit,
        with_sensitivity=False,
        compare_single=False,
    ).record

    def brief(r: dict) -> dict[str, Any]:
        return {
            "objective": r["objective"]["value"],
            "chips": r["totals"]["chips"],
            "capex_usd": r["totals"]["capex_usd"],
            "power_w": r["totals"]["power_w"],
            "fleet": [
                {k: f[k] for k in ("class", "chip", "tp", "pp", "ep", "batch", "replicas")}
                for f in r["fleet"]
            ],
        }

    g, n = record["objective"]["value"], nominal["objective"]["value"]
    return {
        "confidence": {wc.name: wc.confidence for wc in problem.classes},
        # the TTFT targets' (added where a class sets one; None: held at the prediction)
        **(
            {"ttft_confidence": {wc.name: wc.ttft_confidence for wc in problem.classes}}
            if any(wc.ttft_confidence for wc in problem.classes)
            else {}
        ),
        "nominal": brief(nominal),
        "guaranteed": brief(record),
        "cost": g - n if problem.sense == "minimize" else n - g,
        "cost_ratio": (g / n - 1.0 if problem.sense == "minimize" else 1.0 - g / n) if n else None,
    }


def _remaining(start: float, time_limit: float) -> float:
    return max(time_limit - (time.perf_counter() - start), 0.01)


def _lower(solver: Solver, m, bounds, criterion: str, value: float | None) -> None:
    """Lower the replica bounds in HiGHS once every fleet left has `criterion` ≤ `value`
    (`class_bounds`; nothing without bounds or a value)."""
    if bounds is not None and value is not None:
        solver.tighten([(m.replicas[k], r) for k, r in bounds.lowered(criterion, value)])


def _tie_break(
    m, problem: Problem, solver: Solver, st, start: float, time_limit: float, bounds=None
):
    """Among optima: lower capex, then lower power, then fewer chips (each kept ≤ its optimum
    while the next is minimized). The rows and objectives change in HiGHS only (no re-compile);
    stops, keeping what it has, if the time runs out. A criterion that is a linear combination
    of those already held at their optima is held with them (to the tie tolerances) and needs
    no re-solve: under a purchase, TCO is capex / years + energy × price, so after TCO and capex
    the power is decided; under a rent, capex is the rent over the years, decided by TCO. Once
    the criteria held leave one choice of servers (`server_windows`), the servers are fixed:
    the criteria of servers alone are decided and the rest re-solve over the replicas only."""
    seq = [problem.objective] + [
        n for n in TIE_BREAK if n != problem.objective and not _same(problem.objective, n)
    ]
    # one class is solved in milliseconds and keeps HiGHS' pick among fleets tied on every
    # criterion (as `dominance` and `class_bounds` do): its servers are never fixed
    most_types = (problem.max_chip_types or len(m.C)) if len(problem.classes) > 1 else 0
    solver.options = dict(TIE_OPTIONS)  # re-solves from an optimum: no RINS
    try:
        return _tie_stages(m, solver, st, start, time_limit, bounds, seq, problem.sense, most_types)
    finally:
        solver.options = {}


def _tie_stages(
    m, solver: Solver, st, start: float, time_limit: float, bounds, seq, sense, most_types: int
):
    """The stages of `_tie_break` after its first criterion (`seq[0]`, already solved)."""
    prev, held, windows, fixed = seq[0], [], [], False
    proved = st.bound  # what no fleet beats on `prev` (HiGHS' bound of its stage)
    for name in seq[1:]:
        if prev is not None:
            expr = expression(m, prev)
            value = solver.value(expr)
            slack = TIE_TOL * max(abs(value), 1.0)
            if sense == "maximize":
                solver.add_row(expr, lower=value - slack)
            else:
                solver.add_row(expr, upper=value + slack)
                windows.append((expr, proved, value))
            held.append(expr)
            sense = "minimize"
        target = expression(m, name)
        if solver.spans(target, held):
            prev = None  # decided by those held: nothing to re-solve, no row to add
            continue
        fixed = fixed or _fix_servers(m, solver, windows, most_types)
        if fixed and _of_servers(m, solver, target):
            prev = None  # decided by the servers, fixed
            continue
        solver.set_objective(target, sense)
        if sense == "minimize":  # the stage's optimum is no worse than the point it starts at
            _lower(solver, m, bounds, name, solver.value(target))
        solver.time_limit = _remaining(start, time_limit)
        nxt = solver.resolve()
        if nxt.status != "optimal":
            return nxt if nxt.has_solution else st
        prev, proved = name, nxt.bound
    return st


def _of_servers(m, solver: Solver, expr) -> list[float] | None:
    """`expr`'s coefficient on each chip type's servers when it depends on nothing else
    (None otherwise)."""
    cols, coefs, _ = solver.coefficients(expr)
    at = {solver.column(m.servers[ty]): i for i, ty in enumerate(m.C)}
    if not all(int(k) in at for k in cols):
        return None
    row = [0.0] * len(at)
    for k, a in zip(cols.tolist(), coefs.tolist(), strict=True):
        row[at[k]] += a
    return row


# of the time left, what HiGHS may take to prove one other server vector holds no fleet
CHECK_SHARE = 0.02


def _fix_servers(m, solver: Solver, windows: list, most_types: int) -> bool:
    """Fix the servers at the incumbent's when no other whole servers that meet every window
    held (`server_windows.others`: each criterion held between the bound HiGHS proved for it
    and its row, the tie tolerance and HiGHS' row tolerance on both sides) can hold a fleet:
    none at all, or HiGHS proves each of the few others (`MOST_OTHERS`) infeasible with the
    servers fixed at it, within `CHECK_SHARE` of the time left each. Whether it fixed them."""
    if most_types < 1 or not windows:
        return False
    rows, lower, upper = [], [], []
    room = solver.row_tolerance
    for expr, proved, value in windows:
        row = _of_servers(m, solver, expr)
        if row is None or min(row) <= 0 or proved is None:
            return False
        const = solver.coefficients(expr)[2]
        rows.append(row)
        lower.append(proved - TIE_TOL * max(abs(proved), 1.0) - room - const)
        upper.append(value + TIE_TOL * max(abs(value), 1.0) + room - const)
    servers = [m.servers[ty] for ty in m.C]
    star = np.array([round(solver.value(v)) for v in servers], dtype=float)
    others = server_windows.others(
        np.array(rows),
        np.array(lower),
        np.array(upper),
        np.array([solver.upper_bound(v) for v in servers]),
        most_types,
        star,
    )
    if others is None:
        return False
    for point in others:
        fixed = list(zip(servers, point.tolist(), strict=True))
        if not solver.infeasible_with(fixed, solver.time_limit * CHECK_SHARE):
            return False
    solver.fix(list(zip(servers, star.tolist(), strict=True)))
    return True


def _prefer_one_configuration(m, data: FleetData) -> None:
    """The last tie-break, for one class: a single configuration when one ties with the mixed
    fleet on every criterion (objective, capex, power, chips) — the same fleet to pay for and
    one to run. The fleets of one configuration are the presolve's closed form (fewest
    replicas, whole servers); the model's variables are set to the one chosen."""
    problem, c = data.problem, data.columns
    if len(problem.classes) != 1 or problem.sense != "minimize":
        return
    replicas = {k: round(m.replicas[k].value or 0) for k in m.K}
    if sum(1 for r in replicas.values() if r > 0) < 2:
        return
    fixed = data.problem_fixed_cost
    mixed = (
        pyo.value(expression(m, problem.objective)) * objective_scale(data),
        *(pyo.value(expression(m, name)) for name in ("capex", "power", "chips")),
    )
    one = columns_mod.single_configuration_fleets(problem, c)
    reps, n_servers = one["replicas"], one["servers"]
    capex = np.array([data.server_capex[int(ty)] for ty in c.chip]) * n_servers + fixed
    power = np.array([data.server_power[int(ty)] for ty in c.chip]) * n_servers
    single = (one["value"], capex, power, one["chips"])
    tied = np.ones(len(c), dtype=bool)
    for a, b in zip(single, mixed, strict=True):
        tied &= np.abs(a - b) <= TIE_TOL * max(abs(b), 1.0)
    if not tied.any():
        return
    k = int(np.flatnonzero(tied)[0])
    for kk in m.K:
        m.replicas[kk].set_value(int(reps[k]) if kk == k else 0)
    for ty in m.C:
        m.servers[ty].set_value(int(n_servers[k]) if ty == int(c.chip[k]) else 0)
    if hasattr(m, "use"):
        for kk in m.K:
            m.use[kk].set_value(1 if kk == k else 0)
    if hasattr(m, "adopt"):
        for ty in m.C:
            m.adopt[ty].set_value(1 if ty == int(c.chip[k]) else 0)


def _same(a: str, b: str) -> bool:
    """Objectives that are the same quantity (TCO and $/Mtoken differ by a constant)."""
    return {a, b} <= {"tco", "cost_per_mtoken"}


def answer(data: FleetData, out: dict, start: float, proven: bool, gap: float) -> dict[str, Any]:
    """The JSON record of a solved master problem (see `Solution` and the README); `proven`:
    HiGHS proved it optimal, else it stopped at the time limit with this `gap`."""
    problem = data.problem
    rows = recheck.fleet_rows(data, out["replicas"])
    tot = recheck.totals(data, rows, out["servers"])
    res = recheck.residuals(data, rows, tot)
    if not recheck.passed(res):
        bad = {k: v for k, v in res.items() if not v >= -recheck.TOLERANCE}
        raise RecheckError(f"re-check by the forward model failed: {bad}")
    value = recheck.objective_value(data, tot)
    milp = out["objective_model_value"] * objective_scale(data)
    if abs(milp - value) > VERIFY_TOL * max(abs(value), 1.0):
        raise RecheckError(
            f"re-check by the forward model failed: the MILP's objective {milp:.9g} differs "
            f"from the re-checked fleet's {value:.9g}"
        )
    fleet = [_fleet_row(r) for r in rows]
    single = len(rows) == 1
    if single:
        design = rows[0]["design"]
        metrics = {
            **rows[0]["metrics"],
            **{k: tot[k] for k in ("capex_usd", "power_w", "tco_usd_per_year")},
            "cost_per_mtoken_usd": tot["cost_per_mtoken_usd"],
            "servers": tot["servers"],
        }
    else:
        design, metrics = None, None
    return {
        "status": "optimal" if proven else "feasible",
        "objective": {
            "name": problem.objective,
            "sense": problem.sense,
            "value": value,
            "unit": OBJECTIVE_UNITS[problem.objective],
        },
        "mip_gap": gap,
        "design": design,
        "metrics": metrics,
        "fits": all(r["fits"] for r in rows),
        "bottleneck": rows[0]["bottleneck"] if single else None,
        "fleet": fleet,
        "totals": tot,
        "binding": recheck.binding(data, rows, res),
        "residuals": res,
        "recheck": "passed",
        "candidates": len(data.columns),
        "presolve": _stats(problem, data.columns),
        "excluded": _excluded(problem, data.columns),
        "inputs": inputs(problem),
        "assumptions": problem.workload.describe(),
        "profiles": profiles_used(problem, [r["design"]["chip"] for r in rows]),
        "solve_seconds": time.perf_counter() - start,
    }


def _fleet_row(r: dict[str, Any]) -> dict[str, Any]:
    d, m = r["design"], r["metrics"]
    return {
        "class": r["class"],
        "phase": r["phase"],
        **{k: d[k] for k in ("chip", "memory", "tp", "pp", "ep", "attention", "batch", "replicas")},
        "servers": m["servers"],
        "chips": d["chips"],
        "users_served": r["users_served"],
        "capacity_users": r["capacity"],
        "tokens_per_s_per_user": m["tokens_per_s_per_user"],
        "tokens_per_s_per_user_low": m["tokens_per_s_per_user_low"],
        "tokens_per_s_per_user_high": m["tokens_per_s_per_user_high"],
        "interval": r["interval"],
        **(
            {"guaranteed_tokens_per_s_per_user": m["guaranteed_tokens_per_s_per_user"]}
            if "guaranteed_tokens_per_s_per_user" in m
            else {}
        ),
        "system_tokens_per_s": m["system_tokens_per_s"],
        "step_time_s": m["step_time_s"],
        "memory_time_s": m["memory_time_s"],
        "compute_time_s": m["compute_time_s"],
        "sync_time_s": m["sync_time_s"],
        "overhead_time_s": m["overhead_time_s"],
        "memory_per_chip_bytes": m["memory_per_chip_bytes"],
        "kv_per_chip_bytes": m.get("kv_per_chip_bytes"),
        "usable_memory_per_chip_bytes": m["usable_memory_per_chip_bytes"],
        "bottleneck": r["bottleneck"],
        "batch_limited_by": r["limited_by"],
        **{k: m[k] for k in REPLICA_METRICS},
        # the loaded TTFT's 80% interval (null where the row has no TTFT; `ttft_interval`)
        **{k: m.get(k) for k in TTFT_ENDS},
        **(
            {"guaranteed_ttft_p90_s": m["guaranteed_ttft_p90_s"]}
            if "guaranteed_ttft_p90_s" in m
            else {}
        ),
        "ttft_interval": r.get("ttft_interval"),
    }


def _stats(problem: Problem, cols: columns_mod.Columns) -> dict[str, Any]:
    if len(problem.classes) == 1:
        return dict(cols.stats[0])
    return {wc.name: dict(s) for wc, s in zip(problem.classes, cols.stats, strict=True)}


def _excluded(problem: Problem, cols: columns_mod.Columns) -> list[dict[str, str]]:
    """Every chip of the catalog that is not in the answer's search, and why."""
    out = [{"chip": c, "reason": why} for c, why in problem.left_out]
    out += [{"chip": c, "reason": why} for c, why in cols.excluded]
    return out


def _single_configuration(problem: Problem, cols, record: dict) -> dict[str, Any] | None:
    """The best one-configuration fleet and what the answer saves against it (one class)."""
    if len(problem.classes) != 1 or problem.sense != "minimize":
        return None
    if problem.max_configurations == 1 or len(record["fleet"]) == 1:
        return {
            "objective": record["objective"]["value"],
            "design": record["design"],
            "saving": 0.0,
        }
    values = columns_mod.single_configuration_values(problem, cols)
    if not len(values) or not np.isfinite(values.min()):
        return {"objective": None, "design": None, "saving": None}
    k = int(np.argmin(values))
    need = columns_mod.class_needs(problem)[0]
    reps = int(columns_mod.replicas_to_serve(need, cols.serves[k]))
    single = float(values[k])
    return {
        "objective": single,
        "design": {
            "chip": cols.chip_types[int(cols.chip[k])].chip,
            "tp": int(cols.t[k]),
            "pp": int(cols.p[k]),
            "replicas": reps,
            "chips": reps * int(cols.chips[k]),
        },
        "saving": 1.0 - record["objective"]["value"] / single if single else 0.0,
    }


def _infeasible(problem: Problem, cols, start: float) -> InfeasibleError:
    reason, best = explain(problem, solve, cols)
    err = InfeasibleError(f"infeasible: {reason}")
    err.record = {
        "status": "infeasible",
        "explanation": reason,
        "best_achievable": best,
        "objective": {
            "name": problem.objective,
            "sense": problem.sense,
            "value": None,
            "unit": OBJECTIVE_UNITS[problem.objective],
        },
        "candidates": len(cols),
        "presolve": _stats(problem, cols),
        "excluded": _excluded(problem, cols),
        "inputs": inputs(problem),
        "solve_seconds": time.perf_counter() - start,
    }
    return err

"""`designer solve`: presolve → Pyomo MILP → HiGHS → re-check with the forward model.

The answer is the JSON contract of design.md §3. Every optimum is re-evaluated by `perf`
(numpy) and the residual of every requirement is reported; the objective value reported is the
re-checked one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo

from designer import formulation
from designer.errors import InfeasibleError, SolverLimitError
from designer.evaluate import Design, assess
from designer.explain import explain
from designer.problem import OBJECTIVE_UNITS, Problem
from designer.solver import Solver
from designer.space import (
    Candidates,
    grid,
    mtokens_per_year_per_user,
    presolve,
    screen,
    units_to_serve,
)

RESIDUAL_TOL = 1e-9
DINKELBACH_MAX_ITER = 30


@dataclass
class Solution:
    """A solved problem: the JSON record plus the objects behind it."""

    record: dict[str, Any]
    candidates: Candidates | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.record["status"]

    @property
    def design(self) -> dict[str, Any]:
        return self.record["design"]

    @property
    def metrics(self) -> dict[str, Any]:
        return self.record["metrics"]

    @property
    def objective(self) -> float:
        return self.record["objective"]["value"]


def objective_value(problem: Problem, record: dict[str, Any]) -> float:
    """The objective of a re-checked design, in SI units (USD, W, USD/year, USD/Mtoken, chips)."""
    m = record["metrics"]
    if problem.objective == "cost_per_mtoken":
        return m["tco_usd_per_year"] / (m["users_served"] * mtokens_per_year_per_user(problem))
    key = {"capex": "capex_usd", "power": "power_w", "tco": "tco_usd_per_year"}
    if problem.objective == "chips":
        return float(record["design"]["chips"])
    return m[key[problem.objective]]


def residuals(problem: Problem, record: dict[str, Any]) -> dict[str, float]:
    """Relative slack of every requirement (≥ 0 when met), from the forward model."""
    m = record["metrics"]
    r = {
        "user-rate": m["tokens_per_s_per_user"] / problem.target_utps - 1.0,
        "memory-capacity": 1.0 - m["memory_per_chip_bytes"] / m["usable_memory_per_chip_bytes"],
        "demand": m["users_served"] / problem.users - 1.0,
        "max-batch": 1.0 - record["design"]["batch"] / problem.max_batch,
    }
    if problem.max_chips:
        r["chips-limit"] = 1.0 - record["design"]["chips"] / problem.max_chips
    if problem.max_power is not None:
        r["power-limit"] = 1.0 - m["power_w"] / problem.max_power
    if problem.max_capex_usd is not None:
        r["capex-limit"] = 1.0 - m["capex_usd"] / problem.max_capex_usd
    return r


def binding(problem: Problem, design: Design, res: dict[str, float]) -> list[str]:
    """Requirements with no slack, and those that keep the design from being smaller: what a
    batch one larger would break (for cost_per_mtoken, whose optimum fills the batch), and what
    the batch that one replica fewer would need breaks."""
    out = {k for k, v in res.items() if abs(v) <= 1e-6 and k != "max-batch"}
    trials = []
    if problem.objective == "cost_per_mtoken":
        trials.append(design.batch + 1)
    if design.replicas > 1:
        trials.append(int(units_to_serve(problem.users, (design.replicas - 1) * design.pp)))
    for batch in trials:
        if batch > problem.max_batch:
            out.add("max-batch")
            continue
        trial = assess(
            problem.workload, problem.catalog, Design(design.chip, design.tp, design.pp, batch)
        )
        if trial["metrics"]["tokens_per_s_per_user"] < problem.target_utps:
            out.add("user-rate")
        if not trial["fits"]:
            out.add("memory-capacity")
    return sorted(out)


def _infeasible(problem: Problem, cands: Candidates, seconds: float) -> InfeasibleError:
    reason, best = explain(problem)
    err = InfeasibleError(f"infeasible: {reason}")
    err.record = {
        "status": "infeasible",
        "explanation": reason,
        "best_achievable": best,
        "objective": {
            "name": problem.objective,
            "value": None,
            "unit": OBJECTIVE_UNITS[problem.objective],
        },
        "candidates": len(cands),
        "presolve": cands.stats,
        "solve_seconds": seconds,
    }
    return err


def solve(problem: Problem, *, prune: bool = True, time_limit: float = 60.0) -> Solution:
    """The optimal design of `problem`, proven by HiGHS and re-checked by the forward model.

    Raises InfeasibleError (with `.record` holding the explanation) when no design qualifies,
    SolverLimitError when HiGHS stops on its time limit with no feasible design.
    """
    start = time.perf_counter()
    cands = presolve(problem, prune=prune)
    if len(cands) == 0:
        raise _infeasible(problem, cands, time.perf_counter() - start)
    model = formulation.build(cands)
    return _solve_model(problem, cands, model, Solver(time_limit=time_limit), start)


class Resolver:
    """One persistent model for what-if studies: `solve(changes)` moves Params (targets,
    users' rates, catalog values, limits) and re-solves without rebuilding; candidates the
    presolve rules out at a point are fixed off. A change of the design space's shape
    (chips, tp, pp, users, max_batch, objective, which limits exist) rebuilds the model.
    """

    def __init__(self, problem: Problem, *, prune: bool = True, time_limit: float = 60.0):
        self.base = problem
        self.prune = prune
        self.solver = Solver(time_limit=time_limit)
        self.model = None
        self.rebuilds = 0

    def solve(self, changes: dict[str, Any] | None = None) -> Solution:
        start = time.perf_counter()
        problem = self.base.with_changes(changes) if changes else self.base
        cands = grid(problem)
        active = screen(cands, prune=self.prune)
        if not active.any():
            raise _infeasible(problem, cands.subset(active), time.perf_counter() - start)
        if self.model is None or self.model.structure != formulation.structure(cands):
            self.model = formulation.build(cands)
            self.solver = Solver(time_limit=self.solver.time_limit)
            self.rebuilds += 1
        formulation.update(self.model, cands, active)
        sol = _solve_model(problem, cands, self.model, self.solver, start)
        sol.record["candidates"] = int(active.sum())
        return sol


def _solve_model(
    problem: Problem, cands: Candidates, model, solver: Solver, start: float
) -> Solution:
    if problem.objective == "cost_per_mtoken":
        model.ratio.set_value(0.0)  # a persistent model keeps the last point's λ
    st = solver.solve(model)
    if problem.objective == "cost_per_mtoken" and st.has_solution:
        st = _dinkelbach(model, solver, st)
    if st.status == "infeasible" or (not st.has_solution and st.status == "optimal"):
        raise _infeasible(problem, cands, time.perf_counter() - start)
    if not st.has_solution:
        raise SolverLimitError(
            f"solver stopped ({st.message}) after {st.seconds:.1f} s with no "
            f"feasible design; raise the time limit or narrow [space]"
        )
    solver.load()
    k, batch, replicas = formulation.chosen(model)
    if problem.objective == "cost_per_mtoken":
        # $/Mtoken does not depend on the replica count; keep the smallest system serving all.
        replicas = int(cands.min_replicas(batch)[k])
    else:
        # Ties: the same replicas serve the users with the smallest batch that suffices, which
        # only lowers step time and memory (both grow with the batch).
        batch = int(units_to_serve(problem.users, replicas * cands.p[k]))
    design = Design(str(cands.chip[k]), int(cands.t[k]), int(cands.p[k]), batch, replicas)
    record = assess(problem.workload, problem.catalog, design)
    res = residuals(problem, record)
    value = objective_value(problem, record)
    seconds = time.perf_counter() - start
    record = {
        "status": st.status if st.status == "optimal" else "feasible",
        "objective": {
            "name": problem.objective,
            "value": value,
            "unit": OBJECTIVE_UNITS[problem.objective],
        },
        "mip_gap": st.gap if st.gap is not None else 0.0,
        **record,
        "binding": binding(problem, design, res),
        "residuals": res,
        "recheck": "passed" if min(res.values()) >= -RESIDUAL_TOL else "failed",
        "candidates": len(cands),
        "presolve": cands.stats,
        "solver": {
            "incumbent": st.incumbent,
            "bound": st.bound,
            "seconds": st.seconds,
            "termination": st.message,
        },
        "solve_seconds": seconds,
    }
    return Solution(record, cands)


def _dinkelbach(model, solver: Solver, st):
    """min tco_k / Mtokens_k: solve min TCO − λ·Mtokens (one replica), set λ to the ratio found,
    until the parametric optimum is 0 (Dinkelbach, 1967); each step strictly lowers λ."""
    for _ in range(DINKELBACH_MAX_ITER):
        solver.load()
        ratio = pyo.value(model.replica_tco) / pyo.value(model.replica_mtokens)
        if (
            pyo.value(model.ratio) > 0
            and st.incumbent is not None
            and st.incumbent >= -1e-9 * max(pyo.value(model.replica_tco), 1e-9)
        ):
            break
        model.ratio.set_value(ratio)
        st = solver.solve(model)
        if not st.has_solution:
            break
    return st

"""Solving a synthesis problem (`designer.optimize.synthesis` opens the design space): the
fleet MILP over every kept design, or for a portfolio of several workload classes an exact
search over design sets in the order of a lower bound; and `annotate(problem, record)`, the
answer's `synthesis` block — the chosen chip(s) with their area, cost and power breakdown, what
binds, and the runner-up design per memory technology.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from designer.model.errors import InfeasibleError, SolverLimitError
from designer.optimize.synthesis import HYPOTHETICAL, Synthesis, binds, describe

RUNNER_UP_SECONDS = 5.0  # time limit of each runner-up solve (status says if not proven)


def annotate(problem: Any, record: dict[str, Any], *, runner_ups: bool = True) -> dict[str, Any]:
    """The `synthesis` block of a solved synthesis problem's answer (also stored in `record`)."""
    syn: Synthesis = problem.synthesis
    chosen = list(dict.fromkeys(r["chip"] for r in record.get("fleet", [])))
    # a chip's binds are its decode step's: a prefill row's bound is its prompt's pass
    rows = {r["chip"]: r for r in record.get("fleet", []) if r.get("phase") != "prefill"}
    block: dict[str, Any] = {
        "hypothetical": True,
        "note": HYPOTHETICAL,
        "profile": problem.profile or "limit",
        "memory": list(syn.spec.memory),
        "node": syn.spec.node,
        "designs_enumerated": syn.enumerated,
        "designs_feasible": syn.feasible,
        "designs_kept": len(syn.chips),
        "presets": list(syn.presets),
        "max_designs": syn.max_designs,
        "tape_out_usd": syn.tape_out_usd,
        "interconnect": syn.interconnect,
        "chosen": [
            {**describe(syn, c), "binds": binds(syn, c, rows.get(c))}
            for c in chosen
            if c in syn.chips
        ],
        "seconds": syn.seconds,
    }
    if runner_ups:
        t0 = time.perf_counter()
        block["runner_up"] = runner_up(problem, record, chosen)
        block["runner_up_seconds"] = time.perf_counter() - t0
    record["synthesis"] = block
    return block


def runner_up(problem: Any, record: dict[str, Any], chosen: list[str]) -> dict[str, Any]:
    """The best answer per memory technology with one design of that technology (the chosen
    designs left out, so the chosen technology shows its second-best design)."""
    syn: Synthesis = problem.synthesis
    out: dict[str, Any] = {}
    for ti, m in enumerate(syn.spec.memory):
        chips = tuple(
            c
            for c, t in zip(syn.chips, syn.designs.tech, strict=True)
            if int(t) == ti and c not in chosen
        )
        if not chips:
            out[m] = {"status": "no other design", "chip": None}
            continue
        sub = dataclasses.replace(problem, chips=chips, max_chip_types=1)
        try:
            sol = solve(
                sub, with_sensitivity=False, compare_single=False, time_limit=RUNNER_UP_SECONDS
            )
        except InfeasibleError as exc:
            out[m] = {"status": "infeasible", "chip": None, "reason": str(exc).split("\n")[0]}
            continue
        except SolverLimitError:
            out[m] = {"status": f"no design found in {RUNNER_UP_SECONDS:g} s", "chip": None}
            continue
        used = list(dict.fromkeys(r["chip"] for r in sol.fleet))
        out[m] = {
            "status": sol.status,
            "chip": used[0] if len(used) == 1 else used,
            "objective": sol.objective,
            "vs_chosen": sol.objective / record["objective"]["value"]
            if record["objective"]["value"]
            else None,
            "design": describe(syn, used[0]) if used and used[0] in syn.chips else None,
        }
    return out


def answer(problem: Any, *, runner_ups: bool = True, **options: Any) -> Any:
    """What `designer solve` answers for any problem: `solve`, and for a synthesis problem
    the `synthesis` block in the record (`annotate`; `runner_ups=False` skips the solve per
    memory technology, which a study point does not need)."""
    sol = solve(problem, **options)
    if problem.synthesis is not None:
        annotate(problem, sol.record, runner_ups=runner_ups)
    return sol


MAX_SETS = 200_000  # design sets enumerated for the bound search (more: the whole MILP)


def solve(problem: Any, *, time_limit: float = 60.0, **options: Any) -> Any:
    """The optimum of a synthesis problem. One workload class: the fleet MILP over every kept
    design at once. Several classes (a portfolio of at most `max_designs` designs): the
    fleet MILP over one design set at a time, in the order of a lower bound, until the bound
    reaches the best fleet found — exact, and faster than one MILP whose chip-type binaries
    have loose server bounds (`design_sets`)."""
    from designer.optimize.solve import solve as fleet_solve

    k = problem.max_chip_types
    if (
        problem.synthesis is None
        or len(problem.classes) == 1
        or problem.sense != "minimize"
        or k is None
        or _n_sets(len(problem.chips), k) > MAX_SETS
    ):
        return fleet_solve(problem, time_limit=time_limit, **options)
    return design_sets(problem, time_limit=time_limit, **options)


def _n_sets(n: int, k: int) -> int:
    from math import comb

    return sum(comb(n, s) for s in range(1, min(k, n) + 1))


def class_bounds(problem: Any) -> np.ndarray:
    """lb[j, d]: a lower bound of what serving class j with design d alone adds to the
    objective: its demand (`WorkloadClass.need`) × the lowest share of whole servers per user
    served (`Columns.serves`) of d's columns for j (inf where d cannot serve j). Whole servers
    and other classes only add."""
    from designer.optimize import columns as cm

    cols = cm.build(problem)
    share = cm.objective_share(problem, cols)
    rho = np.full((len(problem.classes), len(problem.chips)), np.inf)
    per = share / np.where(cols.serves > 0, cols.serves, 1.0)
    np.minimum.at(rho, (cols.cls, cols.chip), np.where(cols.serves > 0, per, np.inf))
    return rho * cm.class_needs(problem)[:, None]


def fixed_cost(problem: Any) -> float:
    """What one adopted design adds to the objective (its tape-out)."""
    from designer.optimize import columns as cm

    f = problem.chip_type_fixed_cost_usd
    years = problem.catalog.costs.amortization_years
    per = {"capex": f, "tco": f / years, "cost_per_mtoken": f / years}.get(problem.objective, 0.0)
    if problem.objective == "cost_per_mtoken":
        per /= cm.demanded_mtokens_per_year(problem)
    return per


def design_sets(problem: Any, *, time_limit: float = 60.0, **options: Any) -> Any:
    """Exact search over design sets of at most `max_chip_types` designs: each set's bound
    Σ_j min_{d∈S} lb[j, d] + |S|·tape-out (`class_bounds`); sets are solved by the fleet MILP
    in bound order until the next bound is no better than the best fleet. The answer is the
    best set's, re-solved with `options`, with the search in `record["design_sets"]`."""
    from itertools import combinations

    from designer.optimize.solve import solve as fleet_solve

    start = time.perf_counter()
    each = {k: v for k, v in options.items() if k == "prune"}  # every set's solve, as the last
    lb = class_bounds(problem)
    usable = np.flatnonzero(np.isfinite(lb).any(axis=0))
    k = min(problem.max_chip_types, len(usable))
    sets = [s for size in range(1, k + 1) for s in combinations(usable.tolist(), size)]
    fixed = fixed_cost(problem)
    bounds = np.array([lb[:, list(s)].min(axis=1).sum() + fixed * len(s) for s in sets])
    order = [i for i in np.argsort(bounds, kind="stable") if np.isfinite(bounds[i])]
    best, best_set, solved, proven = np.inf, None, 0, True
    for i in order:
        if bounds[i] >= best * (1 - 1e-9):
            break
        left = time_limit - (time.perf_counter() - start)
        if left <= 0:
            proven = False
            break
        chips = tuple(problem.chips[d] for d in sets[i])
        sub = dataclasses.replace(problem, chips=chips)
        solved += 1
        try:
            sol = fleet_solve(
                sub, time_limit=left, with_sensitivity=False, compare_single=False, **each
            )
        except InfeasibleError:
            continue
        except SolverLimitError:  # stopped with no fleet: the set is not ruled out
            proven = False
            continue
        proven &= sol.status == "optimal"
        if sol.objective < best:
            best, best_set = sol.objective, chips
    if best_set is None:
        left = max(time_limit - (time.perf_counter() - start), 1.0)
        return fleet_solve(problem, time_limit=left, **options)
    left = max(time_limit - (time.perf_counter() - start), 1.0)
    sol = fleet_solve(dataclasses.replace(problem, chips=best_set), time_limit=left, **options)
    sol.record["design_sets"] = {
        "method": "fleet MILP per design set, in lower-bound order (exact)",
        "designs": len(problem.chips),
        "sets": len(sets),
        "sets_solved": solved,
        "best_set": list(best_set),
        "proven": bool(proven),
    }
    if not proven:
        sol.record["status"] = "feasible"
    sol.record["solve_seconds"] = time.perf_counter() - start
    return sol

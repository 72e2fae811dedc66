"""Why a problem has no solution, and the best value reachable in its design space within its
limits: for each workload class, in order, whether its weights fit anywhere, whether a replica
the limits allow meets each per-configuration requirement (`features.PER_CONFIGURATION`, each its
`explain` face: the rate, the TTFT, the KV transfer), and otherwise how many of its users the
limits and supply let a fleet serve (the MILP's own answer to "maximize users")."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from designer.model import partition
from designer.model.errors import DesignerError
from designer.optimize import columns as cm
from designer.optimize.problem import Problem, WorkloadClass


def explain(
    problem: Problem, solve: Callable[..., Any], cols: Any = None
) -> tuple[str, dict[str, Any]]:
    """A one-paragraph reason and the best achievable values (no pruning). When chips of the
    space were left out for their data (a missing number, or an estimated price with
    space.include_estimated = false), not their physics, the reason names them and whether the
    question is feasible with them. `solve` is the fleet solve (`designer.optimize.solve`),
    passed in by its caller so that this module does not import it back; `cols`, the solve's
    columns, tell a class no configuration serves though each requirement alone is met."""
    for wc in problem.classes:
        found = _explain_class(problem, wc)
        if found is not None:
            return _with_data_causes(problem, solve, *found)
    for j, wc in enumerate(problem.classes):
        if cols is not None and not (cols.cls == j).any():  # asking `solve` again would loop
            return _with_data_causes(problem, solve, *_no_configuration(problem, wc))
    return _with_data_causes(problem, solve, *_explain_limits(problem, solve))


def _no_configuration(problem: Problem, wc: WorkloadClass) -> tuple[str, dict[str, Any]]:
    """A class no configuration serves though the checks of `_explain_class` (each judged
    alone, the rate at batch 1 of the decode step) pass: the requirements together, or what
    those checks leave out — in aggregated serving the prompt chunks each step carries; under
    `best`, those or a decode pool's KV transfer (whose check runs for disaggregated serving
    only)."""
    mode = wc.serving.mode if wc.serving is not None else None
    left_out = {
        "aggregated": "the prompt chunks each aggregated step also carries",
        "best": "the prompt chunks each aggregated step also carries, or the KV transfer to "
        "a decode pool",
    }.get(mode or "")
    why = f": the checks at batch 1 leave out {left_out}" if left_out else ""
    best: dict[str, Any] = {}
    if left_out and _rate_with_prompts(problem, wc, best):
        d = best["max_tokens_per_s_per_user_with_prompts_design"]
        idle = best.get("max_tokens_per_s_per_user_without_load")
        turnover = " at its own users' turnover" if idle is not None else ""
        why += (
            f" (with them an aggregated replica reaches at most "
            f"{best['max_tokens_per_s_per_user_with_prompts']:.4g} tokens/s per user at batch "
            f"1{turnover}: {d['chip']}, tp={d['tp']}, pp={d['pp']}"
        )
        if idle is not None:  # a request rate: a lighter load comes closer, never there
            why += (
                f"; one carrying less of the rate comes closer to {idle:.6g}, reached with no load"
            )
        why += ")"
    return (
        f"{_prefix(problem, wc)}no configuration of the space meets every requirement at "
        f"{wc.target_utps:g} tokens/s per user at once{why}; lower the rate or widen the space"
    ), best


def _rate_with_prompts(problem: Problem, wc: WorkloadClass, best: dict[str, Any]) -> bool:
    """The highest rate an aggregated replica of the space reaches at batch 1 with the prompt
    chunks its own users bring (1/TPOT at that load, `columns.phase_metrics`; at the slow end
    under a confidence), among those that hold the weights within the limits: put in `best`
    (`max_tokens_per_s_per_user_with_prompts` and its design); False when none qualifies.
    Where a replica may carry less than its own users' turnover (`Candidates.part_loaded`: a
    request rate) also the rate with no load at all, which no positive load reaches
    (`max_tokens_per_s_per_user_without_load`)."""
    from designer.optimize.candidates import describe
    from designer.optimize.features import rate

    g = cm.grid(problem, wc)
    valid = _valid(wc, g, np.isfinite(g.hw["flops"]))
    m1 = g.metrics(wc, np.ones(len(g)))
    idx = np.flatnonzero(_within_limits(problem, wc, g, valid, m1)[1])
    if not len(idx):
        return False
    one = np.ones(len(idx))
    c = cm.Candidates(problem, wc, g, "aggregated")
    slow = rate.slow_factor(g, one, idx)
    at_1 = {k: v[idx] for k, v in m1.items()}
    m = cm.phase_metrics(c, one, idx, at_1)
    reach = 1.0 / (m["tpot_s"] * slow)
    i = int(np.argmax(reach))
    best["max_tokens_per_s_per_user_with_prompts"] = float(reach[i])
    best["max_tokens_per_s_per_user_with_prompts_design"] = describe(problem, g, int(idx[i]), 1)
    if c.part_loaded:
        idle = cm.phase_metrics(c, one, idx, at_1, 0.0)
        best["max_tokens_per_s_per_user_without_load"] = float(
            (1.0 / (idle["tpot_s"] * slow)).max()
        )
    return True


def data_exclusions(problem: Problem) -> list[tuple[str, str]]:
    """(chip, why) for every chip of the space its cost data keeps out of this question."""
    costs = cm.problem_costs(problem)
    out = [(cc.chip, cm.missing_cost_data(problem, cc)) for cc in costs]
    return [(c, why) for c, why in out if why is not None]


def _with_data_causes(
    problem: Problem, solve: Callable[..., Any], reason: str, best: dict
) -> tuple[str, dict]:
    left = data_exclusions(problem)
    if not left:
        return reason, best
    # `solve`: the same question with the estimates admitted

    best["left_out_for_data"] = [{"chip": c, "reason": w} for c, w in left]
    estimated = [c for c, w in left if cm.ESTIMATED in w]
    missing = [c for c, w in left if cm.ESTIMATED not in w]
    parts = []
    if missing:
        parts.append(
            f"{', '.join(missing)} {'lacks' if len(missing) == 1 else 'lack'} a cost number "
            "the question needs (see excluded; add it to the catalog or with --set)"
        )
    if estimated:
        try:
            with_them = solve(
                dataclasses.replace(problem, include_estimated=True),
                with_sensitivity=False,
                compare_single=False,
            )
        except (DesignerError, ValueError):
            with_them = None
        best["feasible_with_estimates"] = with_them is not None
        one = len(estimated) == 1
        text = (
            f"{', '.join(estimated)} {'is' if one else 'are'} left out because "
            f"{'its price is an estimate' if one else 'their prices are estimates'}"
            + (" ($/h, renting)" if problem.cost_basis.basis == "rent" else "")
        )
        if with_them is not None:
            chips = ", ".join(sorted({r["chip"] for r in with_them.fleet}))
            text += (
                f"; with them it is feasible (a fleet of {chips}): set "
                "space.include_estimated = true"
            )
        else:
            text += " (it stays infeasible with them)"
        parts.append(text)
    return f"{reason}. Data, not physics: {'; '.join(parts)}", best


def _prefix(problem: Problem, wc: WorkloadClass) -> str:
    return f"class {wc.name!r}: " if len(problem.classes) > 1 else ""


def _explain_class(problem: Problem, wc: WorkloadClass) -> tuple[str, dict] | None:
    wl = wc.workload
    g = cm.grid(problem, wc)
    pre = _prefix(problem, wc)
    best: dict[str, Any] = {}
    rated = np.isfinite(g.hw["flops"])
    if not rated.any():
        return (
            f"{pre}no chip of the space has a compute rate for {wl.compute_dtype} or a wider "
            f"dtype (set workload.weight_dtype, or add the rate to the catalog)"
        ), best
    valid = _valid(wc, g, rated)
    if not valid.any():
        return (
            f"{pre}no (tp, pp) of the space is a partition of {wl.model.id} "
            f"({wl.model.num_attention_heads} heads, {wl.layers} layers): tp must divide the "
            f"heads and pp be at most the layers"
        ), best
    m1 = g.metrics(wc, np.ones(len(g)))
    early = [f for f in cm.requirements() if f.STAGE == cm.CLASS_STAGE]
    for f in early:  # what does not depend on the phase: the weights fit
        found = f.explain(problem, wc, g, np.flatnonzero(valid), m1, best)
        if found is not None:
            return f"{pre}{found}", best
    fits, allowed = _within_limits(problem, wc, g, valid, m1)
    limited = bool(problem.limits or problem.supply) and (allowed != fits).any()
    if not allowed.any():
        return (
            f"{pre}no single replica that holds the weights stays within the limits "
            f"({_limits_text(problem)})"
        ), best
    within = f" within the limits ({_limits_text(problem)})" if limited else ""
    for f in cm.requirements():  # the rate, the TTFT, the KV transfer, in registry order
        if f.STAGE != cm.CLASS_STAGE:
            found = f.explain(problem, wc, g, np.flatnonzero(allowed), m1, best, within)
            if found is not None:
                return f"{pre}{found}", best
    known = cm.cost_known(problem, cm.problem_costs(problem))
    fast = m1["tokens_per_s_per_user"] >= wc.target_utps * (1 - cm.REL)
    if not (known[g.chip] & allowed & fast).any():
        if (known[g.chip] & fits & fast).any():  # the limits, not the data, rule them out
            return (
                f"{pre}every chip with the cost data the objective {problem.objective!r} needs "
                f"exceeds the limits ({_limits_text(problem)}) with one replica that meets the "
                f"rate; the chips within them have no such data (check the limits' units)"
            ), best
        return (
            f"{pre}no chip that meets the rate has the cost data the objective "
            f"{problem.objective!r} or a limit needs"
        ), best
    return None


def _valid(wc: WorkloadClass, g, rated: np.ndarray) -> np.ndarray:
    """The candidates of `g` that are `rated` and partition the class's model."""
    return rated & partition.valid(wc.workload.model, g.t, g.p, g.attention)


def _within_limits(problem: Problem, wc: WorkloadClass, g, valid, m1: dict) -> tuple:
    """(fits, allowed): the candidates `valid` that hold the weights and one user's KV at batch
    1 (`m1`), and of those the ones whose single replica stays within the limits."""
    fits = valid & cm.fits_at_batch_1(cm.Candidates(problem, wc, g, None), m1)
    return fits, fits & ~cm.over_limits(problem, cm.problem_costs(problem), g.chip, g.t * g.p)


def _limits_text(problem: Problem) -> str:
    parts = []
    for key, v in problem.limits.items():
        if key in ("max_power", "max_facility_power"):
            parts.append(f"{key} = {v / 1e3:g} kW" if v >= 1e3 else f"{key} = {v:g} W")
        elif key == "max_capex_usd":
            parts.append(f"{key} = {v:,.0f}" if v >= 100 else f"{key} = {v:g}")
        else:
            parts.append(f"{key} = {v}")
    parts += [f"supply.{c} = {n}" for c, n in problem.supply if c in problem.chips]
    return ", ".join(parts) or "none"


def _explain_limits(problem: Problem, solve: Callable[..., Any]) -> tuple[str, dict[str, Any]]:
    """The rate is reachable for every class: the limits, supply or fleet caps stop the
    demand. Answer with the most users of the first class that cannot be served whole
    (`solve`: the same MILP, asked the dual question; a class asking for a request rate is
    passed over when it fits alone, `_fits_alone`), else say the classes do not fit together.
    A disaggregated class under `fleet.max_configurations = 1` is said first
    (`_two_pools_over_the_cap`)."""

    best: dict[str, Any] = {}
    split = _two_pools_over_the_cap(problem)
    if split is not None:
        return split, best
    for j, wc in enumerate(problem.classes):
        if wc.by_requests and len(problem.classes) > 1 and _fits_alone(problem, wc, solve):
            continue  # served in requests/s: the most users says nothing of it (below)
        classes = tuple(
            dataclasses.replace(w, users=None) if i == j else w
            for i, w in enumerate(problem.classes)
        )
        ask = dataclasses.replace(
            problem, classes=classes[j : j + 1], sense="maximize", objective="users"
        )
        try:
            most = solve(ask, with_sensitivity=False, compare_single=False)
        except (DesignerError, ValueError):
            continue
        served = int(most.totals["users_served"])
        if served >= (wc.users or 0):
            continue
        rows = most.fleet
        best["max_users_within_limits"] = served
        best["max_users_within_limits_fleet"] = [
            {k: r[k] for k in ("chip", "tp", "pp", "batch", "replicas", "users_served")}
            for r in rows
        ]
        capped = rows and all(r["batch_limited_by"] == "max-batch" for r in rows)
        hint = (
            f"; every configuration is at space.max_batch = {problem.max_batch}, raise it to "
            f"serve more"
            if capped
            else ""
        )
        within = f"within the limits ({_limits_text(problem)}{_fleet_caps(problem)})"
        if wc.by_requests:  # asked in requests/s: at least what that fleet turns over
            # (aggregated rows at their own TPOT, a decode pool's users at the SLA rate)
            turned = float(most.totals["requests_per_s"])
            best["requests_per_s_within_limits"] = turned
            alone = len(problem.classes) > 1  # the other classes' chips are not counted
            said = (
                f"alone within them, the fleet holding the most users of this class, {served}, "
                f"turns over at least {turned:.4g} requests/s"
                if alone
                else f"at least {turned:.4g} requests/s fit (the fleet holding the most users, "
                f"{served}, turns them over)"
            )
            return (
                f"{_prefix(problem, wc)}{wc.serving.requests_per_s:g} requests/s at "
                f"{wc.target_utps:g} tokens/s per user do not fit {within}: {said}{hint}"
            ), best
        return (
            f"{_prefix(problem, wc)}{wc.users} concurrent users at {wc.target_utps:g} "
            f"tokens/s each do not fit {within}: at most {served} users can be served{hint}"
        ), best
    return (
        f"the classes together do not fit within the limits ({_limits_text(problem)}"
        f"{_fleet_caps(problem)})"
    ), best


def _two_pools_over_the_cap(problem: Problem) -> str | None:
    """A class served disaggregated runs a prefill and a decode pool, two configurations: with
    `fleet.max_configurations` below 2 (per class) no fleet serves it, whatever the limits."""
    cap = problem.max_configurations
    if cap is None or cap >= 2:
        return None
    for wc in problem.classes:
        if wc.serving is not None and wc.serving.mode == "disaggregated":
            return (
                f"{_prefix(problem, wc)}served disaggregated, a class runs a prefill and a "
                f"decode pool, two configurations, and fleet.max_configurations = {cap} "
                f'allows {cap}: raise it to 2 or set serving.mode = "best" or "aggregated"'
            )
    return None


def _fits_alone(problem: Problem, wc: WorkloadClass, solve: Callable[..., Any]) -> bool:
    """Whether class `wc` alone, as asked, has a fleet within the limits (`solve` of the
    problem with that class only). For a class asking for a request rate the fleet of the
    most users is not the one that turns over the most requests (a faster replica serves more
    with fewer users), so the users it holds cannot say whether the class fits."""
    try:
        solve(
            dataclasses.replace(problem, classes=(wc,)),
            with_sensitivity=False,
            compare_single=False,
        )
    except (DesignerError, ValueError):
        return False
    return True


def _fleet_caps(problem: Problem) -> str:
    caps = []
    if problem.max_configurations is not None:
        caps.append(f"fleet.max_configurations = {problem.max_configurations}")
    if problem.max_chip_types is not None:
        caps.append(f"fleet.max_chip_types = {problem.max_chip_types}")
    return (", " + ", ".join(caps)) if caps else ""

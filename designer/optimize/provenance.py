"""What produced an answer: the question, the design space, the efficiency view and the cost
assumptions, echoed in every answer (`inputs` in JSON, a footer in the table)."""

from __future__ import annotations

from typing import Any

from designer.model.workload import Efficiency
from designer.optimize.problem import Problem


def efficiency_view(eff: Efficiency) -> str:
    """The efficiency settings in words."""
    if eff.bandwidth == 1.0 and eff.compute == 1.0 and eff.overhead_per_layer == 0.0:
        return "hardware limit: 100% of peak bandwidth and compute, no software overhead"
    parts = [
        f"{eff.bandwidth:.0%} of peak bandwidth",
        f"{eff.compute:.0%} of peak compute",
        f"{eff.overhead_per_layer * 1e6:g} µs software overhead per layer",
    ]
    return "derated: " + ", ".join(parts)


def profiles_used(problem: Problem, chips) -> dict[str, dict[str, Any]]:
    """The calibration profile behind each chip's numbers, with its stated error (a software
    generation's platform numbers as for the first class's model; each fleet row's `interval`
    names the domain of its own class)."""
    from designer.calibration import profiles

    return {c: profiles.describe(profiles.for_problem(problem, c)) for c in dict.fromkeys(chips)}


def inputs(problem: Problem) -> dict[str, Any]:
    """The `inputs` object of an answer (SI units)."""
    costs = problem.catalog.costs
    eff = problem.workload.efficiency
    return {
        "problem": problem.where,
        "classes": [{**wc.describe(), **wc.workload.as_dict()} for wc in problem.classes],
        "assumptions": problem.workload.describe(),
        "objective": {"sense": problem.sense, "name": problem.objective},
        "space": {
            "chips": list(problem.chips),
            "tp": list(problem.tp),
            "pp": list(problem.pp),
            "max_batch": problem.max_batch,
        },
        "limits": problem.limits,
        "fleet": {
            "max_configurations": problem.max_configurations,
            "max_chip_types": problem.max_chip_types,
            "chip_type_fixed_cost_usd": problem.chip_type_fixed_cost_usd,
        },
        "supply": dict(problem.supply),
        "efficiency": {
            "bandwidth": eff.bandwidth,
            "compute": eff.compute,
            "overhead_per_layer_s": eff.overhead_per_layer,
            "view": efficiency_view(eff),
        },
        "costs": {
            "amortization_years": costs.amortization_years,
            "pue": costs.pue,
            "electricity_usd_per_kwh": costs.electricity_usd_per_kwh,
            "utilization": costs.utilization,
            **problem.cost_basis.describe(),
            "include_estimated": problem.include_estimated,
        },
        "overrides": dict(problem.raw.get("overrides", {})),
    }

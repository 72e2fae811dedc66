"""At most K configurations per class (`[fleet] max_configurations`): a binary y_k per column,
R_k ≤ rmax_k · y_k (`configuration_on`), Σ_{k of class j} y_k ≤ K (`configurations`)."""

from __future__ import annotations

from designer.optimize.data import FleetData
from designer.optimize.modeling import pyo

LINKING = ("configuration_on",)
NO_MARGINAL = ("configurations",)  # a count of configurations: no marginal value (integer)


def residuals(data: FleetData, rows: list[dict], tot: dict) -> dict[str, float]:
    """1 − configurations used / allowed, per class."""
    p = data.problem
    if p.max_configurations is None:
        return {}
    return {
        f"configurations[{wc.name}]": 1.0
        - sum(1 for x in rows if x["class_index"] == j) / p.max_configurations
        for j, wc in enumerate(p.classes)
    }


def applies(data: FleetData) -> bool:
    return data.problem.max_configurations is not None


def declare(m: pyo.ConcreteModel, data: FleetData) -> None:
    c = data.columns
    m.use = pyo.Var(m.K, domain=pyo.Binary)
    m.configuration_on = pyo.Constraint(
        m.K, rule=lambda m, k: m.replicas[k] <= int(data.rmax[k]) * m.use[k]
    )
    classes = range(len(data.problem.classes))
    m.configurations = pyo.Constraint(
        list(classes),
        rule=lambda m, j: (
            sum(m.use[k] for k in m.K if c.cls[k] == j) <= data.problem.max_configurations
        ),
    )

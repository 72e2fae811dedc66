"""One module per requirement of the master problem, each with the same hooks:

- `applies(data) -> bool`: whether the problem has this requirement;
- `declare(m, data)`: add its variables, expressions and constraints to the Pyomo model, from
  the explicit data it is given;
- `export(m, data, out)` (optional): write its part of the solution into `out` (replicas and
  servers; the objective's model value, which the re-check compares with its own);
- `residuals(data, rows, tot) -> {name: slack}`: the re-check of its rows by the forward
  model (≥ 0 when met), called by `recheck.residuals` for every feature;
- `MARGINALS = {component: (SI unit, model units → SI)}` and `label(data, component, index)`:
  the sensitivity face of every requirement row (`sensitivity.ROWS` is their union);
  `LINKING` names rows that only tie variables together and `NO_MARGINAL` rows whose right-hand
  side is a count (no marginal value).

`designer.optimize.build` iterates `FEATURES` in order; adding a requirement is adding a module,
and `missing_faces` (tested for every feature) says which face a module forgot.
"""

from designer.optimize.features import (
    chip_types,
    configurations,
    demand,
    limits,
    objective,
    prefill_pool,
    replicas,
    supply,
)
from designer.optimize.modeling import pyo

FEATURES = (
    replicas,
    demand,
    prefill_pool,
    configurations,
    chip_types,
    limits,
    supply,
    objective,
)

__all__ = ["FEATURES"]


def missing_faces(feature, data) -> list[str]:
    """The faces `feature` lacks for the constraint rows it declares on `data`'s model: a
    `residuals` face for any row, and a marginal (or a `LINKING` / `NO_MARGINAL` entry) for
    each row component."""
    m = pyo.ConcreteModel()
    for f in FEATURES[: FEATURES.index(feature)] if feature in FEATURES else FEATURES[:1]:
        if f.applies(data):  # what a feature reads (replicas, servers, costs) comes first
            f.declare(m, data)
    before = {c.name for c in m.component_objects(pyo.Constraint)}
    feature.declare(m, data)
    rows = [c.name for c in m.component_objects(pyo.Constraint) if c.name not in before]
    missing = []
    if rows and not hasattr(feature, "residuals"):
        missing.append("residuals")
    covered = (
        set(getattr(feature, "MARGINALS", {}))
        | set(getattr(feature, "LINKING", ()))
        | set(getattr(feature, "NO_MARGINAL", ()))
    )
    missing += [f"marginal of {name}" for name in rows if name not in covered]
    for name in getattr(feature, "MARGINALS", {}):
        if name in rows and not hasattr(feature, "label") and len(getattr(m, name)) > 1:
            missing.append(f"label of {name}")
    return missing

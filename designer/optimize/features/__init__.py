"""One module per requirement of the master problem, each with the same hooks:

- `applies(data) -> bool`: whether the problem has this requirement;
- `declare(m, data)`: add its variables, expressions and constraints to the Pyomo model, from
  the explicit data it is given;
- `export(m, data, out)` (optional): write its part of the solution into `out` (replicas and
  servers; the objective's model value, which the re-check compares with its own).

`designer.optimize.build` iterates `FEATURES` in order; adding a requirement is adding a module.
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

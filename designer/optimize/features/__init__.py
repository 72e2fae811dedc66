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

**Per-configuration requirements** (`PER_CONFIGURATION`, the registry
`per_configuration.REQUIREMENTS`: `rate`, `ttft`, `kv_transfer`, `memory`, `slots`,
`max_batch`) hold for each replica on its own, so they shape the columns rather than add MILP
rows; `columns`, `recheck` and `explain` iterate the registry and name none of them. Each
module owns every face of its requirement (what a screen reads,
`optimize.candidates.Candidates`: the problem, the class, its grid and the phase):

- `NAME` (the residual key, a column's `batch_limited_by` and a `binding` entry), `TARGET`
  (the setting it holds to) and `STAGE` (the presolve stage, `columns.STAGES`, that counts the
  candidates its batch-1 screen removes; `weights_do_not_fit` is screened once per class, and
  again in a phase that holds more, as aggregated serving's prompts in prefill do);
- `applies(wc, phase) -> bool`: whether it holds for class `wc`'s columns in `phase`;
- the column screen, at least one of: `check(candidates, b, where, m) -> (met, excess)` at
  batch `b` (non-decreasing in the batch: `columns.batch_cap` bisects on it; `m` the metrics
  in the phase, `columns.phase_metrics`); `batch_limit(candidates, idx)`, a closed-form
  largest batch applied after the bisection; `requests(candidates, idx)`, the requests/s a
  prefill replica serves under it; `load(candidates, b, where, m, lam, slow)`, met at a given
  load (`columns._Load.holds`: an aggregated column taking a share of a request rate).
  `columns.build` iterates them: what fails at batch 1 is removed and counted, the batch (or
  a prefill replica's requests/s) is the largest all allow, and the requirement that stops
  one more user is the column's `limited_by` (later entries of the registry first where
  several do);
- `residual(problem, wc, row) -> slack | None`: its re-check on a fleet row
  (`recheck.residuals`, key `NAME[i]`);
- `explain(problem, wc, g, idx, m1, best, within) -> str | None`: why no candidate `idx` passes
  it (`explain` asks each in `STAGE` order) and the best value reachable, into `best`;
- `BOUND = True` for a bound (of the space, or a row's own slots) whose zero slack restates
  what a row's `limited_by` names: not reported as binding.

Adding a limit on each configuration is adding such a module to `REQUIREMENTS`;
`missing_configuration_faces` (tested for every one) says which face it forgot.
"""

from designer.optimize.features import (
    chip_types,
    configurations,
    demand,
    limits,
    objective,
    per_configuration,
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

PER_CONFIGURATION = per_configuration.REQUIREMENTS

SCREENS = ("check", "batch_limit", "requests", "load")  # a per-configuration column screen

__all__ = ["FEATURES", "PER_CONFIGURATION"]


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


def missing_configuration_faces(feature) -> list[str]:
    """The faces a per-configuration requirement module lacks: its names, `applies`, a column
    screen (one of `SCREENS`), `residual` and `explain`; and a `STAGE` the presolve counts."""
    from designer.optimize.columns import STAGES

    missing = [
        face
        for face in ("NAME", "TARGET", "STAGE", "applies", "residual", "explain")
        if not hasattr(feature, face)
    ]
    if not any(hasattr(feature, face) for face in SCREENS):
        missing.append("screen (" + " | ".join(SCREENS) + ")")
    if hasattr(feature, "STAGE") and feature.STAGE not in STAGES:
        missing.append(f"stage {feature.STAGE!r} of columns.STAGES")
    return missing

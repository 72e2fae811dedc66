"""The shipped interval table (catalogs/intervals.toml): what `designer calibrate DATA
--intervals` fits — the held-out residuals of the data (`intervals`), the factor answers outside
the data widen by (`widening`), and the nested coverage of both together."""

from __future__ import annotations

import numpy as np

from designer.calibration import engine_check, profiles, widening
from designer.calibration import intervals as iv
from designer.model.catalog import Catalog


def fit(rows, catalog: Catalog) -> tuple[iv.Table, iv.Coverage, iv.Coverage]:
    """The shipped table: residuals of calibrated answers and of the limit, their data ranges,
    the factors its extrapolated dimensions widen by where measured (`widening.measure`), and the
    nested coverage of each (calibrated, limit), every held-out row widened per dimension it
    extrapolates along from the other publications' data (`widening.nested`), and how the
    intervals of each engine's fit held within its engine (`engine_check`, under the profile's
    id)."""
    from designer.calibration.calibrate import as_rows

    rows = as_rows(rows, catalog)
    res = iv.held_out(rows, catalog)
    lim = iv.limit_residuals(rows, catalog)
    base = iv.table_of(iv.join(res, lim))
    ranges = iv.data_ranges([i.row for i in rows.items], catalog)
    measured, dims = widening.measure(rows, res, catalog)
    cov = iv.coverage(res, widen=widening.nested(res, dims, measured))
    # the limit's answers keep the assumption (`Table.measured_for`): 1.5 per dimension
    cov_lim = iv.coverage(lim, widen=iv.WIDEN ** np.array([len(x) for x in dims]))
    summary = {"calibrated": cov.summary(), "limit": cov_lim.summary()}
    per, _ = widening.counts(dims)
    for f in measured.factors:  # the rows that measured each group's factor (if any)
        if not (per[f.group] > 0).any():  # a factor kept at its default: no row to judge it
            continue
        summary[widening.COVERAGE[f.group]] = {
            **cov.take(per[f.group] > 0).summary(),
            "publications": f.publications,
            "held_out": "leave-one-source-out, the factor chosen without the publication",
        }
    # an answer's `moe` takes the measured factor for these models only (`Table.factor`), and
    # only answers under these profiles take the measured factors (`Table.measured_for`)
    ranges[iv.MEASURED_MOE] = sorted(
        {i.row.model for i in rows.items if catalog.model(i.row.model).is_moe}
    )
    chips = {i.row.chip for i in rows.items}
    used = {profiles.default_for(catalog, c).id for c in chips} | {profiles.GENERIC}
    ranges[iv.MEASURED_PROFILES] = sorted(used)
    if ranges["moe_models"] > 1:  # each MoE model held out needs another to learn from
        unseen = iv.unseen_moe_models(rows, res, catalog)
        summary[iv.UNSEEN] = {**unseen.summary(), "held_out": "leave-one-model-out"}
    table = iv.Table(base.cells, base.counts, ranges, summary, measured.widths())
    # how the intervals `generic-<engine>` answers print under this table held within their
    # engine, under each fit's id
    checks = engine_check.summary(engine_check.held_out(rows, catalog, table))
    table.coverage.update(checks)
    return table, cov, cov_lim

"""The shipped intervals' held-out coverage by domain: the table of the README's "Intervals".

Each row of catalogs/measurements/decode.csv is predicted held out (leave-one-source-out) under
the profile its chip gets in an answer and judged against the interval built from the other
publications' residuals, widened per dimension the row lies outside the other publications'
data (the configuration dimensions and an MoE model the others measured by the factors chosen
without its publication, `designer.calibration.widening`): the coverage `designer calibrate ...
--intervals` reports, split by profile kind and family, batch, context and whether the row
extrapolates.

    python scripts/interval_domains.py
"""

from __future__ import annotations

import argparse

import numpy as np

from designer.calibration import interval_fit, intervals, measurements, widening
from designer.calibration.calibrate import as_rows
from designer.model.catalog import Catalog


def domains(catalog: Catalog) -> dict[str, tuple[int, float, float]]:
    """Per domain label, (rows, % inside, median half-width %) of the shipped nested check."""
    rows = as_rows(measurements.load(measurements.bundled_path(), catalog), catalog)
    _, cov, _ = interval_fit.fit(rows, catalog)
    res = intervals.held_out(rows, catalog)
    per, other = widening.counts(widening.held_out_dimensions(rows, res, catalog))
    config, family = per["configuration"], per[widening.MOE] + other
    kind = np.array([str(k) for k in res.kind])
    moe = np.char.endswith(kind.astype(str), intervals.MOE)
    b, c = intervals.batch_bin(res.batch), intervals.context_bin(res.context)
    masks = {"all": np.ones(len(kind), bool)}
    for k in ("composed", "platform"):
        masks[f"{k}, dense"] = kind == k
        masks[f"{k}, MoE"] = kind == k + intervals.MOE
    for i, name in enumerate(intervals.BATCH_BINS):
        masks[f"batch {name}"] = b == i
    for i, name in enumerate(intervals.CONTEXT_BINS):
        masks[f"context {name}"] = c == i
    masks["dense"], masks["MoE"] = ~moe, moe
    masks["dense, batch > 128"] = ~moe & (res.batch > 128)
    masks["outside the others' data: a configuration dimension"] = config > 0
    masks["outside the others' data: the model family only"] = (config == 0) & (family > 0)
    masks["inside the others' data"] = (config == 0) & (family == 0)
    return {
        name: (
            int(m.sum()),
            100 * float(cov.inside[m].mean()),
            100 * float(np.median(cov.half_width[m])),
        )
        for name, m in masks.items()
        if m.any()
    }


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    print("| domain | rows | inside | median half-width |")
    print("|---|---|---|---|")
    for name, (n, inside, half) in domains(Catalog.load()).items():
        print(f"| {name} | {n} | {inside:.1f}% | ±{half:.1f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

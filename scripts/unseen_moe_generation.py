"""Each MoE model of a software generation's rows predicted as a model the generation never
measured: the generation's profile refitted to the other model's rows, the interval from those
rows' held-out residuals (the generation's own table, built without the model), widened as an
answer for an unmeasured MoE model is (`moe` while fewer than `MIN_MOE_MODELS` MoE models are
measured, `mla` when none of the others is MLA) — and, for comparison, not widened.

    python scripts/unseen_moe_generation.py                  # current's rows, inferencemax.csv
    python scripts/unseen_moe_generation.py --csv FILE --by platform

It checks the `WIDEN` rule of designer/calibration/intervals.py on the generation's data with
the code `designer calibrate DATA --intervals` checks it with on decode.csv
(`intervals.unseen_moe_models`, `unseen_moe_model`), in the generation's own kind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from designer.calibration import calibrate, measurements
from designer.calibration import intervals as iv
from designer.calibration.calibrate import GROUPINGS, as_rows
from designer.model.catalog import Catalog


def unseen(path: Path, by: str) -> dict[str, dict[str, tuple[int, float, float, float]]]:
    """{widening: {model: (rows, % inside, median half-width %, MAPE %)}}, with 'all'."""
    cat = Catalog.load()
    rows = measurements.load(path, cat)
    cv = calibrate.cross_validate(rows, cat, by)
    items = as_rows(rows, cat)
    groups = [GROUPINGS[by](r) for r in rows]
    res = iv.generation_residuals(items, cv.errors.predicted_ms, groups, cat)
    models = [i.row.model for i in items.items]
    moe = sorted({m for m in models if cat.model(m).is_moe})
    which = np.array([m for m in moe for _ in range(models.count(m))])  # the rows' order
    out: dict[str, dict[str, tuple[int, float, float, float]]] = {}
    for label, widen in (("widened as answers are", True), ("not widened", False)):
        cov = iv.unseen_moe_models(items, res, cat, kind=iv.GENERATION, widen=widen)
        err = np.abs(cov.predicted_ms / cov.measured_ms - 1)
        out[label] = {}
        for m in [*moe, "all"]:
            s = np.ones(len(which), bool) if m == "all" else which == m
            out[label][m] = (
                int(s.sum()),
                100 * float(np.mean(cov.inside[s])),
                100 * float(np.median(cov.half_width[s])),
                100 * float(np.mean(err[s])),
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=measurements.bundled_path("inferencemax.csv"))
    parser.add_argument("--by", default="platform", choices=sorted(GROUPINGS))
    args = parser.parse_args()
    for label, per_model in unseen(args.csv, args.by).items():
        for m, (n, inside, half, mape) in per_model.items():
            print(
                f"{label:22s}  {m:14s}  {n:4d} rows  {inside:5.1f}% inside  "
                f"median half-width ±{half:.1f}%  MAPE {mape:.1f}%"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Each MoE model of a software generation's rows predicted as a model the generation never
measured: the generation's profile refitted to the other model's rows, the interval from those
rows' held-out residuals (the generation's own table, built without the model), widened as an
answer for an unmeasured MoE model is (`moe` while fewer than `MIN_MOE_MODELS` MoE models are
measured, `mla` when none of the others is MLA) — and, for comparison, not widened.

    python scripts/unseen_moe_generation.py                  # current's rows, inferencemax.csv
    python scripts/unseen_moe_generation.py --csv FILE --by platform

It checks the `WIDEN` rule of designer/calibration/intervals.py on the generation's data, as
`designer calibrate DATA --intervals` does on decode.csv (`unseen_moe_model`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from designer.calibration import calibrate, measurements
from designer.calibration import intervals as iv
from designer.calibration.calibrate import GROUPINGS, as_rows, fit_items
from designer.model.catalog import Catalog


def unseen(path: Path, by: str) -> dict[str, dict[str, tuple[int, float, float, float]]]:
    """{widening: {model: (rows, % inside, median half-width %, MAPE %)}}, with 'all'."""
    cat = Catalog.load()
    rows = measurements.load(path, cat)
    cv = calibrate.cross_validate(rows, cat, by)
    items = as_rows(rows, cat)
    kind = iv.family(iv.GENERATION, iv._moe(items, cat))
    res = iv._residuals(items, cv.errors.predicted_ms, kind, [GROUPINGS[by](r) for r in rows])
    models = np.array([i.row.model for i in items.items])
    moe = {m for m in set(models) if cat.model(m).is_moe}
    out: dict[str, dict[str, tuple[int, float, float, float]]] = {}
    for widened in (True, False):
        inside, half, err, which = [], [], [], []
        for m in sorted(moe):
            held, train = np.flatnonzero(models == m), np.flatnonzero(models != m)
            eff = fit_items(items.take([int(k) for k in train]), cat).efficiency
            predicted = items.take([int(k) for k in held]).terms.predict(eff)
            table = iv.table_of(res, models != m)
            left = iv.data_ranges([items.items[k].row for k in train], cat)
            dims = int(iv.moe_extrapolated(left)) + int(cat.model(m).is_mla and not left["mla"])
            for p, k in zip(predicted, held, strict=True):
                _, q = table.quantiles(iv.GENERATION + iv.MOE, res.batch[k], res.context[k])
                lo, hi = iv.bounds(q, dims if widened else 0)
                ratio = items.measured_ms[k] / p
                inside.append(lo <= ratio <= hi)
                half.append((hi - lo) / 2)
                err.append(abs(p / items.measured_ms[k] - 1))
                which.append(m)
        which_a = np.array(which)
        label = "widened as answers are" if widened else "not widened"
        out[label] = {}
        for m in [*sorted(moe), "all"]:
            s = np.ones(len(which_a), bool) if m == "all" else which_a == m
            out[label][m] = (
                int(s.sum()),
                100 * float(np.mean(np.array(inside)[s])),
                100 * float(np.median(np.array(half)[s])),
                100 * float(np.mean(np.array(err)[s])),
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

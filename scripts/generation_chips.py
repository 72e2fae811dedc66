"""Does a software generation's answer on a chip it never measured need the `chip` factor?

A generation's answer off its measured platforms (kind `generation`: `current` on a B300, or on a
B200 for a model not measured there) is judged by the quantiles of its rows' leave-one-platform-
out residuals. This script holds each chip out: its rows are predicted by the generation refitted
without that chip (leave-one-chip-out) and judged by the quantiles of the other chips' platforms'
leave-one-platform-out residuals (the table such an answer uses), widened per variant:

- V0 (before round 20): `chip` (its measured 1.1) and `moe` (1.5: two MoE models);
- V1 (shipped): `moe` only, no `chip`;
- V2: neither, where the other chips measured the row's model;
- V3: V2, with the quantiles of the row's vendor's platforms only (NVIDIA or AMD) where the
  other chips give that vendor at least three;
- V4 (round 23): `moe`, where the other chips measured the row's model, at a factor measured as
  decode.csv's `moe` is (`widening.choose`: the smallest of 1.00, 1.05, … putting 80% of the
  other chips' rows inside, each of them judged by the platforms of neither chip), else 1.5.

    python scripts/generation_chips.py                 # current's rows, inferencemax.csv
    python scripts/generation_chips.py --csv FILE

docs/model.md §8 ("A generation's answers on an unmeasured chip") quotes its output.
"""

from __future__ import annotations

import argparse

import numpy as np

from designer.calibration import intervals, measurements, widening
from designer.calibration.calibrate import as_rows, cross_validate
from designer.model.catalog import Catalog

VARIANTS = ("V0", "V1", "V2", "V3", "V4")
VENDOR_PLATFORMS = (
    3  # V3: platforms of the vendor (the catalog's) that give it quantiles of its own
)


def factor(variant: str, model_seen: bool, table: intervals.Table) -> float:
    """What a held-out chip's row is widened by at both ends under `variant`."""
    moe = intervals.WIDEN  # fewer than MIN_MOE_MODELS MoE models: the assumption
    if variant == "V0":
        return table.factor("chip") * moe
    if variant == "V1":
        return moe
    return 1.0 if model_seen else moe


def _measured_factors(res, ratio, chips, models) -> dict[str, float]:
    """V4: per chip, the `moe` factor chosen on the other chips' rows whose model a third chip
    measured, each row judged, unwidened, by the platforms of neither its chip nor the held-out
    one (double nested, as `widening` measures decode.csv's)."""
    out = {}
    for c in np.unique(chips):
        lo, hi, r = [], [], []
        for d in np.unique(chips[chips != c]):
            held = chips == d
            others = ~held & (chips != c)
            table = intervals.table_of(res, others)
            seen = set(models[others])
            for i in np.flatnonzero(held & np.isin(models, list(seen))):
                a, b = intervals.bounds(intervals.judged_by(table, res, i), 1.0)
                lo.append(a)
                hi.append(b)
                r.append(ratio[i])
        n = np.ones(len(r), dtype=int)
        out[str(c)] = widening.choose(np.array(r), np.array(lo), np.array(hi), n, np.ones(len(r)))
    return out


def judge(path: str, catalog: Catalog) -> dict[str, dict]:
    """Per variant: share inside, median half-width and per chip coverage of the rows of `path`
    (each chip held out), as fractions and row counts."""
    rows = measurements.load(path, catalog)
    prepared = as_rows(rows, catalog)
    items = prepared.items
    chips = np.array([i.row.chip for i in items])
    vendors = np.array([catalog.chip(c).vendor for c in chips])
    platform = np.array([i.row.platform for i in items])
    models = np.array([i.row.model for i in items])
    by_chip = cross_validate(prepared, catalog, "chip").errors
    by_platform = cross_validate(prepared, catalog, "platform").errors
    res = intervals.generation_residuals(
        prepared, by_platform.predicted_ms, list(platform), catalog
    )
    ratio = by_chip.measured_ms / by_chip.predicted_ms
    shipped = intervals.shipped()
    measured = _measured_factors(res, ratio, chips, models)
    out: dict[str, dict] = {}
    for v in VARIANTS:
        inside, half, per_chip = [], [], {}
        for c in np.unique(chips):
            held = chips == c
            keep = ~held
            same = keep & (vendors == vendors[held][0])
            if v == "V3" and len(set(platform[same])) >= VENDOR_PLATFORMS:
                keep = same
            table = intervals.table_of(res, keep)
            seen = set(models[~held])
            for i in np.flatnonzero(held):
                f = factor(v, models[i] in seen, shipped)
                if v == "V4" and models[i] in seen:
                    f = measured[str(c)]
                lo, hi = intervals.bounds(intervals.judged_by(table, res, i), f)
                ok = bool(lo <= ratio[i] <= hi)
                inside.append(ok)
                half.append((hi - lo) / 2.0)
                per_chip.setdefault(str(c), []).append(ok)
        out[v] = {
            "points": len(inside),
            "inside": float(np.mean(inside)),
            "median_half_width": float(np.median(half)),
            "chips": {c: (sum(k), len(k)) for c, k in per_chip.items()},
        }
    out["V4"]["factors"] = measured
    out["mape"] = float(np.mean(np.abs(by_chip.predicted_ms / by_chip.measured_ms - 1.0)))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", default=str(measurements.bundled_path("inferencemax.csv")))
    args = ap.parse_args(argv)
    r = judge(args.csv, Catalog.load())
    print(f"leave-one-chip-out MAPE {100 * r['mape']:.1f}%")
    for v in VARIANTS:
        x = r[v]
        chips = ", ".join(f"{c} {k}/{n}" for c, (k, n) in x["chips"].items())
        if "factors" in x:
            chips += "; factors chosen without each chip: " + ", ".join(
                f"{c} {w:.2f}" for c, w in x["factors"].items()
            )
        print(
            f"{v}: {100 * x['inside']:.1f}% of {x['points']} inside at a median half-width of "
            f"±{100 * x['median_half_width']:.1f}% ({chips})"
        )


if __name__ == "__main__":
    main()

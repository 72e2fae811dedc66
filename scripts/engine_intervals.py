"""Do the intervals of answers that name an engine cover that engine's platforms held out?

An answer naming `--engine E` on a chip without its own E profile is predicted under
`generic-E`, and judged by the interval table its profile carries (today the shipped table's
`composed` cells, from `generic`'s held-out residuals). Each platform of E is predicted by a
fit to E's other platforms and checked against the interval `generic-E` prints for that row
(`designer.calibration.engine_check`, whose summary the shipped table carries and every such
answer quotes).

    python scripts/engine_intervals.py
    python scripts/engine_intervals.py --csv FILE
    python scripts/engine_intervals.py --remedies

The closing note of 2026-12-06 (eighth round) quotes its output: vLLM's platforms fall under
the 80% an interval states, an open gap.

`--remedies` prints two ways to close it, each judged double nested by platform: each platform's
rows (predicted without it) by the engine's other platforms' rows as predicted without it too
(`double_nested`; an engine of two platforms cannot be judged so; docs/model.md §8, round 12,
neither adopted): `own table`, the interval table a software generation gets (`own_table`'s
kind, from those residuals); `factor`, the printed interval widened by the smallest of 1.00,
1.05, ... that puts 80% of those rows inside (every platform weighing the same).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from designer.calibration import engine_check, measurements
from designer.calibration.widening import GRID  # 1.00, 1.05, ... 3.00
from designer.model.catalog import Catalog


def checked(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """`engine_check.held_out` of the rows in `path`, under the shipped table."""
    cat = Catalog.load()
    return engine_check.held_out(measurements.load(path, cat), cat)


def _inside(ratio, fast, slow, factor: float) -> np.ndarray:
    return (fast / factor <= ratio) & (ratio <= slow * factor)


def choose(ratio, fast, slow, platform) -> float:
    """The smallest factor of `GRID` widening both ends that puts 80% of the rows inside, every
    platform weighing the same."""
    for f in GRID:
        ok = _inside(ratio, fast, slow, f)
        if np.mean([ok[platform == p].mean() for p in np.unique(platform)]) >= 0.8:
            return f
    return GRID[-1]


def double_nested(rows, cat: Catalog) -> dict[str, np.ndarray]:
    """For one engine's `rows`: per judged platform p, the predictions of every other platform
    q by a fit to the engine's rows without p and q (NaN for p's own rows, and for a q whose
    fit would have too few rows: more rows than parameters are needed)."""
    from designer.calibration.calibrate import PARAMETERS, as_rows, errors, fit_items

    prepared = as_rows(rows, cat)
    platform = np.array([r.platform for r in rows])
    out = {}
    for p in np.unique(platform):
        predicted = np.full(len(rows), np.nan)
        for q in np.unique(platform):
            train = np.flatnonzero((platform != p) & (platform != q))
            if q == p or len(train) <= len(PARAMETERS):
                continue
            fit = fit_items(prepared.take([int(k) for k in train]), cat)
            held = [int(k) for k in np.flatnonzero(platform == q)]
            predicted[held] = errors(prepared.take(held), fit.efficiency, cat).predicted_ms
        out[str(p)] = predicted
    return out


def factor_check(c: dict[str, np.ndarray], nested: dict[str, np.ndarray]) -> dict:
    """`factor`: the factor chosen on all of an engine's rows (`checked`, each platform held
    out), and each platform's rows judged at the factor chosen on the other platforms' rows as
    predicted without it too (`double_nested`); a platform with no such rows is not judged."""
    platform = c["platform"]
    ratio = c["measured_ms"] / c["held_out_ms"]
    inside = np.zeros(len(ratio), dtype=bool)
    judged = np.zeros(len(ratio), dtype=bool)
    for p in np.unique(platform):
        mine = platform == p
        other = ~mine & np.isfinite(nested[p])
        if not other.any():
            continue
        r = c["measured_ms"][other] / nested[p][other]
        f = choose(r, c["fast"][other], c["slow"][other], platform[other])
        inside[mine] = _inside(ratio[mine], c["fast"][mine], c["slow"][mine], f)
        judged[mine] = True
    f = choose(ratio, c["fast"], c["slow"], platform)
    half = np.median((c["slow"] * f - c["fast"] / f) / 2) * 100
    return {"factor": f, "inside": inside, "judged": judged, "half_width": half}


def own_table_check(rows, cat: Catalog, nested: dict[str, np.ndarray], held_out_ms) -> dict:
    """`own table`: for one engine's `rows`, each platform's rows (predicted without it,
    `held_out_ms`: `checked`'s, as `designer calibrate --generation` tables are) judged by a
    table of the other platforms' residuals as predicted without it too (`double_nested`), the
    MoE rows widened as that table would widen them (what a generation gets, without platform
    scales)."""
    from designer.calibration import intervals
    from designer.calibration.calibrate import as_rows

    prepared = as_rows(rows, cat)
    platform = np.array([r.platform for r in rows])
    moe = int(intervals.moe_extrapolated(intervals.data_ranges(list(rows), cat)))
    res = intervals.generation_residuals(prepared, held_out_ms, platform, cat)
    lo, hi = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    for p in np.unique(platform):
        other = np.flatnonzero((platform != p) & np.isfinite(nested[p]))
        if not len(other):
            continue
        others = intervals.generation_residuals(
            prepared.take([int(k) for k in other]), nested[p][other], platform[other], cat
        )
        table = intervals.table_of(others)
        for i in np.flatnonzero(platform == p):
            widen = intervals.WIDEN ** (moe * str(res.kind[i]).endswith(intervals.MOE))
            q = intervals.judged_by(table, res, int(i))
            lo[i], hi[i] = intervals.bounds(q, widen)
    judged = np.isfinite(lo)
    inside = (res.ratio >= lo) & (res.ratio <= hi)
    return {
        "inside": inside,
        "judged": judged,
        "half_width": float(np.median((hi[judged] - lo[judged]) / 2) * 100) if judged.any() else 0,
    }


def remedies(path: Path) -> None:
    cat = Catalog.load()
    rows = measurements.load(path, cat)
    print(f"{'engine':14s} {'remedy':9s} {'inside':>14s} {'half-width':>11s}")
    for engine, c in checked(path).items():
        mine = [r for r in rows if r.engine == engine and r.platform in set(c["platform"])]
        nested = double_nested(mine, cat)
        own = own_table_check(mine, cat, nested, c["held_out_ms"])
        f = factor_check(c, nested)
        for name, got, half in (
            ("own table", own, own["half_width"]),
            ("factor", f, f["half_width"]),
        ):
            n = int(got["judged"].sum())
            if not n:
                print(f"{engine:14s} {name:9s} not judged: fewer than three platforms")
                continue
            share = got["inside"][got["judged"]].mean() * 100
            print(f"{engine:14s} {name:9s} {share:6.1f}% of {n:3d} {half:9.1f}%")
        print(f"    factor chosen on all its platforms: {f['factor']:.2f}")
        for p in np.unique(c["platform"]):
            k = (c["platform"] == p) & f["judged"]
            if k.any():
                share = f["inside"][k].mean()
                print(f"    {p:28s} {k.sum():4d} rows, at the others' factor {share:.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=measurements.bundled_path())
    parser.add_argument("--remedies", action="store_true", help="own tables, factors (doc)")
    args = parser.parse_args()
    if args.remedies:
        remedies(args.csv)
        return 0
    print(f"{'engine':14s} {'rows':>5s} {'MAPE':>6s} {'inside':>7s} {'half-width':>11s}")
    for name, s in engine_check.summary(checked(args.csv)).items():
        engine = name.removeprefix("generic-")
        print(
            f"{engine:14s} {s['points']:5d} {s['mape']:5.1f}% {s['inside']:6.1f}%"
            f" {s['median_half_width']:9.1f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

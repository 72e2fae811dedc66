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

`--remedies` prints two ways to close it, each platform's rows judged by the engine's other
platforms' held-out residuals (single nested: those come from fits that saw the judged platform,
which flatters a remedy; docs/model.md §8, round 12, neither adopted): `own table`, the
interval table a software generation gets (`intervals.own_table`'s kind, from the engine's
held-out residuals, `coverage` by platform); `factor`, the printed interval widened by the
smallest of 1.00, 1.05, ... that puts 80% of the other platforms' rows inside (every platform
weighing the same).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from designer.calibration import engine_check, measurements, profiles
from designer.calibration.calibrate import cross_validate
from designer.model.catalog import Catalog


def checked(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """`engine_check.held_out` of the rows in `path`, under the shipped table."""
    cat = Catalog.load()
    return engine_check.held_out(measurements.load(path, cat), cat)


GRID = tuple(round(1.0 + 0.05 * k, 2) for k in range(41))  # 1.00 ... 3.00


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


def factor_check(c: dict[str, np.ndarray], platform: np.ndarray) -> dict:
    """`factor`: the factor chosen on all of an engine's rows (`checked`), and each platform's
    rows judged at the factor chosen on the engine's other platforms."""
    ratio = c["measured_ms"] / c["held_out_ms"]
    inside = np.zeros(len(ratio), dtype=bool)
    for p in np.unique(platform):
        mine = platform == p
        f = choose(ratio[~mine], c["fast"][~mine], c["slow"][~mine], platform[~mine])
        inside[mine] = _inside(ratio[mine], c["fast"][mine], c["slow"][mine], f)
    f = choose(ratio, c["fast"], c["slow"], platform)
    half = np.median((c["slow"] * f - c["fast"] / f) / 2) * 100
    return {"factor": f, "inside": inside, "half_width": half}


def own_table_check(path: Path) -> dict[str, dict]:
    """`own table`: per engine, the nested coverage by platform of a table of its own held-out
    residuals (what `designer calibrate --generation` gives a generation, without platform
    scales), with the MoE rows widened as that table would widen them."""
    from designer.calibration import intervals
    from designer.calibration.calibrate import GROUPINGS, as_rows

    cat = Catalog.load()
    rows = measurements.load(path, cat)
    out = {}
    for engine in sorted({r.engine for r in rows}):
        if f"generic-{engine}" not in profiles.load():
            continue
        mine = [r for r in rows if r.engine == engine]
        cv = cross_validate(mine, cat, "platform")
        prepared = as_rows(mine, cat)
        groups = [GROUPINGS[cv.by](i.row) for i in prepared.items]
        res = intervals.generation_residuals(prepared, cv.errors.predicted_ms, groups, cat)
        ranges = intervals.data_ranges([i.row for i in prepared.items], cat)
        widen = int(intervals.moe_extrapolated(ranges))
        out[engine] = intervals.coverage(res, moe_widen=widen).summary()
    return out


def remedies(path: Path) -> None:
    print(f"{'engine':14s} {'remedy':9s} {'inside':>7s} {'half-width':>11s}")
    own = own_table_check(path)
    for engine, c in checked(path).items():
        platform = c["platform"]
        s = own[engine]
        print(f"{engine:14s} {'own table':9s} {s['inside']:6.1f}% {s['median_half_width']:9.1f}%")
        f = factor_check(c, platform)
        print(
            f"{engine:14s} {'factor':9s} {f['inside'].mean() * 100:6.1f}% {f['half_width']:9.1f}%"
            f"  (chosen on all its platforms: {f['factor']:.2f})"
        )
        for p in np.unique(platform):
            k = platform == p
            print(
                f"    {p:28s} {k.sum():4d} rows, at the others' factor {f['inside'][k].mean():.1%}"
            )


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

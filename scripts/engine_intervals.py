"""Do the intervals of answers that name an engine cover that engine's platforms held out?

An answer naming `--engine E` on a chip without its own E profile is predicted under
`generic-E`, and judged by the interval table its profile carries (today the shipped table's
`composed` cells, from `generic`'s held-out residuals). Here each platform of E is predicted by
a fit to E's other platforms (`calibrate.cross_validate(..., "platform", within="engine")`,
what such an answer uses) and checked against the interval `generic-E` prints for that row
(`validate`'s `low_ms` / `high_ms` relative to its prediction).

    python scripts/engine_intervals.py
    python scripts/engine_intervals.py --csv FILE

The closing note of 2026-12-06 (eighth round) quotes its output: vLLM's platforms fall under
the 80% an interval states, an open gap.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from designer.calibration import measurements, profiles
from designer.calibration.calibrate import cross_validate
from designer.calibration.validate import validate
from designer.model.catalog import Catalog


def checked(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """Per engine with a `generic-ENGINE` profile: its rows' measured and held-out predicted
    ms, and the fast and slow ends (ratios to the prediction) of the interval it prints."""
    cat = Catalog.load()
    rows = measurements.load(path, cat)
    cv = cross_validate(rows, cat, "platform", within="engine")
    out = {}
    for engine in sorted({r.engine for r in rows}):
        name = f"generic-{engine}"
        if name not in profiles.load():
            continue
        ks = [k for k, r in enumerate(rows) if r.engine == engine]
        rec = validate([rows[k] for k in ks], profiles.get(name), cat)["rows"]
        p = np.array([x["predicted_ms"] for x in rec])
        out[engine] = {
            "measured_ms": cv.errors.measured_ms[ks],
            "held_out_ms": cv.errors.predicted_ms[ks],
            "fast": np.array([x["low_ms"] for x in rec]) / p,
            "slow": np.array([x["high_ms"] for x in rec]) / p,
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=measurements.bundled_path())
    args = parser.parse_args()
    print(f"{'engine':14s} {'rows':>5s} {'MAPE':>6s} {'inside':>7s} {'half-width':>11s}")
    for engine, c in checked(args.csv).items():
        ratio = c["measured_ms"] / c["held_out_ms"]
        inside = (c["fast"] <= ratio) & (ratio <= c["slow"])
        mape = np.abs(c["held_out_ms"] / c["measured_ms"] - 1).mean() * 100
        half = np.median((c["slow"] - c["fast"]) / 2) * 100
        print(f"{engine:14s} {len(ratio):5d} {mape:5.1f}% {inside.mean() * 100:6.1f}% {half:9.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Which profile should answer for an engine build between two software generations?

Rows whose `software` states a build later than the older profiles' rows but earlier than the
newest generation's oldest build (`profiles.for_build` gives no generation for them) are
predicted three ways, each with its 80% interval:

- `older`: as answers are, under the chip's default profile, `build` named as extrapolated (a
  later build: the fast end widened, `intervals.widenings`);
- `generation`: under the newest generation (`current`), as if the row stated that generation's
  oldest build, on its measured platform's numbers where it has them, `build` named as for an
  earlier build than its rows (the slow end widened once, and every other dimension by
  `intervals.WIDEN`, as an answer naming a build outside its profile's rows is:
  `intervals.Table.measured_for`);
- `bracket`: the geometric mean of the two predictions, its interval the span of both.

    python scripts/between_generations.py   # held_out/between_generations.csv
    python scripts/between_generations.py --csv FILE

docs/model.md §8 quotes its output: `older` is kept (the lowest width at the same coverage).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from pathlib import Path

import numpy as np

from designer.calibration import intervals, measurements, profiles
from designer.calibration.validate import validate
from designer.model.catalog import Catalog


@contextlib.contextmanager
def assumed():
    """Answers judged with no measured widening factor (every dimension at `intervals.WIDEN`),
    as those naming a build outside their profile's rows are."""
    shipped = intervals.shipped
    table = dataclasses.replace(shipped(), widen={})
    intervals.shipped = lambda: table
    try:
        yield
    finally:
        intervals.shipped = shipped


def predicted(
    path: Path,
) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """(measured ms, {way: (predicted, low, high) ms}) of the rows at `path`, in their order."""
    cat = Catalog.load()
    rows = measurements.load(path, cat)
    newest = profiles.get("current")
    builds = dict(newest.builds)
    later = [dataclasses.replace(r, software=f"{r.engine} {builds[r.engine]}") for r in rows]
    out = {}
    for way, these, widen in (("older", rows, 1.0), ("generation", later, intervals.WIDEN)):
        with assumed() if way == "generation" else contextlib.nullcontext():
            rec = validate(these, None, cat)["rows"]
        p = np.array([x["predicted_ms"] for x in rec])
        lo = np.array([x["low_ms"] for x in rec])
        hi = np.array([x["high_ms"] for x in rec]) * widen
        out[way] = (p, lo, hi)
    (po, lo_o, hi_o), (pg, lo_g, hi_g) = out["older"], out["generation"]
    out["bracket"] = (np.sqrt(po * pg), np.minimum(lo_o, lo_g), np.maximum(hi_o, hi_g))
    return np.array([r.measured_ms for r in rows]), out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--csv", type=Path, default=measurements.bundled_path("held_out/between_generations.csv")
    )
    args = parser.parse_args()
    measured, ways = predicted(args.csv)
    print(f"{'way':11s} {'MAPE':>6s} {'median signed':>14s} {'inside':>7s} {'half-width':>11s}")
    for way, (p, lo, hi) in ways.items():
        err = (p / measured - 1) * 100
        inside = (lo <= measured) & (measured <= hi)
        half = np.median((hi - lo) / 2 / p) * 100
        print(
            f"{way:11s} {np.abs(err).mean():5.1f}% {np.median(err):+13.1f}% "
            f"{inside.mean() * 100:6.1f}% {half:9.1f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Do a platform's own numbers carry from one publication to another?

`current`'s measured platforms take numbers of their own (designer/calibration/platforms.py: a
per-step time and a factor on every decode term), checked held out one configuration at a time
within one harness, InferenceMAX. The older builds' rows (catalogs/measurements/decode.csv) come
from many publications per platform. Here each publication is held out as
`designer calibrate DATA --intervals` holds it out (`intervals.held_out_fits`: the profile its
chip gets in an answer, refitted without it), and its rows are predicted twice: by that profile,
and with the numbers of their platform fitted to the other publications' rows of the platform
(when they have at least `MIN_PEERS`).

    python scripts/platform_numbers_by_source.py            # decode.csv
    python scripts/platform_numbers_by_source.py --csv FILE

docs/model.md §6 ("A generation on its measured platforms") quotes its output: across
publications the numbers make predictions worse, so the older builds' profiles do not take them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from designer.calibration import intervals as iv
from designer.calibration import measurements, platforms
from designer.calibration.calibrate import GROUPINGS, as_rows
from designer.calibration.profiles import platform_numbers
from designer.model.catalog import Catalog

MIN_PEERS = 3  # rows of the platform from other publications to fit its two numbers to


def by_source(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(measured ms, predicted by the profile, predicted with the platform's numbers, platform)
    of each row at `path`, every publication held out; rows whose platform has fewer than
    `MIN_PEERS` rows elsewhere, or whose chip answers at the limit, keep the profile's."""
    cat = Catalog.load()
    rows = as_rows(measurements.load(path, cat), cat)
    plat = np.array([i.row.platform for i in rows.items], dtype=object)
    source = np.array([GROUPINGS["source"](i.row) for i in rows.items], dtype=object)
    base, numbers = np.empty(len(plat)), np.empty(len(plat))
    for ks, eff, what in iv.held_out_fits(rows, cat):
        for p in sorted(set(plat[ks])):
            mine = [k for k in ks if plat[k] == p]
            base[mine] = numbers[mine] = rows.take(mine).terms.predict(eff)
            peers = np.flatnonzero((plat == p) & (source != source[mine[0]])).tolist()
            if what != "limit" and len(peers) >= MIN_PEERS:
                scale, tau = platforms.fit(rows.take(peers), eff)
                on = platform_numbers(eff, scale, tau)
                numbers[mine] = rows.take(mine).terms.predict(on)
    return rows.measured_ms, base, numbers, plat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=measurements.bundled_path())
    args = parser.parse_args()
    measured, base, numbers, plat = by_source(args.csv)
    e0, e1 = np.abs(base / measured - 1) * 100, np.abs(numbers / measured - 1) * 100
    took = base != numbers
    print(f"all {len(plat)} rows, leave-one-source-out: {e0.mean():.1f}% -> {e1.mean():.1f}%")
    print(
        f"the {took.sum()} rows that took their platform's numbers: {e0[took].mean():.1f}% -> "
        f"{e1[took].mean():.1f}% (median {np.median(e0[took]):.1f}% -> "
        f"{np.median(e1[took]):.1f}%)"
    )
    for p in sorted(set(plat[took])):
        k = took & (plat == p)
        print(f"  {p:28s} {k.sum():4d} rows  {e0[k].mean():5.1f}% -> {e1[k].mean():5.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

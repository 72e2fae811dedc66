"""Could an unmeasured platform borrow a software generation's measured platforms' numbers?

Each platform (chip × engine) of a generation's rows is held out: the generation is refitted to
the other platforms' rows, each of those gets its own numbers (`platforms.fit`: a per-step time
and a factor on every decode term), and the held-out platform is predicted with the numbers of
its donors under each rule (the geometric mean of their factors, the mean of their per-step
times; none: the fit alone, which is the generation's leave-one-platform-out cross-validation).

    python scripts/platform_donors.py                 # current's rows, inferencemax.csv
    python scripts/platform_donors.py --csv FILE

docs/model.md §6 ("A generation on its measured platforms") quotes its output: no rule was
adopted.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from designer.calibration import measurements, platforms
from designer.calibration.calibrate import as_rows, fit_items
from designer.calibration.profiles import platform_numbers
from designer.model.catalog import Catalog

Rule = Callable[[str, str, Catalog], bool]  # (held-out platform, candidate donor, catalog)


def _engine(p: str) -> str:
    return p.split("/", 1)[1]


def _chip(p: str) -> str:
    return p.split("/", 1)[0]


RULES: dict[str, Rule] = {
    "none": lambda p, q, cat: False,
    "engine and vendor": lambda p, q, cat: (
        _engine(q) == _engine(p) and cat.chip(_chip(q)).vendor == cat.chip(_chip(p)).vendor
    ),
    "engine": lambda p, q, cat: _engine(q) == _engine(p),
    "chip": lambda p, q, cat: _chip(q) == _chip(p),
}


def borrowed(path: Path) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(measured ms, {rule: held-out predicted ms}, platform of each row) of the rows at
    `path`, in their order."""
    cat = Catalog.load()
    rows = as_rows(measurements.load(path, cat), cat)
    plat = np.array([i.row.platform for i in rows.items], dtype=object)
    out = {k: np.full(len(plat), np.nan) for k in RULES}
    for p in sorted(set(plat)):
        held = plat == p
        eff = fit_items(rows.take(np.flatnonzero(~held).tolist()), cat).efficiency
        numbers = {
            q: platforms.fit(rows.take(np.flatnonzero(plat == q).tolist()), eff)
            for q in sorted(set(plat[~held]))
        }
        mine = rows.take(np.flatnonzero(held).tolist())
        for name, rule in RULES.items():
            donors = [numbers[q] for q in numbers if rule(p, q, cat)]
            on = eff
            if donors:
                scale = float(np.exp(np.mean(np.log([d[0] for d in donors]))))
                on = platform_numbers(eff, scale, float(np.mean([d[1] for d in donors])))
            out[name][held] = mine.terms.predict(on)
    return rows.measured_ms, out, plat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=measurements.bundled_path("inferencemax.csv"))
    args = parser.parse_args()
    measured, predicted, plat = borrowed(args.csv)
    names = sorted(set(plat))
    print(f"{'donors':18s} {'all':>6s}  " + "  ".join(f"{n:>18s}" for n in names))
    for rule, p in predicted.items():
        err = np.abs(p / measured - 1) * 100
        cells = "  ".join(f"{err[plat == n].mean():17.1f}%" for n in names)
        print(f"{rule:18s} {err.mean():5.1f}%  {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

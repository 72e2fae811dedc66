"""How the intervals of answers that name an engine hold, held out within the engine.

An answer naming `--engine E` on a chip without a profile of its own for E is predicted under
the engine's fit over its platforms (`generic-E`) and judged by the interval table's `composed`
cells, which hold `generic`'s residuals, not that fit's. Here each platform of E is predicted
by a fit to E's other platforms (`calibrate.cross_validate(..., "platform", within="engine")`,
what such an answer is) and checked against the interval `generic-E` prints for that row.
`designer calibrate DATA --intervals` writes the result into the table's `[coverage]` under the
profile's id, and every answer under that profile carries it (`intervals.interval`: `check`),
so an answer whose interval is known to be too narrow says so (vLLM's: 53.4% inside on the
shipped rows; docs/model.md §8, "The `--engine` gap"). The profiles judged are the shipped
`generic-<engine>` fits (their intervals depend on the profile's kind and measured ranges, not
on its numbers); the held-out predictions are fits to the given rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from designer.calibration import profiles
from designer.model.catalog import Catalog

HELD_OUT = "leave-one-platform-out within the engine, judged by the interval the profile prints"


def engine_profiles(rows) -> dict[str, str]:
    """Engine → the id of its fit over its platforms, for the engines of `rows` that have one."""
    shipped = profiles.load()
    engines = sorted({r.engine for r in rows})
    return {e: f"generic-{e}" for e in engines if f"generic-{e}" in shipped}


def held_out(rows, catalog: Catalog, table=None) -> dict[str, dict[str, np.ndarray]]:
    """Per engine with a `generic-ENGINE` profile, of measurement `rows` (or rows already
    prepared, `calibrate.as_rows`): its rows' measured and held-out predicted
    ms, the fast and slow ends (ratios to the prediction) of the interval that profile prints
    for each row under `table` (default the shipped one), and each row's platform. Only the
    platforms the engine's other platforms can be fitted to without them count (more rows
    than parameters; `cross_validate` otherwise trains on every other engine too, which is not
    an answer under the engine's fit); an engine without such a platform is left out."""
    from designer.calibration.calibrate import PARAMETERS, as_rows, cross_validate
    from designer.calibration.validate import predictions

    prepared = as_rows(rows, catalog)  # prepared once for the cross-validation
    rows = [i.row for i in prepared.items]
    cv = cross_validate(prepared, catalog, "platform", within="engine")
    out = {}
    for engine, name in engine_profiles(rows).items():
        mine = [r for r in rows if r.engine == engine]
        kept = {
            p
            for p in {r.platform for r in mine}
            if sum(r.platform != p for r in mine) > len(PARAMETERS)
        }
        ks = [k for k, r in enumerate(rows) if r.engine == engine and r.platform in kept]
        if not ks:
            continue
        # the rows prepared above, not prepared again
        _, _, _, ends = predictions(prepared.take(ks), profiles.get(name), catalog, table)
        out[engine] = {
            "measured_ms": cv.errors.measured_ms[ks],
            "held_out_ms": cv.errors.predicted_ms[ks],
            "fast": np.array([e.fast for e in ends]),
            "slow": np.array([e.slow for e in ends]),
            "platform": np.array([rows[k].platform for k in ks]),
        }
    return out


def summary(checked: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, Any]]:
    """Per engine profile id: rows, % inside, median half-width % and held-out MAPE %."""
    out = {}
    for engine, c in checked.items():
        ratio = c["measured_ms"] / c["held_out_ms"]
        inside = (c["fast"] <= ratio) & (ratio <= c["slow"])
        out[f"generic-{engine}"] = {
            "points": len(ratio),
            "inside": float(inside.mean() * 100),
            "median_half_width": float(np.median((c["slow"] - c["fast"]) / 2) * 100),
            "mape": float(np.abs(c["held_out_ms"] / c["measured_ms"] - 1).mean() * 100),
            "held_out": HELD_OUT,
        }
    return out

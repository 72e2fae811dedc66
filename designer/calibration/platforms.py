"""A software generation's measured platforms: each one's own per-step time and scale.

A generation profile (`designer calibrate --generation`) is one fit over every platform (chip ×
engine) its rows measured, and the platforms sit apart from it by more than their rows scatter
about each platform's own level: on the late-2025 InferenceMAX rows, MI300X and MI325X SGLang
measure about 1.9x the fit's step time and B200 TensorRT-LLM about 0.8x, and the MI300X and
MI325X rows grow less with the batch than the fit does (a larger fixed time per step). So every
measured platform carries two numbers fitted to its rows under the generation's fit (`fit`):
its own per-step time τ_step (host loop, scheduling, launches; `overhead_per_step`) and a factor
on every decode term (`scale`, `Efficiency.step_scale`). An answer on that chip × engine for a
model measured there uses them (`profiles.on_platform`); any other model or platform keeps the
generation's fit.

How far such an answer may be off is checked held out, one configuration at a time
(`held_out`): a configuration (model, dtypes, TP, PP, EP and attention of one platform, all its
batches) is predicted by the generation refitted without it, with the two numbers fitted to its
platform's other configurations. A platform measured in one configuration only has nothing to
fit them from, so its rows are not in that check (they are in the generation's
leave-one-platform-out one).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from designer.calibration.profiles import OnPlatform, platform_numbers
from designer.model.catalog import Catalog
from designer.model.workload import Efficiency

SCALE_BOUNDS = (0.1, 10.0)  # assumption: a platform within 10x of its generation's fit
MAX_STEP_S = 0.05  # assumption: a per-step software time below 50 ms (fitted: 0.1 - 24 ms)


def configuration(row) -> str:
    """What one measured configuration of a platform is: all its batches and lengths."""
    return "|".join(
        str(x)
        for x in (
            row.platform,
            row.model,
            row.weight_dtype,
            row.kv_dtype,
            row.tp,
            row.pp,
            row.ep,
            row.attention,
        )
    )


def fit(rows, eff: Efficiency) -> tuple[float, float]:
    """(scale, per-step time in s) that fit the generation's `eff` to prepared `rows`
    (`calibrate.Rows`, one platform's): least squares on log(measured / predicted), from
    (1, the generation's τ_step), inside `SCALE_BOUNDS` and [0, `MAX_STEP_S`]."""

    def residuals(x):
        on = platform_numbers(eff, float(x[0]), float(x[1]) * 1e-3)
        return np.log(rows.measured_ms / rows.terms.predict(on))

    start = [1.0, min(eff.overhead_per_step, MAX_STEP_S) * 1e3]
    lo, hi = [SCALE_BOUNDS[0], 0.0], [SCALE_BOUNDS[1], MAX_STEP_S * 1e3]
    x = least_squares(residuals, start, bounds=(lo, hi), x_scale=[1.0, 1.0]).x  # ms: O(1)
    return float(x[0]), float(x[1]) * 1e-3


def measured(rows, eff: Efficiency) -> tuple[tuple[str, OnPlatform], ...]:
    """Each platform of prepared `rows` with its two numbers (`fit`) under the generation's
    `eff`, the models it measured, its rows and configurations."""
    out = []
    platforms = np.array([i.row.platform for i in rows.items], dtype=object)
    for name in sorted(set(platforms)):
        ks = [int(k) for k in np.flatnonzero(platforms == name)]
        mine = [rows.items[k].row for k in ks]
        scale, tau = fit(rows.take(ks), eff)
        on = OnPlatform(
            scale=scale,
            overhead_per_step=tau,
            models=tuple(sorted({r.model for r in mine})),
            rows=len(ks),
            configurations=len({configuration(r) for r in mine}),
        )
        out.append((name, on.as_written()))
    return tuple(out)


def held_out(rows, catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """(predicted ms, checked) of prepared `rows`: each configuration predicted by the
    generation refitted without it, with the two numbers fitted to its platform's other
    configurations (`fit`), as an answer gets them when the platform measured its model
    (`profiles.on_platform`); `checked` is False (and the prediction NaN) where no other
    configuration of the platform measured that model."""
    from designer.calibration.calibrate import fit_items

    config = np.array([configuration(i.row) for i in rows.items])
    platform = np.array([i.row.platform for i in rows.items])
    model = np.array([i.row.model for i in rows.items])
    predicted = np.full(len(config), np.nan)
    for c in sorted(set(config)):
        held = config == c
        k0 = int(np.flatnonzero(held)[0])
        peers = (platform == platform[k0]) & ~held
        if not (peers & (model == model[k0])).any():
            continue
        eff = fit_items(rows.take(np.flatnonzero(~held).tolist()), catalog).efficiency
        scale, tau = fit(rows.take(np.flatnonzero(peers).tolist()), eff)
        idx = np.flatnonzero(held).tolist()
        predicted[idx] = rows.take(idx).terms.predict(platform_numbers(eff, scale, tau))
    return predicted, ~np.isnan(predicted)

"""Fit a calibration profile to measured step times: robust relative errors, bounded parameters.

The eleven parameters of `workload.Efficiency` are fitted at once over the rows
(`measurements.predict_ms` predicts what each row measured) with
`scipy.optimize.least_squares` (trust-region reflective, which keeps every parameter inside its
physical bounds), on the relative errors `r = (predicted − measured) / measured`. The loss is
chosen by what a profile is judged by, the mean absolute percentage error: `soft_l1` (the
default) minimizes `Σ 2·(√(1 + (r/s)²) − 1)` with `s` = `SOFT_L1_SCALE` = 1%, which is
`2·|r|/s − 2` for `|r| ≫ 1%`, i.e. the MAPE, made differentiable at zero; `linear` is plain
relative least squares `Σ r²` (`--loss linear`), which lets a few large misses pull every other
row. The step time has a `max(T_mem, T_compute)` kink, so the fit starts from several points and
keeps the best.

Parameters the data do not identify are held by a weak prior, never left to the optimizer's
path: every fit adds one residual per parameter, `PRIOR_WEIGHT · n · (x − prior) / (upper −
lower)`, under the same loss. With `soft_l1` that is a lasso: moving a parameter across its whole
range costs `PRIOR_WEIGHT` (0.5 percentage points) of the MAPE, so a parameter the rows pull on
less than that stays at `PRIOR` (the fit reports it in `Fit.not_identified`), while one they
identify moves as freely as before. Without it, a flat direction of the fit (e.g. a compute
efficiency the memory-bound rows barely see) lands wherever scipy's trust-region path takes it,
and numpy/scipy releases disagree by 4× at equal error.

Cross-validation refits with one group of rows held out and predicts the held-out rows:
`platform` (chip × engine), `source` (publication) or `row` (leave-one-out). With
`within="engine"` a held-out platform is predicted by a fit to the other platforms of its
serving engine (to all other platforms when those have no more rows than there are
parameters): the profile an answer for an unmeasured chip uses when its engine is named
(`profiles.default_for`).

>>> from designer.model.catalog import Catalog
>>> from designer.calibration import measurements
>>> cat = Catalog.load()
>>> rows = measurements.load(measurements.bundled_path(), cat)
>>> fit = fit_profile(rows, cat)
>>> round(fit.mape)
20
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from designer.calibration import engines
from designer.calibration.measurements import (
    Measurement,
    Prepared,
    Terms,
    measured_ranges,
    prepare,
)
from designer.calibration.profiles import Profile
from designer.model.catalog import Catalog
from designer.model.errors import InputError, unknown
from designer.model.workload import Efficiency

# name, Efficiency field, scale (parameter units → SI), lower, upper (in parameter units)
PARAMETERS: tuple[tuple[str, str, float, float, float], ...] = (
    ("bandwidth", "bandwidth", 1.0, 0.2, 1.0),
    ("compute", "compute", 1.0, 0.05, 1.0),
    ("overhead_per_layer_us", "overhead_per_layer", 1e-6, 0.0, 1000.0),
    ("per_sequence_us", "per_sequence", 1e-6, 0.0, 50.0),
    ("collective_latency_us", "collective_latency", 1e-6, 0.0, 500.0),
    ("overhead_per_step_us", "overhead_per_step", 1e-6, 0.0, 50000.0),
    ("prefill_compute", "prefill_compute", 1.0, 0.05, 1.0),
    ("per_sequence_step_us", "per_sequence_step", 1e-6, 0.0, 500.0),
    ("attention_kernel", "attention_kernel", 1.0, 0.0, 10.0),
    ("moe_layer_us", "moe_layer", 1e-6, 0.0, 3000.0),
    ("mla_layer_us", "mla_layer", 1e-6, 0.0, 3000.0),
    ("moe_expert_us", "moe_expert", 1e-6, 0.0, 100.0),
)
# The prior a parameter the rows do not identify is held at (assumption: a neutral serving
# stack — 80% of peak memory bandwidth and 60% of peak FLOP/s sustained, no software time and
# no kernel time beyond bytes and FLOPs; the fraction priors are the middle of the range the
# shipped fits span, 0.69-0.95 and 0.15-1.0). Dense rows leave `moe_layer` and `mla_layer` at 0.
PRIOR = (0.8, 0.6, 0.0, 0.0, 0.0, 0.0, 0.6, 0.0, 0.0, 0.0, 0.0, 0.0)
# Parameters every fit holds at PRIOR: terms of the model that a profile may state (explicit
# `[efficiency]` values) but that the shipped rows do not support: fitted, they worsen the
# cross-validated error (docs/model.md §6 gives the before/after).
HELD: tuple[str, ...] = ("per_sequence_step", "attention_kernel", "moe_layer")
# Pairs (kept, held) of parameters whose terms the rows may not tell apart: when they move every
# prediction in proportion (rows of DeepSeek-V3/R1 only: every MLA layer but three is an MoE
# layer), the first takes the time of both and the second is held at its prior (listed in
# `not_identified`); MoE rows without MLA (Qwen3, Mixtral, gpt-oss) separate them. MLA first:
# where the rows separate them (all rows, Mixtral 8x7B's included) the fit gives the time to
# the MLA layers and ~0 to the MoE layers (docs/model.md §6).
CONFOUNDED: tuple[tuple[str, str], ...] = (("mla_layer", "moe_layer"),)
PRIOR_WEIGHT = 0.005  # MAPE (as a fraction) that moving one parameter across its range costs
AT_PRIOR = 1e-4  # within this share of its range of PRIOR, a fitted parameter is "not identified"
STARTS = (
    (0.8, 0.5, 20.0, 1.0, 10.0, 500.0, 0.5, 5.0, 0.2, 50.0, 50.0, 2.0),
    (0.6, 0.3, 100.0, 5.0, 50.0, 2000.0, 0.3, 20.0, 1.0, 200.0, 200.0, 10.0),
    (0.95, 0.8, 5.0, 0.2, 2.0, 100.0, 0.8, 1.0, 0.05, 10.0, 10.0, 0.5),
)
LOSSES = ("soft_l1", "linear")  # scipy.optimize.least_squares losses on the relative errors
DEFAULT_LOSS = "soft_l1"
SOFT_L1_SCALE = 0.01  # relative error below which soft_l1 is quadratic: 1%
GROUPINGS: dict[str, Callable[[Measurement], str]] = {
    "platform": lambda r: r.platform,
    "source": lambda r: r.source,
    "chip": lambda r: r.chip,
    "row": lambda r: r.id,
    "model": lambda r: r.model,  # leave-one-model-out: a model the fit never saw
}
WITHIN = ("engine",)  # cross-validation restricted to the held-out platform's engine


def efficiency_of(x: np.ndarray, activation_dtype: str = "") -> Efficiency:
    """The Efficiency of a parameter vector (in `PARAMETERS` order and units)."""
    values = {f: float(v) * s for (_, f, s, _, _), v in zip(PARAMETERS, x, strict=True)}
    return Efficiency(**values, activation_dtype=activation_dtype)


def vector_of(eff: Efficiency) -> np.ndarray:
    return np.array([getattr(eff, f) / s for _, f, s, _, _ in PARAMETERS])


@dataclass(frozen=True)
class Errors:
    """Relative errors of predictions against measurements."""

    ids: tuple[str, ...]
    predicted_ms: np.ndarray
    measured_ms: np.ndarray

    @property
    def relative(self) -> np.ndarray:
        return (self.predicted_ms - self.measured_ms) / self.measured_ms

    @property
    def mape(self) -> float:
        """Mean absolute percentage error, in percent."""
        return float(np.mean(np.abs(self.relative)) * 100)

    @property
    def median(self) -> float:
        return float(np.median(np.abs(self.relative)) * 100)

    @property
    def worst(self) -> tuple[str, float]:
        """The row with the largest |error| and that error, signed, in percent."""
        i = int(np.argmax(np.abs(self.relative)))
        return self.ids[i], float(self.relative[i] * 100)

    def summary(self) -> str:
        wid, w = self.worst
        return (
            f"MAPE {self.mape:.1f}%, median {self.median:.1f}%, worst {w:+.1f}% ({wid}), "
            f"{points(len(self.ids))}"
        )


def points(n: int) -> str:
    """'1 point', '2 points'."""
    return f"{n} point" if n == 1 else f"{n} points"


@dataclass(frozen=True)
class Rows:
    """Prepared rows with their profile-free terms (`measurements.Terms`), computed once."""

    items: list[Prepared]
    terms: Terms

    @classmethod
    def of(cls, items: list[Prepared]) -> Rows:
        return cls(items, Terms.of(items))

    def __len__(self) -> int:
        return len(self.items)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i.row.id for i in self.items)

    @property
    def measured_ms(self) -> np.ndarray:
        return np.array([i.row.measured_ms for i in self.items])

    def take(self, index: list[int]) -> Rows:
        return Rows([self.items[k] for k in index], self.terms.take(np.asarray(index, dtype=int)))


def as_rows(rows: list[Measurement] | list[Prepared] | Rows, catalog: Catalog) -> Rows:
    """`rows` prepared (`measurements.prepare`) with their terms, unless they already are: a
    caller that fits the same rows several times prepares them once."""
    if isinstance(rows, Rows):
        return rows
    if rows and isinstance(rows[0], Measurement):
        rows = prepare(rows, catalog)
    return Rows.of(rows)


def group_index(rows: Rows, key: Callable[[Measurement], str]) -> dict[str, list[int]]:
    """The positions of `rows` by `key` of their measurement, groups sorted by name."""
    index: dict[str, list[int]] = {}
    for k, i in enumerate(rows.items):
        index.setdefault(key(i.row), []).append(k)
    return dict(sorted(index.items()))


def errors(items: list[Prepared] | Rows, eff: Efficiency, catalog: Catalog) -> Errors:
    rows = as_rows(items, catalog)
    return Errors(rows.ids, rows.terms.predict(eff), rows.measured_ms)


@dataclass(frozen=True)
class Fit:
    """A fitted Efficiency and its in-sample errors."""

    efficiency: Efficiency
    errors: Errors
    rows: tuple[str, ...] = field(default=())
    not_identified: tuple[str, ...] = field(default=())  # parameters held at PRIOR

    @property
    def mape(self) -> float:
        return self.errors.mape


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise unknown("loss", loss, LOSSES, key="--loss")


def fit_items(items: list[Prepared] | Rows, catalog: Catalog, loss: str = DEFAULT_LOSS) -> Fit:
    """Fit over prepared rows with `loss` on the relative errors (see module docstring)."""
    _check_loss(loss)
    if not items:
        raise InputError("no measurements to fit")
    rows = as_rows(items, catalog)
    measured = rows.measured_ms

    def residuals(x: np.ndarray) -> np.ndarray:
        return rows.terms.predict(efficiency_of(x)) / measured - 1.0

    seen = seen_by(rows)
    _, _, prior = _bounds(np.ones(len(PARAMETERS), bool))

    def partial(xs: np.ndarray) -> np.ndarray:
        x = prior.copy()
        x[seen] = xs
        return residuals(x)

    x = prior.copy()
    x[seen] = least(partial, seen, [np.asarray(x0)[seen] for x0 in STARTS], loss)
    eff = efficiency_of(x, activation_dtype(rows))
    return Fit(eff, errors(rows, eff, catalog), rows.ids, not_identified(x))


def seen_by(rows: Rows) -> np.ndarray:
    """Mask of the parameters fitted to `rows`: those not `HELD` that move some row's
    prediction (moving each from its prior by half its range), less the second of a
    `CONFOUNDED` pair the rows cannot tell apart; the others (e.g. the MoE- and MLA-layer times
    on dense rows) are held at the prior exactly."""
    lo, hi, prior = _bounds(np.ones(len(PARAMETERS), bool))
    base = rows.terms.predict(efficiency_of(prior))
    out = np.zeros(len(PARAMETERS), bool)
    for k in range(len(PARAMETERS)):
        x = prior.copy()
        x[k] = (lo[k] + hi[k]) / 2 if prior[k] == lo[k] else lo[k]
        out[k] = bool(np.any(rows.terms.predict(efficiency_of(x)) != base))
    out &= np.array([p[1] not in HELD for p in PARAMETERS])
    fields = [p[1] for p in PARAMETERS]
    for first, second in CONFOUNDED:
        j, k = fields.index(first), fields.index(second)
        if out[j] and out[k] and _parallel(rows, prior, lo, hi, j, k):
            out[k] = False
    return out


def _parallel(rows: Rows, prior, lo, hi, j: int, k: int) -> bool:
    """Whether parameters j and k move every row's prediction in the same proportion (a small
    step up from the prior each): the rows cannot tell them apart."""
    base = rows.terms.predict(efficiency_of(prior))
    moves = []
    for i in (j, k):
        x = prior.copy()
        x[i] += 1e-4 * (hi[i] - lo[i])
        moves.append(rows.terms.predict(efficiency_of(x)) - base)
    a, b = moves
    return float(a @ b) >= (1 - 1e-6) * float(np.linalg.norm(a) * np.linalg.norm(b))


def activation_dtype(rows: Rows) -> str:
    """The GEMM activation dtype of the rows' engine when they share one (`engines.activation`),
    recorded in the fitted profile; "" for rows of several engines."""
    found = {i.row.engine for i in rows.items}
    return engines.activation(found.pop()) if len(found) == 1 else ""


def _bounds(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower bounds, upper bounds and priors of the parameters `mask` selects."""
    cols = np.array([(p[3], p[4], x0) for p, x0 in zip(PARAMETERS, PRIOR, strict=True)])[mask]
    return cols[:, 0], cols[:, 1], cols[:, 2]


def not_identified(x: np.ndarray) -> tuple[str, ...]:
    """The names of the parameters of a full vector `x` that sit at their prior (within
    `AT_PRIOR` of their range): the data did not pull them away from it."""
    lo, hi, prior = _bounds(np.ones(len(PARAMETERS), bool))
    near = np.abs(np.asarray(x) - prior) <= AT_PRIOR * (hi - lo)
    return tuple(p[1] for p, n in zip(PARAMETERS, near, strict=True) if n)


def least(
    residuals: Callable[[np.ndarray], np.ndarray],
    mask: np.ndarray,
    starts: Iterable[np.ndarray],
    loss: str = DEFAULT_LOSS,
) -> np.ndarray:
    """The best of bounded least-squares runs of `loss` on `residuals` (relative errors) and the
    prior (module docstring), one from each start, over the parameters of `PARAMETERS` that
    `mask` selects (their units and bounds; a start gives values for the selected parameters
    only)."""
    lo, hi, prior = _bounds(mask)
    starts = [np.asarray(x0, float) for x0 in starts]
    n = len(residuals(np.clip(starts[0], lo, hi)))
    # soft_l1 costs |p| far from the prior, linear p²: either way a whole range costs PRIOR_WEIGHT
    weight = (PRIOR_WEIGHT * n if loss == "soft_l1" else np.sqrt(PRIOR_WEIGHT * n)) / (hi - lo)

    def regularized(x: np.ndarray) -> np.ndarray:
        return np.concatenate([residuals(x), weight * (x - prior)])

    best = None
    for x0 in starts:
        res = least_squares(
            regularized,
            np.clip(x0, lo, hi),
            bounds=(lo, hi),
            x_scale="jac",
            loss=loss,
            f_scale=SOFT_L1_SCALE if loss == "soft_l1" else 1.0,
        )
        if best is None or res.cost < best.cost:
            best = res
    return best.x


def fit_profile(rows: list[Measurement], catalog: Catalog, loss: str = DEFAULT_LOSS) -> Fit:
    """Fit one profile to all `rows`."""
    return fit_items(prepare(rows, catalog), catalog, loss)


@dataclass(frozen=True)
class CrossValidation:
    """Held-out predictions: each group predicted by a fit to all the other groups."""

    by: str
    errors: Errors
    groups: dict[str, Errors]
    within: str | None = None
    fits: dict[str, Efficiency] = field(default_factory=dict)  # each group's training fit

    @property
    def name(self) -> str:
        """E.g. 'leave-one-platform-out' or 'leave-one-platform-out within engine'."""
        return f"leave-one-{self.by}-out" + (f" within {self.within}" if self.within else "")

    def summary(self) -> str:
        return f"{self.name} over {len(self.groups)} groups: {self.errors.summary()}"


def cross_validate(
    rows: list[Measurement] | Rows,
    catalog: Catalog,
    by: str = "platform",
    loss: str = DEFAULT_LOSS,
    within: str | None = None,
) -> CrossValidation:
    """Leave-one-group-out cross-validation of the fit; `by` in `GROUPINGS`, `within` None or
    "engine" (by platform only: train on the held-out platform's engine's other platforms)."""
    _check_loss(loss)
    if by not in GROUPINGS:
        raise unknown("cross-validation grouping", by, GROUPINGS, key="--cross-validate")
    if within is not None:
        if within not in WITHIN:
            raise unknown("cross-validation restriction", within, WITHIN, key="--within")
        if by != "platform":
            raise InputError(
                f"--within {within} needs --cross-validate platform (got {by})", key="--within"
            )
    key = GROUPINGS[by]
    prepared = as_rows(rows, catalog)
    items = prepared.items
    index = group_index(prepared, key)
    if len(index) < 2:
        raise InputError(
            f"cross-validation by {by} needs at least two groups", key="--cross-validate"
        )
    predicted = np.empty(len(items))
    groups: dict[str, Errors] = {}
    fits: dict[str, Efficiency] = {}
    for name, held in index.items():
        train = [k for k, i in enumerate(items) if key(i.row) != name]
        if within == "engine":
            engine = items[held[0]].row.engine
            same = [k for k in train if items[k].row.engine == engine]
            if len(same) > len(PARAMETERS):  # else too few to fit: all other platforms
                train = same
        fit = fit_items(prepared.take(train), catalog, loss)
        e = errors(prepared.take(held), fit.efficiency, catalog)
        predicted[held] = e.predicted_ms
        groups[name] = e
        fits[name] = fit.efficiency
    held_out = Errors(prepared.ids, predicted, prepared.measured_ms)
    return CrossValidation(by, held_out, groups, within, fits)


def default_cv(rows: list[Measurement]) -> str:
    """Leave-one-platform-out when the rows span platforms, else leave-one-source-out when
    they span publications (rows of one table share their setup, so leaving out one row at a
    time flatters a fit), else leave-one-out."""
    if len({r.platform for r in rows}) > 1:
        return "platform"
    return "source" if len({r.source for r in rows}) > 1 else "row"


def make_profile(
    rows: list[Measurement],
    catalog: Catalog,
    name: str,
    *,
    data: str = "",
    chips: tuple[str, ...] = (),
    command: str = "",
    cv_by: str | None = None,
    fit_date: str | None = None,
    loss: str = DEFAULT_LOSS,
    within: str | None = None,
    generation: bool = False,
) -> tuple[Profile, Fit, CrossValidation]:
    """Fit `rows`, cross-validate, and return the profile with its fit quality. With
    `generation`, the profile records the oldest build of each engine the rows state
    (`engines.oldest_builds`) as its `builds`: it becomes the default for those builds and
    later ones (`profiles.for_build`); `intervals.with_own_table` then gives it its own
    interval table."""
    import datetime

    builds = tuple(engines.oldest_builds(rows).items()) if generation else ()
    if generation and not builds:
        raise InputError(
            "--generation: no row states its engine build (a version after the engine's name "
            "in the `software` column)",
            key="calibrate",
        )

    fit = fit_profile(rows, catalog, loss)
    by = cv_by or default_cv(rows)
    cv = cross_validate(rows, catalog, by, loss, within if by == "platform" else None)
    platforms = sorted({r.platform for r in rows})
    engine_names = sorted({r.engine for r in rows})
    sources = sorted({r.source for r in rows})
    profile = Profile(
        id=name,
        efficiency=fit.efficiency,
        name=(
            f"Fit to {platforms[0]}"
            if len(platforms) == 1
            else f"Fit over {len(platforms)} {engine_names[0]} platforms"
            if len(engine_names) == 1
            else f"Fit over {len(platforms)} platforms"
        ),
        platform=platforms[0] if len(platforms) == 1 else "",
        engine=engine_names[0] if len(engine_names) == 1 else "",
        chips=chips,
        builds=builds,
        measured_builds=tuple(
            (e, *pair) for e, pair in engines.stated_builds(rows, strict=False).items()
        ),
        measured_ranges=tuple(measured_ranges(rows, catalog).items()),
        data=data,
        rows=len(rows),
        fit_date=fit_date or datetime.datetime.now(datetime.UTC).date().isoformat(),
        fit_mape=fit.errors.mape,
        fit_median=fit.errors.median,
        fit_worst=fit.errors.worst[1],
        cv=cv.name,
        cv_mape=cv.errors.mape,
        cv_points=len(cv.errors.ids),
        not_identified=fit.not_identified,
        command=command,
        source="; ".join(sources),
    )
    return profile, fit, cv

"""How far an answer may be from a real serving stack: 80% intervals from held-out residuals.

Every step-time prediction is scaled by quantiles of `measured / predicted` of published
measurements predicted *held out* (leave-one-source-out: each publication predicted by profiles
refitted without it) under the profile its chip gets in an answer (`profiles.default_for`), in
the prediction's own domain:

- the profile kind: `platform` (a profile fitted to this chip's own rows), `composed` (a fit
  over other platforms: `generic`, `generic-<engine>`) or `limit` (the hardware limit);
- the batch (`1`, `2-16`, `17-128`, `>128`) and the decode context (`<=2K`, `2K-16K`, `>16K`);
- the model family: a dense answer is judged by dense rows' residuals only, an MoE answer by
  every row's (kind + `MOE`), and widened once more while the data measure fewer than
  `MIN_MOE_MODELS` MoE models (an extrapolation named `moe`).

Quantiles weigh every publication the same (publications disagree where the model's inputs are
equal, so the spread between them, not the count of one's rows, sets the interval). A domain's
interval is its kind's, widened to its (kind, batch, context) cell's — or, when that cell holds
fewer than `MIN_CELL` rows from `MIN_SOURCES` publications, its (kind, batch) cell's — where
those are wider: a sparse cell never narrows it. Above batch 128, where the dense rows are too
few for a cell of their own, a dense domain takes its kind's MoE family's cells (every row of
the kind at that batch). A prediction outside the data's range (an MoE
or MLA model when the data hold none, a TP, PP, EP, batch or context beyond the largest
measured, data-parallel attention, an unmeasured chip or weight dtype, speculative decoding, an
uncalibrated profile, non-deployment equations, an engine build outside those the profile's rows
state: `Profile.build_outside`) is widened on each side per such dimension — a build on one side
only, the fast end for a later build, the slow end for an earlier one (`widenings`) — and the
answer names the dimensions. A configuration dimension some held-out row of the data
extrapolated along, and `moe` for an MoE model the data measured, widen by the factor those rows
measured (`designer.calibration.widening`, `Table.widen`, `Table.factor`); every other dimension
by the `WIDEN` assumption.

The table lives in catalogs/intervals.toml, written by `designer calibrate DATA --intervals`
(`python scripts/refit_profiles.py` reruns it); its `[coverage]` is the share of held-out
predictions inside their interval when each publication's interval is built from the other
publications' residuals only.

A software generation (a profile with `builds`, `designer calibrate --generation`) is its own
domain: it carries a table of its own (`own_table`, in its profile's `intervals`), from the
held-out residuals its cross-validation quotes, with its own data's ranges — so an answer on a
later build is judged by how that build's rows were predicted, and a dense model under a
generation measured on MoE models only is an extrapolation (`dense`). An answer on one of its
measured platforms, with that platform's numbers (`profiles.on_platform`), is judged by the
residuals of its platforms' configurations held out one at a time (kind `ON_PLATFORM`,
`platforms.held_out`); its model was measured there, so an MoE model is no extrapolation.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from designer.calibration.measurements import measured_ranges
from designer.calibration.profiles import ON_PLATFORM  # a generation scaled to a platform
from designer.model import toml_text
from designer.model.catalog import Catalog, bundled_dir
from designer.model.errors import InputError
from designer.model.files import read_toml
from designer.model.perf import ATTENTION_LAYOUTS

CONFIDENCE = 0.8  # the stated interval: from the 10th to the 90th percentile
QUANTILES = tuple(round(q, 2) for q in np.arange(0.05, 0.96, 0.05))
BATCH_EDGES = (1, 2, 17, 129)  # lower edges of the batch bins
BATCH_BINS = ("1", "2-16", "17-128", ">128")
CONTEXT_EDGES = (0, 2049, 16385)
CONTEXT_BINS = ("<=2K", "2K-16K", ">16K")
KINDS = ("platform", "composed", "limit")
GENERATION = "generation"  # the kind of a software generation's own table (`own_table`)
MOE = "+moe"  # a kind's mixture-of-experts family (`family`)
# assumption: MoE answers are an extrapolation (`moe`: WIDEN, or the measured factor for a model
# the data measured, `Table.factor`) while the data measure fewer MoE models.
# Raised from 2 to 3 after measuring (docs/model.md §8): with Mixtral 8x7B's 11 rows beside
# DeepSeek-R1's 98, held-out MoE rows fell 56.9% inside unwidened intervals (96.3% widened).
MIN_MOE_MODELS = 3
MIN_CELL = 15
MIN_SOURCES = 3
# assumption: outside the data's range each extrapolated dimension the data cannot measure (an
# MoE model never measured, PP > 1, a build, ...) may move the step time by another 1.5x either
# way (the held-out MoE rows missed by 2-5x: two such dimensions); the dimensions the
# data do measure take their measured factor (`Table.widen`, designer/calibration/widening.py)
WIDEN = 1.5
FILE = "intervals.toml"
# `[ranges]` key of the shipped table: the MoE models the data measured, whose answers' `moe`
# dimension widens by the measured factor (`Table.factor`, designer/calibration/widening.py)
MEASURED_MOE = "moe_models_measured"
# `[ranges]` key: the profiles whose held-out residuals the table holds (each data chip's
# default, and `generic`); only their answers take the measured factors (`Table.measured_for`)
MEASURED_PROFILES = "profiles_measured"


def batch_bin(batch) -> np.ndarray:
    """Index of the batch bin of each batch."""
    return np.searchsorted(BATCH_EDGES, np.asarray(batch), side="right") - 1


def context_bin(context) -> np.ndarray:
    return np.searchsorted(CONTEXT_EDGES, np.asarray(context), side="right") - 1


def cell_keys(kind: str, b: int, c: int) -> tuple[str, ...]:
    """The cells of a domain, most specific first."""
    return (f"{kind}|{BATCH_BINS[b]}|{CONTEXT_BINS[c]}", f"{kind}|{BATCH_BINS[b]}", kind)


@dataclass(frozen=True)
class Residuals:
    """Held-out `measured / predicted` ratios with each row's domain and group."""

    ratio: np.ndarray
    kind: np.ndarray
    batch: np.ndarray
    context: np.ndarray
    group: np.ndarray
    predicted_ms: np.ndarray
    measured_ms: np.ndarray


@dataclass(frozen=True)
class Table:
    """Ratio quantiles (at `QUANTILES`) per cell, with the data's range."""

    cells: dict[str, tuple[float, ...]]
    counts: dict[str, int]
    ranges: dict[str, Any] = field(default_factory=dict)
    coverage: dict[str, Any] = field(default_factory=dict)
    # the measured factor per dimension it was measured for and adopted (`widening.measure`;
    # `[widen_measured]`): configuration dimensions, and `moe` of the MoE models it names
    widen: dict[str, float] = field(default_factory=dict)

    def factor(self, dimension: str, model: str | None = None) -> float:
        """The factor an interval widens by for one extrapolated dimension: measured where the
        data measured it (`widen`), else the `WIDEN` assumption. The model family's (`moe`) is
        measured for the MoE models the data measured (`ranges[MEASURED_MOE]`); an answer for
        another `model` keeps the assumption (its check: `unseen_moe_models`)."""
        if dimension == "moe" and model not in self.ranges.get(MEASURED_MOE, ()):
            return WIDEN
        return self.widen.get(dimension, WIDEN)

    def used(self, dimension: str, measured: bool, model: str | None = None) -> float:
        """What `dimension` widens an answer by: its measured factor (`factor`) when the answer
        takes the measured factors (`measured_for`), else `WIDEN`."""
        return self.factor(dimension, model) if measured else WIDEN

    def measured_for(self, profile, dims: list[str]) -> bool:
        """Whether an answer under `profile`, extrapolating along `dims`, takes the measured
        factors: its interval's base must come from the held-out residuals they were measured
        with — a profile of `ranges[MEASURED_PROFILES]` on its own chip — or, by choice, from a
        software generation's own table (its own held-out residuals; checked on the 8K rows
        no fit saw: docs/model.md §8), on the builds its profile's rows state (no `build`, no
        `profile` dimension; a `build` only for being what a row's date implies among them,
        `Profile.dated_within`, is on them). Any other answer (`generic-<engine>`, another
        chip's profile, a build outside the rows) keeps `WIDEN` for every dimension
        (docs/model.md §8)."""
        dated = getattr(profile, "dated_within", lambda: False)()
        if ("build" in dims and not dated) or "profile" in dims:
            return False
        if getattr(profile, "intervals", None) is not None:
            return True
        return getattr(profile, "id", None) in self.ranges.get(MEASURED_PROFILES, ())

    def quantiles(self, kind: str, batch: int, context: int) -> tuple[str, np.ndarray]:
        """(cell used, ratio quantiles) of one domain: the kind's quantiles, widened to the
        most specific cell's where that cell's are wider (a sparse cell never narrows them). A
        dense domain above batch 128 without a cell there takes its kind's MoE family's cells at
        that batch (every row of the kind there, dense rows included: docs/model.md §8)."""
        if kind not in self.cells and kind.endswith(MOE):  # no MoE rows: the dense kind's
            kind = kind[: -len(MOE)]
        if kind not in self.cells and kind + MOE in self.cells:  # no dense rows: the MoE's
            kind = kind + MOE
        if kind not in self.cells:
            raise InputError(f"no interval for profile kind {kind!r}", where=FILE)
        base = np.array(self.cells[kind])
        b, c = int(batch_bin(batch)), int(context_bin(context))
        keys = cell_keys(kind, b, c)[:-1]
        if not kind.endswith(MOE) and b == len(BATCH_BINS) - 1:
            keys += cell_keys(kind + MOE, b, c)[:-1]
        for key in keys:
            if key in self.cells:
                q = np.array(self.cells[key])
                low = np.asarray(QUANTILES) < 0.5
                return key, np.where(low, np.minimum(q, base), np.maximum(q, base))
        return kind, base


def family(kind: str, is_moe) -> str | np.ndarray:
    """The domain kind of a dense or mixture-of-experts model (`kind` + MOE): dense answers
    are judged by the residuals of dense rows, MoE answers by every row's (`table_of`); `is_moe`
    may be an array (one kind per row)."""
    if np.ndim(is_moe):
        return np.array([family(kind, m) for m in is_moe], dtype=object)
    return kind + MOE if is_moe else kind


def weighted_quantiles(ratio: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Quantiles (at `QUANTILES`) of the ratios with every group (publication) weighing the
    same in all: publications disagree, so one with many rows must not set the spread."""
    _, inverse, counts = np.unique(group, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inverse]
    order = np.argsort(ratio)
    v, w = np.log(ratio[order]), w[order]
    cum = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.exp(np.interp(QUANTILES, cum, v))


def table_of(res: Residuals, keep: np.ndarray | None = None) -> Table:
    """Quantiles of the residuals `keep` selects: per kind, and per (kind, batch[, context])
    cell with at least MIN_CELL rows from MIN_SOURCES publications. A dense row counts in its
    kind and in the kind's MoE family, an MoE row in the MoE family only: dense answers keep
    the dense rows' width, MoE answers take every row's."""
    keep = np.ones(len(res.ratio), bool) if keep is None else keep
    b, c = batch_bin(res.batch), context_bin(res.context)
    groups: dict[str, list[int]] = {}
    for i in np.flatnonzero(keep):
        k = str(res.kind[i])
        kinds = (k,) if k.endswith(MOE) else (k, k + MOE)  # MoE answers: every row's residual
        for kk in kinds:
            for key in cell_keys(kk, int(b[i]), int(c[i])):
                groups.setdefault(key, []).append(int(i))
    cells, counts = {}, {}
    for key, idx in sorted(groups.items()):
        sources = len(set(res.group[idx]))
        if "|" not in key or (len(idx) >= MIN_CELL and sources >= MIN_SOURCES):
            cells[key] = tuple(float(x) for x in weighted_quantiles(res.ratio[idx], res.group[idx]))
            counts[key] = len(idx)
    return Table(cells, counts)


def at(q: np.ndarray, level) -> np.ndarray:
    """The ratio quantile at `level` (interpolated on QUANTILES)."""
    return np.interp(level, QUANTILES, q)


def bounds(
    q: np.ndarray, widen: float | tuple[float, float] = 1.0, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """(fast, slow) ratios of the central `confidence` interval, divided and multiplied by the
    factor `widen`, or by (fast, slow) factors at each end (`factors`)."""
    tail = (1.0 - confidence) / 2.0
    fast, slow = widen if isinstance(widen, tuple) else (widen, widen)
    return float(at(q, tail)) / fast, float(at(q, 1.0 - tail)) * slow


# ---- the held-out residuals of the shipped data ----------------------------------------------
def held_out(rows, catalog: Catalog) -> Residuals:
    """Leave-one-source-out residuals of every row under the profile its chip gets in an answer
    (`profiles.default_for`), each profile refitted without the held-out publication
    (`held_out_fits`)."""
    from designer.calibration.calibrate import GROUPINGS, as_rows

    rows = as_rows(rows, catalog)
    n = len(rows)
    predicted = np.empty(n)
    kind = np.empty(n, dtype=object)
    for ks, eff, what in held_out_fits(rows, catalog):
        predicted[ks] = rows.take(ks).terms.predict(eff)
        kind[ks] = family(what, _moe(rows, catalog)[ks])
    return _residuals(rows, predicted, kind, [GROUPINGS["source"](i.row) for i in rows.items])


def held_out_fits(rows, catalog: Catalog):
    """Yield (positions, Efficiency, kind) for the rows of prepared `rows` (`calibrate.Rows`)
    of each publication under each profile: the profile their chip gets in an answer refitted
    without that publication — a platform profile on its platform's remaining rows (when more
    than the fit's parameters, else the `generic` refit, as `composed`), `generic` on all
    remaining rows; the hardware limit (`limit`) as it is."""
    from designer.calibration import profiles
    from designer.calibration.calibrate import GROUPINGS, PARAMETERS, fit_items, group_index

    default = {i.row.chip: profiles.default_for(catalog, i.row.chip) for i in rows.items}
    source = GROUPINGS["source"]
    for name, held in group_index(rows, source).items():
        train = [k for k, i in enumerate(rows.items) if source(i.row) != name]
        generic = fit_items(rows.take(train), catalog).efficiency
        by_profile: dict[str, list[int]] = {}
        for k in held:
            by_profile.setdefault(default[rows.items[k].row.chip].id, []).append(k)
        for ks in by_profile.values():
            prof = default[rows.items[ks[0]].row.chip]
            eff, what = generic, "composed"
            if prof.id == profiles.LIMIT:
                eff, what = prof.efficiency, "limit"
            elif prof.platform:
                own = [k for k in train if rows.items[k].row.platform == prof.platform]
                if len(own) > len(PARAMETERS):
                    eff = fit_items(rows.take(own), catalog).efficiency
                    eff, what = (
                        _layer_times(eff, rows, own, train, prof, generic, catalog),
                        "platform",
                    )
            yield ks, eff, what


def _residuals(rows, predicted_ms: np.ndarray, kind, groups) -> Residuals:
    """`measured / predicted` of prepared `rows` with each row's domain and group."""
    return Residuals(
        ratio=rows.measured_ms / predicted_ms,
        kind=np.asarray(kind, dtype=object),
        batch=np.array([i.row.batch for i in rows.items]),
        context=np.array([i.row.decode_context for i in rows.items]),
        group=np.array(list(groups), dtype=object),
        predicted_ms=np.asarray(predicted_ms),
        measured_ms=rows.measured_ms,
    )


def _layer_times(eff, rows, own, train, prof, generic, catalog: Catalog):
    """`eff` (fitted to the `own` rows) with each MoE/MLA layer time those rows could not set
    taken from a fit whose rows could, as `profiles.with_layer_times` composes a shipped
    profile: the fit to the training rows of the profile's engine when they hold such models,
    else the `generic` refit."""
    from designer.calibration import profiles
    from designer.calibration.calibrate import fit_items

    def ranges(ks):
        return measured_ranges([rows.items[k].row for k in ks], catalog)

    missing = profiles.missing_layer_times(ranges(own))
    if not missing:
        return eff
    engine = prof.engine or prof.platform.partition("/")[2]
    same = [k for k in train if rows.items[k].row.engine == engine]
    lacking = profiles.missing_layer_times(ranges(same)) if same else profiles.LAYER_TIMES
    donor = generic  # the engine's fit where its training rows hold the family, else generic's
    if any(f not in lacking for f in missing):
        donor = fit_items(rows.take(same), catalog).efficiency
    times = {f: getattr(generic if f in lacking else donor, f) for f in missing}
    return dataclasses.replace(eff, **times)


def _moe(rows, catalog: Catalog) -> np.ndarray:
    """Whether each row's model is a mixture of experts."""
    return np.array([catalog.model(i.row.model).is_moe for i in rows.items])


def limit_residuals(rows, catalog: Catalog) -> Residuals:
    """Residuals of the hardware limit (nothing fitted, so every row is held out)."""
    from designer.calibration.calibrate import GROUPINGS, as_rows
    from designer.model.workload import Efficiency

    rows = as_rows(rows, catalog)
    predicted = rows.terms.predict(Efficiency())
    groups = [GROUPINGS["source"](i.row) for i in rows.items]
    return _residuals(rows, predicted, family("limit", _moe(rows, catalog)), groups)


def join(a: Residuals, b: Residuals) -> Residuals:
    return Residuals(
        **{
            f: np.concatenate([getattr(a, f), getattr(b, f)])
            for f in Residuals.__dataclass_fields__
        }
    )


@dataclass(frozen=True)
class Coverage:
    """Each publication's held-out rows against intervals built from the other publications."""

    inside: np.ndarray  # bool per row
    half_width: np.ndarray  # (slow − fast)/2 per row, relative to the nominal step
    low_ms: np.ndarray
    high_ms: np.ndarray
    predicted_ms: np.ndarray
    measured_ms: np.ndarray

    def take(self, keep: np.ndarray) -> Coverage:
        """The coverage of the rows `keep` selects."""
        return Coverage(*(getattr(self, f.name)[keep] for f in dataclasses.fields(self)))

    def summary(self) -> dict[str, float]:
        return {
            "points": len(self.inside),
            "inside": float(np.mean(self.inside) * 100),
            "median_half_width": float(np.median(self.half_width) * 100),
        }


def judged_by(
    t: Table, res: Residuals, i: int, kind: str | None = None, held: str | None = None
) -> np.ndarray:
    """The ratio quantiles row `i` of `res` is judged by in `t` (in `kind`, default the row's),
    a table of the residuals of the rows not held out with it (`held`, default its group); a
    clear error when none of those was answered as that profile kind."""
    kind = kind or str(res.kind[i])
    try:
        return t.quantiles(kind, res.batch[i], res.context[i])[1]
    except InputError:
        raise InputError(
            f"cannot judge the held-out rows of {held or res.group[i]}: no other rows are "
            f"answered as {kind.removesuffix(MOE)!r} (each profile kind needs rows from two "
            "publications or more)",
            key="--intervals",
        ) from None


def coverage(
    res: Residuals,
    confidence: float = CONFIDENCE,
    moe_widen: int = 0,
    widen: np.ndarray | None = None,
) -> Coverage:
    """Nested leave-one-source-out coverage of the `confidence` intervals of `res`, each row's
    widened by its factor in `widen` at both ends (`widening.nested`), or the MoE rows' by
    `WIDEN` `moe_widen` times (as their answers are: `extrapolated`)."""
    n = len(res.ratio)
    if widen is None:
        moe = np.array([str(k).endswith(MOE) for k in res.kind], dtype=bool)
        widen = WIDEN ** (moe_widen * moe)
    lo, hi = np.empty(n), np.empty(n)
    for g in np.unique(res.group):
        held = res.group == g
        t = table_of(res, ~held)
        for i in np.flatnonzero(held):
            lo[i], hi[i] = bounds(judged_by(t, res, i), float(widen[i]), confidence)
    inside = (res.ratio >= lo) & (res.ratio <= hi)
    p = res.predicted_ms
    return Coverage(inside, (hi - lo) / 2.0, lo * p, hi * p, p, res.measured_ms)


def data_ranges(rows, catalog: Catalog) -> dict[str, Any]:
    """What the measurements span, per dimension an answer can extrapolate along; the batch
    also per family (`dense_batch`, `moe_batch`: a dense answer beyond the dense rows' largest
    batch extrapolates, however large the MoE rows' batches are)."""
    models = [catalog.model(r.model) for r in rows]
    return {
        "dense": any(not m.is_moe for m in models),
        "moe": any(m.is_moe for m in models),
        "moe_models": len({m.id for m in models if m.is_moe}),
        "mla": any(m.is_mla for m in models),
        "tp": max(r.tp for r in rows),
        "pp": max(r.pp for r in rows),
        "ep": max(r.ep for r in rows),
        "attention": sorted({r.attention for r in rows}),
        "batch": max(r.batch for r in rows),
        **measured_ranges(rows, catalog),  # dense_batch, moe_batch, mla_batch
        "context": max(r.decode_context for r in rows),
        "chips": sorted({r.chip for r in rows}),
        "weight_dtypes": sorted({r.weight_dtype for r in rows}),
    }


UNSEEN = "unseen_moe_model"  # the coverage entry of `unseen_moe_models`


def unseen_moe_models(
    rows, res: Residuals, catalog: Catalog, kind: str = KINDS[1], widen: bool = True
) -> Coverage:
    """Each MoE model's rows predicted as answers for an MoE model the data never measured:
    the profile refitted without that model's rows, the interval from the other models'
    held-out residuals (`res`) in `kind`'s MoE family (default: composed, as `generic`'s
    answers; a generation's own, `GENERATION`), widened once per dimension such an answer names
    (`moe` while the others hold fewer than `MIN_MOE_MODELS` MoE models, `mla` when none of them
    is MLA; not at all without `widen`) — the check of `WIDEN` for MoE answers. Rows come in
    the order of the sorted MoE models, each model's in the data's order."""
    from designer.calibration.calibrate import fit_items

    models = np.array([i.row.model for i in rows.items])
    moe = _moe(rows, catalog)
    order, low, high, predicted = [], [], [], []
    for m in sorted(set(models[moe])):
        held, train = np.flatnonzero(models == m), np.flatnonzero(models != m)
        eff = fit_items(rows.take([int(k) for k in train]), catalog).efficiency
        predicted.append(rows.take([int(k) for k in held]).terms.predict(eff))
        table = table_of(res, models != m)
        left = data_ranges([rows.items[k].row for k in train], catalog)
        dims = int(moe_extrapolated(left))
        dims += int(catalog.model(m).is_mla and not left["mla"])
        dims = dims if widen else 0
        for k in held:
            q = judged_by(table, res, int(k), kind + MOE, f"the MoE model {m}")
            fast, slow = bounds(q, WIDEN**dims)
            low.append(fast)
            high.append(slow)
        order.extend(int(k) for k in held)
    p = np.concatenate(predicted)
    measured = rows.measured_ms[order]
    lo, hi = np.array(low), np.array(high)
    ratio = measured / p
    inside = (ratio >= lo) & (ratio <= hi)
    return Coverage(inside, (hi - lo) / 2.0, lo * p, hi * p, p, measured)


def own_table(rows, predicted_ms: np.ndarray, groups, catalog: Catalog) -> Table:
    """The interval table of a software generation's profile: quantiles of its rows' held-out
    `measured / predicted` (`predicted_ms` from the cross-validation the profile quotes, one
    group held out at a time, every group weighing the same) in kind `GENERATION`, and of its
    measured platforms' held-out configurations (`platforms.held_out`, every platform weighing
    the same) in kind `ON_PLATFORM`; its rows' ranges; the nested coverage of each by the same
    groups (`calibrated`, `platform`, the latter with the held-out MAPE its answers quote). A
    scaled answer's model was measured on its platform, so its MoE rows are not widened."""
    from designer.calibration import platforms
    from designer.calibration.calibrate import as_rows

    rows = as_rows(rows, catalog)
    res = generation_residuals(rows, predicted_ms, groups, catalog)
    ranges = data_ranges([i.row for i in rows.items], catalog)
    widen = int(moe_extrapolated(ranges))
    summary = {"calibrated": coverage(res, moe_widen=widen).summary()}
    on_predicted, checked = platforms.held_out(rows, catalog)
    if checked.any():
        ks = np.flatnonzero(checked).tolist()
        mine = rows.take(ks)
        plat = _residuals(
            mine,
            on_predicted[ks],
            family(ON_PLATFORM, _moe(mine, catalog)),
            [i.row.platform for i in mine.items],
        )
        res = join(res, plat)
        error = np.abs(plat.predicted_ms / plat.measured_ms - 1.0)
        summary[ON_PLATFORM] = {
            **coverage(plat).summary(),
            "mape": float(np.mean(error) * 100),
            "held_out": "leave-one-configuration-out",
        }
    base = table_of(res)
    return Table(base.cells, base.counts, ranges, summary)


def generation_residuals(rows, predicted_ms: np.ndarray, groups, catalog: Catalog) -> Residuals:
    """A software generation's held-out residuals of prepared `rows` (`calibrate.as_rows`), in
    its own kind (`GENERATION`, the MoE rows in its MoE family), each row in its `groups`."""
    return _residuals(rows, predicted_ms, family(GENERATION, _moe(rows, catalog)), groups)


def with_own_table(profile, rows, cv, catalog: Catalog):
    """A software generation's `profile` with its measured platforms' scales
    (`platforms.measured`) and its own interval table, from the held-out predictions of its
    cross-validation `cv` (`calibrate.cross_validate`) of `rows` and of its platforms'
    (`own_table`)."""
    from designer.calibration import platforms, profiles
    from designer.calibration.calibrate import GROUPINGS, as_rows

    prepared = as_rows(rows, catalog)
    groups = [GROUPINGS[cv.by](i.row) for i in prepared.items]
    table = own_table(prepared, cv.errors.predicted_ms, groups, catalog)
    # scaled to the fit as written: the scales then hold for the shipped (rounded) numbers
    scales = platforms.measured(prepared, profiles.as_written(profile).efficiency)
    return dataclasses.replace(profile, intervals=as_raw(table), platforms=scales)


def as_raw(table: Table) -> dict[str, Any]:
    """The table as its TOML holds it: `ranges`, `coverage` and `cells` (`from_raw`)."""
    cells = {
        k: {"points": table.counts[k], "ratio": [float(x) for x in q]}
        for k, q in table.cells.items()
    }
    raw = {"ranges": dict(table.ranges), "coverage": dict(table.coverage), "cells": cells}
    if table.widen:  # the measured factor per dimension (`widening.measure`)
        raw["widen_measured"] = {"factors": dict(table.widen)}
    return raw


def to_toml(table: Table, command: str) -> str:
    """catalogs/intervals.toml of a table."""

    def val(v: Any) -> str:
        return toml_text.value(v, float_format="{:.4f}")

    lines = [
        "# 80% intervals of answers: quantiles of measured / predicted step time, held out",
        "# (leave-one-source-out) under the profile each chip gets in an answer, per domain.",
        "# Written by the command below (python scripts/refit_profiles.py reruns it); see",
        "# designer/calibration/intervals.py. `widen` is an assumption for the dimensions",
        "# [widen_measured] does not list, and for every dimension of an answer under a profile",
        "# outside ranges.profiles_measured or naming a build outside its profile's rows",
        "# (Table.measured_for; docs/model.md §8, designer/calibration/widening.py).",
        f"command = {val(command)}",
        f"confidence = {CONFIDENCE}",
        f"quantiles = {val([float(q) for q in QUANTILES])}",
        f"widen = {WIDEN}",
        'widen_source = "assumption: each dimension outside the data that the data cannot '
        'measure may move the step time by another 1.5x either way"',
        "",
    ]
    raw = as_raw(table)
    if "widen_measured" in raw:
        raw["widen_measured"] = {
            "source": "measured: leave-one-source-out rows of the data outside the other "
            "publications' range along these dimensions (moe: the rows of the MoE models in "
            "ranges.moe_models_measured); per group of dimensions the smallest factor of 1.00, "
            "1.05, ... putting 80% of them inside, used when they reach 75% with the factor "
            "chosen without their publication (designer/calibration/widening.py)",
            **raw["widen_measured"],
        }
    for name in ("ranges", "coverage", "widen_measured", "cells"):
        if name not in raw:
            continue
        lines += toml_text.tables(name, raw[name], float_format="{:.4f}")
    return "\n".join(lines)


def read(path: str | Path) -> Table:
    return from_raw(read_toml(path, "the interval table"))


def from_raw(raw: dict) -> Table:
    """A table from its parsed TOML (`as_raw`'s layout)."""
    cells = {k: tuple(v["ratio"]) for k, v in raw.get("cells", {}).items()}
    counts = {k: int(v["points"]) for k, v in raw.get("cells", {}).items()}
    w = (raw.get("widen_measured") or {}).get("factors", {})
    widen = {d: float(f) for d, f in w.items()}
    return Table(cells, counts, raw.get("ranges", {}), raw.get("coverage", {}), widen)


@functools.lru_cache(maxsize=1)
def shipped() -> Table:
    return read(bundled_dir() / FILE)


# ---- an answer's interval ---------------------------------------------------------------------
def table_for(profile, table: Table | None = None) -> Table:
    """The table an answer under `profile` is judged by: a software generation's own (with the
    measured widening of `table`, default the shipped one: it is the model's, measured on all
    the data), else `table`."""
    own = getattr(profile, "intervals", None)
    table = table or shipped()
    if own is None:
        return table
    return dataclasses.replace(from_raw(own), widen=dict(table.widen))


def kind_of(profile, chip: str) -> tuple[str, list[str]]:
    """(profile kind, extrapolated dimensions) of answering on `chip` with `profile` (a
    software generation's is `GENERATION`, or `ON_PLATFORM` where it is scaled to a measured
    platform, in its own table: `table_for`)."""
    from designer.calibration import profiles as _p

    if getattr(profile, "intervals", None) is not None:
        return (ON_PLATFORM if getattr(profile, "on", "") else GENERATION), []
    if profile.id == _p.LIMIT:
        return "limit", []
    if not profile.calibrated:
        return "composed", ["profile"]
    if profile.platform:
        own = profile.platform.split("/", 1)[0] == chip
        return ("platform", []) if own else ("composed", ["profile"])
    return "composed", []


def largest_batch(ranges: dict[str, Any], moe: bool, profile=None) -> float:
    """The largest batch measured in the answer's family (`dense_batch` or `moe_batch` of
    `data_ranges`; a table without per-family ranges gives its one largest batch) and, when
    `profile` records it, by its own rows (`Profile.measured_ranges`: a platform's profile
    never saw the batches other platforms measured): the smaller. Beyond it the answer
    extrapolates (`batch`). The context has no such per-profile limit: answers at 5.7 times
    the context of `current`'s rows were predicted 8.4% off on its platforms (docs/model.md §8)."""
    key = "moe_batch" if moe else "dense_batch"
    data = ranges.get(key, ranges.get("batch", np.inf))
    return min(data, dict(getattr(profile, "measured_ranges", ()) or ()).get(key, np.inf))


def moe_extrapolated(ranges: dict[str, Any]) -> bool:
    """Whether an MoE answer extrapolates from data of these `ranges` (`data_ranges`): no MoE
    rows, or fewer than `MIN_MOE_MODELS` MoE models (the `moe` dimension)."""
    return not ranges.get("moe", False) or ranges.get("moe_models", 2) < MIN_MOE_MODELS


def domain(profile, table: Table, wl, chip: str, tp, pp, ep, attention, batch):
    """(kind, extrapolated dimensions) of one design answered under `profile` (`kind_of` in
    its model's family, `extrapolated`). A software generation's answer off its measured
    platforms (kind `GENERATION`) is not named `chip`: its quantiles are of held-out platforms
    already, and each chip's rows held out fell inside them without the factor (docs/model.md
    §8, "A generation's answers on an unmeasured chip")."""
    kind, dims = kind_of(profile, chip)
    # a generation scaled to a measured platform: the model was measured on this very platform
    # (`profiles.on_platform`). Not `kind == ON_PLATFORM`: a chip's own profile has the same
    # kind name, "platform", and its MoE answers extrapolate like any other's.
    seen = bool(getattr(profile, "on", ""))
    dims = dims + extrapolated(table, wl, chip, tp, pp, ep, attention, batch, seen, profile)
    if kind == GENERATION and "chip" in dims:  # its residuals already hold platforms out
        dims.remove("chip")  # (round 20's V1: `scripts/generation_chips.py`, docs/model.md §8)
    if getattr(profile, "build_outside", lambda: False)():  # a build its rows did not state
        dims.append("build")
    return family(kind, wl.model.is_moe), dims


def widenings(profile, dims: list[str]) -> tuple[int, int]:
    """(fast, slow): how many times an answer's interval is widened at each end, once per
    extrapolated dimension (`domain`) — except `build`, which widens one end: a build later
    than the profile's rows the fast end, an earlier one the slow end (where the data measure
    one configuration on two builds, the later one ran it faster or at most 7% slower:
    docs/model.md §8)."""
    n = len(dims)
    side = getattr(profile, "build_side", lambda: 0)() if "build" in dims else 0
    return n - (side < 0), n - (side > 0)


def factors(
    profile, table: Table, dims: list[str], model: str | None = None
) -> tuple[float, float]:
    """(fast, slow): the factors an answer's interval widens by at each end, the product of
    each extrapolated dimension's (`Table.factor`, for the answer's `model`) on the ends
    `widenings` counts it at."""
    side = getattr(profile, "build_side", lambda: 0)() if "build" in dims else 0
    measured = table.measured_for(profile, dims)
    fast = slow = 1.0
    for d in dims:
        f = table.used(d, measured, model)
        fast *= f if d != "build" or side >= 0 else 1.0
        slow *= f if d != "build" or side <= 0 else 1.0
    return fast, slow


def partition_outside(
    r: dict, tp, pp, ep, attention, batch, moe: bool, profile=None
) -> dict[str, np.ndarray | np.bool_]:
    """Per partition dimension (TP, PP, EP, the batch, the attention layout, in that order),
    whether each design (scalars or arrays) lies beyond the data's range `r` (`Table.ranges`):
    the one place `extrapolated` (one design) and `slow_factor` (arrays of them) judge it."""
    return {
        "tp": np.asarray(tp) > r.get("tp", np.inf),
        "pp": np.asarray(pp) > r.get("pp", np.inf),
        "ep": np.asarray(ep) > r.get("ep", np.inf),
        "batch": np.asarray(batch) > largest_batch(r, moe, profile),
        "attention": ~np.isin(
            np.asarray(attention, dtype=object), r.get("attention", ATTENTION_LAYOUTS)
        ),
    }


def extrapolated(
    table: Table, wl, chip: str, tp, pp, ep, attention, batch, seen: bool = False, profile=None
) -> list[str]:
    """The dimensions of one design outside the measured data's range (`seen`: its model is
    one the data measured, so an MoE model is no extrapolation; `profile`: the batch is also
    judged by the profile's own rows, `largest_batch`)."""
    from designer.model.assumptions import Assumptions

    r = table.ranges
    m = wl.model
    out = []
    if m.is_moe and moe_extrapolated(r) and not seen:
        out.append("moe")
    if not m.is_moe and not r.get("dense", True):
        out.append("dense")
    if m.is_mla and not r.get("mla", False):
        out.append("mla")
    outside = partition_outside(r, tp, pp, ep, attention, batch, m.is_moe, profile)
    out += [name for name, o in outside.items() if o]
    if wl.read_context > r.get("context", np.inf):
        out.append("context")
    if chip not in r.get("chips", [chip]):
        out.append("chip")
    if wl.weight_dtype not in r.get("weight_dtypes", [wl.weight_dtype]):
        out.append("weight_dtype")
    if wl.speculative != "none":
        out.append("speculative")
    if wl.assumptions != Assumptions.preset("deployment"):
        out.append("assumptions")
    return out


class Ends(NamedTuple):
    """One design's 80% interval as step-time ratios to its prediction (`ends`)."""

    kind: str  # its domain's kind and family (`domain`)
    cell: str  # the domain cell its quantiles came from
    extrapolated: list[str]  # the dimensions outside the data (`domain`)
    widened: tuple[int, int]  # times the fast and the slow end were widened (`widenings`)
    factors: tuple[float, float]  # what the fast and the slow end were widened by (`factors`)
    fast: float
    slow: float


def ends(profile, table: Table, wl, chip: str, tp, pp, ep, attention, batch) -> Ends:
    """The interval of one design answered under `profile`, judged by `table` (`table_for`):
    its domain's quantiles at the decode context, widened per extrapolated dimension."""
    kind, dims = domain(profile, table, wl, chip, tp, pp, ep, attention, batch)
    cell, q = table.quantiles(kind, batch, wl.read_context)
    f = factors(profile, table, dims, wl.model.id)
    return Ends(kind, cell, dims, widenings(profile, dims), f, *bounds(q, f))


def interval(
    profile,
    wl,
    chip: str,
    *,
    tp: int,
    pp: int,
    ep: int,
    attention: str,
    batch: int,
    step_s: float,
    accepted: float = 1.0,
    table: Table | None = None,
) -> dict[str, Any]:
    """The JSON record of a design's 80% interval: tokens/s per user and step time at both
    ends, the domain cell it came from, the extrapolated dimensions, how many times each end
    was widened for them (`widenings`) and by what factor in all (`factors`); under an engine's
    fit, how such intervals held within the engine (`check`, `engine_fit_check`)."""
    table = table_for(profile, table)
    e = ends(profile, table, wl, chip, tp, pp, ep, attention, batch)
    check = engine_fit_check(profile, table)
    return {
        "confidence": CONFIDENCE,
        "tokens_per_s_per_user_low": accepted / (step_s * e.slow),
        "tokens_per_s_per_user_high": accepted / (step_s * e.fast),
        "step_time_low_s": step_s * e.fast,
        "step_time_high_s": step_s * e.slow,
        "domain": e.cell,
        "points": table.counts.get(e.cell, 0),
        "extrapolated": e.extrapolated,
        "widened": {"fast": e.widened[0], "slow": e.widened[1]},
        "widened_by": {"fast": e.factors[0], "slow": e.factors[1]},
        # answers under an engine's fit: how its intervals held within the engine (added)
        **({"check": check} if check else {}),
    }


def engine_fit_check(profile, table: Table) -> dict[str, Any] | None:
    """How the intervals of answers under `profile` held out within its engine, when it is an
    engine's fit over its platforms (`generic-<engine>`: an engine, no platform, no table of its
    own); the table holds it under the profile's id (`engine_check`, `designer calibrate
    --intervals`)."""
    if getattr(profile, "intervals", None) is not None or getattr(profile, "platform", ""):
        return None
    if not getattr(profile, "engine", ""):
        return None
    check = table.coverage.get(profile.id)
    return {"profile": profile.id, **check} if check else None


def slow_factor(
    profile, wl, chip: str, t, p, ep, attention, batch, confidence: float, table=None
) -> np.ndarray:
    """The step-time factor at the slow end (one-sided `confidence`) for arrays of designs of
    one chip and profile, non-decreasing in the batch (the largest over the batch bins up to
    each batch, so a bisection over the batch stays exact)."""
    table = table_for(profile, table)
    r = table.ranges
    att0 = (r.get("attention") or ["tp"])[0]
    kind, dims = domain(profile, table, wl, chip, 1, 1, 1, att0, 0)
    batch = np.asarray(batch)
    per_bin = np.array(
        [float(at(table.quantiles(kind, e, wl.read_context)[1], confidence)) for e in BATCH_EDGES]
    )
    running = np.maximum.accumulate(per_bin)[batch_bin(batch)]
    measured = table.measured_for(profile, dims)
    out = running * factors(profile, table, dims, wl.model.id)[1]
    outside = partition_outside(r, t, p, ep, attention, batch, wl.model.is_moe, profile)
    for name in ("tp", "pp", "ep", "attention", "batch"):  # the product's order before round 13
        out = out * table.used(name, measured) ** outside[name]
    return out


def attach(record: dict[str, Any], profile, wl) -> dict[str, Any]:
    """`record` (`evaluate.assess`) with its design's interval: `metrics` gains
    `tokens_per_s_per_user_low` / `_high` and the record an `interval` object."""
    d, m = record["design"], record["metrics"]
    iv = interval(
        profile,
        wl,
        d["chip"],
        tp=d["tp"],
        pp=d["pp"],
        ep=d["ep"],
        attention=d["attention"],
        batch=d["batch"],
        step_s=m["step_time_s"],
        accepted=m["tokens_per_s_per_user"] * m["step_time_s"],
    )
    m["tokens_per_s_per_user_low"] = iv["tokens_per_s_per_user_low"]
    m["tokens_per_s_per_user_high"] = iv["tokens_per_s_per_user_high"]
    record["interval"] = iv
    return record

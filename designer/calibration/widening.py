"""How much wider an answer's interval grows outside the data: measured where the data can.

An answer outside the measured data's range names the dimensions it extrapolates along
(`intervals.extrapolated`) and its interval widens by a factor per such dimension. The shipped
data measure that factor for the *configuration* dimensions (`CONFIGURATION`: the batch, the
context, the chip, TP/PP/EP, the attention layout, the weight dtype): leave-one-source-out, a
publication's rows are predicted by profiles that never saw it, and some of them lie outside what
the other publications measured (the one B200 row, the only 128K context, the largest batches).
Those rows are the measurement (`held_out_dimensions`): the factor is the smallest on
`GRID` that puts `TARGET` of them inside their nested interval widened once per such
dimension (`choose`). It applies to the configuration dimensions some held-out row extrapolated
along; every other dimension keeps the `intervals.WIDEN` assumption — the model family (`moe`,
`mla`: its check is leave-one-model-out, `intervals.unseen_moe_models`), and the dimensions no
held-out row reaches (e.g. PP > 1), the profile, a build, speculative decoding, the equations.

The figure that judges it is double nested (`nested`): each publication's rows against
intervals built from the other publications' residuals, widened by the factor chosen without
that publication. docs/model.md §8 has the rule and its measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from designer.calibration import intervals as iv
from designer.calibration.measurements import measured_ranges
from designer.model.catalog import Catalog

# The dimensions of the measured configuration (`intervals.extrapolated`'s names)
CONFIGURATION = ("tp", "pp", "ep", "batch", "attention", "context", "chip", "weight_dtype")
MODEL = ("moe", "mla", "dense")  # the model family's: widened by `intervals.WIDEN`
GRID = tuple(float(x) for x in np.round(np.arange(1.0, 3.0001, 0.05), 2))
TARGET = 0.8  # the share of the extrapolated rows the chosen factor puts inside
EXTRAPOLATED = "extrapolated"  # the coverage entry of the rows that measured the factor


@dataclass(frozen=True)
class Measured:
    """The factor chosen on every publication, the one chosen without each (double nesting),
    the dimensions it applies to and the rows that measured it."""

    factor: float
    dimensions: tuple[str, ...]
    rows: int
    publications: int
    without: dict[str, float]  # publication → the factor chosen on the others

    def widths(self) -> dict[str, float]:
        """The factor per dimension it applies to (`intervals.Table.widen`)."""
        return {d: self.factor for d in self.dimensions}


def held_out_dimensions(rows, res: iv.Residuals, catalog: Catalog) -> list[list[str]]:
    """Per prepared row (`calibrate.Rows`), the dimensions it extrapolates along from the data
    its held-out prediction saw (`intervals.held_out`): the other publications' ranges, and for
    a platform profile's row the batches of the platform's other rows too, as an answer's batch
    is judged by its profile's own rows (`intervals.largest_batch`)."""
    from designer.calibration.calibrate import GROUPINGS

    source = GROUPINGS["source"]
    names = [source(i.row) for i in rows.items]
    out: list[list[str]] = []
    ranges_of: dict[str, iv.Table] = {}
    for k, item in enumerate(rows.items):
        r = item.row
        train = [i.row for i, g in zip(rows.items, names, strict=True) if g != names[k]]
        if names[k] not in ranges_of:
            ranges_of[names[k]] = iv.Table({}, {}, iv.data_ranges(train, catalog))
        profile = None
        if str(res.kind[k]).startswith(iv.KINDS[0]):  # a platform profile's own rows
            own = [x for x in train if x.platform == r.platform]
            profile = SimpleNamespace(measured_ranges=measured_ranges(own, catalog))
        table = ranges_of[names[k]]
        out.append(
            iv.extrapolated(
                table, item.decode, r.chip, r.tp, r.pp, r.ep, r.attention, r.batch, False, profile
            )
        )
    return out


def counts(dims: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(configuration, other) dimensions each row extrapolates along."""
    config = np.array([sum(d in CONFIGURATION for d in x) for x in dims])
    return config, np.array([len(x) for x in dims]) - config


def _ends(res: iv.Residuals, idx: np.ndarray, without: list) -> tuple[np.ndarray, np.ndarray]:
    """Unwidened 80% ends (ratios) of rows `idx` from the residuals of every publication but
    `without`'s."""
    t = iv.table_of(res, ~np.isin(res.group, without))
    lo, hi = np.empty(len(idx)), np.empty(len(idx))
    for j, i in enumerate(idx):
        _, q = t.quantiles(str(res.kind[i]), res.batch[i], res.context[i])
        lo[j], hi[j] = iv.bounds(q)
    return lo, hi


def _inside(ratio, lo, hi, config, other, factor: float) -> np.ndarray:
    f = iv.WIDEN**other * factor**config
    return (ratio >= lo / f) & (ratio <= hi * f)


def choose(ratio, lo, hi, config, other) -> float:
    """The smallest `GRID` factor putting `TARGET` of the rows with a configuration dimension
    inside their ends widened by it per such dimension (and `intervals.WIDEN` per other)."""
    e = config > 0
    for w in GRID:
        if np.mean(_inside(ratio[e], lo[e], hi[e], config[e], other[e], w)) >= TARGET:
            return w
    return GRID[-1]


def measure(res: iv.Residuals, dims: list[list[str]]) -> Measured:
    """The configuration factor chosen on every publication's held-out rows, and without each
    (each other publication's rows then judged by the remaining ones' residuals)."""
    config, other = counts(dims)
    groups = np.unique(res.group)
    every = np.arange(len(res.ratio))
    lo, hi = np.empty(len(every)), np.empty(len(every))
    for g in groups:
        idx = np.flatnonzero(res.group == g)
        lo[idx], hi[idx] = _ends(res, idx, [g])
    factor = choose(res.ratio, lo, hi, config, other)
    without = {}
    for g in groups:
        rest = np.flatnonzero(res.group != g)
        lo2, hi2 = np.empty(len(rest)), np.empty(len(rest))
        for h in groups:
            if h != g:
                sel = np.flatnonzero(res.group[rest] == h)
                lo2[sel], hi2[sel] = _ends(res, rest[sel], [g, h])
        without[str(g)] = choose(res.ratio[rest], lo2, hi2, config[rest], other[rest])
    used = sorted({d for x in dims for d in x if d in CONFIGURATION})
    extrapolating = config > 0
    return Measured(
        factor=factor,
        dimensions=tuple(d for d in CONFIGURATION if d in used),
        rows=int(extrapolating.sum()),
        publications=len(set(res.group[extrapolating])),
        without=without,
    )


def nested(res: iv.Residuals, dims: list[list[str]], measured: Measured) -> np.ndarray:
    """Per row, the factor its interval widens by at both ends in the double-nested check: the
    configuration factor chosen without its publication per configuration dimension, and
    `intervals.WIDEN` per other dimension."""
    config, other = counts(dims)
    f = np.array([measured.without[str(g)] for g in res.group])
    return iv.WIDEN**other * f**config

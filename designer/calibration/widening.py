"""How much wider an answer's interval grows outside the data: measured where the data can.

An answer outside the measured data's range names the dimensions it extrapolates along
(`intervals.extrapolated`) and its interval widens by a factor per such dimension. The shipped
data measure that factor where held-out rows lie outside the data their prediction saw:
leave-one-source-out, a publication's rows are predicted by profiles that never saw it, and
some lie outside what the other publications measured (`held_out_dimensions`: the one B200
row, the only 128K context, the largest batches; and every MoE row, since the data hold fewer
than `intervals.MIN_MOE_MODELS` MoE models). Per group of dimensions (`GROUPS`, in order) the
factor is the smallest on `GRID` that puts `TARGET` of the rows extrapolating along the group
inside their nested interval, widened by it once per such dimension (`choose`; a group measured
before at its measured factor, any other dimension at `intervals.WIDEN`):

- `configuration`: the batch, the context, the chip, TP/PP/EP, the attention layout, the weight
  dtype — the factor applies to those some held-out row extrapolated along;
- `moe`: the model family, for an MoE model the data measured (each MoE row held out is one:
  every MoE model of the data is measured by more than one publication).

Every other dimension keeps the `intervals.WIDEN` assumption: an MoE model the data never
measured (its check is leave-one-model-out, `intervals.unseen_moe_models`), MLA, the
dimensions no held-out row reaches (e.g. PP > 1), the profile, a build, speculative decoding,
the equations.

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

CONFIGURATION = ("tp", "pp", "ep", "batch", "attention", "context", "chip", "weight_dtype")
MOE = "moe"
GROUPS = (("configuration", CONFIGURATION), (MOE, (MOE,)))  # measured in this order
# a held-out MoE row whose model no other publication measured: not the `moe` group's (an answer
# for such a model keeps `intervals.WIDEN`, `intervals.Table.factor`)
UNMEASURED_MOE = "moe (a model never measured)"
GRID = tuple(float(x) for x in np.round(np.arange(1.0, 3.0001, 0.05), 2))
TARGET = 0.8  # the share of the extrapolated rows the chosen factor puts inside
# the coverage entries of the rows that measured each group's factor
COVERAGE = {"configuration": "extrapolated", MOE: "moe_measured_model"}


@dataclass(frozen=True)
class Factor:
    """One group's factor chosen on every publication, the one chosen without each (double
    nesting), the dimensions it applies to and the rows that measured it."""

    group: str
    factor: float
    dimensions: tuple[str, ...]
    rows: int
    publications: int
    without: dict[str, float]  # publication → the factor chosen on the others


@dataclass(frozen=True)
class Measured:
    factors: tuple[Factor, ...]  # in the order of `GROUPS`

    def widths(self) -> dict[str, float]:
        """The factor per dimension (`intervals.Table.widen`)."""
        return {d: f.factor for f in self.factors for d in f.dimensions}


def held_out_dimensions(rows, res: iv.Residuals, catalog: Catalog) -> list[list[str]]:
    """Per prepared row (`calibrate.Rows`), the dimensions it extrapolates along from the data
    its held-out prediction saw (`intervals.held_out`): the other publications' ranges, and for
    a platform profile's row the batches of the platform's other rows too, as an answer's batch
    is judged by its profile's own rows (`intervals.largest_batch`); an MoE row whose model no
    other publication measured names `UNMEASURED_MOE` instead of `moe`."""
    from designer.calibration.calibrate import GROUPINGS

    source = GROUPINGS["source"]
    names = [source(i.row) for i in rows.items]
    out: list[list[str]] = []
    ranges_of: dict[str, iv.Table] = {}
    moe_models: dict[str, set[str]] = {}
    for k, item in enumerate(rows.items):
        r = item.row
        if names[k] not in ranges_of:
            train = [i.row for i, g in zip(rows.items, names, strict=True) if g != names[k]]
            ranges_of[names[k]] = iv.Table({}, {}, iv.data_ranges(train, catalog))
            moe_models[names[k]] = {x.model for x in train if catalog.model(x.model).is_moe}
        profile = None
        if str(res.kind[k]).startswith(iv.KINDS[0]):  # a platform profile's own rows
            own = [
                i.row
                for i, g in zip(rows.items, names, strict=True)
                if g != names[k] and i.row.platform == r.platform
            ]
            profile = SimpleNamespace(measured_ranges=measured_ranges(own, catalog))
        dims = iv.extrapolated(
            ranges_of[names[k]],
            item.decode,
            r.chip,
            r.tp,
            r.pp,
            r.ep,
            r.attention,
            r.batch,
            False,
            profile,
        )
        if MOE in dims and r.model not in moe_models[names[k]]:
            dims[dims.index(MOE)] = UNMEASURED_MOE
        out.append(dims)
    return out


def counts(dims: list[list[str]]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """({group: its dimensions each row extrapolates along}, every other dimension's count)."""
    per = {g: np.array([sum(d in names for d in x) for x in dims]) for g, names in GROUPS}
    return per, np.array([len(x) for x in dims]) - sum(per.values())


def _ends(res: iv.Residuals, idx: np.ndarray, without: list) -> tuple[np.ndarray, np.ndarray]:
    """Unwidened 80% ends (ratios) of rows `idx` from the residuals of every publication but
    `without`'s."""
    t = iv.table_of(res, ~np.isin(res.group, without))
    lo, hi = np.empty(len(idx)), np.empty(len(idx))
    for j, i in enumerate(idx):
        _, q = t.quantiles(str(res.kind[i]), res.batch[i], res.context[i])
        lo[j], hi[j] = iv.bounds(q)
    return lo, hi


def choose(ratio, lo, hi, n, fixed) -> float:
    """The smallest `GRID` factor putting `TARGET` of the rows extrapolating along a group
    (`n` > 0: its dimensions per row) inside their ends widened by it per such dimension and by
    `fixed` (each row's other dimensions' factors)."""
    e = n > 0
    for w in GRID:
        f = fixed[e] * w ** n[e]
        if np.mean((ratio[e] >= lo[e] / f) & (ratio[e] <= hi[e] * f)) >= TARGET:
            return w
    return GRID[-1]


def _chosen(ratio, lo, hi, per, other) -> list[float]:
    """Each group's factor in turn: the groups before it at their chosen factor, the ones after
    it and every other dimension at `intervals.WIDEN`."""
    chosen: list[float] = []
    names = [g for g, _ in GROUPS]
    for k, g in enumerate(names):
        fixed = iv.WIDEN ** (other + sum(per[h] for h in names[k + 1 :]))
        for h, f in zip(names[:k], chosen, strict=True):
            fixed = fixed * f ** per[h]
        chosen.append(choose(ratio, lo, hi, per[g], fixed))
    return chosen


def measure(res: iv.Residuals, dims: list[list[str]]) -> Measured:
    """Each group's factor chosen on every publication's held-out rows, and without each (each
    other publication's rows then judged by the remaining ones' residuals)."""
    per, other = counts(dims)
    groups = np.unique(res.group)
    n = len(res.ratio)
    lo, hi = np.empty(n), np.empty(n)
    for g in groups:
        idx = np.flatnonzero(res.group == g)
        lo[idx], hi[idx] = _ends(res, idx, [g])
    on_all = _chosen(res.ratio, lo, hi, per, other)
    without: dict[str, list[float]] = {}
    for g in groups:
        rest = np.flatnonzero(res.group != g)
        lo2, hi2 = np.empty(len(rest)), np.empty(len(rest))
        for h in groups:
            if h != g:
                sel = np.flatnonzero(res.group[rest] == h)
                lo2[sel], hi2[sel] = _ends(res, rest[sel], [g, h])
        sub = {k: v[rest] for k, v in per.items()}
        without[str(g)] = _chosen(res.ratio[rest], lo2, hi2, sub, other[rest])
    named = {d for x in dims for d in x}
    factors = []
    for k, (name, dimensions) in enumerate(GROUPS):
        rows = per[name] > 0
        factors.append(
            Factor(
                group=name,
                factor=on_all[k],
                dimensions=tuple(d for d in dimensions if d in named),
                rows=int(rows.sum()),
                publications=len(set(res.group[rows])),
                without={g: w[k] for g, w in without.items()},
            )
        )
    return Measured(tuple(factors))


def nested(res: iv.Residuals, dims: list[list[str]], measured: Measured) -> np.ndarray:
    """Per row, the factor its interval widens by at both ends in the double-nested check: each
    group's factor chosen without its publication per dimension of the group, and
    `intervals.WIDEN` per other dimension."""
    per, other = counts(dims)
    f = iv.WIDEN**other
    for factor in measured.factors:
        w = np.array([factor.without[str(g)] for g in res.group])
        f = f * w ** per[factor.group]
    return f

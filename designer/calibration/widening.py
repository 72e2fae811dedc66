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
the equations. So does every dimension of an answer whose interval does not rest on the
residuals the factors were measured with (`intervals.Table.measured_for`: an `--engine`
profile, another chip's profile, a build outside the profile's rows); a software generation's
answers, judged by its own table, take them by choice (checked on its 8K rows no fit saw).

The figure that judges it is double nested (`nested`): each publication's rows against
intervals built from the other publications' residuals, widened by the factor chosen without
that publication (and its data); a group's factor is used only if its rows then reach `ADOPT`.
docs/model.md §8 has the rules and their measurement.
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
# a group's factor is used only if its rows, each judged at the factor chosen without its
# publication, fall at least this often inside (else `intervals.WIDEN`: docs/model.md §8)
ADOPT = 0.75
# the coverage entries of the rows that measured each group's factor
COVERAGE = {"configuration": "extrapolated", MOE: "moe_measured_model"}


@dataclass(frozen=True)
class Factor:
    """One group's factor chosen on every publication, the one chosen without each (double
    nesting), the dimensions it applies to, the rows that measured it, the share of them inside
    double nested, and whether answers use it (`ADOPT`)."""

    group: str
    factor: float
    dimensions: tuple[str, ...]
    rows: int
    publications: int
    without: dict[str, float]  # publication → the factor chosen on the others
    inside: float  # % of its rows inside, double nested (each at the factor chosen without it)
    adopted: bool

    def used(self, publication: str | None = None) -> float:
        """The factor an answer (or, without `publication`, a held-out row of it) widens by:
        the measured one when adopted, else `intervals.WIDEN`."""
        if not self.adopted:
            return iv.WIDEN
        return self.factor if publication is None else self.without[publication]


@dataclass(frozen=True)
class Measured:
    factors: tuple[Factor, ...]  # in the order of `GROUPS`

    def widths(self) -> dict[str, float]:
        """The adopted factor per dimension (`intervals.Table.widen`)."""
        return {d: f.factor for f in self.factors if f.adopted for d in f.dimensions}


def held_out_dimensions(
    rows, res: iv.Residuals, catalog: Catalog, without: frozenset[str] = frozenset()
) -> list[list[str]]:
    """Per prepared row (`calibrate.Rows`), the dimensions it extrapolates along from the data
    its held-out prediction saw (`intervals.held_out`): the other publications' ranges (and not
    those of the publications `without`: a row of one of them names none), and for a platform
    profile's row the batches of that profile's platform's other rows too, as an answer's batch
    is judged by its profile's own rows (`intervals.largest_batch`); an MoE row whose model no
    other publication measured names `UNMEASURED_MOE` instead of `moe`."""
    from designer.calibration import profiles
    from designer.calibration.calibrate import GROUPINGS

    source = GROUPINGS["source"]
    names = [source(i.row) for i in rows.items]
    out: list[list[str]] = []
    # per publication, the other publications' rows and what they span; per (publication,
    # platform), the batches of that platform's rows among them (computed once each)
    others: dict[str, list] = {}
    ranges_of: dict[str, iv.Table] = {}
    moe_models: dict[str, set[str]] = {}
    platform_of: dict[tuple[str, str], SimpleNamespace] = {}
    for k, item in enumerate(rows.items):
        r, name = item.row, names[k]
        if name in without:
            out.append([])
            continue
        if name not in others:
            others[name] = [
                i.row
                for i, g in zip(rows.items, names, strict=True)
                if g != name and g not in without
            ]
            ranges_of[name] = iv.Table({}, {}, iv.data_ranges(others[name], catalog))
            moe_models[name] = {x.model for x in others[name] if catalog.model(x.model).is_moe}
        profile = None
        if str(res.kind[k]).startswith(iv.KINDS[0]):  # its chip's profile, refitted on its rows
            platform = profiles.default_for(catalog, r.chip).platform
            if (name, platform) not in platform_of:
                own = [x for x in others[name] if x.platform == platform]
                platform_of[name, platform] = SimpleNamespace(
                    measured_ranges=measured_ranges(own, catalog)
                )
            profile = platform_of[name, platform]
        dims = iv.extrapolated(
            ranges_of[name],
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
        if MOE in dims and r.model not in moe_models[name]:
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
        lo[j], hi[j] = iv.bounds(iv.judged_by(t, res, i))
    return lo, hi


def choose(ratio, lo, hi, n, fixed) -> float:
    """The smallest `GRID` factor putting `TARGET` of the rows extrapolating along a group
    (`n` > 0: its dimensions per row) inside their ends widened by it per such dimension and by
    `fixed` (each row's other dimensions' factors); `intervals.WIDEN` when no row does (nothing
    measures it)."""
    e = n > 0
    if not e.any():
        return iv.WIDEN
    for w in GRID:
        f = fixed[e] * w ** n[e]
        if np.mean((ratio[e] >= lo[e] / f) & (ratio[e] <= hi[e] * f)) >= TARGET:
            return w
    return GRID[-1]


def _fixed(k: int, per, other, done: list[Factor], publication=None) -> np.ndarray:
    """Per row, what group `k`'s other dimensions widen it by: the groups measured before it at
    the factor they are used at (`Factor.used`), the ones after it and every other dimension
    at `intervals.WIDEN`. `publication` (a scalar, or one per row) picks the factors chosen
    without it."""
    names = [g for g, _ in GROUPS]
    f = iv.WIDEN ** (other + sum(per[h] for h in names[k + 1 :]))
    for factor in done:
        if publication is None or isinstance(publication, str):
            w = factor.used(publication)
        else:
            w = np.array([factor.used(str(p)) for p in publication])
        f = f * w ** per[factor.group]
    return f


def measure(rows, res: iv.Residuals, catalog: Catalog) -> tuple[Measured, list[list[str]]]:
    """Each group's factor, in the order of `GROUPS`: chosen on every publication's held-out
    rows, and without each (each other publication's rows then judged by the remaining ones'
    residuals and ranges); its rows' double-nested coverage, and whether it is adopted. With
    the dimensions of each row (`held_out_dimensions`)."""
    dims = held_out_dimensions(rows, res, catalog)
    per, other = counts(dims)
    groups = [str(g) for g in np.unique(res.group)]
    n = len(res.ratio)
    lo, hi = np.empty(n), np.empty(n)
    for g in groups:
        idx = np.flatnonzero(res.group == g)
        lo[idx], hi[idx] = _ends(res, idx, [g])
    nests = {}  # publication → its rest's rows, their ends and dimensions without it
    for g in groups:
        rest = np.flatnonzero(res.group != g)
        lo2, hi2 = np.empty(len(rest)), np.empty(len(rest))
        for h in groups:
            if h != g:
                sel = np.flatnonzero(res.group[rest] == h)
                lo2[sel], hi2[sel] = _ends(res, rest[sel], [g, h])
        sub_per, sub_other = counts(held_out_dimensions(rows, res, catalog, frozenset([g])))
        nests[g] = (rest, lo2, hi2, {k: v[rest] for k, v in sub_per.items()}, sub_other[rest])
    named = {d for x in dims for d in x}
    done: list[Factor] = []
    for k, (name, dimensions) in enumerate(GROUPS):
        factor = choose(res.ratio, lo, hi, per[name], _fixed(k, per, other, done))
        without = {}
        for g, (rest, lo2, hi2, sub, sub_other) in nests.items():
            fixed = _fixed(k, sub, sub_other, done, g)
            without[g] = choose(res.ratio[rest], lo2, hi2, sub[name], fixed)
        mine = per[name] > 0
        w = np.array([without[str(g)] for g in res.group]) ** per[name]
        f = w * _fixed(k, per, other, done, res.group)
        inside = (res.ratio >= lo / f) & (res.ratio <= hi * f)
        share = float(np.mean(inside[mine]) * 100) if mine.any() else 0.0
        done.append(
            Factor(
                group=name,
                factor=factor,
                dimensions=tuple(d for d in dimensions if d in named),
                rows=int(mine.sum()),
                publications=len(set(res.group[mine])),
                without=without,
                inside=share,
                adopted=bool(mine.any()) and share >= ADOPT * 100,
            )
        )
    return Measured(tuple(done)), dims


def nested(res: iv.Residuals, dims: list[list[str]], measured: Measured) -> np.ndarray:
    """Per row, the factor its interval widens by at both ends in the double-nested check: each
    group's factor as used (`Factor.used`, chosen without the row's publication) per dimension
    of the group, and `intervals.WIDEN` per other dimension."""
    per, other = counts(dims)
    f = iv.WIDEN**other
    for factor in measured.factors:
        w = np.array([factor.used(str(g)) for g in res.group])
        f = f * w ** per[factor.group]
    return f

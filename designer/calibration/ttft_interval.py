"""An 80% interval for a predicted time to first token (docs/model.md §6, rule N2).

No profile is fitted to a TTFT, so every published one-request TTFT of
catalogs/measurements/prefill.csv is a held-out prediction under the profile an answer for its
chip and engine uses (`ttft.answer_ms`). An answer's TTFT interval is its prediction times the
10th and 90th percentiles of measured / predicted over those rows, every publication weighing
the same (`intervals.weighted_quantiles`, as the decode intervals weigh them), widened at both
ends by `intervals.WIDEN` for each dimension the answer lies outside those rows along
(`extrapolated`): an engine none of them ran, a prompt longer than the longest, a chip none of
them measured, an MoE model while they hold none, a TP or PP beyond the largest, a weight
dtype none of them ran, equations other than the deployment preset's, and a profile other than
the calibrated default of its chip and engine (the rows were predicted under those only:
`judged`).

The same method judged held out (`cross_validated`, `held_out`: each publication's rows by an
interval from the other publications' rows alone, their dimensions judged against those rows)
puts 55 of the 67 rows inside (82.1%), at a median half-width of ±291%. The rows disagree that
much: at one request a benchmark's front end adds a fixed time to short prompts, and at
128K-token prompts the engines differ tenfold (docs/model.md §6), so the interval is wide and
its fast end close to the prediction (the model is mostly too fast). It bounds one prompt's
prefill, with no queue; a loaded TTFT (`serving`) has none.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numpy as np

from designer.calibration import intervals, profiles, ttft
from designer.calibration.ttft import Ratios
from designer.model.catalog import Catalog

# the dimensions an answer may lie outside the published TTFTs along, in the order named
DIMENSIONS = (
    "engine",
    "prompt",
    "chip",
    "moe",
    "tp",
    "pp",
    "weight_dtype",
    "assumptions",
    "profile",
)


class Answer(NamedTuple):
    """What a TTFT answer is judged by: its configuration, and whether its profile is the
    calibrated default of its chip and engine, as every published row's was (`judged`)."""

    engine: str | None  # None: no engine named (every engine's ratios hold it)
    chip: str
    prompt: int
    moe: bool
    tp: int
    pp: int
    weight_dtype: str
    deployment: bool = True  # under the deployment equations, as every published row was
    default_profile: bool = True


def extrapolated(res: Ratios, a: Answer) -> list[str]:
    """The dimensions (`DIMENSIONS`) along which answer `a` lies outside the rows of `res`."""
    outside = {
        "engine": a.engine is not None and a.engine not in set(res.engine),
        "prompt": a.prompt > res.prompt.max(),
        "chip": a.chip not in set(res.chip),
        "moe": a.moe and not res.moe.any(),
        "tp": a.tp > res.tp.max(),
        "pp": a.pp > res.pp.max(),
        "weight_dtype": a.weight_dtype not in set(res.weight_dtype),
        "assumptions": not a.deployment,
        "profile": not a.default_profile,
    }
    return [d for d in DIMENSIONS if outside[d]]


class Ends(NamedTuple):
    """One TTFT's 80% interval as ratios to its prediction."""

    low: float
    high: float
    extrapolated: list[str]
    widened_by: float  # the factor each end was widened by: WIDEN per dimension

    def widened(self) -> dict[str, float]:
        """`widened_by` as a decode interval states it, per end (`intervals.interval`)."""
        return {"fast": self.widened_by, "slow": self.widened_by}


def ends(a: Answer, res: Ratios | None = None) -> Ends:
    """The interval of answer `a` judged by `res` (default: the shipped rows)."""
    res = ttft.shipped_ratios() if res is None else res
    dims = extrapolated(res, a)
    widen = intervals.WIDEN ** len(dims)
    low, high = intervals.bounds(intervals.weighted_quantiles(res.ratio, res.source), widen)
    return Ends(low, high, dims, widen)


def judged(catalog: Catalog, chip: str, engine: str | None, profile) -> bool:
    """Whether a TTFT on `chip` with `engine` under `profile` (None: the default) is predicted
    as the published TTFTs were: under the default of its chip and engine
    (`profiles.default_for`), with its numbers (a file or flags may reuse its name), and
    calibrated (the hardware limit, the default of a paper chip, is not)."""
    default = profiles.default_for(catalog, chip, engine)
    profile = default if profile is None else profile
    same = profile.id == default.id and profile.efficiency == default.efficiency
    return same and profile.id != profiles.LIMIT


def answer_of(row: ttft.Row, catalog: Catalog, profile) -> Answer:
    """The answer a TTFT row is, predicted under `profile` (None: its chip and engine's
    default, as `validate --profile default` predicts it)."""
    return Answer(
        row.engine,
        row.chip,
        row.input_tokens,
        catalog.model(row.model).is_moe,
        row.tp,
        row.pp,
        row.weight_dtype,
        default_profile=judged(catalog, row.chip, row.engine, profile),
    )


def record(ttft_s: float, e: Ends) -> dict[str, Any]:
    """The JSON record of the interval of one prompt's TTFT `ttft_s` (`evaluate
    --prompt-tokens`; with `--requests-per-s` the answer's TTFT is the loaded one, and this
    record still bounds the one prompt's, which it states as `ttft_s`)."""
    return {
        "confidence": intervals.CONFIDENCE,
        "ttft_s": ttft_s,
        "ttft_low_s": ttft_s * e.low,
        "ttft_high_s": ttft_s * e.high,
        "of": "one prompt's prefill, no queue",
        "extrapolated": e.extrapolated,
        "widened_by": e.widened(),
        "check": cross_validated(),
    }


@functools.lru_cache(maxsize=1)
def cross_validated() -> dict[str, Any]:
    """How the interval held out on the shipped TTFTs (`held_out` of `ttft.shipped_ratios`).

    >>> c = cross_validated()
    >>> c["points"], c["publications"], round(c["inside"], 1), round(c["median_half_width"])
    (67, 8, 82.1, 291)
    """
    return held_out(ttft.shipped_ratios())


def held_out(res: Ratios) -> dict[str, Any]:
    """Each publication's rows of `res` judged by an interval from the other publications' rows
    alone (`ends` with those ratios, the dimensions judged against those rows): the share
    inside (overall and per engine) and the median half-width over the prediction, in %."""
    inside = np.zeros(len(res.ratio), bool)
    half = np.zeros(len(res.ratio))
    for s in np.unique(res.source):
        held = res.source == s
        others = res.take(~held)
        for i in np.flatnonzero(held):
            a = Answer(
                str(res.engine[i]),
                str(res.chip[i]),
                int(res.prompt[i]),
                bool(res.moe[i]),
                int(res.tp[i]),
                int(res.pp[i]),
                str(res.weight_dtype[i]),
            )
            e = ends(a, others)
            inside[i] = e.low <= res.ratio[i] <= e.high
            half[i] = (e.high - e.low) / 2.0
    return {
        "points": len(res.ratio),
        "publications": len(set(res.source)),
        "inside": float(inside.mean() * 100),
        "median_half_width": float(np.median(half) * 100),
        "inside_by_engine": {
            str(e): float(inside[res.engine == e].mean() * 100) for e in np.unique(res.engine)
        },
        "how": "each publication held out: its rows judged by the other publications' rows",
    }

"""Published times to first token (catalogs/measurements/prefill.csv) against the prefill model.

Each row is a one-request run (`batch` 1) whose source states its TTFT: cal-… rows beside the
decode row of the same id in decode.csv (same source, command and lengths), pf-… rows from
first-token tables and concurrency-1 serving runs (catalogs/measurements/README.md). At one
request in flight there is no queue: the model's TTFT is one prefill pass of the prompt
(`prefill.prefill_time`, compute at `η_pf`).
Two predictions per row, both held out from TTFT data (no profile is fitted to any TTFT):

- `profile`: the profile an answer would use for the row's chip and engine
  (`profiles.default_for`);
- `held_out`: a fit to the decode rows of every other source (`calibrate.fit_profile`), so that
  not even the row's own publication's decode rows shaped `η_pf`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from designer.calibration import engines, measurements, plain_names, profiles
from designer.calibration.measurements import MEASURED_ASSUMPTIONS, Measurement
from designer.model import perf
from designer.model.catalog import Catalog
from designer.model.errors import InputError
from designer.model.files import read_csv
from designer.model.prefill import link_bandwidth, prefill_time
from designer.model.workload import Efficiency, Workload

COLUMNS = (
    *measurements.CONFIGURATION_COLUMNS,
    "batch",
    "input_tokens",
    "ttft_ms",
)


def bundled_path() -> Path:
    """The shipped TTFT rows, catalogs/measurements/prefill.csv."""
    return measurements.bundled_path("prefill.csv")


Row = measurements.FirstToken  # one published TTFT of a one-request run


def holds_ttft(path: str | Path) -> bool:
    """Whether the CSV at `path` holds TTFT rows (a `ttft_ms` column and no
    `ms_per_output_token`): `designer validate` reads such a file with `load`.

    >>> holds_ttft(bundled_path()), holds_ttft(measurements.bundled_path())
    (True, False)
    """
    header, _ = read_csv(path, "a measurements CSV", header_only=True)
    return "ttft_ms" in header and "ms_per_output_token" not in header


def load(
    path: str | Path,
    catalog: Catalog,
    read: plain_names.Read | None = None,
    skipped: list[measurements.Skipped] | None = None,
) -> list[Row]:
    """The rows of a prefill CSV; every row is one request (`batch` 1) of a catalog chip and
    model, with a positive TTFT. `read`, when given, receives what the source's words were read
    as (`plain_names.resolve`), and a bad row is left out into `skipped` when given (else an
    error), as `measurements.load`'s does."""
    ragged: list = []  # rows of more or fewer fields than the header (`measurements.each_row`)
    header, rows = read_csv(path, "a TTFT measurements CSV", ragged=ragged)
    missing = plain_names.missing(header, measurements.required(COLUMNS))
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})",
            where=str(path),
        )
    read = {} if read is None else read  # the source's words, each read once
    out = measurements.each_row(
        path,
        rows,
        ragged,
        read,
        skipped,
        lambda r, where: measurements.first_token(r, where, catalog, read, "ttft_ms"),
    )
    if not out:
        raise InputError(f"no TTFT rows{measurements.none_left(skipped)}", where=str(path))
    return out


def workload(row: Row, catalog: Catalog, eff: Efficiency | None = None) -> Workload:
    """The prompt of `row` as a workload (under profile `eff`, when given), with the GEMM
    precision its engine runs."""
    return Workload(
        catalog.model(row.model),
        row.input_tokens,
        row.weight_dtype,
        row.kv_dtype,
        **({"efficiency": eff} if eff is not None else {}),
        assumptions=MEASURED_ASSUMPTIONS,
        activation_dtype=engines.activation(row.engine),
    )


def predict_ms(row: Row, eff: Efficiency, catalog: Catalog) -> float:
    """The model's TTFT of `row` under profile `eff`: one prefill pass of its prompt."""
    wl = workload(row, catalog, eff)
    hw = perf.ChipArrays.build(catalog, [row.chip], wl.compute_dtype).take(0)
    pf = prefill_time(
        wl,
        hw,
        link_bandwidth(catalog, row.chip),
        tp=row.tp,
        pp=row.pp,
        prompt_tokens=row.input_tokens,
    )
    return pf.time_s * 1e3


def answer_ms(row: Row, catalog: Catalog) -> tuple[str, float]:
    """(profile, TTFT ms) of `row` as an answer for its chip and engine predicts it
    (`profiles.default_for`: no profile is fitted to a TTFT, so it is held out)."""
    prof = profiles.default_for(catalog, row.chip, row.engine)
    return prof.id, predict_ms(row, prof.efficiency, catalog)


@dataclass(frozen=True)
class Ratios:
    """Measured / predicted of published TTFTs, each under its answer's profile, with what
    each row measured (`ratios_of`): what the published check and the TTFT interval
    (`ttft_interval`) are built from."""

    ratio: np.ndarray
    source: np.ndarray  # the publication (`source_url`): each weighs the same
    engine: np.ndarray
    chip: np.ndarray
    prompt: np.ndarray
    moe: np.ndarray
    tp: np.ndarray
    pp: np.ndarray
    weight_dtype: np.ndarray

    def take(self, keep: np.ndarray) -> Ratios:
        return Ratios(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


def ratios_of(rows: list[Row], catalog: Catalog) -> Ratios:
    """The ratios of TTFT rows, each predicted under the profile an answer for its chip and
    engine uses (`answer_ms`)."""
    predicted = np.array([answer_ms(r, catalog)[1] for r in rows])

    def col(get) -> np.ndarray:
        return np.array([get(r) for r in rows])

    return Ratios(
        ratio=col(lambda r: r.ttft_ms) / predicted,
        source=col(lambda r: r.source_url),
        engine=col(lambda r: r.engine),
        chip=col(lambda r: r.chip),
        prompt=col(lambda r: r.input_tokens),
        moe=col(lambda r: catalog.model(r.model).is_moe),
        tp=col(lambda r: r.tp),
        pp=col(lambda r: r.pp),
        weight_dtype=col(lambda r: r.weight_dtype),
    )


@functools.lru_cache(maxsize=1)
def shipped_ratios() -> Ratios:
    """The ratios of the shipped TTFTs, catalogs/measurements/prefill.csv."""
    cat = Catalog.load()
    return ratios_of(load(bundled_path(), cat), cat)


@functools.lru_cache(maxsize=1)
def published_check() -> dict[str, Any]:
    """How the prefill model met the shipped published TTFTs (prefill.csv), each under the
    profile an answer for its chip and engine uses: the range and the median of measured /
    predicted over its rows, and how many source documents they come from. Every answer that
    gives a TTFT quotes it (`evaluate`, `solve`), beside the TTFT's interval where it has one
    (`ttft_interval`): no TTFT calibrates the prefill model, and the sources disagree widely (a
    fixed per-request time of the serving front end at short prompts, the attention path at
    long ones).

    >>> c = published_check()
    >>> c["rows"], c["publications"], c["median_measured_over_predicted"] > 1.0
    (82, 9, True)
    """
    res = shipped_ratios()
    return {
        "rows": len(res.ratio),
        "publications": len(set(res.source)),
        "measured_over_predicted": [float(res.ratio.min()), float(res.ratio.max())],
        "median_measured_over_predicted": float(np.median(res.ratio)),
        "source": "catalogs/measurements/prefill.csv (python scripts/ttft_check.py)",
    }


def compare(rows: list[Row], decode: list[Measurement], catalog: Catalog) -> list[dict]:
    """Per row: measured, predicted under the answer's profile and under a fit to the other
    sources' decode rows (one fit per source), and the profile used. (`calibrate` is imported
    here: it loads scipy's optimizers, some 0.3 s that an answer's TTFT interval, which
    imports this module, does not need.)"""
    from designer.calibration.calibrate import fit_profile

    fits: dict[str, Efficiency] = {}
    out = []
    for r in rows:
        if r.source_url not in fits:
            others = [m for m in decode if m.source_url != r.source_url]
            fits[r.source_url] = fit_profile(others, catalog).efficiency
        prof, ms = answer_ms(r, catalog)
        out.append(
            {
                "id": r.id,
                "engine": r.engine,
                "input_tokens": r.input_tokens,
                "measured_ms": r.ttft_ms,
                "profile": prof,
                "profile_ms": ms,
                "held_out_ms": predict_ms(r, fits[r.source_url], catalog),
            }
        )
    return out

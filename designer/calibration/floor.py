"""How low can a calibration of these measurements go? The error their own spread leaves.

A profile's cross-validated error mixes two things: what the model form misses, and how much
the measurements disagree with each other where the model's inputs cannot tell them apart (two
software releases on the same chip, a checkpoint one engine runs slowly). Three numbers separate
them; the first two are in-sample, so they bound any held-out error from below:

- **Twins.** Rows whose every input the model sees is equal (chip, engine, model, dtypes,
  parallelism, batch, lengths, measured quantity) but whose measurements differ. Any predictor of
  those inputs gives twins one prediction; the least mean |relative error| of one prediction `p`
  over measurements `m_i`, `min_p Σ|p − m_i|/m_i`, is reached at one of the `m_i` (the sum is
  convex and piecewise linear in `p`). Pooled over all rows, no model of these inputs — however
  flexible, fitted to every row — is more accurate than this.
- **One profile per group.** Each platform (chip × engine), or each platform within each
  publication, gets its own seven-parameter profile fitted to its own rows, the most a profile
  can adapt. A held-out platform is predicted by a profile fitted elsewhere, so leave-one-
  platform-out can only be as good as this if platforms transferred perfectly. Groups with no
  more rows than parameters fit their rows almost exactly, which only lowers the floor.
- **Hardware shares from the chip's own rows.** Leave-one-platform-out (within engine), except
  that each chip's bandwidth and compute shares (`η_bw`, `η_f`, `η_pf`, one set per chip) are
  refitted to that chip's rows, every platform keeping the software times fitted to the other
  platforms: an oracle for any per-chip hardware fact the catalog could carry (a measured
  sustained bandwidth, a GEMM efficiency). What it leaves is software time that does not
  transfer between platforms.

>>> from designer.model.catalog import Catalog
>>> from designer.calibration import measurements
>>> cat = Catalog.load()
>>> rows = measurements.load(measurements.bundled_path(), cat)
>>> t = twins(rows)
>>> len(t.groups), sum(len(g) for g in t.groups), round(t.mape, 1)
(26, 54, 2.9)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from designer.calibration.calibrate import (
    DEFAULT_LOSS,
    GROUPINGS,
    PARAMETERS,
    STARTS,
    CrossValidation,
    Errors,
    Rows,
    as_rows,
    cross_validate,
    efficiency_of,
    fit_items,
    group_index,
    least,
    vector_of,
)
from designer.calibration.measurements import Measurement
from designer.model.catalog import Catalog
from designer.model.errors import InputError, unknown

# fields that are not model inputs: which row, where and when it was published, what it
# measured, and the build's name (the model sees only what the build it names or its date
# implies, `Measurement.mixed`)
NOT_INPUTS = ("id", "source_url", "measured_ms", "software", "date")
HARDWARE = ("bandwidth", "compute", "prefill_compute")  # shares of the hardware's peaks
GROUPS: dict[str, Callable[[Measurement], str]] = {  # finest first
    "platform-source": lambda r: f"{r.platform} @ {r.source}",
    "platform": lambda r: r.platform,
}


def inputs(r: Measurement) -> tuple:
    """Everything the model sees of a row: all its fields but id, source and measurement, and of
    its build's name only whether it mixes prompts into the decode steps of an `itl` row."""
    mixed = r.measure == "itl" and r.mixed
    return (*(getattr(r, f.name) for f in fields(r) if f.name not in NOT_INPUTS), mixed)


def least_mape(measured: np.ndarray) -> float:
    """min over one prediction p of Σ|p − m|/m, for measurements `m` (a sum, not a mean).

    >>> round(least_mape(np.array([100.0, 50.0])), 3)  # p = 50: 0.5 + 0
    0.5
    """
    return float(min(np.abs(p - measured).dot(1.0 / measured) for p in measured))


@dataclass(frozen=True)
class Twins:
    """Groups of rows with equal inputs and their least possible error."""

    groups: tuple[tuple[str, ...], ...]  # row ids, each group ≥ 2 rows
    least: tuple[float, ...]  # per group: least mean |relative error| of one prediction, %
    rows: int  # all rows, twins or not

    @property
    def mape(self) -> float:
        """The least MAPE over all rows (twins' least errors, every other row exact), %."""
        total = sum(m * len(g) for m, g in zip(self.least, self.groups, strict=True))
        return total / self.rows if self.rows else 0.0


def twins(rows: list[Measurement]) -> Twins:
    """Rows that no model of the recorded inputs can tell apart, measured differently."""
    by_inputs: dict[tuple, list[Measurement]] = {}
    for r in rows:
        by_inputs.setdefault(inputs(r), []).append(r)
    groups, least = [], []
    for rs in by_inputs.values():
        measured = np.array([r.measured_ms for r in rs])
        if len(rs) < 2 or np.all(measured == measured[0]):
            continue
        groups.append(tuple(r.id for r in rs))
        least.append(100 * least_mape(measured) / len(rs))
    return Twins(tuple(groups), tuple(least), len(rows))


@dataclass(frozen=True)
class PerGroup:
    """Every group fitted to its own rows: pooled and per-group in-sample errors."""

    by: str
    errors: Errors  # all rows, each predicted by its own group's profile
    groups: dict[str, Errors]
    exact: tuple[str, ...]  # groups with no more rows than the profile has parameters

    def summary(self) -> str:
        n = len(self.groups)
        return (
            f"one profile per {self.by} ({n} profile{'s' * (n != 1)}, each fitted to its own "
            f"rows): MAPE {self.errors.mape:.1f}%, median {self.errors.median:.1f}%; "
            f"{len(self.exact)} of them have no more rows than the {len(PARAMETERS)} parameters"
        )


def per_group(
    rows: list[Measurement] | Rows,
    catalog: Catalog,
    by: str = "platform",
    loss: str = DEFAULT_LOSS,
    each: Callable[[str, Errors], None] | None = None,
) -> PerGroup:
    """Fit one profile per group (`GROUPS`) to that group's rows; in-sample errors. `each`
    is called with every group's name and errors as soon as it is fitted. Measurements or
    prepared `Rows` (prepared once when several reports share them)."""
    if by not in GROUPS:
        raise unknown("floor grouping", by, GROUPS)
    if not rows:
        raise InputError("no measurements to fit")
    prepared = as_rows(rows, catalog)
    predicted = np.empty(len(prepared))
    groups: dict[str, Errors] = {}
    for name, idx in group_index(prepared, GROUPS[by]).items():
        e = fit_items(prepared.take(idx), catalog, loss).errors
        predicted[idx] = e.predicted_ms
        groups[name] = e
        if each is not None:
            each(name, e)
    exact = tuple(g for g in groups if len(groups[g].ids) <= len(PARAMETERS))
    return PerGroup(by, Errors(prepared.ids, predicted, prepared.measured_ms), groups, exact)


@dataclass(frozen=True)
class HardwareOracle:
    """Held-out predictions with each chip's hardware shares fitted to its own rows."""

    held_out: CrossValidation  # leave-one-platform-out as run (plain or within engine)
    errors: Errors  # the same rows, each chip's hardware shares refitted on them
    shares: dict[str, dict[str, float]]  # per chip: its fitted value of each of HARDWARE

    def summary(self) -> str:
        return (
            f"{self.held_out.name}, each chip's hardware shares ({', '.join(HARDWARE)}) fitted "
            f"to its own rows: MAPE {self.errors.mape:.1f}%, median {self.errors.median:.1f}% "
            f"(as cross-validated: {self.held_out.errors.mape:.1f}%)"
        )


def hardware_oracle(
    rows: list[Measurement] | Rows,
    catalog: Catalog,
    loss: str = DEFAULT_LOSS,
    within: str | None = "engine",
) -> HardwareOracle:
    """Leave-one-platform-out (`within` as in `cross_validate`); then, per chip, one set of
    `HARDWARE` shares fitted to all that chip's rows, every platform keeping the software
    times of its own held-out fit: what a per-chip hardware fact could do at best."""
    prepared = as_rows(rows, catalog)
    cv = cross_validate(prepared, catalog, "platform", loss, within)
    mask = np.array([p[0] in HARDWARE for p in PARAMETERS])
    predicted = np.empty(len(prepared))
    shares: dict[str, dict[str, float]] = {}
    by_chip: dict[str, list] = {}  # chip: (rows, their terms, training fit) of each platform
    for platform, held in group_index(prepared, GROUPINGS["platform"]).items():
        chip = prepared.items[held[0]].row.chip
        part = (held, prepared.take(held), vector_of(cv.fits[platform]))
        by_chip.setdefault(chip, []).append(part)
    for chip, parts in sorted(by_chip.items()):

        def predict(x: np.ndarray, parts=parts) -> list[np.ndarray]:
            out = []
            for _, part, v in parts:
                v = v.copy()
                v[mask] = x
                out.append(part.terms.predict(efficiency_of(v)))
            return out

        measured = np.concatenate([part.measured_ms for _, part, _ in parts])

        def residuals(x: np.ndarray, measured=measured) -> np.ndarray:
            return np.concatenate(predict(x)) / measured - 1.0

        starts = [np.array(x0)[mask] for x0 in STARTS] + [v[mask] for _, _, v in parts]
        x = least(residuals, mask, starts, loss)
        for (held, _, _), p in zip(parts, predict(x), strict=True):
            predicted[held] = p
        shares[chip] = dict(zip(HARDWARE, map(float, x), strict=True))
    return HardwareOracle(cv, Errors(prepared.ids, predicted, prepared.measured_ms), shares)

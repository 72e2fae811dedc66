"""Calibration profiles: the serving-stack efficiency a step time is predicted with.

A profile is the eleven numbers of `workload.Efficiency` (memory-bandwidth, decode compute and
prefill compute efficiency, per-layer overhead, per-sequence cost per layer and per step, the
attention kernels' time per KV-read time, per-collective latency, per-step overhead, per-MoE-layer
and per-MLA-layer time) and its engine's GEMM activation dtype, fitted by
`designer calibrate` to published measurements, with the data, the fit date and the fit
quality: in-sample errors and the cross-validated error that every answer quotes.

`limit` is built in: the hardware limit (the paper's view), 1, 1 and 0 s. The others are read
from `catalogs/profiles.toml` (and a `profiles.toml` in any `DESIGNER_CATALOG_PATH` folder).

Which profile an answer uses: the one named (`[efficiency] profile = "…"`, `--profile`), else
the chip's default: a profile whose `chips` list the chip (its own platform), else the
`generic` fit for shipping chips, and `limit` for the paper's presets and hypothetical chips.
With a serving engine named (`[efficiency] engine = "vllm"`, `--engine`), the default is the
profile of that chip × engine, else the engine's fit over its platforms (`generic-vllm`),
else `generic`.

Profiles encode a software build as much as a chip. A profile with `builds` (engine → the
oldest build it was fitted on, written by `designer calibrate --generation`) is the default
for those engines' builds from that version on, on every shipping chip they run on: with
`[efficiency] engine = "sglang"` and `engine_version = "0.5.6"` (`--engine-version`), or for a
measured row whose `software` states that build (`designer validate --profile default`).
Older or unstated builds keep the defaults above. On a chip × engine the generation measured,
for a model measured there, the default takes that platform's own numbers (its `platforms`:
per-step time and a factor on every decode term; `on_platform`, `platforms`).

>>> p = get("limit")
>>> describe(p)["error"]
'hardware limit (not calibrated)'
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.model import toml_text
from designer.model.catalog import Catalog, bundled_dir
from designer.model.errors import InputError, excerpt, unknown
from designer.model.files import read_csv, read_toml
from designer.model.units import parse
from designer.model.workload import Efficiency, Workload

LIMIT = "limit"
GENERIC = "generic"
SHIPPING_KINDS = ("datasheet",)
TIME_FIELDS = (
    "overhead_per_layer",
    "per_sequence",
    "collective_latency",
    "overhead_per_step",
    "per_sequence_step",
    "moe_layer",
    "mla_layer",
    "moe_expert",
)
FRACTION_FIELDS = ("bandwidth", "compute", "prefill_compute")
RATIO_FIELDS = ("attention_kernel",)  # non-negative, dimensionless
_KEYS = {
    "name": "str",
    "platform": "str",
    "engine": "str",
    "chips": "strlist",
    "builds": "table",
    "intervals": "table",
    "platforms": "table",
    "measured_builds": "table",
    "measured_ranges": "table",
    "not_identified": "strlist",
    "data": "str",
    "rows": "int",
    "fit_date": "str",
    "fit_mape": "number",
    "fit_median": "number",
    "fit_worst": "number",
    "cv": "str",
    "cv_mape": "number",
    "cv_points": "int",
    "command": "str",
    "source": "str",
    "notes": "str",
    "activation_dtype": "str",
    **dict.fromkeys(FRACTION_FIELDS, "fraction"),
    **dict.fromkeys(RATIO_FIELDS, "ratio"),
    **dict.fromkeys(TIME_FIELDS, "time"),
}


def platform_numbers(eff: Efficiency, scale: float, overhead_per_step: float) -> Efficiency:
    """A generation's `eff` on a measured platform: the platform's own per-step time (s) in
    place of the fit's, and every decode term times `scale` (`Efficiency.step_scale`)."""
    return dataclasses.replace(eff, step_scale=scale, overhead_per_step=overhead_per_step)


@dataclass(frozen=True)
class OnPlatform:
    """A software generation's measured platform (chip × engine): its own per-step time
    (`overhead_per_step`, the generation's τ_step replaced) and the factor on every decode term
    (`scale`, `Efficiency.step_scale`) that fit the generation to that platform's rows
    (`platforms.fit`), and the models it was measured on, the only ones they apply to
    (`on_platform`)."""

    scale: float
    overhead_per_step: float  # s
    models: tuple[str, ...]
    rows: int
    configurations: int  # distinct (model, dtypes, TP, PP, EP, attention) measured

    def applied(self, eff: Efficiency) -> Efficiency:
        """The generation's `eff` on this platform (`platform_numbers`)."""
        return platform_numbers(eff, self.scale, self.overhead_per_step)

    def as_written(self) -> OnPlatform:
        """These numbers as `to_raw` writes them and `profiles.toml` reads them back."""
        raw = self.to_raw()
        tau = parse(raw["overhead_per_step"], "time", key="overhead_per_step")
        return dataclasses.replace(self, scale=round(self.scale, 4), overhead_per_step=tau)

    def describe(self) -> dict[str, Any]:
        """In JSON (SI units)."""
        return {
            "scale": self.scale,
            "overhead_per_step_s": self.overhead_per_step,
            "models": list(self.models),
            "rows": self.rows,
            "configurations": self.configurations,
        }

    def to_raw(self) -> dict[str, Any]:
        """As the TOML table holds it (`overhead_per_step` a time string)."""
        return {
            "scale": self.scale,
            "overhead_per_step": f"{self.overhead_per_step * 1e6:.3f} us",
            "models": list(self.models),
            "rows": self.rows,
            "configurations": self.configurations,
        }


@dataclass(frozen=True)
class Profile:
    """A named Efficiency with where it came from and how well it predicts."""

    id: str
    efficiency: Efficiency
    name: str = ""
    platform: str = ""  # chip × engine it was fitted to ("" for fits over several)
    engine: str = ""  # the serving engine of every row it was fitted to ("" for several)
    chips: tuple[str, ...] = ()  # chips it is the default for
    # engine → the oldest build it was fitted on: the default for that engine's builds from
    # there on (`for_build`)
    builds: tuple[tuple[str, str], ...] = ()
    data: str = ""
    rows: int = 0
    fit_date: str = ""
    fit_mape: float | None = None  # in-sample, percent
    fit_median: float | None = None
    fit_worst: float | None = None  # signed, percent
    cv: str = ""  # how cv_mape was obtained, e.g. "leave-one-platform-out"
    cv_mape: float | None = None  # cross-validated MAPE, percent
    cv_points: int = 0
    not_identified: tuple[str, ...] = ()  # parameters the fit held at its prior
    command: str = ""
    source: str = ""
    notes: str = ""
    layer_times_from: str = ""  # the profile its MoE/MLA layer times come from (`with_layer_times`)
    # a software generation's own interval table as TOML holds it (`intervals.own_table`,
    # read by `intervals.table_for`), None for the others
    intervals: dict | None = field(default=None, compare=False, hash=False, repr=False)
    # a software generation's measured platforms ("chip/engine" → OnPlatform), and the one this
    # profile is scaled to ("" unless `on_platform` scaled it)
    platforms: tuple[tuple[str, OnPlatform], ...] = ()
    on: str = ""
    # engine → (oldest, newest) build its rows state (`engines.stated_builds`; rows stating
    # none not counted), and the engine build an answer under it names ((engine, version), set
    # by `asking`): a build outside that range is an extrapolation (`intervals.domain`, `build`)
    measured_builds: tuple[tuple[str, str, str], ...] = ()
    asked: tuple[str, str] = ()
    # whether the build asked for is only what a measured row's date implies (`engines.
    # dated_build`, the newest out by then): the row ran it or an older one, so it is judged
    # outside on the slow side too
    asked_dated: bool = False
    # how far its rows reach in the batch (`measurements.measured_ranges`: "dense_batch",
    # "moe_batch", "mla_batch"): beyond it an answer extrapolates (`intervals.largest_batch`);
    # which of them it has says which layer times its rows could set (`with_layer_times`)
    measured_ranges: tuple[tuple[str, int], ...] = ()

    def build_outside(self) -> bool:
        """Whether the engine build an answer names lies outside the builds this profile's rows
        state for that engine (not judged when they state none: its range is not known), or
        is only what a measured row's date implies (`asked_dated`: that build or an older one)."""
        if self.asked_dated:
            return self._asked_range() is not None
        return self.build_side() != 0

    def dated_within(self) -> bool:
        """Whether the build asked for is only what a row's date implies and lies among the
        builds this profile's rows state: outside only on the slow side, for being a date's
        (its interval keeps the measured factors: `intervals.Table.measured_for`)."""
        return self.asked_dated and self._asked_range() is not None and self._stated_side() == 0

    def _asked_range(self) -> tuple[str, str] | None:
        """(oldest, newest) build this profile's rows state of the engine asked for, None when
        no build is asked or its rows state none of that engine."""
        if not self.asked:
            return None
        for e, oldest, newest in self.measured_builds:
            if e == self.asked[0]:
                return oldest, newest
        return None

    def _stated_side(self) -> int:
        """`engines.side` of the build asked for against this profile's rows (0: not judged)."""
        from designer.calibration import engines

        found = self._asked_range()
        return engines.side(self.asked[1], *found) if found else 0

    def build_side(self) -> int:
        """Where the engine build an answer names lies against the builds this profile's rows
        state for that engine (`engines.side`): 1 later than all of them, -1 earlier, 0 among
        them or not judged (no build named, or none stated for that engine). A build a row's
        date implies (`asked_dated`) may be older than named: -1 (the slow end) unless it is
        later than them, then 0 with `build_outside` (both ends: `intervals.widenings`)."""
        side = self._stated_side()
        if self.asked_dated and self._asked_range() is not None:
            return -1 if side <= 0 else 0
        return side

    @property
    def calibrated(self) -> bool:
        return self.cv_mape is not None

    def error(self) -> str:
        """One line stating the step-time error, e.g. 'step time ±19% (leave-one-platform-out,
        130 points)'; on a generation's measured platform, its platforms' held-out error."""
        held = ((self.intervals or {}).get("coverage") or {}).get(ON_PLATFORM)
        if self.on and held:
            alone = dict(self.platforms)[self.on].configurations < 2
            return (
                f"step time ±{held['mape']:.0f}% (on {self.on}: leave-one-configuration-out on "
                f"the generation's measured platforms, {held['points']} points"
                + (f"; {self.on} measured one configuration, not in that check)" if alone else ")")
            )
        if self.cv_mape is not None:
            return f"step time ±{self.cv_mape:.0f}% ({self.cv}, {self.cv_points} points)"
        if self.id == LIMIT:
            return "hardware limit (not calibrated)"
        return "not calibrated (no cross-validated error)"

    def to_toml(self) -> str:
        """The profile as a catalogs/profiles.toml table."""
        e = self.efficiency
        lines = [f"[{toml_text.key(self.id)}]", f"name = {toml_text.string(self.name or self.id)}"]
        if self.platform:
            lines.append(f"platform = {toml_text.string(self.platform)}")
        if self.engine:
            lines.append(f"engine = {toml_text.string(self.engine)}")
        lines.append(f"chips = {toml_text.value(list(self.chips))}")
        if self.builds:
            lines.append(f"builds = {toml_text.value(dict(self.builds))}")
        if self.measured_builds:
            ranges = {e: [old, new] for e, old, new in self.measured_builds}
            lines.append(f"measured_builds = {toml_text.value(ranges)}")
        if self.measured_ranges:
            lines.append(f"measured_ranges = {toml_text.value(dict(self.measured_ranges))}")
        lines.append(f"bandwidth = {e.bandwidth:.4f}")
        lines.append(f"compute = {e.compute:.4f}")
        lines.append(f"prefill_compute = {e.prefill_compute:.4f}")
        lines += [f"{f} = {getattr(e, f):.4f}" for f in RATIO_FIELDS]
        lines += [f'{f} = "{getattr(e, f) * 1e6:.3f} us"' for f in TIME_FIELDS]
        if e.activation_dtype:
            lines.append(f"activation_dtype = {toml_text.string(e.activation_dtype)}")
        if self.not_identified:
            lines.append(f"not_identified = {toml_text.value(list(self.not_identified))}")
        for k in ("data", "fit_date"):
            if getattr(self, k):
                lines.append(f"{k} = {toml_text.string(getattr(self, k))}")
        lines.append(f"rows = {self.rows}")
        for k in ("fit_mape", "fit_median", "fit_worst"):
            if getattr(self, k) is not None:
                lines.append(f"{k} = {getattr(self, k):.2f}")
        if self.cv_mape is not None:
            lines.append(f"cv = {toml_text.string(self.cv)}")
            lines.append(f"cv_mape = {self.cv_mape:.2f}")
            lines.append(f"cv_points = {self.cv_points}")
        for k in ("command", "source", "notes"):
            if getattr(self, k):
                lines.append(f"{k} = {toml_text.string(getattr(self, k))}")
        for key, on in self.platforms:
            name = f"{toml_text.key(self.id)}.platforms.{toml_text.key(key)}"
            lines += ["", f"[{name}]"]
            lines += [f"{k} = {toml_text.value(v)}" for k, v in on.to_raw().items()]
        if self.intervals is not None:
            name = f"{toml_text.key(self.id)}.intervals"
            lines += ["", *toml_text.tables(name, self.intervals, float_format="{:.4f}")]
            return "\n".join(lines).rstrip("\n") + "\n"
        return "\n".join(lines) + "\n"


LIMIT_PROFILE = Profile(
    LIMIT,
    Efficiency(),
    name="Hardware limit (the paper's view: η_bw = η_f = 1, no software time)",
    source="paper: arXiv 2507.14397 (LIMINAL), hardware-limit decode model",
)


def _entry(pid: str, e: Any, where: str) -> Profile:
    if not isinstance(e, dict):
        raise InputError("expected a table", where=where, key=pid)
    for k in e:
        if k not in _KEYS:
            raise unknown("profile key", k, _KEYS, where=where, key=f"{pid}.{k}")
    if "command" in e or "cv_mape" in e:  # a fit's figures are of all its numbers
        missing = [f for f in (*FRACTION_FIELDS, *RATIO_FIELDS, *TIME_FIELDS) if f not in e]
        if missing:
            raise InputError(
                f"missing key {missing[0]}: a fitted profile (it states its `command` or "
                "`cv_mape`) gives every parameter its figures are for: re-run its command "
                "(a profile written before a parameter existed lacks it), or remove `command` "
                "and `cv_mape` to use it as a hand-written one",
                where=where,
                key=f"{pid}.{missing[0]}",
            )
    eff: dict[str, Any] = {}
    for f in RATIO_FIELDS:
        v = e.get(f, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < math.inf:
            raise InputError(
                f"expected a non-negative number, got {v!r}", where=where, key=f"{pid}.{f}"
            )
        eff[f] = float(v)
    if isinstance(e.get("activation_dtype"), str):
        eff["activation_dtype"] = e["activation_dtype"]
    for f in FRACTION_FIELDS:
        v = e.get(f, 1.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
            raise InputError(
                f"expected a fraction in (0, 1], got {v!r}", where=where, key=f"{pid}.{f}"
            )
        eff[f] = float(v)
    for f in TIME_FIELDS:
        eff[f] = parse(e[f], "time", where=where, key=f"{pid}.{f}") if f in e else 0.0
    chips = _strings(e, "chips", "chip ids", pid, where)
    builds = _builds(e, pid, where)
    held = _strings(e, "not_identified", "parameter names", pid, where)
    for k, kind in _KEYS.items():
        v = e.get(k)
        if v is None:
            continue
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if kind == "number" and not (number and math.isfinite(v)):
            raise InputError(f"expected a number, got {excerpt(v)}", where=where, key=f"{pid}.{k}")
        if kind == "int" and not (isinstance(v, int) and number and 0 <= v < 2**31):
            raise InputError(
                f"expected a count (a non-negative integer), got {excerpt(v)}",
                where=where,
                key=f"{pid}.{k}",
            )
        if kind == "str" and not isinstance(v, str):
            raise InputError(f"expected a string, got {excerpt(v)}", where=where, key=f"{pid}.{k}")
    try:
        efficiency = Efficiency(**eff)
    except InputError as exc:  # named by the profile's file and table, not by [efficiency]
        key = (exc.key or "").replace("efficiency.", f"{pid}.", 1) or pid
        raise InputError(exc.message, where=where, key=key) from None
    return Profile(
        id=pid,
        efficiency=efficiency,
        name=str(e.get("name", pid)),
        platform=str(e.get("platform", "")),
        engine=str(e.get("engine", "")),
        chips=tuple(chips),
        builds=builds,
        intervals=_intervals(e, pid, where),
        platforms=_platforms(e, pid, where),
        measured_builds=_measured_builds(e, pid, where),
        measured_ranges=_measured_ranges(e, pid, where),
        data=str(e.get("data", "")),
        rows=int(e.get("rows", 0)),
        fit_date=str(e.get("fit_date", "")),
        fit_mape=e.get("fit_mape"),
        fit_median=e.get("fit_median"),
        fit_worst=e.get("fit_worst"),
        cv=str(e.get("cv", "")),
        cv_mape=e.get("cv_mape"),
        cv_points=int(e.get("cv_points", 0)),
        not_identified=tuple(held),
        command=str(e.get("command", "")),
        source=str(e.get("source", "")),
        notes=str(e.get("notes", "")),
    )


def _strings(e: dict, key: str, what: str, pid: str, where: str) -> list[str]:
    """The list of strings at `key` of a profile table (empty when absent)."""
    v = e.get(key, [])
    if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
        raise InputError(f"expected a list of {what}, got {v!r}", where=where, key=f"{pid}.{key}")
    return v


def _table(e: dict, name: str, example: str, key: str, where: str) -> dict:
    """The inline table at `name` of a profile table (empty when absent)."""
    v = e.get(name, {})
    if not isinstance(v, dict):
        raise InputError(
            f"expected a table such as {example}, got {excerpt(v)}", where=where, key=key
        )
    return v


def _builds(e: dict, pid: str, where: str) -> tuple[tuple[str, str], ...]:
    """`builds = { engine = "version", … }` of a profile table (empty when absent)."""
    from designer.calibration import engines

    key = f"{pid}.builds"
    v = _table(e, "builds", '{ vllm = "0.13.0" }', key, where)
    for engine, version in v.items():
        if not isinstance(version, str):
            raise InputError(
                f"expected a version string, got {excerpt(version)}",
                where=where,
                key=f"{key}.{engine}",
            )
        engines.parse_version(version, where=where, key=f"{key}.{engine}")
    return tuple(sorted(v.items()))


def _measured_builds(e: dict, pid: str, where: str) -> tuple[tuple[str, str, str], ...]:
    """`measured_builds = { engine = ["oldest", "newest"], … }` (empty when absent)."""
    from designer.calibration import engines

    key = f"{pid}.measured_builds"
    v = _table(e, "measured_builds", '{ vllm = ["0.5.3", "0.7.4"] }', key, where)
    out = []
    for engine, pair in sorted(v.items()):
        k = f"{key}.{engine}"
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)
        ):
            raise InputError(
                f'expected ["oldest", "newest"] versions, got {excerpt(pair)}', where=where, key=k
            )
        for x in pair:
            engines.parse_version(x, where=where, key=k)
        out.append((engine, pair[0], pair[1]))
    return tuple(out)


RANGE_KEYS = ("dense_batch", "mla_batch", "moe_batch")  # `measurements.measured_ranges`


def _measured_ranges(e: dict, pid: str, where: str) -> tuple[tuple[str, int], ...]:
    """`measured_ranges = { dense_batch = 1024, moe_batch = 64 }` (empty when absent)."""
    key = f"{pid}.measured_ranges"
    v = _table(e, "measured_ranges", "{ dense_batch = 1024, moe_batch = 64 }", key, where)
    for name, n in v.items():
        if name not in RANGE_KEYS:
            raise unknown("range", name, RANGE_KEYS, where=where, key=key)
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError(
                f"expected a positive number of sequences, got {excerpt(n)}",
                where=where,
                key=f"{key}.{name}",
            )
    return tuple(sorted(v.items()))


def asking(
    profile: Profile, engine: str | None, version: str | None, *, dated: bool = False
) -> Profile:
    """`profile` as an answer naming engine build `version` uses it (`Profile.asked`), which
    its interval judges against the builds the profile's rows state; unchanged without both.
    `dated`: the build is only what a measured row's date implies (`Profile.asked_dated`)."""
    if not engine or not version:
        return profile
    return dataclasses.replace(profile, asked=(engine, version), asked_dated=dated)


def _intervals(e: dict, pid: str, where: str) -> dict | None:
    """A generation's own interval table (`[<id>.intervals.…]`), None when absent."""
    v = e.get("intervals")
    if v is None:
        return None
    cells = v.get("cells") if isinstance(v, dict) else None
    if not (
        isinstance(cells, dict)
        and cells
        and isinstance(v.get("ranges", {}), dict)
        and all(isinstance(c, dict) and {"points", "ratio"} <= set(c) for c in cells.values())
    ):
        raise InputError(
            "expected the tables ranges and cells (each with points and ratio) of an "
            "interval table",
            where=where,
            key=f"{pid}.intervals",
        )
    return v


def _platforms(e: dict, pid: str, where: str) -> tuple[tuple[str, OnPlatform], ...]:
    """A generation's `[<id>.platforms."chip/engine"]` tables (empty when absent)."""
    v = e.get("platforms", {})
    key = f"{pid}.platforms"
    if not isinstance(v, dict):
        raise InputError(
            f"expected tables named chip/engine, got {excerpt(v)}", where=where, key=key
        )
    out = []
    for name, t in sorted(v.items()):
        k = f"{key}.{name}"
        if "/" not in name or not isinstance(t, dict):
            raise InputError(
                "expected a table named chip/engine (e.g. mi300x/sglang)", where=where, key=k
            )
        for f in t:
            if f not in ON_PLATFORM_KEYS:
                raise unknown("platform key", f, ON_PLATFORM_KEYS, where=where, key=f"{k}.{f}")
        scale = t.get("scale")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale < 1e3:
            raise InputError(
                f"expected a positive factor, got {excerpt(scale)}", where=where, key=f"{k}.scale"
            )
        counts = [t.get(c, 0) for c in ("rows", "configurations")]
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise InputError(
                "expected counts (non-negative integers) for rows and configurations",
                where=where,
                key=k,
            )
        if "overhead_per_step" not in t:
            raise InputError(
                'expected overhead_per_step, a time such as "1.5 ms"',
                where=where,
                key=f"{k}.overhead_per_step",
            )
        tau = parse(t["overhead_per_step"], "time", where=where, key=f"{k}.overhead_per_step")
        if not 0 <= tau < math.inf:
            raise InputError(
                "expected a finite non-negative time", where=where, key=f"{k}.overhead_per_step"
            )
        models = _strings(t, "models", "model ids", k, where)
        out.append((name, OnPlatform(float(scale), tau, tuple(models), *counts)))
    return tuple(out)


ON_PLATFORM = "platform"  # the interval kind (and coverage entry) of a scaled generation
ON_PLATFORM_KEYS = ("scale", "overhead_per_step", "models", "rows", "configurations")


def on_platform(profile: Profile, chip_id: str, engine: str | None, model: str | None) -> Profile:
    """`profile` fitted to the platform `chip_id`/`engine` when it is a software generation that
    measured `model` there (its `platforms`): the platform's own per-step time and every decode
    term times its `scale` (`OnPlatform.applied`), judged by the held-out residuals of its
    measured platforms (interval kind `platform`). Otherwise `profile` unchanged: another model
    on a measured platform, or an unmeasured platform, keeps the generation's fit and its
    interval. Applied to a generation chosen as a default (`default_for`), never to one named
    (`--profile current` is the fit alone)."""
    key = f"{chip_id}/{engine}"
    on = dict(profile.platforms).get(key) if engine and model else None
    if on is None or model not in on.models:
        return profile
    return dataclasses.replace(profile, efficiency=on.applied(profile.efficiency), on=key)


def as_written(profile: Profile) -> Profile:
    """`profile` as its TOML table (`to_toml`) reads back: its numbers rounded as written, so
    what is computed from it is what the shipped profile gives."""
    import tomllib

    return _entry(profile.id, tomllib.loads(profile.to_toml())[profile.id], "a written profile")


def read(path: str | Path) -> dict[str, Profile]:
    """Profiles of one TOML file, by id."""
    p = Path(path)
    raw = read_toml(p, "a profile TOML or a profile name")
    if LIMIT in raw:
        raise InputError(f"{LIMIT!r} is built in and cannot be redefined", where=str(p), key=LIMIT)
    found = {pid: _entry(pid, e, str(p)) for pid, e in raw.items()}
    named = [(pid, c) for pid, prof in found.items() for c in prof.chips]
    if named:  # the chips a profile is the default for: catalog chips (a typo defaults nothing)
        known = Catalog.load().raw["chips"]  # once per file, not per profile
        for pid, c in named:
            if c not in known:
                raise unknown("chip", c, known, where=str(p), key=f"{pid}.chips")
    return found


def load() -> dict[str, Profile]:
    """`limit`, the bundled profiles, then those of `DESIGNER_CATALOG_PATH` folders."""
    return dict(_load(os.environ.get("DESIGNER_CATALOG_PATH", "")))


@functools.lru_cache(maxsize=8)
def _load(catalog_path: str) -> dict[str, Profile]:
    out = {LIMIT: LIMIT_PROFILE}
    dirs = [bundled_dir()] + [Path(d) for d in catalog_path.split(os.pathsep) if d]
    for d in dirs:
        path = d / "profiles.toml"
        if path.exists():
            out.update(read(path))
    return {pid: with_layer_times(p, out) for pid, p in out.items()}


LAYER_TIMES = ("moe_layer", "mla_layer", "moe_expert")
# the layer times a family of models sets, by the `measured_ranges` key its rows write
FAMILY_TIMES = (("moe_batch", ("moe_layer", "moe_expert")), ("mla_batch", ("mla_layer",)))


def missing_layer_times(ranges: dict[str, int]) -> tuple[str, ...]:
    """The layer times rows of these `measured_ranges` could not set: τ_moe and τ_expert without
    an MoE model among them, τ_mla without an MLA model.

    >>> missing_layer_times({"dense_batch": 64, "moe_batch": 8})
    ('mla_layer',)
    """
    return tuple(f for key, times in FAMILY_TIMES if key not in ranges for f in times)


def _sets(profile: Profile, name: str) -> bool:
    """Whether `profile`'s rows could set layer time `name` (a profile written before
    `measured_ranges` existed: when its fit identified any layer time)."""
    if profile.measured_ranges:
        return name not in missing_layer_times(dict(profile.measured_ranges))
    return not set(LAYER_TIMES) <= set(profile.not_identified)


def with_layer_times(profile: Profile, profiles: dict[str, Profile]) -> Profile:
    """`profile` with each MoE/MLA layer time its rows could not set taken from a fit whose rows
    could: τ_moe and τ_expert when its rows hold no MoE model, τ_mla when they hold no MLA model
    (its `measured_ranges`; a time its fit identified stays its own), from its engine's fit over
    several platforms (`generic-<engine>`) when that fit's rows hold such models, else from
    `generic`. A profile without `measured_ranges` takes all three when its fit identified
    none. A chip's MoE and MLA physics then do not depend on which profile it defaults to
    (docs/model.md §6)."""
    # the times its rows could not set; one its fit identified stays (a file older than mla_batch)
    missing = [
        f
        for _, family in FAMILY_TIMES
        for f in family
        if not _sets(profile, f) and f in profile.not_identified
    ]
    engine = profile.engine or profile.platform.partition("/")[2]
    times, donors = {}, []
    for name in missing:
        for donor_id in (f"{GENERIC}-{engine}" if engine else "", GENERIC):
            donor = profiles.get(donor_id)
            if donor and donor.id != profile.id and _sets(donor, name):
                times[name] = getattr(donor.efficiency, name)
                donors.append(donor.id)
                break
    if not times:
        return profile
    eff = dataclasses.replace(profile.efficiency, **times)
    donor_ids = ", ".join(dict.fromkeys(donors))
    return dataclasses.replace(profile, efficiency=eff, layer_times_from=donor_ids)


def get(name: str, *, where: str | None = None, key: str = "profile") -> Profile:
    """A profile by name, or the first profile of a TOML file given by path."""
    profiles = load()
    if name in profiles:
        return profiles[name]
    if name.endswith(".toml") or os.sep in name:
        found = read(name)
        if not found:
            raise InputError("no profile table in the file", where=name)
        return next(iter(found.values()))
    raise unknown("profile", name, profiles, where=where, key=key)


def engines() -> tuple[str, ...]:
    """Serving engines of the shipped measurements and of every profile (its `engine`, or its
    platform's)."""
    found = set(_measured_engines())
    for p in load().values():
        found |= {p.engine} if p.engine else set()
        found |= {p.platform.split("/", 1)[1]} if "/" in p.platform else set()
    return tuple(sorted(found))


@functools.lru_cache(maxsize=1)
def _measured_engines() -> tuple[str, ...]:
    _, rows = read_csv(bundled_dir() / "measurements" / "decode.csv", "a measurements CSV")
    from designer.calibration import engines

    return tuple(sorted({engines.canonical(r["engine"]) for _, r in rows}))


def check_engine(engine: str, *, where: str | None = None, key: str = "engine") -> str:
    """`engine` if some profile was fitted to it, else an InputError naming the closest."""
    known = engines()
    if engine not in known:
        raise unknown("serving engine", engine, known, where=where, key=key)
    return engine


def for_build(engine: str, version: str | tuple[int, ...] | None) -> Profile | None:
    """The profile fitted on `engine`'s builds up to `version` (its `builds` at or below it;
    the most recent such when several are), or None: older and unstated builds have none.

    >>> for_build("sglang", "0.5.6").id, for_build("sglang", "0.4.3"), for_build("tgi", "3.0")
    ('current', None, None)
    """
    from designer.calibration import engines

    if version is None:
        return None
    stated = engines.parse_version(version) if isinstance(version, str) else version
    found = []
    for p in load().values():
        since = dict(p.builds).get(engine)
        if since is not None and (first := engines.parse_version(since)) <= stated:
            found.append((first, p.id, p))
    return max(found, key=lambda t: t[:2])[2] if found else None


def default_for(
    catalog: Catalog,
    chip_id: str,
    engine: str | None = None,
    version: str | None = None,
    model: str | None = None,
) -> Profile:
    """The chip's default: its own platform's profile, else `generic` for shipping chips, else
    `limit` (paper presets and hypothetical chips).

    With a serving `engine`: the profile of the platform chip × engine, else the fit over that
    engine's platforms (`generic-<engine>`), else `generic`; a platform held out of the data is
    predicted best that way (docs/model.md §6). With the engine's `version` too, a profile
    fitted on that engine's builds up to it comes first (`for_build`), scaled to the chip ×
    engine when its rows measured `model` there (`on_platform`).
    """
    return asking(_default(catalog, chip_id, engine, version, model), engine, version)


def _default(catalog: Catalog, chip_id: str, engine, version, model) -> Profile:
    """`default_for` before it records the build asked for."""
    chip = catalog.chip(chip_id)
    if chip.kind not in SHIPPING_KINDS:
        return LIMIT_PROFILE
    profiles = load()
    if engine and (build := for_build(engine, version)) is not None:
        return on_platform(build, chip_id, engine, model)
    if engine:
        check_engine(engine)
        for p in profiles.values():
            if p.platform == f"{chip_id}/{engine}":
                return p
        for p in profiles.values():
            if p.engine == engine and not p.platform:
                return p
        return profiles.get(GENERIC, LIMIT_PROFILE)
    for p in profiles.values():
        if chip_id in p.chips:
            return p
    return profiles.get(GENERIC, LIMIT_PROFILE)


def named_only(profile: Profile) -> bool:
    """Whether `default_for` never returns `profile`: no chip, platform, engine or builds of
    its own and neither `generic` nor `limit` (a profile a user names with `--profile` or
    `[efficiency] profile`)."""
    return not (
        profile.chips
        or profile.platform
        or profile.engine
        or profile.builds
        or profile.id in (GENERIC, LIMIT)
    )


def select(
    catalog: Catalog,
    chip_id: str,
    requested: str | None = None,
    engine: str | None = None,
    version: str | None = None,
    model: str | None = None,
) -> Profile:
    """The named profile, as named, or the chip's default (for `engine` at `version`, on its
    platform's numbers where a generation measured `model` there) when `requested` is None."""
    return get(requested) if requested else default_for(catalog, chip_id, engine, version, model)


def with_values(profile: Profile, values: dict[str, float]) -> Profile:
    """`profile` with some Efficiency fields replaced (explicit `[efficiency]` values or CLI
    flags); the result is no longer the calibrated profile, and says so."""
    if not values:
        return profile
    eff = dataclasses.replace(profile.efficiency, **values)
    shown = ", ".join(f"{k}={v:g}" for k, v in sorted(values.items()))
    return dataclasses.replace(
        profile,
        id=f"{profile.id}+custom",
        efficiency=eff,
        name=f"{profile.name or profile.id} with {shown}",
        cv_mape=None,
        cv="",
        cv_points=0,
        chips=(),
    )


def describe(profile: Profile) -> dict[str, Any]:
    """What an answer says about its profile (JSON, SI units), e.g.

    `{"name": "generic", "title": …, "fit_date": "2026-11-28", "error": "step time ±19%
    (leave-one-platform-out, 130 points)", "mape_cv": 19.1, "efficiency": {…}}`.
    """
    e = profile.efficiency
    return {
        "name": profile.id,
        "title": profile.name,
        "platform": profile.platform,
        "engine": profile.engine,
        "builds": dict(profile.builds),
        "measured_builds": {e: [old, new] for e, old, new in profile.measured_builds},
        "measured_ranges": dict(profile.measured_ranges),
        **({"build": " ".join(profile.asked)} if profile.asked else {}),
        "fit_date": profile.fit_date,
        "error": profile.error(),
        "mape_cv": profile.cv_mape,
        "cv": profile.cv,
        "mape_fit": profile.fit_mape,
        "points": profile.rows,
        "efficiency": {
            "bandwidth": e.bandwidth,
            "compute": e.compute,
            "prefill_compute": e.prefill_compute,
            "overhead_per_layer_s": e.overhead_per_layer,
            "per_sequence_s": e.per_sequence,
            "collective_latency_s": e.collective_latency,
            "overhead_per_step_s": e.overhead_per_step,
            "per_sequence_step_s": e.per_sequence_step,
            "attention_kernel": e.attention_kernel,
            "moe_layer_s": e.moe_layer,
            "mla_layer_s": e.mla_layer,
            "moe_expert_s": e.moe_expert,
            "activation_dtype": e.activation_dtype or None,
        },
        "not_identified": list(profile.not_identified),
        **({"on_platform": _described_platform(profile)} if profile.on else {}),
    }


def _described_platform(profile: Profile) -> dict[str, Any]:
    """What an answer says about the measured platform a generation is scaled to."""
    return {"platform": profile.on, **dict(profile.platforms)[profile.on].describe()}


def for_problem(problem: Any, chip_id: str, workload: Workload | None = None) -> Profile:
    """The profile a problem's answer on `chip_id` uses: `[efficiency] profile` when named,
    else the hardware limit when only explicit `[efficiency]` values are given (their meaning
    before profiles existed) or under the `paper` assumptions (the paper's view), else the
    chip's default for the problem's `[efficiency] engine` (at its `engine_version`); explicit
    values replace the profile's. A default that is a software generation takes the numbers of
    the chip × engine where its rows measured the workload's model (`workload`, default the
    problem's first class's; `on_platform`); a profile named is used as named.

    `dataclasses.replace(problem.workload, efficiency=for_problem(problem, chip).efficiency)`
    is the workload to evaluate that chip with.
    """
    if problem.profile:
        base = asking(get(problem.profile), problem.engine, problem.engine_version)
    elif problem.efficiency_values or problem.workload.assumptions.is_paper:
        base = LIMIT_PROFILE  # the paper's view: its assumptions at the hardware limit
    else:
        model = (workload or problem.workload).model.id
        base = default_for(problem.catalog, chip_id, problem.engine, problem.engine_version, model)
    return with_values(base, problem.efficiency_values)


def workload_for(problem: Any, chip_id: str, workload: Workload | None = None) -> Workload:
    """A workload of the problem (default: its first class's) with the efficiency of
    `for_problem(problem, chip_id)`: what a candidate on that chip is evaluated with."""
    wl = workload or problem.workload
    return dataclasses.replace(wl, efficiency=for_problem(problem, chip_id, wl).efficiency)

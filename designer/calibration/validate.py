"""Predicted against measured, per row, for one profile: `designer validate`.

JSON contract: `{"profile": NAME, "mape": PERCENT, "rows": [{"id", "predicted_ms", "measured_ms",
"low_ms", "high_ms"}]}` (each row also names its `profile`, the dimensions it `extrapolated` along,
what its interval was `widened_by`, the sequences it ran `in_flight` and, for a system of several
copies of its TP × PP group, their number `replicas`), plus `median`, `worst` (signed percent),
`worst_id`, `points` and the profile's `error` line. `low_ms`/`high_ms` bound each prediction's
80% interval (`designer.calibration.intervals`); rows predicted under profile `default`
(`DEFAULT`) each get the profile their chip gets in an answer (`profiles.default_for`), and name
it as `profile`: a row whose `software` states an engine build that a profile was fitted on builds
up to (`profiles.for_build`, e.g. SGLang 0.5.6 → `current`), or names the engine but no build
while its `date` implies one (`engines.dated_build`: the newest listed as out by then, an
assumption its interval widens for; `build_from_date`), gets that profile, as an answer naming
that engine and version does, on the numbers of the row's chip × engine where that generation
measured the row's model (`profiles.on_platform`: the row names that platform as
`on_platform`); any other row its chip's default. A profile named is used as named. A file of
published TTFTs (`ttft.holds_ttft`) has its own record (`validate_ttft`: `"measure": "ttft"`, each
row with its TTFT interval, `ttft_interval`).

>>> from designer.model.catalog import Catalog
>>> from designer.calibration import measurements, profiles
>>> cat = Catalog.load()
>>> rows = measurements.load(measurements.bundled_path(), cat)
>>> rec = validate(rows, profiles.get("limit"), cat)
>>> rec["profile"], len(rec["rows"]), sum(r["predicted_ms"] < r["measured_ms"] for r in rec["rows"])
('limit', 461, 460)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from designer.calibration import intervals, measurements, profiles, ttft, ttft_interval
from designer.calibration.calibrate import Errors, Rows, as_rows
from designer.calibration.measurements import Measurement
from designer.calibration.profiles import Profile
from designer.model import outputs
from designer.model.catalog import Catalog
from designer.model.errors import InputError
from designer.model.workload import Workload

DEFAULT = "default"  # `--profile default`: each row under its chip's default profile


def default(catalog: Catalog, row: Measurement) -> Profile:
    """The profile `row` is predicted with under `--profile default`: the one fitted on its
    engine's builds up to the row's (when its `software` states one, or its `date` implies one
    (`Measurement.build`), and such a profile exists), else its chip's default.

    >>> from designer.model.catalog import Catalog
    >>> from designer.calibration.measurements import bundled_path, load
    >>> cat = Catalog.load()
    >>> rows = load(bundled_path().with_name("inferencemax.csv"), cat)
    >>> sorted({default(cat, r).id for r in rows})
    ['current']
    >>> sorted({default(cat, r).id for r in load(bundled_path(), cat)})
    ['generic', 'h100-sxm-tensorrt-llm', 'mi300x-vllm']
    """
    build = row.build
    if profiles.for_build(row.engine, build) is not None:
        chosen = profiles.default_for(catalog, row.chip, row.engine, build, row.model)
    else:
        chosen = profiles.default_for(catalog, row.chip)
    return profiles.asking(chosen, row.engine, build, dated=row.build_from_date is not None)


def predictions(
    rows: list[Measurement] | Rows, profile: Profile | None, catalog: Catalog, table=None
):
    """(prepared rows, the profile each row is predicted under, predicted ms, each row's
    `intervals.Ends`) of `rows` (measurements, or rows already prepared: `calibrate.as_rows`)
    under `profile` (None: each chip's default, `default`), each judged by the interval table
    its answers use (`intervals.table_for`, over `table`: default the shipped one)."""
    prepared = as_rows(rows, catalog)
    rows = [i.row for i in prepared.items]
    used = [
        profiles.asking(profile, r.engine, r.build, dated=r.build_from_date is not None)
        if profile
        else default(catalog, r)
        for r in rows
    ]
    predicted = np.empty(len(rows))
    tables = {}  # per profile, the interval table its answers are judged by
    for key in dict.fromkeys((p.id, p.on) for p in used):
        ks = [k for k, p in enumerate(used) if (p.id, p.on) == key]
        predicted[ks] = prepared.take(ks).terms.predict(used[ks[0]].efficiency)
        if key[0] not in tables:  # a generation's platforms share its one table
            tables[key[0]] = intervals.table_for(used[ks[0]], table)
    ends = []
    for item, p in zip(prepared.items, used, strict=True):
        r = item.row  # its decode workload's context is the row's decode context
        t = tables[p.id]
        ends.append(
            intervals.ends(p, t, item.decode, r.chip, r.tp, r.pp, r.ep, r.attention, r.batch)
        )
    return prepared, used, predicted, ends


# a capacity the catalog states in GB is the marketing figure of memory sized in GiB (an H100's
# "80 GB" is 80 GiB, an H200's "141 GB" holds 140.4 GiB): weights are judged against it read as
# GiB; a capacity stated in GiB or MiB (TPU v5p's "95 GiB") is read as stated
GIB_PER_GB = 2**30 / 1e9


def _memory(catalog: Catalog, chip: str) -> float:
    """Bytes of memory a chip holds, for the weights check: its catalog capacity, read as GiB
    where the catalog states it in decimal units (`GIB_PER_GB`)."""
    capacity = catalog.chip(chip).memory_capacity
    stated = str(catalog.raw["chips"][chip].get("memory_capacity", ""))
    return capacity if re.search(r"[KMGT]iB", stated) else capacity * GIB_PER_GB


def _over_memory(row, workload: Workload, catalog: Catalog) -> dict[str, Any]:
    """`{"weights_gb_per_chip": …, "memory_gb_per_chip": …}` of a row (a decode row or a
    TTFT's: its group, one TP attention rank without `ep`) whose weights alone exceed its chip's
    memory (`measurements.weights_per_chip` of its `workload` against `_memory`), else `{}`."""
    group = (row.tp, row.pp, getattr(row, "ep", 1), getattr(row, "attention", "tp"))
    weights = measurements.weights_per_chip(workload, *group)
    if weights <= _memory(catalog, row.chip):
        return {}
    memory = catalog.chip(row.chip).memory_capacity
    return {"weights_gb_per_chip": weights / 1e9, "memory_gb_per_chip": memory / 1e9}


def _beyond_context(model: str, tokens: int, catalog: Catalog) -> dict[str, Any]:
    """`{"context_tokens": …, "model_context": …}` when a row's `tokens` (prompt and output;
    a TTFT's prompt) exceed its model's `max_position_embeddings`, else `{}`."""
    context = catalog.model(model).max_position_embeddings
    if not context or tokens <= context:
        return {}
    return {"context_tokens": tokens, "model_context": context}


def validate(rows: list[Measurement], profile: Profile | None, catalog: Catalog) -> dict[str, Any]:
    """The JSON record of predictions with `profile` (None: each chip's default) against the
    measured `rows`, with each prediction's 80% interval."""
    prepared, used, predicted, ends = predictions(rows, profile, catalog)
    low = predicted * np.array([x.fast for x in ends])
    high = predicted * np.array([x.slow for x in ends])
    # per row, its answer's domain kind, "(extrapolated)" when it names dimensions
    domains = [x.kind + (" (extrapolated)" if x.extrapolated else "") for x in ends]
    e = Errors(prepared.ids, predicted, prepared.measured_ms)
    inside = (e.measured_ms >= low) & (e.measured_ms <= high)
    half = (high - low) / 2.0 / predicted
    return {
        "profile": profile.id if profile else DEFAULT,
        "error": profile.error()
        if profile
        else "each chip's default profile; a stated (or dated) engine build's generation first",
        **summary(e),
        "rows": [
            {
                "id": i,
                "predicted_ms": float(p),
                "measured_ms": float(m),
                "low_ms": float(lo),
                "high_ms": float(hi),
                "profile": u.id,
                **({"on_platform": u.on} if u.on else {}),
                # the dimensions the row lies outside the data along, and what each end was
                # widened by for them (`intervals.factors`)
                "extrapolated": x.extrapolated,
                "widened_by": {"fast": x.factors[0], "slow": x.factors[1]},
                # the sequences the prediction runs at once: the row's batch, or those whose
                # KV at the mean context fits beside the weights (`measurements.in_flight`)
                "in_flight": item.in_flight,
                # the copies of the TP × PP group the row's chips ran, when more than one:
                # its batch and in_flight are each copy's (`measurements.replicas`)
                **({"replicas": item.row.replicas} if item.row.replicas > 1 else {}),
                # the engine build its software states (what picks a generation's profile and
                # widens a build outside a profile's rows), when it states one
                **({"build": item.row.version} if item.row.version else {}),
                # the build its date implies when its software states none (`dated_build`):
                # the newest out by then, which the row is taken to run (or an older one)
                **(
                    {"build_from_date": item.row.build_from_date}
                    if item.row.build_from_date
                    else {}
                ),
                # when the weights alone exceed each chip's memory: no engine runs the row as
                # stated (a TP, PP or dtype misstated); predicted as stated all the same
                **_over_memory(item.row, item.decode, catalog),
                # when its prompt and output exceed the model's configured context
                **_beyond_context(
                    item.row.model, item.row.input_tokens + item.row.output_tokens, catalog
                ),
            }
            for i, p, m, lo, hi, u, x, item in zip(
                e.ids,
                e.predicted_ms,
                e.measured_ms,
                low,
                high,
                used,
                ends,
                prepared.items,
                strict=True,
            )
        ],
        "inside": float(np.mean(inside) * 100),
        # the width target is on this: half the interval over the prediction, median
        "median_half_width": float(np.median(half) * 100),
        # the same per interval domain (profile kind and family; answers outside the data apart)
        "domains": {
            d: {
                "points": int(np.sum(m)),
                "inside": float(np.mean(inside[m]) * 100),
                "median_half_width": float(np.median(half[m]) * 100),
            }
            for d, m in _masks(domains).items()
        },
        # per platform (chip/engine) the errors and their sign (+: predicted slower than
        # measured), where a systematic miss shows (round 13, an extension)
        "platforms": platforms([r.platform for r in rows], e, inside),
    }


def validate_ttft(
    rows: list[ttft.Row], profile: Profile | None, catalog: Catalog
) -> dict[str, Any]:
    """The JSON record of `designer validate` on published times to first token (a file of
    `ttft.load`'s layout): each row predicted as one prefill pass of its prompt
    (`ttft.predict_ms`) under `profile`, or with None (`--profile default`) under the profile an
    answer naming its chip and engine uses (`ttft.answer_ms`, as `scripts/ttft_check.py` and the
    published check that answers quote; unlike a decode row, a build its `software` states is
    not asked for, so those figures stay the ones answers quote). Each row carries the 80%
    interval an answer gives its TTFT (`ttft_interval`: `low_ms`, `high_ms`, the dimensions it
    `extrapolated` along); the record names how that interval held out (`interval`) beside the
    range `check` answers print with a TTFT. For rows of the publications the interval was built
    from (`built_from` of them) the share `inside` is in-sample (its held-out figure is
    `interval.check`).

    >>> from designer.model.catalog import Catalog
    >>> cat = Catalog.load()
    >>> rec = validate_ttft(ttft.load(ttft.bundled_path(), cat), None, cat)
    >>> held_out = rec["interval"]["check"]
    >>> rec["measure"], rec["points"], round(rec["mape"], 1), round(held_out["inside"], 1)
    ('ttft', 82, 35.4, 84.1)
    """
    used, predicted, ends = [], [], []
    for r in rows:
        if profile is None:
            pid, ms = ttft.answer_ms(r, catalog)
        else:
            pid, ms = profile.id, ttft.predict_ms(r, profile.efficiency, catalog)
        used.append(pid)
        predicted.append(ms)
        ends.append(ttft_interval.ends(ttft_interval.answer_of(r, catalog, profile)))
    e = Errors(tuple(r.id for r in rows), np.array(predicted), np.array([r.ttft_ms for r in rows]))
    low = e.predicted_ms * np.array([x.low for x in ends])
    high = e.predicted_ms * np.array([x.high for x in ends])
    inside = (e.measured_ms >= low) & (e.measured_ms <= high)
    return {
        "profile": profile.id if profile else DEFAULT,
        "measure": "ttft",
        # no profile is fitted to a TTFT: its decode error does not describe these rows
        "error": (
            "as named"
            if profile
            else "each row under the profile of an answer naming its chip and engine, not its "
            "build (as the TTFT check answers quote)"
        )
        + "; no profile is fitted to a TTFT, every prediction is held out",
        **summary(e),
        # + when predicted slower than measured, as `platforms` signs it
        "signed": float(np.mean(e.relative) * 100),
        "rows": [
            {
                "id": i,
                "predicted_ms": float(p),
                "measured_ms": float(m),
                "low_ms": float(lo),
                "high_ms": float(hi),
                "input_tokens": r.input_tokens,
                "profile": u,
                "extrapolated": x.extrapolated,
                "widened_by": x.widened(),
                # the rows its interval was built from: its engine's alone (rule E) or every one
                "interval_built_from": x.built(),
                # as a decode row's: weights beyond the chips' memory, a prompt beyond the context
                **_over_memory(r, ttft.workload(r, catalog), catalog),
                **_beyond_context(r.model, r.input_tokens, catalog),
            }
            for i, p, m, lo, hi, r, u, x in zip(
                e.ids, e.predicted_ms, e.measured_ms, low, high, rows, used, ends, strict=True
            )
        ],
        "inside": float(np.mean(inside) * 100),
        "median_half_width": float(np.median((high - low) / 2.0 / e.predicted_ms) * 100),
        # the rows of publications the interval is built from: for them `inside` is in-sample
        "built_from": int(
            np.isin([r.source_url for r in rows], ttft.shipped_ratios().source).sum()
        ),
        # how the TTFT interval held out on the shipped rows (`ttft_interval.cross_validated`)
        "interval": {
            "confidence": intervals.CONFIDENCE,
            "of": "one prompt's prefill, no queue",
            "check": ttft_interval.cross_validated(),
        },
        "check": ttft.published_check(),
        "platforms": platforms([r.platform for r in rows], e, inside),
    }


def summary(e: Errors) -> dict[str, Any]:
    """The error figures every `designer validate` record opens with: MAPE, median (percent),
    the worst signed error and its row, and the points."""
    worst_id, worst = e.worst
    return {
        "mape": e.mape,
        "median": e.median,
        "worst": worst,
        "worst_id": worst_id,
        "points": len(e.ids),
    }


def platforms(
    names: list[str], e: Errors, inside: np.ndarray | None = None
) -> dict[str, dict[str, Any]]:
    """Per platform of `names` (one per row of `e`): points, MAPE, mean signed error (percent,
    + when predicted slower than measured) and, with `inside`, the share inside the 80%
    interval.

    >>> e = Errors(("a", "b", "c"), np.array([12.0, 9.0, 10.0]), np.array([10.0, 10.0, 10.0]))
    >>> x = platforms(["x/v", "x/v", "y/s"], e, np.array([True, False, True]))["x/v"]
    >>> x["points"], round(x["mape"], 6), round(x["signed"], 6), x["inside"]
    (2, 15.0, 5.0, 50.0)
    """
    rel = e.relative
    return {
        name: {
            "points": int(m.sum()),
            "mape": float(np.mean(np.abs(rel[m])) * 100),
            "signed": float(np.mean(rel[m]) * 100),
            **({} if inside is None else {"inside": float(np.mean(inside[m]) * 100)}),
        }
        for name, m in _masks(names).items()
    }


def _masks(labels: list[str]) -> dict[str, np.ndarray]:
    """Per distinct label, sorted, the boolean mask of the rows that carry it."""
    arr = np.array(labels, dtype=object)
    return {name: arr == name for name in sorted(set(labels))}


PLOT_FORMATS = (".png", ".svg", ".pdf")


def parity_plot(
    rows: list[Measurement],
    record: dict[str, Any],
    path: str | Path,
    band: float = 0.15,
    *,
    force: bool = False,
    quantity: str = "ms per output token",
) -> None:
    """Predicted vs measured `quantity` (log-log), one colour per platform, with ±`band`
    lines."""
    plt = _pyplot("--plot")
    platform = {r.id: r.platform for r in rows}
    by: dict[str, list[tuple[float, float]]] = {}
    for r in record["rows"]:
        by.setdefault(platform[r["id"]], []).append((r["measured_ms"], r["predicted_ms"]))
    fig, ax = plt.subplots(figsize=(6, 6))
    lo = min(min(v) for pts in by.values() for v in pts) * 0.8
    hi = max(max(v) for pts in by.values() for v in pts) * 1.25
    ax.plot([lo, hi], [lo, hi], color="black", lw=1)
    for f in (1 - band, 1 + band):
        ax.plot([lo, hi], [lo * f, hi * f], color="grey", lw=0.8, ls="--")
    for name, pts in sorted(by.items()):
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=name, s=24)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(f"measured {quantity}")
    ax.set_ylabel(f"predicted {quantity}")
    ax.set_title(
        f"profile {record['profile']}: MAPE {record['mape']:.1f}% ({record['points']} points)"
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, plt, path, force)


def _pyplot(key: str):
    """matplotlib.pyplot on the Agg backend, or an InputError naming `key`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(
            "--plot needs matplotlib (pip install 'designer[plot]')", key=key
        ) from None
    return plt


def _save(fig, plt, path: str | Path, force: bool) -> None:
    """Save `fig` through the output gate and close it."""
    try:
        outputs.check_figure(path, PLOT_FORMATS, force=force)
        outputs.savefig(fig, path, "a plot", force=force, dpi=120)
    finally:
        plt.close(fig)


def coverage_plot(cov, path: str | Path, *, force: bool = False) -> None:
    """Held-out measured / predicted of every row (sorted) with its 80% interval: a row is
    inside when its dot lies within its bar (`intervals.Coverage`)."""
    plt = _pyplot("--plot")
    order = np.argsort(cov.measured_ms / cov.predicted_ms)
    x = np.arange(len(order))
    ratio = (cov.measured_ms / cov.predicted_ms)[order]
    lo = (cov.low_ms / cov.predicted_ms)[order]
    hi = (cov.high_ms / cov.predicted_ms)[order]
    inside = cov.inside[order]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.vlines(x, lo, hi, color="lightgrey", lw=1.2, label="80% interval (other publications)")
    # dots above the bars (a scatter is drawn below line collections by default)
    ax.scatter(x[inside], ratio[inside], s=8, color="tab:blue", label="inside", zorder=3)
    ax.scatter(x[~inside], ratio[~inside], s=8, color="tab:red", label="outside", zorder=3)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("held-out predictions (leave-one-source-out), sorted")
    ax.set_ylabel("measured / predicted")
    s = cov.summary()
    ax.set_title(
        f"{s['inside']:.1f}% of {s['points']} inside; "
        f"median half-width ±{s['median_half_width']:.1f}%"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, plt, path, force)


def table(errs: Errors, used: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows for a printed table: id, predicted, measured, error in percent, and the profile
    each row was predicted with when `used` names them (`--profile default`)."""
    rows = [
        {
            "id": i,
            "predicted_ms": f"{p:.2f}",
            "measured_ms": f"{m:.2f}",
            "error": f"{r * 100:+.1f}%",
        }
        for i, p, m, r in zip(
            errs.ids, errs.predicted_ms, errs.measured_ms, errs.relative, strict=True
        )
    ]
    for row, name in zip(rows, used or [], strict=False):
        row["profile"] = name
    return rows

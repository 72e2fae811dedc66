"""Predicted against measured, per row, for one profile: `designer validate`.

JSON contract: `{"profile": NAME, "mape": PERCENT, "rows": [{"id", "predicted_ms",
"measured_ms"}]}`, plus `median`, `worst` (signed percent), `worst_id`, `points` and the
profile's `error` line.

>>> from designer.catalog import Catalog
>>> from designer import measurements, profiles
>>> cat = Catalog.load()
>>> rows = measurements.load(measurements.bundled_path(), cat)
>>> rec = validate(rows, profiles.get("limit"), cat)
>>> rec["profile"], len(rec["rows"]), all(r["predicted_ms"] < r["measured_ms"] for r in rec["rows"])
('limit', 340, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from designer import outputs
from designer.calibrate import Errors, errors
from designer.catalog import Catalog
from designer.errors import InputError
from designer.measurements import Measurement, prepare
from designer.profiles import Profile


def validate(rows: list[Measurement], profile: Profile, catalog: Catalog) -> dict[str, Any]:
    """The JSON record of predictions with `profile` against the measured `rows`."""
    e = errors(prepare(rows, catalog), profile.efficiency, catalog)
    worst_id, worst = e.worst
    return {
        "profile": profile.id,
        "error": profile.error(),
        "mape": e.mape,
        "median": e.median,
        "worst": worst,
        "worst_id": worst_id,
        "points": len(e.ids),
        "rows": [
            {"id": i, "predicted_ms": float(p), "measured_ms": float(m)}
            for i, p, m in zip(e.ids, e.predicted_ms, e.measured_ms, strict=True)
        ],
    }


PLOT_FORMATS = (".png", ".svg", ".pdf")


def parity_plot(
    rows: list[Measurement],
    record: dict[str, Any],
    path: str | Path,
    band: float = 0.15,
    *,
    force: bool = False,
) -> None:
    """Predicted vs measured (log-log), one colour per platform, with ±`band` lines."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(
            "--plot needs matplotlib (pip install 'designer[plot]')", key="--plot"
        ) from None
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
    ax.set_xlabel("measured ms per output token")
    ax.set_ylabel("predicted ms per output token")
    ax.set_title(
        f"profile {record['profile']}: MAPE {record['mape']:.1f}% ({record['points']} points)"
    )
    ax.legend(fontsize=7)
    fig.tight_layout()
    try:
        outputs.check_figure(path, PLOT_FORMATS, force=force)
        outputs.savefig(fig, path, "a plot", force=force, dpi=120)
    finally:
        plt.close(fig)


def table(errs: Errors) -> list[dict[str, Any]]:
    """Rows for a printed table: id, predicted, measured, error in percent."""
    return [
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

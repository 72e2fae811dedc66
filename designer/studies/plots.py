"""Figures for studies (matplotlib, Agg backend; PNG or SVG by the file's extension).

- `frontier(front, path)`: an exact Pareto frontier (a step: each point holds up to its rate);
- `step_breakdown(rows, path)`: step time of each compare row as stacked bars (the binding one
  of memory / compute, then sync, then overhead), the hidden term drawn as an outline;
- `utps_vs_chips(frame, path)`: tokens/s per user against chip count, one line per memory
  technology;
- `heatmap(frame, x, y, value, path)`: a two-parameter sweep.

    >>> frontier(pareto(problem, "capex"), "frontier.png")                 # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from designer.model import outputs
from designer.model.errors import InputError

FORMATS = (".png", ".svg")
COLORS = {"memory": "#4C72B0", "compute": "#DD8452", "sync": "#55A868", "overhead": "#8172B3"}


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise InputError(
            "plots need matplotlib: pip install 'designer[plot]'", key="--plot"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def target(path: str | Path, *, force: bool = False, formats: tuple[str, ...] = FORMATS) -> Path:
    """`path` if a figure may be written there (its extension, `outputs.check`): checked before
    any solve, so a bad name fails at once."""
    return outputs.check_figure(path, formats, force=force)


def _save(fig, path: str | Path, force: bool = False) -> Path:
    path = target(path, force=force)
    fig.tight_layout()
    try:
        return outputs.savefig(fig, path, "a plot", force=force, dpi=120)
    finally:
        fig.clf()
        import matplotlib.pyplot as plt

        plt.close(fig)


def _axis_label(objective: str, unit: str) -> str:
    return f"{objective} ({unit})" if unit else objective


def frontier(
    front: Any, path: str | Path, *, title: str | None = None, force: bool = False
) -> Path:
    """Plot a `Frontier`: y against tokens/s per user, each point labelled with its chip."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = [p[front.x] for p in front.points]
    ys = [p["value"] for p in front.points]
    ax.step(xs, ys, where="pre", color="0.6", linewidth=1)

    def label(p: dict) -> str:
        chips = {f["chip"] for f in p["record"].get("fleet") or []} if not p.get("design") else {}
        return str(p["design"]["chip"]) if p.get("design") else "mixed: " + "+".join(sorted(chips))

    chips = sorted({label(p) for p in front.points})
    cmap = plt.get_cmap("tab10")
    for i, chip in enumerate(chips):
        pts = [p for p in front.points if label(p) == chip]
        ax.scatter(
            [p[front.x] for p in pts],
            [p["value"] for p in pts],
            color=cmap(i % 10),
            label=chip,
            zorder=3,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tokens/s per user")
    ax.set_ylabel(_axis_label(front.y, front.unit))
    what = "maximum" if front.y == "tokens_per_s_per_chip" else "minimum"
    ax.set_title(title or f"Exact frontier: {what} {front.y} at each tokens/s per user")
    ax.grid(True, which="both", alpha=0.3)
    if chips:
        ax.legend(fontsize=8)
    return _save(fig, path, force)


def _step_rows(rows: list[dict[str, Any]], by: str) -> list[tuple[str, dict[str, Any]]]:
    """(label, step-time metrics) per bar: a row's design, or each configuration of a row
    whose answer mixes several (labelled with its chip and partition)."""
    out = []
    for r in rows:
        rec = r.get("record", r)
        name = str(r.get(by, (rec.get("design") or {}).get(by, "?")))
        if rec.get("metrics"):
            out.append((name, rec["metrics"]))
            continue
        for f in rec.get("fleet") or []:
            out.append((f"{name}: {f['chip']} TP{f['tp']}×PP{f['pp']}", f))
    return out


def step_breakdown(
    rows: list[dict[str, Any]],
    path: str | Path,
    *,
    by: str = "chip",
    title: str | None = None,
    force: bool = False,
) -> Path:
    """Stacked step-time bars for records (compare rows or JSON answers with `metrics`)."""
    plt = _pyplot()
    recs = _step_rows(rows, by)
    if not recs:
        raise InputError("no feasible design to plot", key="--plot")
    fig, ax = plt.subplots(figsize=(max(7.5, 0.8 * len(recs) + 3.5), 4.5))
    names = [n for n, _ in recs]
    ms = 1e3
    mem = np.array([m["memory_time_s"] for _, m in recs]) * ms
    comp = np.array([m["compute_time_s"] for _, m in recs]) * ms
    sync = np.array([m["sync_time_s"] for _, m in recs]) * ms
    over = np.array([m["overhead_time_s"] for _, m in recs]) * ms
    x = np.arange(len(recs))
    mem_binds = mem >= comp
    ax.bar(x, np.where(mem_binds, mem, 0), color=COLORS["memory"], label="memory")
    ax.bar(x, np.where(mem_binds, 0, comp), color=COLORS["compute"], label="compute")
    top = np.maximum(mem, comp)
    ax.bar(x, sync, bottom=top, color=COLORS["sync"], label="sync")
    ax.bar(x, over, bottom=top + sync, color=COLORS["overhead"], label="overhead")
    hidden = np.minimum(mem, comp)
    ax.bar(
        x,
        hidden,
        fill=False,
        edgecolor="black",
        linestyle="--",
        linewidth=0.8,
        label="hidden (overlapped)",
    )
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylabel("step time (ms)")
    ax.set_title(title or "Step time: max(memory, compute) + sync + overhead")
    ax.set_ylim(0, 1.08 * float((top + sync + over).max()))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _save(fig, path, force)


def utps_vs_chips(
    frame: pd.DataFrame, path: str | Path, *, title: str | None = None, force: bool = False
) -> Path:
    """Tokens/s per user against chips, one line per memory technology (columns
    `design.chips`, `metrics.tokens_per_s_per_user`, `design.memory`)."""
    plt = _pyplot()
    need = ["design.chips", "metrics.tokens_per_s_per_user", "design.memory"]
    missing = [c for c in need if c not in frame]
    if missing:
        raise InputError(f"the table has no column {missing[0]!r}", key="--plot")
    data = frame.dropna(subset=need)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for memory, group in data.groupby("design.memory"):
        g = group.sort_values("design.chips")
        ax.plot(g["design.chips"], g["metrics.tokens_per_s_per_user"], marker="o", label=memory)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("chips")
    ax.set_ylabel("tokens/s per user")
    ax.set_title(title or "Tokens/s per user against chip count")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path, force)


def heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    path: str | Path,
    *,
    title: str | None = None,
    fmt: str = "{:.3g}",
    force: bool = False,
) -> Path:
    """A two-parameter sweep: `value` on the (x, y) grid; failed points left blank."""
    plt = _pyplot()
    table = frame.pivot_table(index=y, columns=x, values=value, aggfunc="first", sort=False)
    fig, ax = plt.subplots(
        figsize=(max(5, 0.9 * table.shape[1] + 2), max(3.5, 0.5 * len(table) + 2))
    )
    data = table.to_numpy(dtype=float)
    im = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="viridis", origin="lower")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=30, ha="right")
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v):
            ax.text(j, i, fmt.format(v), ha="center", va="center", color="white", fontsize=7)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(im, ax=ax, label=value)
    ax.set_title(title or value)
    return _save(fig, path, force)


def sweep_figure(
    frame: pd.DataFrame, swept: list[str], path: str | Path, *, force: bool = False
) -> Path:
    """The default figure of a sweep: a heat map of the objective for two swept values, a line
    for one, else tokens/s per user against chips per memory technology."""
    ok = frame.dropna(subset=["objective"]) if "objective" in frame else frame.iloc[0:0]
    unit = ok["objective_unit"].iloc[0] if len(ok) and "objective_unit" in ok else ""
    name = ok["objective_name"].iloc[0] if len(ok) and "objective_name" in ok else "objective"
    label = _axis_label(str(name), str(unit))
    if len(swept) == 2:
        table = frame.rename(columns={"objective": label})
        return heatmap(
            table, swept[0], swept[1], label, path, title=f"optimal {label}", force=force
        )
    if len(swept) == 1:
        plt = _pyplot()
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.plot([str(v) for v in ok[swept[0]]], ok["objective"], marker="o")
        ax.set_xlabel(swept[0])
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        return _save(fig, path, force)
    return utps_vs_chips(frame, path, force=force)

"""plots: every figure is written as PNG or SVG by extension, from real study results."""

from __future__ import annotations

import pandas as pd
import pytest

from designer.errors import InputError
from designer.studies import pareto, plots

pytest.importorskip("matplotlib")


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 2000


def _is_svg(path):
    text = path.read_text()
    return text.startswith("<?xml") and "<svg" in text


def test_frontier_and_breakdown(small, tmp_path):
    front = pareto(small, "capex", points=3)
    assert _is_png(plots.frontier(front, tmp_path / "f.png"))
    assert _is_svg(plots.frontier(front, tmp_path / "f.svg"))
    rows = front.points  # records with a design and metrics, like compare rows
    assert _is_png(plots.step_breakdown(rows, tmp_path / "b.png"))
    svg = (plots.step_breakdown(rows, tmp_path / "b.svg")).read_text()
    for label in ("memory", "sync", "overhead", rows[0]["design"]["chip"]):
        assert label in svg


def test_table_figures(tmp_path):
    frame = pd.DataFrame(
        {
            "design.chips": [8, 16, 32, 8, 16, 32],
            "metrics.tokens_per_s_per_user": [200.0, 350.0, 500.0, 400.0, 700.0, 900.0],
            "design.memory": ["hbm3"] * 3 + ["hbm4"] * 3,
            "a": [1, 2, 3, 1, 2, 3],
            "b": ["x", "x", "x", "y", "y", "y"],
            "objective": [1.0, 2.0, None, 4.0, 5.0, 6.0],
        }
    )
    assert _is_png(plots.utps_vs_chips(frame, tmp_path / "u.png"))
    assert _is_svg(plots.heatmap(frame, "a", "b", "objective", tmp_path / "h.svg"))
    assert _is_png(plots.sweep_figure(frame, ["a", "b"], tmp_path / "s.png"))


def test_bad_extension_is_input_error(tmp_path):
    frame = pd.DataFrame({"a": [1], "b": [2], "objective": [3.0]})
    with pytest.raises(InputError, match="expected a .png or .svg"):
        plots.heatmap(frame, "a", "b", "objective", tmp_path / "h.pdf")

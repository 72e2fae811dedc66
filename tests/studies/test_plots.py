"""plots: every figure is written as PNG or SVG by extension, from real study results."""

from __future__ import annotations

import pandas as pd
import pytest

from designer.model.errors import InputError
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


def test_breakdown_of_a_mixed_fleet_has_a_bar_per_configuration(tmp_path):
    # issue 17: compare --plot failed on a row whose best answer mixes configurations
    from designer.optimize.problem import load_problem
    from designer.studies import compare

    pr = load_problem(
        "problems/quickstart.toml", {"space.chips": ["xpu-hbm3"], "objective.minimize": "chips"}
    )
    (row,) = compare(pr, by="chip").rows
    assert row["design"] is None and len(row["record"]["fleet"]) == 2
    svg = plots.step_breakdown([row], tmp_path / "m.svg").read_text()
    assert svg.count("xpu-hbm3: xpu-hbm3 TP") == 2


def test_someone_elses_file_is_not_replaced_by_a_plot(small, tmp_path):
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"\x89PNG\r\n\x1a\n not made by designer")
    front = pareto(small, "capex", points=2)
    with pytest.raises(InputError, match="was not written by designer"):
        plots.frontier(front, mine)
    assert mine.read_bytes().endswith(b"not made by designer")
    assert _is_png(plots.frontier(front, mine, force=True))
    assert _is_png(plots.frontier(front, mine))  # now it is ours

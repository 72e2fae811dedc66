"""pareto: every frontier point is the optimum at its level, and none dominates another."""

from __future__ import annotations

import importlib
import json
import tomllib

import pytest

from designer.interface.cli import main
from designer.model.errors import InfeasibleError, InputError
from designer.optimize.problem import load_problem
from designer.optimize.solve import solve
from designer.studies import pareto
from designer.studies.pareto import BISECTION_RTOL, PER_CHIP, fastest, lowest_level, rate_range
from designer.studies.rows import achieved_rate, solve_record

RATE = "sla.tokens_per_s_per_user"


@pytest.fixture(scope="module")
def front(small_shared):
    return small_shared, pareto(small_shared, "capex", points=6)


def test_points_are_optimal_at_their_level_and_rate(front):
    small, f = front
    assert len(f.points) >= 3
    for p in f.points:
        at_level = solve(small.with_changes({RATE: p["level"]}))
        assert p["value"] == pytest.approx(at_level.objective)
        assert p["tokens_per_s_per_user"] >= p["level"]
        # optimal at its level and feasible at its own rate: optimal there too
        at_rate = solve(small.with_changes({RATE: p["tokens_per_s_per_user"] * (1 - 1e-12)}))
        assert p["value"] == pytest.approx(at_rate.objective)


def test_points_are_non_dominated_and_span_the_range(front):
    small, f = front
    xs = [p["tokens_per_s_per_user"] for p in f.points]
    ys = [p["value"] for p in f.points]
    assert xs == sorted(xs) and all(b > a for a, b in zip(xs, xs[1:], strict=False))
    assert all(b > a for a, b in zip(ys, ys[1:], strict=False)), "more rate costs more"
    lo, hi = rate_range(small.with_changes({"objective.minimize": "capex"}))
    assert f.levels[0] == pytest.approx(lo) and f.levels[-1] == pytest.approx(hi)
    assert xs[-1] == pytest.approx(hi)
    with pytest.raises(InfeasibleError):
        solve(small.with_changes({RATE: hi * 1.001}))
    assert f.infeasible == []


def test_each_point_is_the_fastest_design_of_its_value():
    """A level's optimum may be any of the designs tied at its value; the point is the fastest
    of them: just above its rate (the search's tolerance) the optimum is worse. The quick start
    has such ties (its first level's optimum reaches 28 tokens/s per user for 200,000 USD,
    where a design of that price reaches 30)."""
    problem = load_problem("problems/quickstart.toml")
    f = pareto(problem, "capex", points=4)
    faster = 0
    for p in f.points:
        at_level = solve_record(problem, {RATE: p["level"]})
        assert at_level["objective"]["value"] == pytest.approx(p["value"])
        faster += achieved_rate(at_level) < p["tokens_per_s_per_user"]
        above = solve_record(problem, {RATE: p["tokens_per_s_per_user"] * (1 + BISECTION_RTOL)})
        assert above["status"] == "infeasible" or above["objective"]["value"] > p["value"]
    assert faster >= 1, "the quick start's levels tie: a point should have moved"


def test_only_an_objective_the_level_does_not_move_is_searched(small):
    """The serving chart maximizes the system's tokens/s and plots them per chip in use, and
    cost_per_mtoken counts tokens at the level: neither value is the level's objective, so
    their points stay the levels' optima (a search on them would drop frontier points)."""
    rec = solve_record(small, {RATE: 1.0})
    assert rec["status"] == "optimal"
    for y in ("cost_per_mtoken", PER_CHIP):
        assert fastest(small, rec, y, 60.0) == (rec, None)
    stopped = {**rec, "status": "feasible"}
    assert fastest(small, stopped, "capex", 60.0) == (stopped, None)


def test_a_search_a_limit_stops_is_said(small, small_path, monkeypatch, capsys):
    """A probe a time limit leaves unproven stops the search: the point is its level's optimum,
    a faster design of its value may exist, and pareto says so (warning, exit 4)."""
    module = importlib.import_module("designer.studies.pareto")
    rec = solve_record(small, {RATE: 1.0})
    monkeypatch.setattr(module, "_at", lambda *a, **k: {"status": "solver-limit", "error": "x"})
    assert fastest(small, rec, "capex", 60.0) == (rec, False)
    monkeypatch.undo()
    monkeypatch.setattr(module, "fastest", lambda base, rec, y, limit: (rec, False))
    assert main(["pareto", str(small_path), "--points", "2", "--json"]) == 4
    out, err = capsys.readouterr()
    assert all(p["fastest"] is False for p in json.loads(out)["points"])
    assert "stopped the search for a faster design of the same value" in err


def test_levels_beyond_reach_are_reported(small):
    f = pareto(small, "power", points=3, low=100.0, high=1e6)  # levels 100, 1e4, 1e6
    assert [bad["level"] for bad in f.infeasible] == [pytest.approx(1e6)]
    assert "above the highest reachable" in f.infeasible[0]["reason"]
    assert f.unit == "W" and len(f.points) == 2


def test_bad_arguments(small):
    with pytest.raises(InputError, match="closest valid name: capex"):
        pareto(small, "capx")
    with pytest.raises(InputError, match="from 2 to 1000 points"):
        pareto(small, "capex", points=1)
    with pytest.raises(InputError, match="from 2 to 1000 points"):
        pareto(small, "capex", points=1_000_000)


def test_cli_json_and_out(small_path, tmp_path, capsys):
    out = tmp_path / "front.csv"
    assert (
        main(
            ["pareto", str(small_path), "--y", "tco", "--points", "4", "--json", "--out", str(out)]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["x"] == "tokens_per_s_per_user" and data["y"] == "tco"
    assert data["unit"] == "USD/year" and data["points"]
    for p in data["points"]:
        assert set(p) == {
            "level",
            "tokens_per_s_per_user",
            "value",
            "design",
            "metrics",
            "status",
            "fastest",
        }
    text = out.read_text()
    assert text.startswith("# written by designer")  # the mark that lets a re-run replace it
    assert text.count("\n") == len(data["points"]) + 2


SERVED = """
[workload]
model = "llama3.1-8b"
prompt_tokens = 2000
output_tokens = 500

[sla]
tokens_per_s_per_user = 50
requests_per_s = 4
ttft = "1 s"

[objective]
minimize = "capex"

[space]
chips = ["h100-sxm"]
tp = [1, 2]
pp = [1]
"""


def test_a_request_rate_problem_has_a_frontier(tmp_path, capsys):
    """Users from a request rate (λ·O/r) grow without bound as the rate falls: the lowest level
    asks for the most users a problem holds, not 1e-6 tokens/s per user (an input error that
    blamed the file: problems/serving-… could not be charted). Every point is the problem
    re-solved at its level."""
    from designer.optimize.problem import INT_BOUNDS, problem_from_dict

    path = tmp_path / "served.toml"
    path.write_text(SERVED)
    problem = problem_from_dict(tomllib.loads(SERVED))
    floor = lowest_level(problem)
    assert 4 * 500 / floor == pytest.approx(INT_BOUNDS["sla.concurrent_users"], rel=1e-5)
    front = pareto(problem, "capex", points=3)
    assert front.points
    for p in front.points:
        again = solve(problem.with_changes({"sla.tokens_per_s_per_user": p["level"]}))
        assert again.objective == pytest.approx(p["value"], rel=1e-9)
    assert main(["pareto", str(path), "--points", "3"]) == 0
    assert main(["pareto", str(path), "--complete"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_request_rate_frontier_rises_with_the_level():
    """A request rate's demand is sized at each design's own TPOT (`features.demand`), so the
    optimum rises with the level (sized at the SLA rate it did not: on problems/serving-… 2,401,000
    USD at 14.67 tokens/s per user, 2,260,000 at 14.86): its points are searched for faster
    tied designs, each is its level's optimum and a level just above its rate costs more."""
    problem = load_problem("problems/serving-llama3.1-70b-30rps-ttft2s.toml")
    assert pareto_module().searchable("capex")
    cheaper = solve_record(problem, {RATE: 14.67})["objective"]["value"]
    assert cheaper <= solve_record(problem, {RATE: 14.86})["objective"]["value"]
    front = pareto(problem, "capex", points=4)
    assert [p["value"] for p in front.points] == sorted(p["value"] for p in front.points)
    for p in front.points:
        assert p["fastest"] is True
        at_level = solve_record(problem, {RATE: p["level"]})
        assert at_level["objective"]["value"] == pytest.approx(p["value"])
        above = solve_record(problem, {RATE: p["tokens_per_s_per_user"] * 1.001})
        value = (above.get("objective") or {}).get("value")
        assert value is None or value > p["value"]


def pareto_module():
    return importlib.import_module("designer.studies.pareto")


def test_what_a_frontier_cannot_sweep_is_named(tmp_path):
    """Several classes, or a problem that maximizes with a cost axis: one line each, naming
    what to do (they blamed a --set never given, or 'minimize and maximize' never written)."""
    from designer.optimize.problem import load_problem

    fleet = load_problem("problems/fleet-three-workloads-power-cap.toml")
    with pytest.raises(InputError, match=r"3 \[\[class\]\] table\(s\).*class\.NAME"):
        pareto(fleet, "capex", points=3)
    chart = load_problem("problems/h200x32-llama3-70b-serving-capacity.toml")
    with pytest.raises(InputError, match="maximizes system_tokens_per_s: give --y tokens_per_s"):
        pareto(chart, "capex", points=3)


def test_a_frontier_file_is_named_csv_or_json(small_path, tmp_path, capsys):
    out = tmp_path / "front.txt"
    assert main(["pareto", str(small_path), "--points", "2", "--out", str(out)]) == 2
    assert "expected a .csv or .json file name" in capsys.readouterr().err
    assert not out.exists()


def test_a_request_rate_walk_searches_each_plateau():
    """An aggregated replica of a request rate serves the most requests/s its level allows
    (`columns._part_loaded`), so a fleet reaches barely more than its level: a `--complete`
    walk stepping just above each point's rate crept up each cost's plateau (2 points in 391 s
    on problems/serving-…, where it had found 86). It searches each point's ties and steps on
    by that search's tolerance: every point is proven the fastest of its value, and every point
    of the default frontier is one of the walk's."""
    from designer.optimize.problem import problem_from_dict

    problem = problem_from_dict(tomllib.loads(SERVED))
    walk = pareto(problem, "capex", complete=True)
    default = pareto(problem, "capex", points=6)
    assert walk.points and all(p["fastest"] is True for p in walk.points)
    values = [p["value"] for p in walk.points]
    assert values == sorted(values) and len(set(values)) == len(values)
    for p in default.points:
        same = [q for q in walk.points if q["value"] == pytest.approx(p["value"], rel=1e-9)]
        assert same, p["value"]
        assert same[0]["tokens_per_s_per_user"] >= p["tokens_per_s_per_user"] * (1 - 1e-4)


def test_a_synthesis_problems_points_name_their_designs():
    """A frontier point of a synthesis problem names the designs its answer uses
    (`synthesis_chosen`, as `compare --json` rows do); only its chip id did."""
    from tests.studies.test_compare import _synthesis_problem

    f = pareto(_synthesis_problem(), "capex", points=2)
    assert f.points
    for point, raw in zip(f.json()["points"], f.points, strict=True):
        chosen = point["synthesis_chosen"]
        assert chosen == raw["record"]["synthesis"]["chosen"]
        assert {c["chip"] for c in chosen} == {point["design"]["chip"]}


def test_a_frontier_whose_lowest_level_is_an_error_is_not_infeasible(small, monkeypatch):
    """An error at the lowest level (a review's fuzzing: a re-check failure) was reported as
    "infeasible at any rate" (exit 3); it is the error (exit 2)."""
    import importlib

    module = importlib.import_module("designer.studies.pareto")
    monkeypatch.setattr(module, "_at", lambda *a, **k: {"status": "error", "error": "boom"})
    with pytest.raises(InputError, match="the lowest level is an error: boom"):
        rate_range(small)

"""compare: one optimum per member, ranked, each equal to a direct solve of that member."""

from __future__ import annotations

import json

import pytest

from designer.interface.cli import main
from designer.model.errors import InfeasibleError, InputError
from designer.optimize.solve import solve
from designer.studies import compare


def _direct(problem, change):
    try:
        return solve(problem.with_changes(change)).objective
    except InfeasibleError:
        return None


def test_rows_are_ranked_and_equal_direct_solves(small):
    table = compare(small, by="chip")
    assert [r["chip"] for r in table.rows] != []
    assert sorted(r["chip"] for r in table.rows) == sorted(small.chips)
    values = [r["objective"]["value"] for r in table.rows]
    feasible = [v for v in values if v is not None]
    assert feasible == sorted(feasible)
    assert values[: len(feasible)] == feasible  # feasible rows first
    for r in table.rows:
        assert r["objective"]["value"] == _direct(small, {"space.chips": [r["chip"]]})
    # here the first row is the optimum over the whole space: no note
    assert table.rows[0]["objective"]["value"] == pytest.approx(solve(small).objective)
    assert table.rows[0]["reason"] == "best" and table.note is None
    second = table.rows[1]
    gap = second["objective"]["value"] - values[0]
    assert second["reason"].startswith(f"costlier by ${gap:,.0f}")


def test_an_infeasible_member_says_which_requirement_fails(small):
    table = compare(small.with_changes({"sla.tokens_per_s_per_user": 3000}), by="chip")
    bad = [r for r in table.rows if r["status"] == "infeasible"]
    assert bad, "some chip cannot reach 3000 tokens/s per user"
    assert table.rows[-1]["status"] == "infeasible"
    for r in bad:
        assert r["reason"] == r["record"]["explanation"] and r["objective"]["value"] is None
    assert any("tokens_per_s_per_user = 3000 is above" in r["reason"] for r in bad)


def test_by_memory_and_tp(small):
    by_mem = compare(small, by="memory")
    techs = {small.catalog.chip(c).memory_technology for c in small.chips}
    assert {r["memory"] for r in by_mem.rows} == techs
    for r in by_mem.rows:
        chips = [c for c in small.chips if small.catalog.chip(c).memory_technology == r["memory"]]
        assert r["objective"]["value"] == _direct(small, {"space.chips": chips})
    by_tp = compare(small, by="tp")
    assert sorted(r["tp"] for r in by_tp.rows) == list(small.tp)
    for r in by_tp.rows:
        assert r["design"] is None or r["design"]["tp"] == r["tp"]


def test_top_keeps_the_best_distinct_designs(small):
    full = compare(small, by="tp")
    top = compare(small, by="tp", top=2)
    assert [r["tp"] for r in top.rows] == [r["tp"] for r in full.rows[:2]]
    with pytest.raises(InputError, match="--top"):
        compare(small, top=0)


def test_cli_json_contract(small_path, capsys):
    assert main(["compare", str(small_path), "--by", "chip", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"rows"}
    for row in out["rows"]:
        assert set(row) == {"chip", "status", "objective", "design", "reason"}
        assert set(row["objective"]) == {"value", "unit"}
    assert out["rows"][0]["objective"]["unit"] == "USD"


def test_cli_no_feasible_member_exits_3(small_path, capsys):
    code = main(["compare", str(small_path), "--set", "sla.tokens_per_s_per_user=1e7", "--json"])
    assert code == 3
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert all(r["status"] == "infeasible" for r in rows)


def test_a_mixed_fleet_row_carries_its_fleet():
    from pathlib import Path

    from designer.optimize.problem import load_problem
    from designer.studies.rows import achieved_rate, describe

    root = Path(__file__).resolve().parents[2]
    problem = load_problem(
        root / "problems" / "llama3-405b-1000utps-128k-32users-capex.toml",
        {
            "sla.tokens_per_s_per_user": 800,
            "space.chips": ["xpu-3d-dram"],
            "fleet.max_configurations": 2,
        },
    )
    table = compare(problem, by="chip")
    row, record = table.json()["rows"][0], table.rows[0]["record"]
    assert row["design"] is None and len(row["fleet"]) == 2  # two partitions of one chip
    assert describe(record).count(" + ") == 1
    rates = [f["tokens_per_s_per_user"] for f in row["fleet"]]
    assert achieved_rate(record) == min(rates) >= 800


def test_by_basis_compares_buying_with_renting(small):
    """--by basis: the same question bought, rented on demand and rented reserved, each equal to
    a direct solve on that basis; reserved rent is cheaper than on-demand."""
    from designer.studies.compare import BASES

    table = compare(small, by="basis")
    rows = {r["basis"]: r for r in table.rows}
    assert set(rows) == set(BASES)
    for basis, change in BASES.items():
        assert rows[basis]["objective"]["value"] == pytest.approx(_direct(small, change))
        assert rows[basis]["record"]["inputs"]["costs"]["basis"] == change["costs.basis"]
    reserved = rows["rent-reserved"]["objective"]["value"]
    assert reserved < rows["rent-on-demand"]["objective"]["value"]
    assert json.loads(json.dumps(table.json()))["rows"][0]["basis"] in BASES


def test_a_maximizing_problems_table_says_maximize():
    """The title named 'minimize' whatever the problem asked; the ranking was right."""
    from designer.optimize.problem import load_problem

    problem = load_problem("problems/h200x32-llama3-70b-serving-capacity.toml")
    table = compare(problem, "tp").table()
    assert str(table.title).startswith("maximize system_tokens_per_s")


def test_a_fleet_mixing_members_that_beats_every_row_is_noted():
    """Each row holds one member alone; a serving fleet mixing chips answers below the best of
    them (b200 alone 2,520,000 USD, b200 + h200 + mi300x 2,401,000), and the note says so (the
    docs said the first row was the optimum over the whole space, and the note looked only
    under limits)."""
    from designer.optimize.problem import load_problem

    problem = load_problem(
        "problems/serving-llama3.1-70b-30rps-ttft2s.toml", {"sla.tokens_per_s_per_user": 14.67}
    )
    table = compare(problem, by="chip")
    best = table.rows[0]["objective"]["value"]
    whole = solve(problem).objective
    assert whole < best
    assert table.note.startswith(f"the whole space answers ${whole:,.0f} with a fleet mixing chip")
    assert f"{100 * (best - whole) / best:.1f}% below the best row" in table.note


# ---- a synthesis problem: its designs are the members ------------------------------------------


def _synthesis_problem(**synthesis):
    from designer.optimize.problem import problem_from_dict

    return problem_from_dict(
        {
            "workload": {"model": "llama3.1-70b", "context_tokens": "32K"},
            "sla": {"tokens_per_s_per_user": 300, "concurrent_users": 40},
            "assumptions": {"preset": "paper"},
            "objective": {"minimize": "capex"},
            "space": {"tp": [1, 2, 4, 8, 16], "pp": [1, 2]},
            "synthesis": {
                "memory": ["hbm3", "3d-dram"],
                "die_areas_mm2": [300, 800],
                "dies": [1],
                "stacks": [2, 6],
                "presets": False,
                **synthesis,
            },
        }
    )


def test_a_synthesis_problem_is_compared_design_by_design():
    """`space.chips` joins a synthesis problem's designs, so restricting it left every design in
    every row: each row was the whole problem, tied with the first (and a portfolio took the
    whole MILP per row). Each row now holds its design alone, equal to that design solved as a
    catalog chip, and the best row is the one-design optimum."""
    import dataclasses

    from designer.optimize import synthesize

    p = _synthesis_problem()
    assert len(p.chips) >= 3
    table = compare(p, by="chip")
    assert sorted(r["chip"] for r in table.rows) == sorted(p.chips)
    values = {}
    for r in table.rows:
        one = dataclasses.replace(p, chips=(r["chip"],), synthesis=None)
        try:
            direct = solve(one, with_sensitivity=False, compare_single=False).objective
        except InfeasibleError:
            direct = None
        got = r["objective"]["value"]
        assert (got is None) == (direct is None), r["chip"]
        if direct is not None:
            assert got == pytest.approx(direct, rel=1e-9), r["chip"]
            assert {f["chip"] for f in r["record"]["fleet"]} == {r["chip"]}
            values[r["chip"]] = got
    assert len(set(values.values())) >= 2  # the rows differ: not the whole problem each time
    best = synthesize.solve(p, with_sensitivity=False)
    assert table.rows[0]["objective"]["value"] == pytest.approx(best.objective, rel=1e-9)
    assert table.rows[0]["reason"] == "best"
    assert "synthesis_chosen" in table.json()["rows"][0]


def test_a_synthesis_problem_by_memory_keeps_that_memorys_designs():
    import dataclasses

    from designer.optimize import synthesize

    p = _synthesis_problem(max_designs=2)
    table = compare(p, by="memory")
    assert sorted(r["memory"] for r in table.rows) == ["3d-dram", "hbm3"]
    for r in table.rows:
        tech = r["memory"]
        if r["objective"]["value"] is None:
            continue
        chips = {f["chip"] for f in r["record"]["fleet"]}
        assert {p.catalog.chip(c).memory_technology for c in chips} == {tech}
        own = tuple(c for c in p.chips if p.catalog.chip(c).memory_technology == tech)
        alone = synthesize.solve(dataclasses.replace(p, chips=own), with_sensitivity=False)
        assert r["objective"]["value"] == pytest.approx(alone.objective, rel=1e-9)
    whole = synthesize.solve(p, with_sensitivity=False).objective
    assert whole <= table.rows[0]["objective"]["value"] * (1 + 1e-9)


def test_the_progress_bar_stays_off_the_captured_stream():
    from designer.studies.progress import progress_bar

    assert progress_bar(show=True).disable  # stderr is captured here, not a terminal
    assert progress_bar(show=False).disable


class _Bar:
    """A stand-in for the rich bar: what compare asks of it."""

    def __init__(self):
        self.total, self.done = 0, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def add_task(self, description, total):
        self.total = total
        return 0

    def advance(self, task, steps=1):
        self.done += steps


@pytest.mark.parametrize(("by", "extra"), [("chip", 1), ("basis", 0)])
def test_the_bar_counts_the_whole_space_solve(small, monkeypatch, by, extra):
    """The bar closed before compare's last solve, the whole space's (`_mixing_note`): it now
    counts it, where there is one (members of one space, at least two)."""
    import importlib

    # the module, not the function the package exports under the same name
    module = importlib.import_module("designer.studies.compare")
    bar = _Bar()
    monkeypatch.setattr(module, "progress_bar", lambda show: bar)
    table = compare(small, by=by)
    assert bar.total == bar.done == len(module.members(small, by)) + extra
    assert table.rows


def test_a_comparison_whose_every_member_is_an_error_says_so(monkeypatch, capsys):
    """Every row an error (a review's fuzzing: each member's re-check failed) exited 3,
    "infeasible", with nothing on stderr; as a sweep of errors does, it is exit 2 naming the
    first error."""
    import importlib

    module = importlib.import_module("designer.studies.compare")
    monkeypatch.setattr(
        module, "solve_record", lambda *a, **k: {"status": "error", "error": "boom\nand more"}
    )
    assert main(["compare", "problems/quickstart.toml", "--by", "tp", "--json"]) == 2
    err = capsys.readouterr().err
    assert "every member is an error (the first: boom" in err
    assert len(err.strip().splitlines()) == 1

"""rows: a study point is answered as `designer solve` answers it."""

from __future__ import annotations

import json

import pytest

from designer.optimize import synthesize
from designer.optimize.problem import problem_from_dict
from designer.studies.rows import solve_record, solve_row, synthesis_chosen
from tests.test_synthesis import portfolio

QUICK = {
    "workload": {"model": "llama3.1-8b", "context_tokens": 4096},
    "sla": {"tokens_per_s_per_user": 50, "concurrent_users": 64},
    "space": {"chips": ["h100-sxm"], "tp": [1, 2], "pp": [1]},
}


def test_a_synthesis_portfolio_point_is_solved_by_design_sets():
    """A study point of a synthesis portfolio ran the whole fleet MILP (26 s a point on
    problems/synthesis-portfolio-two-designs.toml, 0.6 s by design sets) and dropped the
    answer's `synthesis` block."""
    p = problem_from_dict(portfolio(2, 2e6))
    rec = solve_record(p, {"class.chat.concurrent_users": 2000})
    assert rec["status"] == "optimal"
    assert rec["design_sets"]["proven"]
    direct = synthesize.solve(
        p.with_changes({"class.chat.concurrent_users": 2000}), with_sensitivity=False
    )
    assert rec["objective"]["value"] == pytest.approx(direct.objective, rel=1e-9)
    chosen = {c["chip"] for c in rec["synthesis"]["chosen"]}
    assert chosen == {f["chip"] for f in rec["fleet"]}
    assert "runner_up" not in rec["synthesis"]  # a solve per memory technology, not needed
    row = solve_row(p)
    assert row["status"] == "optimal" and row["objective"] == pytest.approx(
        synthesize.solve(p, with_sensitivity=False).objective, rel=1e-9
    )
    # a sweep's row names the designs its answer uses, as `compare --json` does
    assert json.loads(row["synthesis_chosen"]) == synthesis_chosen(solve_record(p))
    assert {c["chip"] for c in json.loads(row["synthesis_chosen"])} == {
        f["chip"] for f in json.loads(row["fleet"])
    }


def test_a_row_without_a_synthesis_block_has_no_synthesis_column():
    row = solve_row(problem_from_dict(QUICK))
    assert row["status"] == "optimal" and "synthesis_chosen" not in row
    p = problem_from_dict(portfolio(2, 2e6))
    bad = solve_row(p, {"class.chat.tokens_per_s_per_user": 1e9})  # no answer: no block
    assert bad["status"] == "infeasible" and "synthesis_chosen" not in bad


def test_chips_keeps_only_those_of_the_problem():
    p = problem_from_dict(portfolio(2, 2e6))
    keep = p.chips[:2]
    rec = solve_record(p, None, chips=keep)
    if rec["status"] in ("optimal", "feasible"):
        assert {f["chip"] for f in rec["fleet"]} <= set(keep)
    else:
        assert rec["status"] == "infeasible"


def test_a_restriction_that_keeps_no_chip_is_an_error_naming_them():
    p = problem_from_dict(portfolio(2, 2e6))
    rec = solve_record(p, None, chips=("nope",))
    message = "none of the chips ['nope'] is in the problem's space"
    assert rec == {"status": "error", "error": message}

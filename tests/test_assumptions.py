"""designer.model.assumptions: the named sets, the [assumptions] section, --assumptions on every
command, and every answer saying which set produced it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from designer.interface.cli import main
from designer.model.assumptions import PRESETS, SWITCHES, Assumptions, assumptions_from_table
from designer.model.errors import InputError
from designer.optimize.problem import load_problem, problem_from_dict
from designer.optimize.solve import solve
from tests.contract import ASSUMPTION_KEYS

ROOT = Path(__file__).resolve().parent.parent
# the paper's questions (the others ask about shipping parts under deployment assumptions)
PAPER_PROBLEMS = sorted(
    p for p in (ROOT / "problems").glob("*.toml") if p.name.startswith(("llama3-", "deepseek-v3-"))
)


def test_presets_differ_in_every_switch_but_the_window_and_the_overlap_variant():
    # per_sequence_overlap is a tested and not adopted variant (docs/model.md §6): off in both
    paper, deploy = PRESETS["paper"].switches(), PRESETS["deployment"].switches()
    assert set(paper) == set(SWITCHES) == ASSUMPTION_KEYS - {"preset"}
    assert {k for k in SWITCHES if paper[k] == deploy[k]} == {
        "sliding_window",
        "per_sequence_overlap",
    }
    assert PRESETS["paper"].is_paper and not PRESETS["deployment"].is_paper


def test_a_changed_switch_is_named_custom():
    a = Assumptions.preset("deployment", collective_bandwidth=False)
    assert a.describe() == {
        "preset": "custom",
        **{**PRESETS["deployment"].switches(), "collective_bandwidth": False},
    }
    assert Assumptions.preset("paper", kv_placement="even").name == "paper"


@pytest.mark.parametrize(
    "table, needle",
    [
        ({"preset": "papr"}, "closest valid name: paper"),
        ({"kv_placment": "heads"}, "assumptions.kv_placment"),
        ({"kv_placement": "rows"}, "expected one of even, heads"),
        ({"embedding_rows": "yes"}, "expected true or false"),
    ],
)
def test_bad_assumptions_are_one_line_naming_the_key(table, needle):
    with pytest.raises(InputError) as exc:
        assumptions_from_table(table, where="p.toml")
    assert needle in str(exc.value) and str(exc.value).startswith("p.toml: assumptions.")


def test_problem_default_is_deployment_and_set_changes_it():
    base = {
        "workload": {"model": "llama3.1-8b", "context_tokens": 4096},
        "sla": {"tokens_per_s_per_user": 100, "concurrent_users": 1},
    }
    pr = problem_from_dict(base)
    assert pr.workload.assumptions == PRESETS["deployment"]
    paper = pr.with_changes({"assumptions.preset": "paper"})
    assert paper.workload.assumptions.is_paper
    custom = pr.with_changes({"assumptions.embedding_rows": False})
    assert custom.workload.describe()["preset"] == "custom"


def test_prompt_and_output_give_the_context():
    pr = problem_from_dict(
        {
            "workload": {"model": "llama3.1-8b", "prompt_tokens": 3000, "output_tokens": 1000},
            "sla": {"tokens_per_s_per_user": 100, "concurrent_users": 1},
        }
    )
    assert pr.workload.context_tokens == 4000 and pr.workload.read_context == 3500


@pytest.mark.parametrize("path", PAPER_PROBLEMS, ids=lambda p: p.stem)
def test_bundled_paper_problems_use_the_paper_set(path):
    assert load_problem(path).workload.assumptions.is_paper


def test_solve_answer_echoes_the_assumptions_and_the_flag_wins(capsys):
    path = ROOT / "problems" / "llama3-70b-2000utps-8k-capex.toml"
    assert main(["solve", str(path), "--json"]) == 0
    paper = json.loads(capsys.readouterr().out)
    assert paper["assumptions"]["preset"] == "paper"
    assert main(["solve", str(path), "--assumptions", "deployment", "--json"]) == 0
    deploy = json.loads(capsys.readouterr().out)
    assert deploy["assumptions"] == {"preset": "deployment", **PRESETS["deployment"].switches()}
    # paper: 8×2 TP×PP at batch 32 on 3D-DRAM; deployment's collectives cost bytes too
    assert deploy["metrics"]["sync_time_s"] > 0
    assert deploy["objective"]["value"] > paper["objective"]["value"]


@pytest.mark.parametrize(
    "name", ["llama3-70b-2000utps-8k-capex.toml", "deepseek-v3-600utps-128k-64users-capex.toml"]
)
def test_deployment_answers_are_physically_realizable(name):
    """The KV a chip holds (heads where their attention runs) fits on it with the weights."""
    sol = solve(load_problem(ROOT / "problems" / name, {"assumptions.preset": "deployment"}))
    assert sol.record["fits"] and sol.record["recheck"] == "passed"
    for m in sol.fleet:  # every configuration of the fleet
        kv, mem = m["kv_per_chip_bytes"], m["memory_per_chip_bytes"]
        assert kv < mem <= m["usable_memory_per_chip_bytes"]
        assert m["tokens_per_s_per_user"] >= load_problem(ROOT / "problems" / name).target_utps


def test_evaluate_cli_default_is_deployment(capsys):
    assert (
        main(
            [
                "evaluate",
                "--model",
                "deepseek-v3",
                "--chip",
                "xpu-hbm4",
                "--tp",
                "8",
                "--attention",
                "dp",
                "--ep",
                "8",
                "--json",
            ]
        )
        == 0
    )
    rec = json.loads(capsys.readouterr().out)
    assert rec["assumptions"]["preset"] == "deployment"
    assert rec["design"]["ep"] == 8 and rec["design"]["attention"] == "dp"


def test_evaluate_cli_prompt_and_output(capsys):
    argv = ["evaluate", "--model", "llama3.1-8b", "--chip", "h100-sxm", "--json"]
    assert main([*argv, "--prompt-tokens", "6K", "--output-tokens", "2K"]) == 0
    split = json.loads(capsys.readouterr().out)["metrics"]
    assert main([*argv, "--context", "8K"]) == 0
    whole = json.loads(capsys.readouterr().out)["metrics"]
    assert split["kv_per_chip_bytes"] == whole["kv_per_chip_bytes"]  # held: the peak
    assert split["memory_time_s"] < whole["memory_time_s"]  # read: the mean
    assert main([*argv, "--context", "8K", "--prompt-tokens", "6K", "--output-tokens", "2K"]) == 2
    assert "--context" in capsys.readouterr().err

"""Bad input of round 22: a value that came from `--set`, a study or the explorer's what-if is
named by where it came from, not by the problem file that never held it."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer.interface.cli import main
from designer.model.errors import InputError
from designer.optimize.problem import load_problem
from designer.studies.sweep import Study, run
from tests.bad_input import err, one_line

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "problems" / "quickstart.toml"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ("sla.tokens_per_s_per_user=-5", "--set: sla.tokens_per_s_per_user: expected a positive"),
        ("chips.*.memory_bandwidth=-1", "--set: chips.*.memory_bandwidth: expected a bandwidth"),
        ("chips.h200.memory_bandwidth=abc", "--set: chips.h200.memory_bandwidth: cannot parse"),
        (
            "models.llama3.1-70b.num_hidden_layers=0",
            "--set: models.llama3.1-70b.num_hidden_layers: expected a positive integer",
        ),
        ("supply.h200=-1", "--set: supply.h200: expected a non-negative integer"),
    ],
)
def test_a_bad_set_value_is_named_by_set(capsys, change, says):
    """These named `problems/quickstart.toml` (or its [overrides]), which holds none of them."""
    code, text = err(capsys, ["solve", QUICKSTART, "--set", change])
    assert code == 2, text
    assert len(text.strip().splitlines()) == 1, text
    assert says in text, text
    assert "quickstart.toml" not in text, text


def test_a_bad_value_of_the_file_itself_still_names_the_file(tmp_path):
    """Only the changed keys move: a bad key the file holds is still the file's."""
    bad = tmp_path / "bad.toml"
    bad.write_text(QUICKSTART.read_text().replace("[sla]", "[sla]\nconfidence = 2.0", 1))
    with pytest.raises(InputError) as caught:
        load_problem(bad, {"sla.tokens_per_s_per_user": 40})
    assert caught.value.where == str(bad)
    assert caught.value.key == "sla.confidence"


def test_a_bad_swept_value_names_the_study(tmp_path):
    """A study's error row named the problem file for a value the study swept."""
    study_file = tmp_path / "study.toml"
    study_file.write_text(
        f'problem = "{QUICKSTART.as_posix()}"\n[grid]\n"sla.tokens_per_s_per_user" = [50, -5]\n'
    )
    result = run(Study.load(study_file), workers=1, progress=False)
    rows = result.frame().set_index("sla.tokens_per_s_per_user")
    assert rows.loc[50, "status"] == "optimal"
    assert rows.loc[-5, "status"] == "error"
    assert rows.loc[-5, "error"] == (
        f"{study_file}: sla.tokens_per_s_per_user: expected a positive number, got -5"
    )


def test_the_explorer_what_if_is_named():
    """A bad value from the explorer's what-if controls is the what-if's, not the file's."""
    from designer.interface.explorer import WhatIf
    from designer.interface.explorer import run as explore

    outcome = explore(load_problem(QUICKSTART), WhatIf(efficiency=1.5))
    assert outcome.kind == "error"
    assert outcome.message.startswith("what-if: efficiency."), outcome.message


def test_an_evaluated_design_that_does_not_fit_says_so(capsys):
    """The table printed its costs with nothing but '(DOES NOT FIT)' in the memory row; the
    answer now warns on stderr with the fewest chips per replica (a lower bound: 16 fit)."""
    argv = ["evaluate", "--model", "llama3.1-405b", "--chip", "h100-sxm", "--batch", "8"]
    assert main(argv) == 0
    text = capsys.readouterr().err
    assert "warning: the design does not fit: it holds 787 GiB per chip" in text
    assert "at least 12 chips per replica" in text
    assert main([*argv, "--tp", "8", "--pp", "2"]) == 0
    assert "does not fit" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        # a second --set of one key replaced the first, and xF scaled the file's value
        (
            ["--set", "sla.concurrent_users=100", "--set", "sla.concurrent_users=x2"],
            ["sla.concurrent_users is set twice (100, then 'x2')"],
        ),
        # --assumptions silently won over --set assumptions.preset
        (
            ["--set", "assumptions.preset=deployment", "--assumptions", "paper"],
            ["--assumptions: given with --set assumptions.preset too"],
        ),
        # a serving key without a TTFT named sla.ttft and the file
        (["--set", "serving.mode=fast"], ["--set: serving.mode: serving keys need requests"]),
        # a path cut short named an empty class, or a section as its own closest name
        (["--set", "class.chat=5"], ["--set: class.chat: expected class.NAME.KEY"]),
        (["--set", "supply=5"], ["--set: supply: expected supply.CHIP"]),
        (["--set", "overrides.x=1"], ["--set: overrides.x: expected the catalog path itself"]),
        # the sections' list said costs twice
        (["--set", "nosuch.key=1"], ["class, costs, efficiency"]),
        # a wildcard's or a nested key's error blamed the problem's [overrides]
        (["--set", "chips.h200.compute.fp9=2PFLOPS"], ["--set: chips.h200.compute.fp9: unknown"]),
        (["--set", "interconnects.*.domain_size=x0.5"], ["--set: interconnects.*.domain_size"]),
        # speculative decoding's numbers without speculative decoding changed nothing
        (["--set", "workload.draft_tokens=4"], ["workload.draft_tokens: changes nothing"]),
        # a PUE under 1, a server drawing 0 W, a price past the solver's number range
        (["--set", "costs.defaults.pue=0.5"], ["expected a PUE of at least 1"]),
        (["--set", "chips.h200.server_power=0W"], ["expected a positive power"]),
        (["--set", "chips.h200.price_usd=1e29"], ["expected at most 1e+12 USD"]),
        # a model without its MLP
        (["--set", "models.llama3.1-70b.intermediate_size=0"], ["the MLP width of its 80 dense"]),
        # messages that disagreed with the value or read 'a information'
        (["--set", "chips.h200.server_chips=-8"], ["expected a positive integer (at most"]),
        (["--set", 'chips.h200.usable_memory_fraction="0.9"'], ["expected a fraction in (0, 1]"]),
        (["--set", "chips.h200.memory_capacity=abc"], ["as a memory size: expected one"]),
    ],
)
def test_solve_inputs_that_were_silent_or_misnamed(capsys, argv, says):
    one_line(*err(capsys, ["solve", QUICKSTART, *argv]), *says)


def test_a_class_name_cannot_be_set(capsys):
    fleet = ROOT / "problems" / "fleet-three-workloads-power-cap.toml"
    one_line(*err(capsys, ["solve", fleet, "--set", "class.chat.name=x"]), "rename it in the")


CHIP = """[chips.{id}]
name = "My chip"
vendor = "me"
kind = "hypothetical"
memory_technology = "hbm3e"
memory_capacity = "141 GB"
memory_bandwidth = "{bw}"
usable_memory_fraction = 0.9
compute = {{ fp8 = "1979 TFLOPS", bf16 = "989 TFLOPS" }}
tdp = "700 W"
price_usd = 30000
interconnect = "nvlink4-hgx"
server_chips = 8
source = "assumption: a test chip"
"""


def _chip_problem(tmp_path, *files: str, extra: str = "") -> Path:
    body = QUICKSTART.read_text()
    start = body.index("[space]")
    chips = ", ".join(f'"{f}"' for f in files)
    problem = tmp_path / "p.toml"
    problem.write_text(body[:start] + f"[space]\nchips = [{chips}]\n" + extra)
    return problem


def test_chip_files_join_the_catalog_before_overrides_and_comparisons(tmp_path, capsys):
    """`compare --by chip` and `--set chips.mychip.…` said 'unknown chip' for a chip file's
    chip (and ranked the catalog chip best beside it); now they find it by id."""
    (tmp_path / "good.toml").write_text(CHIP.format(id="mychip", bw="4.8 TB/s"))
    problem = _chip_problem(tmp_path, "good.toml", "h200")
    assert main(["compare", str(problem), "--by", "chip", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)["rows"]
    assert {r["chip"]: r["status"] for r in rows} == {"mychip": "optimal", "h200": "optimal"}
    cheap = ["solve", str(problem), "--json", "--set", "chips.mychip.price_usd=1000"]
    assert main(cheap) == 0
    fleet = json.loads(capsys.readouterr().out)["fleet"]
    assert {r["chip"] for r in fleet} == {"mychip"}


def test_a_chip_file_may_not_redefine_an_id(tmp_path, capsys):
    """A file's [chips.h200] replaced the catalog's silently, and of two files defining one id
    the last listed won."""
    (tmp_path / "h200.toml").write_text(CHIP.format(id="h200", bw="1 TB/s"))
    one_line(
        *err(capsys, ["solve", _chip_problem(tmp_path, "h200.toml")]), "chips.h200", "already has"
    )
    (tmp_path / "a.toml").write_text(CHIP.format(id="mychip", bw="4.8 TB/s"))
    (tmp_path / "b.toml").write_text(CHIP.format(id="mychip", bw="1 TB/s"))
    one_line(
        *err(capsys, ["solve", _chip_problem(tmp_path, "a.toml", "b.toml")]),
        "b.toml",
        "chips.mychip",
    )
    # the same file twice is the same chip
    assert main(["solve", str(_chip_problem(tmp_path, "a.toml", "a.toml"))]) == 0


def test_evaluate_names_one_chip_of_a_file(tmp_path, capsys):
    """`evaluate --chip FILE` took the first of several chips; FILE:ID names one."""
    two = tmp_path / "two.toml"
    two.write_text(CHIP.format(id="mychip", bw="4.8 TB/s") + CHIP.format(id="other", bw="2 TB/s"))
    base = ["evaluate", "--model", "llama3.1-8b", "--tp", "1", "--json"]
    one_line(*err(capsys, [*base, "--chip", two]), "holds 2 chips (mychip, other)", f"{two}:mychip")
    one_line(*err(capsys, [*base, "--chip", f"{two}:oth"]), "closest valid name: other")
    assert main([*base, "--chip", f"{two}:other"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["design"]["chip"] == "other"


def test_a_model_without_an_mlp_width_is_refused(tmp_path, capsys):
    import json

    config = {
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "vocab_size": 128256,
        "torch_dtype": "bfloat16",
    }
    path = tmp_path / "noint.json"
    path.write_text(json.dumps(config))
    one_line(*err(capsys, ["evaluate", "--model", path, "--chip", "h200"]), "intermediate_size")


def test_warnings_for_answers_that_deserve_one(capsys):
    """A context past the model's positions, a free chip, a catalog change to a chip the space
    does not search: answered, with one warning line each."""
    assert main(["solve", str(QUICKSTART), "--set", "workload.context_tokens=1M"]) == 0
    assert "longer than llama3.1-70b's max_position_embeddings (131,072)" in capsys.readouterr().err
    assert main(["evaluate", "--model", "llama3.1-8b", "--chip", "h200", "--context", "200K"]) == 0
    assert "--context = 204,800: longer than" in capsys.readouterr().err
    assert main(["solve", str(QUICKSTART), "--set", "chips.h200.price_usd=0"]) == 0
    assert "chips.h200.price_usd = 0: the chip is free" in capsys.readouterr().err
    assert main(["solve", str(QUICKSTART), "--set", "chips.xpu-hbm3.memory_bandwidth=x2"]) == 0
    assert "xpu-hbm3 is not in the space" in capsys.readouterr().err


def test_a_solver_limit_still_answers_in_json(capsys, monkeypatch):
    """`solve --json` stopped before any design printed nothing on stdout."""
    import json

    import designer.optimize.solve as solving
    from designer.model.errors import SolverLimitError

    def stopped(*args, **kwargs):
        raise SolverLimitError("solver stopped (Time limit reached) after 0.1 s")

    monkeypatch.setattr(solving, "solve", stopped)
    assert main(["solve", str(QUICKSTART), "--json"]) == 4
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {
        "status": "solver-limit",
        "error": "solver stopped (Time limit reached) after 0.1 s",
    }
    assert "designer: error: solver stopped" in captured.err


def test_study_inputs(tmp_path, capsys):
    """50 and 50.0 are one point; an unquoted dotted key gets the hint to quote it; a study
    sweeps the problem's costs keys; a study given as a problem says so; an all-infeasible
    sweep exits 3 and writes no empty figure; a swept objective cannot share one plot axis;
    --workers with --scheduler is refused; another study's results are not merged."""
    problem = QUICKSTART.as_posix()

    def study(name: str, body: str) -> Path:
        path = tmp_path / name
        path.write_text(f'problem = "{problem}"\n{body}')
        return path

    twice = study("twice.toml", '[grid]\n"sla.tokens_per_s_per_user" = [50, 50.0]\n')
    one_line(*err(capsys, ["sweep", twice, "--out", tmp_path / "t.csv"]), "listed twice")
    table = study("table.toml", "[grid]\nsla.tokens_per_s_per_user = [50]\n")
    one_line(
        *err(capsys, ["sweep", table, "--out", tmp_path / "t.csv"]),
        'quote a dotted path ("sla.tokens_per_s_per_user"',
    )
    basis = study("basis.toml", '[grid]\n"costs.basis" = ["purchase", "rent"]\n')
    assert main(["sweep", str(basis), "--out", str(tmp_path / "b.csv"), "--quiet"]) == 0
    capsys.readouterr()
    one_line(*err(capsys, ["solve", basis]), "is a study", "designer sweep")
    none = study("none.toml", '[grid]\n"sla.tokens_per_s_per_user" = [100000, 200000]\n')
    figure = tmp_path / "none.png"
    argv = ["sweep", str(none), "--out", str(tmp_path / "n.csv"), "--plot", str(figure)]
    assert main([*argv, "--quiet"]) == 3
    assert "no feasible point to plot" in capsys.readouterr().err
    assert not figure.exists()
    objectives = study("obj.toml", '[grid]\n"objective.minimize" = ["capex", "power"]\n')
    argv = ["sweep", objectives, "--out", tmp_path / "o.csv", "--plot", tmp_path / "o.png"]
    one_line(*err(capsys, argv), "--plot", "sweeps objective.minimize")
    argv = ["sweep", basis, "--out", tmp_path / "w.csv", "--scheduler", "tcp://127.0.0.1:1"]
    one_line(*err(capsys, [*argv, "--workers", "2"]), "--workers")
    other = study("other.toml", '[grid]\n"costs.basis" = ["purchase"]\n')
    one_line(
        *err(capsys, ["sweep", other, "--out", tmp_path / "b.csv"]),
        "holds a sweep of basis.toml, not of other.toml",
    )


def test_compare_prints_its_table_when_nothing_can_be_plotted(tmp_path, capsys):
    figure = tmp_path / "c.png"
    argv = ["compare", str(QUICKSTART), "--set", "sla.tokens_per_s_per_user=100000"]
    assert main([*argv, "--plot", str(figure), "--json"]) == 3
    captured = capsys.readouterr()
    assert "rows" in captured.out and "no feasible design to plot" in captured.err
    assert not figure.exists()
    argv = ["compare", str(QUICKSTART), "--by", "basis", "--set", "costs.basis=rent"]
    one_line(*err(capsys, argv), "--set costs.basis changes nothing")


def test_compare_by_chip_says_when_only_a_mix_answers(capsys):
    """On a supply-limited question each chip alone is infeasible and each row listed every
    chip's supply; the rows now name their own chip's, and a note says a mix may answer."""
    import json

    supply = ROOT / "problems" / "supply-limited-purchase.toml"
    assert main(["compare", str(supply), "--by", "chip", "--json"]) == 3
    answer = json.loads(capsys.readouterr().out)
    for row in answer["rows"]:
        assert f"(supply.{row['chip']} = " in row["reason"]
        assert row["reason"].count("supply.") == 1
    assert answer["note"].startswith("no chip serves the question alone")
    assert main(["solve", str(supply)]) == 0  # the mix the note points to

"""Bad input of round 22: a value that came from `--set`, a study or the explorer's what-if is
named by where it came from, not by the problem file that never held it."""

from __future__ import annotations

from pathlib import Path

import pytest

from designer.interface.cli import main
from designer.model.errors import InputError
from designer.optimize.problem import load_problem
from designer.studies.sweep import Study, run

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "problems" / "quickstart.toml"


def err(capsys, argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


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

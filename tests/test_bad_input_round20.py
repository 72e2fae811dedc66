"""Bad input found by round 20's adversarial review, each now one line and exit 2 (or the answer
the input asks for): a chip file over someone else's file, serving rates beyond what a problem
sizes, empty option values, misspelled model overrides, CSV headers and cells out of range, a
TTFT row's unknown engine, a profile file beside the problem, a frontier's bad input, a sweep
with no good point or results named neither .csv nor .parquet, profile names that cannot be
read back, and an unknown speculative method."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from designer.interface.cli import main
from tests.bad_input import err

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ROOT / "problems"
SERVING = PROBLEMS / "serving-llama3.1-70b-30rps-ttft2s.toml"
QUICKSTART = PROBLEMS / "quickstart.toml"
DECODE = ROOT / "catalogs" / "measurements" / "decode.csv"


def test_chip_out_keeps_other_files_and_refuses_devices(capsys, tmp_path):
    theirs = tmp_path / "mine.toml"
    theirs.write_text("# someone's notes\n")
    synth = PROBLEMS / "synthesis-llama3-405b-2000utps-128k.toml"
    code, e = err(capsys, ["solve", synth, "--chip-out", theirs])
    assert code == 2 and "not written by designer" in e
    assert theirs.read_text() == "# someone's notes\n"
    assert err(capsys, ["solve", synth, "--chip-out", "/dev/null"])[0] == 2
    ours = tmp_path / "chip.toml"
    assert err(capsys, ["solve", synth, "--chip-out", ours])[0] == 0
    assert "written by designer" in ours.read_text().splitlines()[0]
    assert err(capsys, ["solve", synth, "--chip-out", ours])[0] == 0  # its own: replaced
    assert err(capsys, ["solve", synth, "--chip-out", theirs, "--force"])[0] == 0


@pytest.mark.parametrize("sets", [["sla.requests_per_s=1e18"], ["sla.tokens_per_s_per_user=1e-30"]])
def test_a_rate_beyond_what_a_problem_sizes_is_bad_input(capsys, sets):
    code, e = err(capsys, ["solve", SERVING, *(x for s in sets for x in ("--set", s))])
    assert code == 2
    assert "sla.requests_per_s" in e and "users decoding at once" in e


def test_a_tiny_request_rate_still_gets_one_replica(capsys):
    code = main(["solve", str(SERVING), "--set", "sla.requests_per_s=1e-12", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["status"] == "optimal"
    assert sum(r["replicas"] for r in out["fleet"]) >= 1


@pytest.mark.parametrize("flag", ["--engine", "--profile", "--engine-version"])
def test_an_empty_option_value_is_an_error(capsys, flag):
    code, e = err(capsys, ["solve", QUICKSTART, flag, ""])
    assert code == 2 and f"{flag}: expected a value, got an empty one" in e


def test_a_misspelled_model_key_is_named_with_the_closest(capsys):
    argv = ["evaluate", "--model", "llama3.1-70b", "--chip", "h100-sxm", "--tp", "4"]
    code, e = err(capsys, [*argv, "--set", "models.llama3.1-70b.layers=0"])
    assert code == 2 and "unknown model key 'layers'" in e and "num_hidden_layers" in e
    assert err(capsys, [*argv, "--set", "models.llama3.1-70b.num_hidden_layers=40"])[0] == 0


def _csv(tmp_path, header_edit=None, row_edit=None) -> Path:
    lines = DECODE.read_text(encoding="utf-8").splitlines()[:3]
    if header_edit:
        lines[0] = header_edit(lines[0])
    if row_edit:
        lines[1:] = [row_edit(x) for x in lines[1:]]
    p = tmp_path / "m.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_a_column_twice_in_a_header_is_bad_input(capsys, tmp_path):
    p = _csv(tmp_path, header_edit=lambda h: h.replace(",tier,", ",batch,"))
    code, e = err(capsys, ["validate", p])
    assert code == 2 and "column 'batch' appears 2 times" in e and "m.csv:1" in e


@pytest.mark.parametrize(
    ("column", "value", "most"),
    [("batch", "10000000", "1,048,576"), ("input_tokens", "2000000000", "1,073,741,824")],
)
def test_cells_beyond_an_answers_bounds_are_bad_input(capsys, tmp_path, column, value, most):
    header = DECODE.read_text(encoding="utf-8").splitlines()[0].split(",")
    k = header.index(column)

    def edit(line: str) -> str:
        import csv
        import io

        cells = next(csv.reader([line]))
        cells[k] = value
        out = io.StringIO()
        csv.writer(out).writerow(cells)
        return out.getvalue().strip()

    code, e = err(capsys, ["validate", _csv(tmp_path, row_edit=edit)])
    assert code == 2 and f"{column}: expected at most {most}" in e and "m.csv:2" in e


def test_a_ttft_rows_unknown_engine_names_its_row(capsys, tmp_path):
    src = ROOT / "catalogs" / "measurements" / "prefill.csv"
    lines = src.read_text(encoding="utf-8").splitlines()[:2]
    header = lines[0].split(",")
    import csv
    import io

    cells = next(csv.reader([lines[1]]))
    cells[header.index("engine")] = "abc"
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    p = tmp_path / "ttft.csv"
    p.write_text(lines[0] + "\n" + out.getvalue(), encoding="utf-8")
    code, e = err(capsys, ["validate", p])
    assert code == 2 and "ttft.csv:2: engine: unknown serving engine 'abc'" in e


def test_a_profile_file_is_read_beside_the_problem(capsys, tmp_path, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(ROOT / "catalogs" / "profiles.toml", folder / "mine.toml")
    text = QUICKSTART.read_text(encoding="utf-8")
    problem = folder / "problem.toml"
    problem.write_text(text + '\n[efficiency]\nprofile = "mine.toml"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the problem's folder
    assert err(capsys, ["solve", problem])[0] == 0
    (folder / "mine.toml").unlink()
    code, e = err(capsys, ["solve", problem])
    assert code == 2 and "efficiency.profile: no profile file 'mine.toml'" in e


def test_a_frontiers_bad_input_is_exit_2(capsys):
    code, e = err(capsys, ["pareto", SERVING, "--y", "tokens_per_s_per_chip", "--points", "3"])
    assert code == 2 and "maximize needs a bound" in e


def test_a_sweep_with_no_good_point_is_exit_2(capsys, tmp_path):
    study = tmp_path / "s.toml"
    shutil.copy(QUICKSTART, tmp_path / "q.toml")
    study.write_text(
        'problem = "q.toml"\n[grid]\n"chips.*.memory_bandwidth" = ["x0", "xabc"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code, e = err(capsys, ["sweep", study, "--out", out, "--quiet", "--workers", "1"])
    assert code == 2 and "every point is an error" in e
    assert out.is_file()  # the rows, each with its error, are kept


@pytest.mark.parametrize(("name", "says"), [("limit", "is built in"), ("a\nb", "letters")])
def test_calibrate_refuses_names_it_could_not_read_back(capsys, tmp_path, name, says):
    code, e = err(capsys, ["calibrate", DECODE, "--name", name, "--out", tmp_path / "p.toml"])
    assert code == 2 and "--name: " in e and says in e
    assert not (tmp_path / "p.toml").exists()


def test_an_unknown_speculative_method_names_what_is_expected(capsys):
    argv = ["evaluate", "--model", "llama3.1-70b", "--chip", "h200", "--tp", "8"]
    code, e = err(capsys, [*argv, "--speculative", "foo"])
    assert code == 2 and "expected none, mtp, eagle or a draft model" in e and "'foo'" in e


def test_a_sweeps_results_are_csv_or_parquet_by_name(capsys, tmp_path):
    shutil.copy(QUICKSTART, tmp_path / "q.toml")
    study = tmp_path / "s.toml"
    study.write_text('problem = "q.toml"\n[grid]\n"sla.concurrent_users" = [64]\n')
    code, e = err(capsys, ["sweep", study, "--out", tmp_path / "r.xlsx", "--quiet"])
    assert code == 2 and "--out: expected a .csv or .parquet file name" in e
    assert not (tmp_path / "r.xlsx").exists()

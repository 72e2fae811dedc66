"""Bad input of round 22: a value that came from `--set`, a study or the explorer's what-if is
named by where it came from, not by the problem file that never held it."""

from __future__ import annotations

import json
import math
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

    outcome = explore(load_problem(QUICKSTART), WhatIf(bandwidth=1e40))  # past any bandwidth
    assert outcome.kind == "error"
    assert outcome.message.startswith("what-if: chips.*.memory_bandwidth: "), outcome.message
    for bad, says in (
        (WhatIf(efficiency=1.5), "what-if: efficiency: expected a fraction in (0, 1]"),
        (WhatIf(bandwidth=-1), "what-if: bandwidth: expected a positive factor, got -1"),
        (WhatIf(sync_latency=None), "what-if: sync_latency: expected a positive factor"),
    ):  # the page's widgets send none of these; the Python API may (an internal error before)
        assert explore(load_problem(QUICKSTART), bad).message.startswith(says)


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


def test_a_chip_file_may_not_redefine_another_files_id(tmp_path, capsys):
    """Of two files defining one id the last listed won, silently; a file's chip under a
    catalog id (a catalog chip changed by --set, written by --chip-out) replaced it silently:
    now the first is an error and the second a warning."""
    (tmp_path / "a.toml").write_text(CHIP.format(id="mychip", bw="4.8 TB/s"))
    (tmp_path / "b.toml").write_text(CHIP.format(id="mychip", bw="1 TB/s"))
    two = _chip_problem(tmp_path, "a.toml", "b.toml")
    one_line(*err(capsys, ["solve", two]), "b.toml", "chips.mychip", "another id")
    # the same file twice is the same chip
    assert main(["solve", str(_chip_problem(tmp_path, "a.toml", "a.toml"))]) == 0
    capsys.readouterr()
    (tmp_path / "h200.toml").write_text(CHIP.format(id="h200", bw="1 TB/s"))
    assert main(["solve", str(_chip_problem(tmp_path, "h200.toml"))]) == 0
    assert "chips.h200 of" in capsys.readouterr().err


def test_chip_out_of_a_changed_catalog_chip_reads_back(tmp_path, capsys):
    """`--chip-out` writes a catalog chip that --set changed under its id: evaluate reads it
    back (the changed chip, with a warning), as before the id check."""
    out = tmp_path / "q.toml"
    argv = ["solve", str(QUICKSTART), "--set", 'space.chips=["mi325x"]']
    assert main([*argv, "--set", "chips.mi325x.memory_bandwidth=x1.5", "--chip-out", str(out)]) == 0
    capsys.readouterr()
    base = ["evaluate", "--model", "llama3.1-70b", "--tp", "2", "--json"]
    assert main([*base, "--chip", "mi325x"]) == 0
    catalog_step = json.loads(capsys.readouterr().out)["metrics"]["step_time_s"]
    assert main([*base, "--chip", str(out)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["metrics"]["step_time_s"] < catalog_step
    assert "chips.mi325x of" in captured.err and "replaces the catalog's" in captured.err


def test_a_file_chip_under_a_synthesized_id_is_refused(tmp_path, capsys):
    """A file's chip (written by --chip-out at node n4) was replaced by the chip the problem
    synthesized under the same id at node n3, silently, and the answer changed."""
    synth = ROOT / "problems" / "synthesis-llama3-405b-2000utps-128k.toml"
    chip = tmp_path / "c.toml"
    assert main(["solve", str(synth), "--chip-out", str(chip)]) == 0
    capsys.readouterr()
    problem = tmp_path / "p.toml"
    problem.write_text(synth.read_text() + '\n[space]\nchips = ["c.toml"]\n')
    assert main(["solve", str(problem)]) == 0  # the same chip: the same answer
    capsys.readouterr()
    one_line(
        *err(capsys, ["solve", problem, "--set", "synthesis.node=n3"]),
        "the id of a chip this problem synthesizes",
    )


def test_the_file_s_own_error_is_the_file_s(tmp_path, capsys):
    """A --set path that also matches the key of the file's own bad value (a wildcard, or a
    path inside the key) took the blame for it; and --profile's value was named --set."""
    bad = tmp_path / "qs.toml"
    bad.write_text(QUICKSTART.read_text() + '\n[overrides]\n"chips.mi325x.price_usd" = -5\n')
    one_line(*err(capsys, ["solve", bad, "--set", "chips.*.price_usd=x0.9"]), f"{bad} [overrides]")
    one_line(*err(capsys, ["solve", QUICKSTART, "--profile", "nosuch"]), "--profile: unknown")
    one_line(*err(capsys, ["solve", QUICKSTART, "--set", "efficiency.profile=nosuch"]), "--set:")


def test_values_that_stay_legal(capsys):
    """Switching speculative decoding off keeps its numbers; the cost default's host power may
    be 0 (the ideal host); a change to a chip another chip's price is estimated from counts."""
    assert main(["solve", str(QUICKSTART), "--set", "costs.defaults.server_power=0W"]) == 0
    capsys.readouterr()
    argv = ["solve", str(QUICKSTART), "--set", 'space.chips=["mi325x"]', "--json"]
    assert main(argv) == 0
    cheap = json.loads(capsys.readouterr().out)["objective"]["value"]
    assert main([*argv, "--set", "chips.mi300x.price_usd=30000"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["objective"]["value"] > cheap  # mi325x's estimate moved
    assert "changes nothing" not in captured.err


def test_speculative_none_keeps_its_numbers(tmp_path):
    problem = tmp_path / "spec.toml"
    problem.write_text(
        QUICKSTART.read_text().replace(
            "[workload]", '[workload]\nspeculative = "none"\ndraft_tokens = 2', 1
        )
    )
    assert main(["solve", str(problem)]) == 0


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


def test_a_frontier_point_a_time_limit_stopped_is_flagged(capsys, monkeypatch):
    """`pareto --time-limit` printed points the solver had not proven optimal as the exact
    frontier and exited 0."""
    import importlib

    pareto_mod = importlib.import_module("designer.studies.pareto")  # the package shadows it

    solved = pareto_mod.solve_record

    def stopped(*args, **kwargs):
        record = solved(*args, **kwargs)
        if record.get("status") == "optimal":
            record["status"] = "feasible"  # as a solve the limit stopped with a design
        return record

    monkeypatch.setattr(pareto_mod, "solve_record", stopped)
    assert main(["pareto", str(QUICKSTART), "--points", "2", "--json"]) == 4
    captured = capsys.readouterr()
    assert {p["status"] for p in json.loads(captured.out)["points"]} == {"feasible"}
    assert "not proven optimal within --time-limit" in captured.err


def test_a_frontier_minimizes_the_problem_s_objective(capsys):
    """Without --y the frontier was of capex, whatever the problem minimized."""
    argv = ["pareto", str(QUICKSTART), "--points", "2", "--json"]
    assert main([*argv, "--set", "objective.minimize=power"]) == 0
    assert json.loads(capsys.readouterr().out)["y"] == "power"


def test_evaluate_speculation_and_rates(capsys):
    """--speculative without --acceptance-rate took it as 0 (slower than no speculation), and
    the answer did not say; a request rate the batch cannot hold was answered silently."""
    base = ["evaluate", "--model", "deepseek-v3", "--chip", "h200", "--tp", "8", "--batch", "8"]
    spec = [*base, "--speculative", "mtp", "--draft-tokens", "1"]
    one_line(*err(capsys, spec), "--acceptance-rate")
    assert main([*spec, "--acceptance-rate", "0.8", "--json"]) == 0
    workload = json.loads(capsys.readouterr().out)["workload"]
    assert workload["speculative"] == "mtp" and workload["acceptance_rate"] == 0.8
    assert workload["accepted_tokens_per_step"] == pytest.approx(1.8)
    serve = [*base, "--prompt-tokens", "1000", "--output-tokens", "1000", "--json"]
    assert main([*serve, "--requests-per-s", "0.1"]) == 0
    fine = json.loads(capsys.readouterr().out)["metrics"]
    assert fine["serves_rate"] is True and fine["users_in_flight"] <= 8
    assert main([*serve, "--requests-per-s", "1000", "--phase", "decode"]) == 0
    captured = capsys.readouterr()
    over = json.loads(captured.out)["metrics"]
    assert over["serves_rate"] is False and over["users_in_flight"] > 8
    # Little's law: λ · O · TPOT users in flight
    assert over["users_in_flight"] == math.ceil(1000 * 1000 * over["tpot_s"] - 1e-9)
    assert "cannot serve this rate" in captured.err


def test_calibrate_outputs(tmp_path, capsys):
    """--out with a report wrote nothing and exited 0; a .json name got TOML; a newline in
    --data-label wrote a profile designer could not read back; --intervals on a few rows was
    an internal error (a coverage of no rows)."""
    decode = ROOT / "catalogs" / "measurements" / "decode.csv"
    base = ["calibrate", decode]
    one_line(*err(capsys, [*base, "--floor", "--out", tmp_path / "f.toml"]), "--floor writes no")
    argv = [*base, "--cross-validate", "source", "--out", tmp_path / "c.toml"]
    one_line(*err(capsys, argv), "--cross-validate writes no file")
    one_line(*err(capsys, [*base, "--name", "p", "--out", tmp_path / "p.json"]), ".toml file name")
    argv = [*base, "--name", "p", "--data-label", "a\nb"]
    one_line(*err(capsys, argv), "--data-label", "one line")
    lines = decode.read_text().splitlines()
    wanted = {"cal-01", "cal-02", "cal-03", "cal-07", "cal-08", "cal-341", "cal-342", "cal-22"}
    small = tmp_path / "small.csv"
    small.write_text("\n".join([lines[0], *(x for x in lines if x.split(",")[0] in wanted)]) + "\n")
    assert main(["calibrate", str(small), "--intervals"]) == 0
    assert "internal error" not in capsys.readouterr().err


def test_messages_name_what_the_user_gave(tmp_path, capsys):
    """A one-row fit named --cross-validate, which was not given; the serving chart of a
    problem without bounds named objective.maximize, a key the user never set."""
    decode = ROOT / "catalogs" / "measurements" / "decode.csv"
    lines = decode.read_text().splitlines()
    one = tmp_path / "one.csv"
    one.write_text(f"{lines[0]}\n{lines[1]}\n")
    code, text = err(capsys, ["calibrate", one, "--name", "one"])
    one_line(code, text, f"{one}: a profile states its held-out error")
    assert "--cross-validate" not in text
    argv = ["pareto", QUICKSTART, "--y", "tokens_per_s_per_chip"]
    one_line(*err(capsys, argv), "--y tokens_per_s_per_chip: the serving chart is of fixed")


def test_third_reading(tmp_path, capsys, monkeypatch):
    """Round 22's third reading: two user files both named chips.toml were taken for the
    catalog; the replacement warning named [overrides] once a --set touched the chip; a
    --set that supplies a key the file lacks made the file's missing key hide the real error;
    a draft model named by its Hugging Face id skipped the acceptance-rate check."""
    for folder, bw in (("a", "4.8 TB/s"), ("b", "1 TB/s")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "chips.toml").write_text(CHIP.format(id="mychip", bw=bw))
    two = _chip_problem(tmp_path, "a/chips.toml", "b/chips.toml")
    one_line(*err(capsys, ["solve", two]), "a/chips.toml already has chips.mychip")
    (tmp_path / "h200x.toml").write_text(CHIP.format(id="h200", bw="1 TB/s"))
    mine = _chip_problem(tmp_path, "h200x.toml", "b200")
    assert main(["solve", str(mine), "--set", "chips.h200.price_usd=25000"]) == 0
    assert "chips.h200 of " in capsys.readouterr().err.replace(str(tmp_path) + "/", "")
    lacking = tmp_path / "lacking.toml"
    lacking.write_text(QUICKSTART.read_text().replace("concurrent_users = 256", ""))
    argv = ["solve", lacking, "--set", "sla.concurrent_users=256"]
    one_line(*err(capsys, [*argv, "--set", "sla.tokens_per_s_per_user=-5"]), "--set: sla.tokens")
    draft = ["evaluate", "--model", "llama3.1-70b", "--chip", "h200", "--tp", "8"]
    argv = [*draft, "--speculative", "meta-llama/Llama-3.1-8B", "--draft-tokens", "4"]
    one_line(*err(capsys, argv), "--acceptance-rate")


def test_frontier_defaults_and_stopped_levels(capsys, monkeypatch):
    """A maximizing problem's frontier is its serving chart by default (capex was refused,
    blaming --y); a level a time limit stopped with no design made no exit 4."""
    import importlib

    capacity = ROOT / "problems" / "h200x32-llama3-70b-serving-capacity.toml"
    assert main(["pareto", str(capacity), "--points", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["y"] == "tokens_per_s_per_chip"
    pareto_mod = importlib.import_module("designer.studies.pareto")
    solved, calls = pareto_mod.solve_record, []

    def stopped_last(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:  # the first frontier level: rate_range solves 3 times here
            return {"status": "solver-limit", "error": "solver stopped with no design"}
        return solved(*args, **kwargs)

    monkeypatch.setattr(pareto_mod, "solve_record", stopped_last)
    assert main(["pareto", str(QUICKSTART), "--points", "3", "--json"]) == 4
    captured = capsys.readouterr()
    assert [b["status"] for b in json.loads(captured.out)["infeasible_levels"]] == ["solver-limit"]
    assert "not proven optimal within --time-limit" in captured.err

"""Bad input found by round 21's adversarial review, each now one line and exit 2 where it was
taken silently or named the wrong thing: calibrate options that do nothing, `catalog list` with
an id, `pareto --complete` with `--points`, a profile file's unknown chip and its parameters
named by its own table, and a class's serving keys without its TTFT. (A measurements CSV may
repeat a row id: each row is judged on its own, tests/test_calibrate.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_input import err, one_line

ROOT = Path(__file__).resolve().parents[1]
DECODE = ROOT / "catalogs" / "measurements" / "decode.csv"
QUICKSTART = ROOT / "problems" / "quickstart.toml"
FLEET = ROOT / "problems" / "fleet-three-workloads-power-cap.toml"


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--default-for", "h2000"], ["--default-for", "closest valid name: h200"]),
        (["--plot", "cov.png"], ["--plot", "needs --intervals"]),
        (["--data-label", "  "], ["--data-label", "empty"]),
    ],
)
def test_calibrate_options_that_did_nothing(capsys, tmp_path, extra, says):
    """--default-for wrote an unknown chip, --plot without --intervals drew nothing, a blank
    --data-label wrote whitespace: each said nothing and exited 0."""
    argv = ["calibrate", DECODE, "--name", "z", *extra]
    if "--plot" in extra:
        argv[-1] = tmp_path / "cov.png"
    one_line(*err(capsys, argv), *says)


def test_catalog_list_with_an_id_and_pareto_complete_with_points(capsys):
    one_line(*err(capsys, ["catalog", "list", "chips", "h200"]), "designer catalog show chips h200")
    one_line(
        *err(capsys, ["pareto", QUICKSTART, "--complete", "--points", "5"]),
        "--points",
        "--complete",
    )


def test_a_profile_file_names_its_own_table(capsys, tmp_path):
    """An unknown chip in `chips` (it defaulted nothing), and a parameter the efficiency checks,
    are named by the file and the profile's table (the latter said `efficiency.…`, no file)."""
    path = tmp_path / "mine.toml"
    path.write_text('[mine]\nchips = ["h2000"]\n')
    argv = ["evaluate", "--model", "llama3.1-8b", "--chip", "h200", "--profile", path]
    one_line(*err(capsys, argv), "mine.toml: mine.chips", "closest valid name: h200")
    path.write_text('[mine]\noverhead_per_layer = "-31 us"\n')
    one_line(*err(capsys, argv), "mine.toml: mine.overhead_per_layer")


def test_a_class_serving_key_without_its_ttft_names_the_class(capsys):
    code, text = err(capsys, ["solve", FLEET, "--set", "class.chat.mode=disaggregated"])
    one_line(code, text, "set class.chat.ttft")


def test_the_reviews_second_reading(capsys, tmp_path, hf_dir):
    """One [[class]] table is named as a frontier's limit too (it blamed a --set never given); a
    list's unknown section is named before its id; --chunk-tokens under a prefill or decode
    replica changes nothing; a problem's config.json of float64 weights names its key once."""
    one = tmp_path / "one.toml"
    one.write_text(
        "[[class]]\nname = 'chat'\nmodel = 'llama3.1-8b'\ncontext_tokens = '4K'\n"
        "tokens_per_s_per_user = 50\nconcurrent_users = 8\n[space]\nchips = ['h100-sxm']\n"
    )
    one_line(*err(capsys, ["pareto", one, "--points", "3"]), "1 [[class]] table(s)")
    one_line(*err(capsys, ["catalog", "list", "chipz", "h200"]), "unknown catalog section")
    flags = ["evaluate", "--model", "llama3.1-8b", "--chip", "h200", "--prompt-tokens", "2000"]
    flags += ["--output-tokens", "500", "--requests-per-s", "1", "--chunk-tokens", "100"]
    one_line(*err(capsys, [*flags, "--phase", "prefill"]), "--chunk-tokens", "prefill or decode")
    config = (hf_dir / "llama-3.1-8b" / "config.json").read_text()
    (tmp_path / "f64").mkdir()
    (tmp_path / "f64" / "config.json").write_text(config.replace('"bfloat16"', '"float64"'))
    problem = tmp_path / "f64.toml"
    problem.write_text(
        "[workload]\nmodel = 'f64/config.json'\ncontext_tokens = '4K'\n[sla]\n"
        "tokens_per_s_per_user = 50\nconcurrent_users = 8\n[assumptions]\npreset = 'deployment'\n"
    )
    code, text = err(capsys, ["solve", problem])
    one_line(code, text, "workload.weight_dtype: ", "float64")
    assert text.count("weight_dtype:") == 1

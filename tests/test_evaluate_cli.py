"""designer.interface.cli and designer.calibration.evaluate: the JSON contract, exit codes, bad
input."""

from __future__ import annotations

import json

import pytest

from designer.calibration.evaluate import Design, evaluate
from designer.interface.cli import main
from designer.model.errors import InputError
from tests.contract import ASSUMPTION_KEYS, DESIGN_KEYS, METRIC_KEYS


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("designer: error: ")
    for f in fragments:
        assert f in lines[0], (f, lines[0])


# ---- evaluate ----------------------------------------------------------------------------------
def test_evaluate_json_contract(capsys):
    code, out, err = run(
        capsys,
        "evaluate",
        "--model",
        "llama3.1-405b",
        "--chip",
        "xpu-hbm3",
        "--tp",
        "128",
        "--context",
        "128K",
        "--assumptions",
        "paper",
        "--json",
    )
    assert code == 0, err
    rec = json.loads(out)
    assert set(rec) == {
        "design",
        "metrics",
        "fits",
        "bottleneck",
        "assumptions",
        "profile",
        "interval",
        "cost_basis",
        "model",  # added in round 13 (an extension)
        "workload",  # added in round 21: the dtypes answered (an extension)
    }
    assert rec["model"] == {"id": "llama3.1-405b", "name": "Llama 3.1 405B"}
    assert rec["profile"]["name"] == "limit"  # a paper preset defaults to the hardware limit
    assert set(rec["design"]) == DESIGN_KEYS
    assert set(rec["assumptions"]) == ASSUMPTION_KEYS
    assert rec["assumptions"]["preset"] == "paper"
    assert set(rec["metrics"]) >= METRIC_KEYS
    assert rec["design"] == {
        "chip": "xpu-hbm3",
        "memory": "hbm3e",
        "tp": 128,
        "pp": 1,
        "batch": 1,
        "replicas": 1,
        "chips": 128,
        "ep": 1,
        "attention": "tp",
    }
    m = rec["metrics"]
    # SI units: seconds, bytes, tokens/s
    assert m["sync_time_s"] == pytest.approx(126 * 2 * 2.25e-6, rel=1e-12)
    assert m["step_time_s"] == pytest.approx(1.348e-3, rel=1e-3)
    assert m["tokens_per_s_per_user"] == pytest.approx(1 / m["step_time_s"], rel=1e-12)
    assert m["memory_per_chip_bytes"] == pytest.approx(
        (405_853_388_800 + 131072 * 258048) / 128, rel=1e-12
    )
    assert m["capex_usd"] > 0 and m["power_w"] > 0
    assert rec["fits"] is True
    assert rec["bottleneck"] == "memory-bandwidth"


def test_evaluate_json_matches_python_api(capsys, catalog):
    code, out, _ = run(
        capsys,
        "evaluate",
        "--model",
        "deepseek-v3",
        "--chip",
        "h100-sxm",
        "--tp",
        "16",
        "--pp",
        "2",
        "--batch",
        "8",
        "--context",
        "32768",
        "--replicas",
        "3",
        "--json",
    )
    assert code == 0
    rec = json.loads(out)
    api = evaluate(
        "deepseek-v3",
        "h100-sxm",
        tp=16,
        pp=2,
        batch=8,
        context_tokens=32768,
        replicas=3,
        catalog=catalog,
        assumptions="deployment",  # the command line's default
    )
    assert rec["design"]["chips"] == 96
    assert rec["metrics"]["users_served"] == 48
    for key in METRIC_KEYS:
        assert rec["metrics"][key] == pytest.approx(api["metrics"][key], rel=1e-12), key
    assert rec["metrics"]["system_tokens_per_s"] == pytest.approx(
        3 * 2 * 8 * rec["metrics"]["tokens_per_s_per_user"], rel=1e-12
    )


def test_a_model_asked_by_another_name_is_answered_as_its_entry_and_says_so(capsys):
    args = ("evaluate", "--chip", "h200", "--tp", "8", "--batch", "8", "--json")
    answers = {}
    for name in ("deepseek-v3", "deepseek-r1", "deepseek-ai/DeepSeek-R1-0528"):
        code, out, err = run(capsys, *args, "--model", name)
        assert code == 0, err
        answers[name] = json.loads(out)
    assert answers["deepseek-v3"]["model"] == {"id": "deepseek-v3", "name": "DeepSeek-V3"}
    assert answers["deepseek-r1"]["model"]["asked"] == "deepseek-r1"
    assert all(a["metrics"] == answers["deepseek-v3"]["metrics"] for a in answers.values())
    code, out, _ = run(capsys, *args[:-1], "--model", "deepseek-r1")
    assert code == 0 and "deepseek-v3 (DeepSeek-V3, asked as deepseek-r1)" in out


def test_evaluate_set_and_dtypes(capsys):
    code, out, _ = run(
        capsys,
        "evaluate",
        "--model",
        "llama3.1-8b",
        "--chip",
        "xpu-hbm3",
        "--weight-dtype",
        "bf16",
        "--kv-dtype",
        "bf16",
        "--context",
        "8192",
        "--set",
        "chips.xpu-hbm3.memory_bandwidth=8TiB/s",
        "--assumptions",
        "paper",
        "--json",
    )
    assert code == 0
    m = json.loads(out)["metrics"]
    assert m["weight_bytes"] == 2 * 8_030_261_248
    assert m["kv_bytes_per_token"] == 131072
    expected = (2 * 8_030_261_248 + 8192 * 131072) / (8 * 2**40)
    assert m["memory_time_s"] == pytest.approx(expected, rel=1e-12)


def test_evaluate_overhead_and_efficiency_flags(capsys):
    code, out, _ = run(
        capsys,
        "evaluate",
        "--model",
        "llama3.1-70b",
        "--chip",
        "h100-sxm",
        "--tp",
        "8",
        "--bandwidth-efficiency",
        "0.5",
        "--overhead-per-layer",
        "114 us",
        "--assumptions",
        "paper",
        "--json",
    )
    assert code == 0
    m = json.loads(out)["metrics"]
    assert m["overhead_time_s"] == pytest.approx(80 * 114e-6, rel=1e-12)
    w = 70_553_706_496
    assert m["memory_time_s"] == pytest.approx((w + 8192 * 163840) / (8 * 3.35e12 * 0.5))


def test_evaluate_hf_config_path(capsys, hf_dir):
    path = str(hf_dir / "llama-3.1-8b" / "config.json")
    code, out, _ = run(
        capsys,
        "evaluate",
        "--model",
        path,
        "--chip",
        "xpu-hbm3",
        "--assumptions",
        "paper",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["metrics"]["weight_bytes"] == 8_030_261_248


def test_evaluate_human_output(capsys):
    code, out, err = run(capsys, "evaluate", "--model", "llama3.1-8b", "--chip", "xpu-hbm3")
    assert code == 0
    assert out.strip() and not err


def test_evaluate_context_suffix(capsys):
    _, a, _ = run(
        capsys,
        "evaluate",
        "--model",
        "llama3.1-8b",
        "--chip",
        "xpu-hbm3",
        "--context",
        "64k",
        "--json",
    )
    _, b, _ = run(
        capsys,
        "evaluate",
        "--model",
        "llama3.1-8b",
        "--chip",
        "xpu-hbm3",
        "--context",
        "65536",
        "--json",
    )
    assert json.loads(a)["metrics"] == json.loads(b)["metrics"]


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (
            ["--model", "llama3.1-405c", "--chip", "xpu-hbm3"],
            ["unknown model 'llama3.1-405c'", "closest valid name: llama3.1-405b"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm5"],
            ["unknown chip 'xpu-hbm5'", "closest valid name: xpu-hbm4"],
        ),
        (
            [
                "--model",
                "llama3.1-405b",
                "--chip",
                "xpu-hbm3",
                "--set",
                "chips.xpu-hbm3.memory_bandwidth=8TiB",
            ],
            ["xpu-hbm3.memory_bandwidth", "expected a bandwidth", "'8TiB'"],
        ),
        (
            [
                "--model",
                "llama3.1-405b",
                "--chip",
                "xpu-hbm3",
                "--set",
                "chips.xpu-hbm3.memory_bandwith=8TiB/s",
            ],
            ["closest valid name: memory_bandwidth"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm3", "--set", "sla.x=1"],
            ["evaluate takes catalog paths only"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm3", "--set", "nonsense"],
            ["expected PATH=VALUE"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm3", "--weight-dtype", "fp9"],
            ["workload.weight_dtype", "closest valid name: fp8"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm3", "--tp", "0"],
            ["tp", "positive integer"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm3", "--tp", "256"],
            ["--tp", "must divide the 128 attention heads of llama3.1-405b"],
        ),
        (
            ["--model", "llama3.1-8b", "--chip", "xpu-hbm3", "--pp", "64"],
            ["--pp", "64 pipeline stages exceed the 32 layers"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm3", "--context", "-5"],
            ["argument --context", "expected a token count", "'-5'"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm3", "--overhead-per-layer", "114"],
            ["--overhead-per-layer", "expected a time", "'114'"],
        ),
        (
            ["--model", "llama3.1-405b", "--chip", "xpu-hbm3", "--bandwidth-efficiency", "1.5"],
            ["argument --bandwidth-efficiency", "fraction in (0, 1]", "'1.5'"],
        ),
        (
            ["--model", "/nonexistent/config.json", "--chip", "xpu-hbm3"],
            ["/nonexistent/config.json", "no such file"],
        ),
    ],
)
def test_evaluate_bad_input(capsys, argv, fragments):
    code, out, err = run(capsys, "evaluate", *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, *fragments)


def test_evaluate_malformed_context(capsys):
    code = main(["evaluate", "--model", "llama3.1-8b", "--chip", "xpu-hbm3", "--context", "12x"])
    assert code == 2
    _, err = capsys.readouterr()
    assert_one_line_error(err, "argument --context: expected a token count", "got '12x'")


def test_design_validation():
    with pytest.raises(InputError, match="positive integer"):
        Design("xpu-hbm3", 8, 1, 0)
    with pytest.raises(InputError):
        Design("xpu-hbm3", True, 1, 1)
    d = Design("xpu-hbm3", 8, 4, 16, replicas=2)
    assert (d.chips, d.users) == (64, 128)


# ---- catalog -----------------------------------------------------------------------------------
def test_catalog_list_chips_json(capsys, catalog):
    code, out, _ = run(capsys, "catalog", "list", "chips", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == catalog.ids("chips")
    hbm3 = next(r for r in rows if r["id"] == "xpu-hbm3")
    assert {k: hbm3[k] for k in ("id", "kind", "memory", "interconnect")} == {
        "id": "xpu-hbm3",
        "kind": "paper-preset",
        "memory": "hbm3e",
        "interconnect": "paper",
    }
    # SI numbers: 96 GiB, 4 TiB/s, 2.25 PFLOPS
    assert (hbm3["capacity"], hbm3["bandwidth"], hbm3["fp8"]) == (96 * 2**30, 4 * 2**40, 2.25e15)


def test_catalog_list_models_json(capsys):
    code, out, _ = run(capsys, "catalog", "list", "models", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["deepseek-v3"]["params"] == pytest.approx(671.03e9, rel=1e-4)
    assert rows["deepseek-v3"]["active"] == pytest.approx(36.6e9, rel=2e-3)
    assert rows["deepseek-v3"]["attention"] == "MLA"
    assert rows["deepseek-v3"]["experts"] == "256/8"
    assert rows["llama3.1-405b"]["experts"] == "dense"


@pytest.mark.parametrize("section", ["chips", "models", "memory", "interconnects", "costs"])
def test_catalog_list_every_section(capsys, section):
    code, out, err = run(capsys, "catalog", "list", section)
    assert code == 0, err
    assert out.strip()


def test_catalog_show_model(capsys):
    code, out, _ = run(capsys, "catalog", "show", "models", "llama3.1-405b", "--json")
    assert code == 0
    entry = json.loads(out)
    assert entry["hidden_size"] == 16384
    assert entry["computed"]["total_params"] == 405_853_388_800
    assert entry["computed"]["kv_elements_per_token"] == 258048


def test_catalog_show_chip(capsys):
    code, out, _ = run(capsys, "catalog", "show", "chips", "h100-sxm", "--json")
    assert code == 0
    entry = json.loads(out)
    assert entry["memory_bandwidth"] == "3.35 TB/s"
    assert entry["computed"]["price_usd"] == 28000
    assert entry["computed"]["power_w"] == 700.0


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["show", "chips", "h100-sx"], ["unknown chip 'h100-sx'", "closest valid name: h100-sxm"]),
        (["list", "chipz"], ["unknown catalog section 'chipz'", "closest valid name: chips"]),
        (["show", "models"], ["expected an entry id"]),
    ],
)
def test_catalog_bad_input(capsys, argv, fragments):
    code, out, err = run(capsys, "catalog", *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, *fragments)


# ---- solve -------------------------------------------------------------------------------------
PROBLEM = """
[workload]
model = "llama3.1-8b"
context_tokens = 8192

[sla]
tokens_per_s_per_user = 100
concurrent_users = 4

[space]
chips = ["xpu-hbm3", "h100-sxm"]
"""


@pytest.fixture
def problem_file(tmp_path):
    p = tmp_path / "problem.toml"
    p.write_text(PROBLEM)
    return p


def test_solve_tiny_problem(capsys, problem_file):
    code, out, err = run(capsys, "solve", str(problem_file), "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert rec["status"] == "optimal"
    assert rec["recheck"] == "passed"
    assert rec["objective"]["name"] == "capex"
    assert rec["objective"]["unit"] == "USD"
    assert set(rec["design"]) == DESIGN_KEYS
    assert set(rec["metrics"]) >= METRIC_KEYS
    m, d = rec["metrics"], rec["design"]
    assert m["tokens_per_s_per_user"] >= 100
    assert d["replicas"] * d["pp"] * d["batch"] >= 4
    assert rec["objective"]["value"] == pytest.approx(m["capex_usd"], rel=1e-9)
    assert rec["fits"] is True
    assert all(v >= -1e-9 for v in rec["residuals"].values())
    # One chip serves all 4 users at > 100 tokens/s (8 GB of weights); the cheaper is chosen.
    assert d["chips"] == 1
    assert d["chip"] in ("xpu-hbm3", "h100-sxm")


def test_solve_optimum_is_cheapest_single_chip(capsys, problem_file, catalog):
    code, out, _ = run(capsys, "solve", str(problem_file), "--json")
    assert code == 0
    rec = json.loads(out)
    capex = {
        chip: evaluate("llama3.1-8b", chip, batch=4, context_tokens=8192, catalog=catalog)[
            "metrics"
        ]["capex_usd"]
        for chip in ("xpu-hbm3", "h100-sxm")
    }
    assert rec["objective"]["value"] == pytest.approx(min(capex.values()), rel=1e-9)


def test_solve_impossible_target_exits_3(capsys, problem_file):
    code, out, err = run(
        capsys, "solve", str(problem_file), "--json", "--set", "sla.tokens_per_s_per_user=1e6"
    )
    assert code == 3
    rec = json.loads(out)
    assert rec["status"] == "infeasible"
    assert "tokens_per_s_per_user" in rec["explanation"]
    best = rec["best_achievable"]["max_tokens_per_s_per_user"]
    assert 0 < best < 1e6
    assert "Traceback" not in err


def test_solve_impossible_target_in_file_exits_3(capsys, tmp_path):
    p = tmp_path / "impossible.toml"
    p.write_text(PROBLEM.replace("tokens_per_s_per_user = 100", "tokens_per_s_per_user = 1e6"))
    code, _, _ = run(capsys, "solve", str(p))
    assert code == 3


def test_solve_malformed_problem_names_the_file(capsys, tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text('[workload]\nmodel = "llama3.1-8b\ncontext_tokens = 8192\n')
    code, out, err = run(capsys, "solve", str(p))
    assert code == 2
    assert out == ""
    assert_one_line_error(err, str(p), "malformed TOML")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        (
            'model = "llama3.1-8b"',
            'model = "llama3.1-8c"',
            ["workload.model", "closest valid name: llama3.1-8b"],
        ),
        (
            'chips = ["xpu-hbm3", "h100-sxm"]',
            'chips = ["xpu-hbm3", "h100"]',
            ["space.chips", "closest valid name: h100-sxm"],
        ),
        (
            "concurrent_users = 4",
            "concurent_users = 4",
            ["sla.concurent_users", "closest valid name: concurrent_users"],
        ),
        ("[space]", "[spac]", ["unknown section", "closest valid name: space"]),
        ("context_tokens = 8192", 'context_tokens = "8Q"', ["workload.context_tokens"]),
    ],
)
def test_solve_bad_problem(capsys, tmp_path, old, new, fragments):
    p = tmp_path / "bad.toml"
    text = PROBLEM.replace(old, new)
    assert text != PROBLEM
    p.write_text(text)
    code, out, err = run(capsys, "solve", str(p))
    assert code == 2
    assert_one_line_error(err, str(p), *fragments)


def test_solve_missing_file(capsys, tmp_path):
    code, _, err = run(capsys, "solve", str(tmp_path / "nope.toml"))
    assert code == 2
    assert_one_line_error(err, "nope.toml", "no such file")


@pytest.mark.parametrize(
    ("argv", "key", "says"),
    [
        (["--model", "llama3.1-70b", "--tp", "8", "--ep", "8"], "--ep", "has no experts"),
        (
            ["--model", "deepseek-v3", "--tp", "512", "--ep", "512", "--attention", "dp"],
            "--ep",
            "at most the 256 experts",
        ),
        (["--phase", "prefill"], "--phase", "needs --requests-per-s"),
        (["--chunk-tokens", "4096"], "--chunk-tokens", "needs --requests-per-s"),
        (["--draft-tokens", "3"], "--draft-tokens", "needs --speculative"),
        (["--acceptance-rate", "0.5"], "--acceptance-rate", "needs --speculative"),
        (["--output-tokens", "1000"], "--output-tokens", "give --prompt-tokens too"),
        (
            ["--prompt-tokens", "6000", "--output-tokens", "1000", "--requests-per-s", "2"]
            + ["--phase", "prefill", "--batch", "8"],
            "--batch",
            "a prefill replica serves one prompt at a time",
        ),
        (["--requests-per-s", "2"], "--requests-per-s", "needs --prompt-tokens and --output"),
    ],
)
def test_an_option_that_changes_nothing_is_bad_input(argv, key, says, capsys):
    """Each was taken with exit 0 and an answer identical to the one without it (or, for EP
    beyond the experts, one the measurements loader refuses): now exit 2 naming what it needs."""
    base = ["evaluate", "--chip", "h200"] + (
        ["--model", "llama3.1-8b"] if "--model" not in argv else []
    )
    assert main([*base, *argv]) == 2
    err = capsys.readouterr().err
    assert f"{key}: " in err and says in err and len(err.strip().splitlines()) == 1


def test_an_aggregated_serving_step_is_labelled_without_its_prompt_chunks(capsys):
    """An aggregated replica at a request rate: its rates are 1/TPOT with the prompt chunks,
    while the step's parts are the decode step's; the row says so and gives the TPOT (it read
    "step time 24.04 ms" beside 27.0 tokens/s per user, 1/37 ms). At that rate the batch
    holds the users in flight, so its system tokens/s are λ·O, 60 × 500."""
    argv = ["evaluate", "--model", "llama3.1-8b", "--chip", "h100-sxm", "--batch", "160"]
    argv += ["--replicas", "7", "--prompt-tokens", "2000", "--output-tokens", "500"]
    code, out, _ = run(capsys, *argv, "--requests-per-s", "60")
    assert code == 0
    assert "│ decode step" in out and "with the prompt chunks" in out and "│ step time" not in out
    code, out, _ = run(capsys, *argv, "--requests-per-s", "60", "--json")
    m = json.loads(out)["metrics"]
    assert m["serves_rate"] and m["system_tokens_per_s"] == pytest.approx(60 * 500)
    assert 1 / m["tpot_s"] == pytest.approx(m["tokens_per_s_per_user"])
    code, out, _ = run(capsys, *argv)  # no requests: the decode step alone
    assert "│ step time" in out and "prompt chunks" not in out
    code, out, _ = run(capsys, *argv, "--requests-per-s", "2000")  # prompts fill the queue
    assert "no steady state (the prompts fill the queue)" in " ".join(out.split())
    assert "inf" not in out

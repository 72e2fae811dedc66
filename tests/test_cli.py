"""designer.interface.cli robustness: strict JSON, bounded arguments, one-line errors, quiet broken
pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from designer.interface.cli import _json, main

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _reject_constants(name):
    raise AssertionError(f"{name} in JSON output")


def test_catalog_show_rubin_json_has_null_not_nan(capsys):
    """rubin has no price, estimate_from or die area: its price is unknown, null in strict JSON."""
    code, out, err = run(capsys, "catalog", "show", "chips", "rubin", "--json")
    assert code == 0 and err == ""
    entry = json.loads(out, parse_constant=_reject_constants)
    assert entry["computed"]["price_usd"] is None
    assert entry["computed"]["price_basis"].startswith("unknown")


def test_json_has_no_nan_or_infinity():
    import numpy as np

    text = _json({"a": float("nan"), "b": [np.float64("inf"), -np.inf, 1.5], "c": np.int64(3)})
    assert json.loads(text) == {"a": None, "b": [None, None, 1.5], "c": 3}


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--tp", "4611686018427387904"], "argument --tp: expected a positive integer (at most"),
        (["--batch", "-9223372036854775808"], "argument --batch: expected a positive integer"),
        (["--replicas", "0"], "argument --replicas"),
        (["--pp", "x" * 500], "argument --pp"),
        (["--context", "inf"], "argument --context"),
        (["--context", "1e400K"], "argument --context"),
        (["--compute-efficiency", "nan"], "argument --compute-efficiency: expected a fraction"),
        (["--overhead-per-layer", "-1 us"], "--overhead-per-layer: expected a non-negative time"),
        (["--overhead-per-layer", "1 us * 9**9**9"], "expected one number and a unit"),
    ],
)
def test_evaluate_arguments_are_bounded(capsys, argv, fragment):
    code, out, err = run(capsys, "evaluate", "--model", "llama3.1-8b", "--chip", "b200", *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("designer: error: ") and fragment in lines[0]
    assert len(lines[0]) < 300  # a long value is shown as an excerpt


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e400"])
def test_time_limit_is_positive_and_finite(capsys, value):
    problem = str(ROOT / "problems" / "quickstart.toml")
    code, _, err = run(capsys, "solve", problem, "--time-limit", value)
    assert code == 2 and "argument --time-limit: expected seconds" in err


def test_usage_errors_return_2_with_one_line(capsys):
    code, out, err = run(capsys, "bogus")
    assert code == 2 and out == "" and err.startswith("designer: error: ")
    assert len(err.strip().splitlines()) == 1


def test_help_returns_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "evaluate" in out


def _commands(ap) -> list[list[str]]:
    """Every command and subcommand of the parser (argparse's sub-parsers, depth first)."""
    import argparse

    out = []
    for action in ap._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                out.append([name])
                out += [[name, *rest] for rest in _commands(child)]
    return out


def test_every_commands_help_is_printed(capsys):
    """`designer CMD --help` for every command: a help text with a stray `%` (argparse's
    format) fails only when printed."""
    from designer.interface.cli import parser

    commands = _commands(parser())
    assert ["evaluate"] in commands and ["catalog"] in commands and len(commands) >= 9
    for cmd in commands:
        code, out, err = run(capsys, *cmd, "--help")
        assert code == 0 and err == "", (cmd, err)
        assert out.startswith("usage: designer " + " ".join(cmd)), cmd


def test_broken_pipe_is_silent():
    """`designer catalog list chips --json | head -1`: no traceback, no message."""
    p = subprocess.Popen(
        [sys.executable, "-m", "designer.interface.cli", "catalog", "list", "chips", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    p.stdout.close()  # the reader has gone before the first write
    _, err = p.communicate(timeout=60)
    assert err == b""
    assert p.returncode == 0


def test_a_dtype_no_chip_computes_is_infeasible_with_the_reason(capsys):
    problem = str(ROOT / "problems" / "quickstart.toml")
    code, _, err = run(
        capsys,
        "solve",
        problem,
        "--set",
        "workload.weight_dtype=fp32",
        "--set",
        'space.chips=["xpu-hbm4"]',
    )
    assert code == 3
    assert "no chip of the space has a compute rate for fp32" in err


def test_errors_found_while_solving_name_the_problem_file(capsys, tmp_path):
    p = tmp_path / "most.toml"
    p.write_text(
        '[workload]\nmodel = "llama3.1-8b"\ncontext_tokens = 4096\n'
        "[sla]\ntokens_per_s_per_user = 50\n"
        '[objective]\nmaximize = "users"\n[space]\nchips = ["h100-sxm"]\n'
    )
    code, _, err = run(capsys, "solve", str(p))
    assert code == 2
    assert err.startswith(f"designer: error: {p}: objective.maximize = users: maximize needs")

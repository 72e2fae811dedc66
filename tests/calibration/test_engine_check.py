"""designer/calibration/engine_check.py: how the intervals of answers under an engine's fit held
within the engine, in the shipped table and in the answers that use such a fit."""

from __future__ import annotations

import json

import pytest

from designer.calibration import engine_check, intervals
from designer.calibration.measurements import bundled_path, load
from designer.interface.cli import main
from tests.contract import ENGINE_INTERVAL_KEYS, INTERVAL_KEYS

EVALUATE = ["evaluate", "--model", "llama3.1-70b", "--tp", "8", "--batch", "16"]


def test_the_shipped_table_holds_each_engine_fits_check(catalog):
    got = engine_check.summary(engine_check.held_out(load(bundled_path(), catalog), catalog))
    shipped = intervals.shipped().coverage
    assert set(got) == {"generic-sglang", "generic-tensorrt-llm", "generic-vllm"}
    for name, s in got.items():
        assert s["points"] == shipped[name]["points"]
        for key in ("inside", "median_half_width", "mape"):
            # the shipped cells are written to 4 decimals, the fit used them unrounded
            assert s[key] == pytest.approx(shipped[name][key], abs=0.01), (name, key)
    # the open gap the README states: vLLM's answers fall short of 80%
    assert round(got["generic-vllm"]["inside"], 1) == 53.4


def test_an_answer_under_an_engine_fit_says_how_its_interval_held(capsys):
    assert main([*EVALUATE, "--chip", "mi325x", "--engine", "vllm", "--json"]) == 0
    iv = json.loads(capsys.readouterr().out)["interval"]
    assert set(iv) == ENGINE_INTERVAL_KEYS
    assert iv["check"] == {
        "profile": "generic-vllm",
        **intervals.shipped().coverage["generic-vllm"],
    }
    assert main([*EVALUATE, "--chip", "mi325x", "--engine", "vllm"]) == 0
    out = capsys.readouterr().out
    assert "interval check: answers under generic-vllm" in out and "too narrow" in out
    assert main([*EVALUATE, "--chip", "h200", "--engine", "tensorrt-llm"]) == 0
    out = capsys.readouterr().out
    assert "interval check: answers under generic-tensorrt-llm" in out
    assert "too narrow" not in out  # 86.2% inside: no warning


def test_an_answer_under_a_chips_own_or_the_generic_profile_carries_no_check(capsys):
    for chip in ("h200", "mi300x"):  # generic; mi300x-vllm, a platform's own profile
        assert main([*EVALUATE, "--chip", chip, "--json"]) == 0
        assert set(json.loads(capsys.readouterr().out)["interval"]) == INTERVAL_KEYS
        assert main([*EVALUATE, "--chip", chip]) == 0
        assert "interval check" not in capsys.readouterr().out


def test_a_solve_under_an_engine_fit_says_it_once(capsys):
    assert main(["solve", "problems/quickstart.toml", "--engine", "vllm"]) == 0
    assert capsys.readouterr().out.count("interval check: answers under generic-vllm") == 1


def test_data_that_cannot_judge_a_kind_held_out_get_one_clear_error(tmp_path, capsys):
    """An interval table from rows whose only platform-profile rows come from one publication
    cannot judge them held out: exit 2, naming the publication and what is missing."""
    text = bundled_path().read_text().splitlines()
    (tmp_path / "few.csv").write_text("\n".join(text[:41]) + "\n")
    assert main(["calibrate", str(tmp_path / "few.csv"), "--intervals"]) == 2
    err = capsys.readouterr().err
    assert "cannot judge the held-out rows of" in err and "'platform'" in err
    assert len(err.strip().splitlines()) == 1
    # one platform's rows: an MoE model held out (the unseen-model check) has no other rows
    # answered as `composed` to be judged by
    head, *rows = text
    mine = [r for r in rows if ",mi300x," in r and ",vllm," in r]
    (tmp_path / "mi300x.csv").write_text("\n".join([head, *mine]) + "\n")
    assert main(["calibrate", str(tmp_path / "mi300x.csv"), "--intervals"]) == 2
    err = capsys.readouterr().err
    assert "cannot judge the held-out rows of the MoE model" in err and "'composed'" in err
    assert len(err.strip().splitlines()) == 1

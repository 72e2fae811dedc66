"""The named profile `current` (catalogs/profiles.toml): fitted to the InferenceMAX rows
(catalogs/measurements/inferencemax.csv), listed with what it is, chosen only by name."""

from __future__ import annotations

import json
from pathlib import Path

from designer.calibration import profiles
from designer.interface.cli import main
from designer.optimize.problem import load_problem

QUICKSTART = Path(__file__).resolve().parents[2] / "problems" / "quickstart.toml"


def test_it_loads_from_its_own_data_with_its_held_out_error():
    p = profiles.get("current")
    assert p.calibrated and p.data == "measurements/inferencemax.csv" and p.rows == 47
    assert p.cv == "leave-one-platform-out" and p.cv_points == 47
    assert p.command.startswith("designer calibrate catalogs/measurements/inferencemax.csv ")
    # its own MoE/MLA layer times, not generic's (profiles.with_layer_times leaves it alone)
    assert not p.layer_times_from and p.efficiency.mla_layer > 0 and p.efficiency.moe_expert > 0
    g = profiles.get("generic").efficiency
    assert p.efficiency.mla_layer < g.mla_layer and p.efficiency.moe_expert < g.moe_expert


def test_it_is_no_chips_default(catalog):
    assert profiles.named_only(profiles.get("current"))
    assert not profiles.named_only(profiles.get("generic"))
    assert not profiles.named_only(profiles.get("generic-vllm"))
    assert not profiles.named_only(profiles.get("h100-sxm-vllm"))
    for chip in catalog.ids("chips"):
        for engine in (None, *profiles.engines()):
            assert profiles.default_for(catalog, chip, engine).id != "current", (chip, engine)


def test_a_problem_or_a_flag_names_it(capsys):
    prob = load_problem(QUICKSTART, {"efficiency.profile": "current"})
    assert profiles.for_problem(prob, "b200").id == "current"
    assert profiles.for_problem(load_problem(QUICKSTART), "b200").id == "generic"
    argv = ["evaluate", "--model", "deepseek-v3", "--chip", "b200", "--tp", "8", "--batch", "1"]
    assert main([*argv, "--profile", "current", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["profile"]["name"] == "current"
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["profile"]["name"] == "generic"


def test_the_catalog_lists_and_explains_it(capsys, monkeypatch):
    assert main(["catalog", "list", "profiles", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["current"]["default for"] == "" and rows["current"]["rows"] == 47
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["catalog", "list", "profiles"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "only when named (--profile, [efficiency] profile): current" in out
    assert "measurements/inferencemax.csv" in out
    assert main(["catalog", "show", "profiles", "current", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["data"] == "measurements/inferencemax.csv" and "--profile current" in rec["notes"]

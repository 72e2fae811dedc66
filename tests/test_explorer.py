"""The browser explorer's computations (designer/interface/explorer.py), without a browser."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from designer.interface import explorer
from designer.interface.explorer import Form, WhatIf, problem_toml, results_csv, run
from designer.optimize.problem import load_problem, problem_from_dict
from designer.optimize.solve import solve

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "problems" / "quickstart.toml"


def test_the_default_form_is_the_quickstart_question():
    with open(QUICKSTART, "rb") as f:
        assert Form().raw() == tomllib.load(f)


def test_the_page_answers_what_the_command_line_answers():
    out = run(Form())
    assert out.answered
    assert out.record["objective"] == solve(load_problem(QUICKSTART)).record["objective"]


def test_whatif_controls_are_set_changes():
    assert WhatIf().changes() == {}
    changes = WhatIf(bandwidth=0.5, sync_latency=4, efficiency=0.7).changes()
    assert changes["chips.*.memory_bandwidth"] == "x0.5"
    assert {changes[f"interconnects.*.{k}"] for k in explorer.SYNC_KEYS} == {"x4"}
    assert changes["efficiency.bandwidth"] == changes["efficiency.compute"] == 0.7


def test_more_bandwidth_never_costs_more_and_less_never_costs_less():
    base = run(Form()).record["objective"]["value"]
    faster = run(Form(), WhatIf(bandwidth=2.0)).record["objective"]["value"]
    slower = run(Form(), WhatIf(bandwidth=0.5)).record["objective"]["value"]
    assert faster <= base <= slower
    assert faster < slower


def test_longer_sync_never_costs_less():
    base = run(Form()).record["objective"]["value"]
    assert run(Form(), WhatIf(sync_latency=8.0)).record["objective"]["value"] >= base


def test_the_downloaded_toml_reproduces_the_answer():
    form = Form(tokens_per_s_per_user=80.0, max_power="500 kW", objective="power")
    whatif = WhatIf(bandwidth=1.5, sync_latency=2.0, efficiency=0.5)
    shown = run(form, whatif)
    assert shown.answered
    raw = tomllib.loads(problem_toml(form, whatif))
    again = solve(problem_from_dict(raw)).record
    assert again["objective"] == shown.record["objective"]
    assert again["fleet"] == shown.record["fleet"]


def test_prompt_and_output_replace_the_context():
    raw = Form(prompt_tokens=6000, output_tokens=2000).raw()
    assert "context_tokens" not in raw["workload"]
    assert problem_from_dict(raw).workload.context_tokens == 8000


def test_results_csv_has_one_row_per_configuration():
    out = run(Form())
    frame = pd.read_csv(io.StringIO(results_csv(out.record, WhatIf(bandwidth=2.0))))
    assert len(frame) == len(out.record["fleet"])
    assert frame["objective_value"].iloc[0] == pytest.approx(out.record["objective"]["value"])
    assert set(explorer.FLEET_COLUMNS) <= set(frame.columns)
    assert frame["whatif"].iloc[0] == "chips.*.memory_bandwidth=x2"


def test_bad_input_is_a_message_naming_the_key():
    out = run(Form(model="llama3.1-70"))
    assert out.kind == "error"
    assert "workload.model" in out.message and "llama3.1-70b" in out.message
    out = run(Form(max_power="lots"))
    assert out.kind == "error" and "limits.max_power" in out.message


def test_an_unreachable_rate_is_infeasible_with_the_best_reachable():
    out = run(Form(tokens_per_s_per_user=1e6))
    assert out.kind == "infeasible"
    assert out.message.startswith("infeasible")
    assert out.record.get("best_achievable")


def test_an_internal_error_is_one_line(monkeypatch):
    def broken(problem, **options):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("designer.optimize.solve.solve", broken)
    out = run(Form())
    assert out.kind == "error"
    assert out.message == "internal error: RuntimeError: boom second line"


def test_fleet_rows_are_in_milliseconds():
    record = run(Form()).record
    row = explorer.fleet_rows(record)[0]
    assert row["step_time_ms"] == pytest.approx(1e3 * record["fleet"][0]["step_time_s"], abs=1e-3)
    assert "step_time_s" not in row


def test_fleet_rows_carry_the_80_percent_interval_and_what_it_extrapolates():
    record = run(Form()).record
    row, f = explorer.fleet_rows(record)[0], record["fleet"][0]
    assert row["tokens_per_s_per_user_low"] < row["tokens_per_s_per_user"]
    assert row["tokens_per_s_per_user"] < row["tokens_per_s_per_user_high"]
    assert row["tokens_per_s_per_user_low"] == pytest.approx(
        f["tokens_per_s_per_user_low"], abs=0.01
    )
    # the quick start's MI325X is a chip the measurements do not hold: its interval says so
    assert row["extrapolated"] == ", ".join(f["interval"]["extrapolated"]) == "chip"


def test_accuracy_names_each_profile_and_its_error():
    record = run(Form()).record
    lines = explorer.accuracy(record)
    assert lines[0] == "assumptions: deployment"
    for chip, p in record["profiles"].items():
        assert f"{chip}: profile {p['name']} — {p['error']}" in lines
    f = record["fleet"][0]
    iv = f["interval"]
    assert lines[-1] == (
        f"{f['chip']} TP{f['tp']}×PP{f['pp']} batch {f['batch']}: "
        f"{f['tokens_per_s_per_user']:.1f} tokens/s per user, 80% interval "
        f"{iv['tokens_per_s_per_user_low']:.1f}–{iv['tokens_per_s_per_user_high']:.1f} "
        "(outside the measured data along: chip)"
    )


def test_toml_quotes_what_is_not_a_bare_key():
    text = explorer.to_toml({"overrides": {"chips.*.memory_bandwidth": "x2"}, "a": {"b": [1, 2.5]}})
    assert tomllib.loads(text) == {
        "overrides": {"chips.*.memory_bandwidth": "x2"},
        "a": {"b": [1, 2.5]},
    }


def test_compare_ranks_the_chips_best_first():
    out = explorer.study("compare", "chip", Form(), WhatIf())
    rows = out["rows"]
    best = run(Form()).record
    assert rows[0]["reason"] == "best"
    assert rows[0]["capex"] == explorer.amount(best["objective"]["value"], "USD")
    assert {r["chip"] for r in rows} == set(explorer.QUICKSTART_CHIPS)


def test_the_frontier_buys_speed_with_money():
    out = explorer.study("pareto", "capex", Form(), WhatIf())
    rates = [p["tokens/s per user"] for p in out["points"]]
    values = [p["value"] for p in out["points"]]
    assert len(rates) >= 2
    assert rates == sorted(rates) and values == sorted(values)
    assert out["unit"] == "USD"


def test_a_study_of_a_bad_question_is_a_message():
    out = explorer.study("compare", "chip", Form(model="nope"), WhatIf())
    assert set(out) == {"error"} and "workload.model" in out["error"]


def test_compare_by_memory_groups_the_chips_by_technology():
    rows = explorer.study("compare", "memory", Form(), WhatIf())["rows"]
    catalog = explorer.catalog()
    assert {r["memory"] for r in rows} == {
        catalog.chip(c).memory_technology for c in explorer.QUICKSTART_CHIPS
    }


def test_a_fractional_count_is_refused_not_rounded():
    out = run(Form(concurrent_users=2.5))
    assert out.kind == "error" and "sla.concurrent_users" in out.message
    out = run(Form(prompt_tokens=6000.5, output_tokens=2000))
    assert out.kind == "error" and "workload.prompt_tokens" in out.message


def test_an_engine_build_picks_its_generation_and_needs_its_engine():
    record = run(Form(engine="sglang", engine_version="0.5.6")).record
    assert {p["name"] for p in record["profiles"].values()} == {"current"}
    older = run(Form(engine="sglang", engine_version="0.4.3")).record
    assert {p["name"] for p in older["profiles"].values()} == {"generic-sglang"}
    out = run(Form(engine_version="0.5.6"))
    assert out.kind == "error" and "efficiency.engine_version" in out.message


def test_accuracy_leaves_out_prefill_pools():
    from designer.optimize.problem import load_problem

    root = Path(__file__).resolve().parents[1]
    p = load_problem(
        root / "problems" / "serving-llama3.1-70b-30rps-ttft2s.toml",
        {"serving.mode": "disaggregated"},
    )
    record = run(p).record
    phases = [f["phase"] for f in record["fleet"]]
    lines = explorer.accuracy(record)
    assert "prefill" in phases
    assert len([x for x in lines if "80% interval" in x]) == phases.count("decode")


def test_accuracy_says_how_an_engine_fits_intervals_held():
    """An answer under `--engine vllm` (the `generic-vllm` fit) says, on the page too, that such
    intervals held 53.4% of the time (`report.interval_check_lines`)."""
    record = run(Form(engine="vllm")).record
    lines = explorer.accuracy(record)
    assert sum(x.startswith("interval check: answers under generic-vllm") for x in lines) == 1
    assert "too narrow" in lines[-1]
    assert not any(x.startswith("interval check") for x in explorer.accuracy(run(Form()).record))

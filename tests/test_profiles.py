"""designer.calibration.profiles: the shipped profiles, defaults per chip, selection in problems
and on the
command line, and what an answer says about its profile."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from designer.calibration import profiles
from designer.calibration.evaluate import evaluate
from designer.interface.cli import main
from designer.model import perf, toml_text
from designer.model.catalog import bundled_dir
from designer.model.errors import InputError
from designer.model.workload import Efficiency
from designer.optimize.problem import load_problem

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "problems" / "quickstart.toml"


def test_limit_is_the_hardware_limit():
    p = profiles.get("limit")
    assert p.efficiency == Efficiency()
    assert not p.calibrated
    assert p.error() == "hardware limit (not calibrated)"


def test_shipped_profiles_carry_data_date_and_quality():
    shipped = {k: v for k, v in profiles.load().items() if k != "limit"}
    assert {"generic", "h100-sxm-tensorrt-llm"} <= set(shipped)
    for p in shipped.values():
        assert p.calibrated and p.cv_mape > 0 and p.cv_points == p.rows > 0
        assert p.data in ("measurements/decode.csv", "measurements/inferencemax.csv")
        assert len(p.fit_date) == 10 and p.fit_date.startswith("20")
        assert p.command.startswith("designer calibrate ")
        assert all(u.startswith("https://") for u in p.source.split("; "))
        e = p.efficiency
        assert 0 < e.bandwidth <= 1 and 0 < e.compute <= 1 and 0 < e.prefill_compute <= 1
        assert e.overhead_per_layer >= 0 and e.per_sequence >= 0 and e.collective_latency >= 0
        assert e.overhead_per_step >= 0
    g = shipped["generic"]
    assert g.rows == 461 and g.cv == "leave-one-platform-out"
    assert g.error() == f"step time ±{g.cv_mape:.0f}% (leave-one-platform-out, 461 points)"


def test_describe_names_the_profile_and_its_error():
    d = profiles.describe(profiles.get("generic"))
    assert {"name", "fit_date", "error", "mape_cv", "efficiency"} <= set(d)
    assert d["name"] == "generic"
    assert d["error"].startswith("step time ±")
    assert d["mape_cv"] == profiles.get("generic").cv_mape
    assert set(d["efficiency"]) == {
        "bandwidth",
        "compute",
        "prefill_compute",
        "overhead_per_layer_s",
        "per_sequence_s",
        "collective_latency_s",
        "overhead_per_step_s",
        "per_sequence_step_s",
        "attention_kernel",
        "moe_layer_s",
        "mla_layer_s",
        "moe_expert_s",
        "activation_dtype",
    }
    json.dumps(d)  # JSON-ready


@pytest.mark.parametrize(
    ("chip", "expected"),
    [
        ("h100-sxm", "h100-sxm-tensorrt-llm"),  # its own platform
        ("h200", "generic"),  # shipping, no profile of its own
        ("mi300x", "mi300x-vllm"),
        ("l40s", "generic"),
        ("xpu-hbm3", "limit"),  # the paper's presets
        ("xpu-3d-dram", "limit"),
    ],
)
def test_default_profile_per_chip(catalog, chip, expected):
    assert profiles.default_for(catalog, chip).id == expected


@pytest.mark.parametrize(
    ("chip", "engine", "expected"),
    [
        ("h100-sxm", "vllm", "h100-sxm-vllm"),  # the platform's own profile
        ("h100-sxm", "tensorrt-llm", "h100-sxm-tensorrt-llm"),
        ("b200", "vllm", "generic-vllm"),  # no platform profile: the engine's fit
        ("mi300x", "tensorrt-llm", "generic-tensorrt-llm"),
        ("gaudi2", "deepspeed", "generic"),  # no engine-wide fit: the fit over all
        ("xpu-hbm3", "vllm", "limit"),  # hypothetical chips stay at the limit
    ],
)
def test_default_profile_per_chip_and_engine(catalog, chip, engine, expected):
    assert profiles.default_for(catalog, chip, engine).id == expected


def test_engine_profiles_are_fitted_to_their_engine_only():
    for engine in ("vllm", "tensorrt-llm"):
        p = profiles.get(f"generic-{engine}")
        assert p.engine == engine and not p.platform and not p.chips
        assert f"--engine {engine}" in p.command
        assert p.cv == "leave-one-platform-out"


def test_unknown_engine_names_the_closest():
    with pytest.raises(InputError, match="closest valid name: vllm"):
        profiles.check_engine("vlm")
    assert "tensorrt-llm" in profiles.engines() and "deepspeed" in profiles.engines()


def test_with_values_is_no_longer_calibrated():
    p = profiles.with_values(profiles.get("generic"), {"overhead_per_layer": 1e-4})
    assert p.id == "generic+custom"
    assert p.efficiency.overhead_per_layer == 1e-4
    assert p.efficiency.bandwidth == profiles.get("generic").efficiency.bandwidth
    assert not p.calibrated and "not calibrated" in p.error()


def test_profile_file_round_trip(tmp_path):
    p = profiles.get("generic")
    path = tmp_path / "mine.toml"
    path.write_text(p.to_toml().replace("[generic]", "[mine]"))
    q = profiles.get(str(path))
    assert q.id == "mine"
    assert q.efficiency.bandwidth == pytest.approx(p.efficiency.bandwidth, abs=1e-4)
    assert q.efficiency.per_sequence == pytest.approx(p.efficiency.per_sequence, abs=1e-9)
    assert q.cv_mape == pytest.approx(p.cv_mape, abs=0.01)


def test_a_generation_round_trips_with_its_builds_and_intervals(tmp_path):
    p = profiles.get("current")
    path = tmp_path / "mine.toml"
    path.write_text(p.to_toml().replace("current", "mine"))
    q = profiles.get(str(path))
    assert q.builds == p.builds and q.intervals["cells"].keys() == p.intervals["cells"].keys()
    assert q.intervals["ranges"] == p.intervals["ranges"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[x]\nbandwith = 0.5\n", "unknown profile key 'bandwith' (closest valid name: bandwidth)"),
        ("[x]\nbandwidth = 1.5\n", "x.bandwidth: expected a fraction in (0, 1]"),
        ('[x]\nper_sequence = "2 GB"\n', "x.per_sequence"),
        ("[limit]\nbandwidth = 0.5\n", "built in"),
        ('[x]\nbuilds = "0.5.5"\n', "x.builds: expected a table"),
        ("[x]\nbuilds = { vllm = 13 }\n", "x.builds.vllm: expected a version string"),
        ('[x]\nbuilds = { vllm = "new" }\n', "x.builds.vllm: expected a version such as 0.5.6"),
        ("[x]\nintervals = { cells = {} }\n", "x.intervals: expected the tables ranges and cells"),
        ("[x]\nmeasured_builds = 3\n", "x.measured_builds: expected a table"),
        ('[x]\nmeasured_builds = { vllm = "0.6" }\n', 'x.measured_builds.vllm: expected ["oldest"'),
        ('[x]\nmeasured_builds = { vllm = ["0.6"] }\n', 'measured_builds.vllm: expected ["oldest"'),
        (
            '[x]\nmeasured_builds = { vllm = ["x", "0.7"] }\n',
            "measured_builds.vllm: expected a version",
        ),
        ("[x]\nmeasured_ranges = 256\n", "x.measured_ranges: expected a table"),
        (
            "[x]\nmeasured_ranges = { dense_bacth = 256 }\n",
            "unknown range 'dense_bacth' (closest valid name: dense_batch)",
        ),
        ("[x]\nmeasured_ranges = { moe_batch = 0 }\n", "measured_ranges.moe_batch: expected a"),
        ("[x]\nmeasured_ranges = { moe_batch = 1.5 }\n", "measured_ranges.moe_batch: expected"),
        ("[x]\nmeasured_ranges = { context = 5250 }\n", "unknown range 'context'"),
    ],
)
def test_bad_profile_files(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        profiles.get(str(path))
    assert fragment in str(exc.value)


def test_catalog_path_folders_add_profiles(tmp_path, monkeypatch):
    (tmp_path / "profiles.toml").write_text("[site]\nbandwidth = 0.5\n")
    monkeypatch.setenv("DESIGNER_CATALOG_PATH", str(tmp_path))
    assert profiles.get("site").efficiency.bandwidth == 0.5
    assert "generic" in profiles.load()


# ---- problems --------------------------------------------------------------------------------
def test_problem_without_efficiency_uses_each_chips_default():
    prob = load_problem(QUICKSTART)
    assert prob.profile is None
    assert profiles.for_problem(prob, "h100-sxm").id == "h100-sxm-tensorrt-llm"
    assert profiles.for_problem(prob, "b200").id == "generic"


def test_problem_names_a_profile():
    prob = load_problem(QUICKSTART, {"efficiency.profile": "generic"})
    assert prob.profile == "generic"
    assert prob.workload.efficiency == profiles.get("generic").efficiency
    assert profiles.for_problem(prob, "h100-sxm").id == "generic"


def test_explicit_efficiency_values_replace_the_profiles():
    prob = load_problem(
        QUICKSTART, {"efficiency.profile": "generic", "efficiency.per_sequence": "3 us"}
    )
    assert prob.workload.efficiency.per_sequence == pytest.approx(3e-6)
    assert prob.workload.efficiency.bandwidth == profiles.get("generic").efficiency.bandwidth
    assert profiles.for_problem(prob, "h100-sxm").id == "generic+custom"


def test_explicit_values_alone_keep_meaning_the_limit_with_them():
    prob = load_problem(QUICKSTART, {"efficiency.overhead_per_layer": "114 us"})
    e = prob.workload.efficiency
    assert (e.bandwidth, e.compute, e.per_sequence, e.collective_latency) == (1, 1, 0, 0)
    assert e.overhead_per_layer == pytest.approx(114e-6, rel=1e-12)
    assert profiles.for_problem(prob, "h100-sxm").id == "limit+custom"


def test_problem_engine_picks_each_chips_engine_profile():
    prob = load_problem(QUICKSTART, {"efficiency.engine": "vllm"})
    assert prob.engine == "vllm"
    assert profiles.for_problem(prob, "h100-sxm").id == "h100-sxm-vllm"
    assert profiles.for_problem(prob, "b200").id == "generic-vllm"
    named = load_problem(QUICKSTART, {"efficiency.engine": "vllm", "efficiency.profile": "generic"})
    assert profiles.for_problem(named, "h100-sxm").id == "generic"  # a named profile wins


@pytest.mark.parametrize(
    ("key", "value", "closest"),
    [
        ("efficiency.engine", "tensorrt", "tensorrt-llm"),
        ("efficiency.profile", "generc", "generic"),
    ],
)
def test_unknown_name_in_a_problem_names_file_key_and_closest(tmp_path, key, value, closest):
    path = tmp_path / "p.toml"
    path.write_text(QUICKSTART.read_text() + f'\n[efficiency]\n{key.split(".")[1]} = "{value}"\n')
    with pytest.raises(InputError) as exc:
        load_problem(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: {key}: ")
    assert f"closest valid name: {closest}" in msg
    with pytest.raises(InputError) as exc:  # the same name given by --set: named by --set
        load_problem(QUICKSTART, {key: value})
    assert str(exc.value).startswith(f"--set: {key}: ")


# ---- evaluate --------------------------------------------------------------------------------
def test_evaluate_defaults_to_the_chips_profile_and_names_it(catalog):
    rec = evaluate("llama3.1-70b", "h100-sxm", tp=4, batch=16, catalog=catalog)
    p = profiles.get("h100-sxm-tensorrt-llm")
    assert rec["profile"]["name"] == p.id
    assert rec["profile"]["error"] == p.error()
    e, g = p.efficiency, float(perf.sequence_batch(16))
    assert rec["metrics"]["overhead_time_s"] == pytest.approx(
        e.overhead_per_step + 80 * (e.overhead_per_layer + g * e.per_sequence), rel=1e-12
    )
    limit = evaluate("llama3.1-70b", "h100-sxm", tp=4, batch=16, catalog=catalog, profile="limit")
    assert limit["metrics"]["step_time_s"] < rec["metrics"]["step_time_s"]
    assert limit["metrics"]["sync_time_s"] == pytest.approx(160 * 2.3e-6)
    assert rec["metrics"]["sync_time_s"] == pytest.approx(160 * (2.3e-6 + e.collective_latency))


def test_evaluate_cli_profile_and_flags(capsys):
    argv = ["evaluate", "--model", "llama3.1-8b", "--chip", "h100-sxm", "--json"]
    assert main([*argv, "--profile", "generic"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["profile"]["name"] == "generic"
    assert main([*argv, "--bandwidth-efficiency", "0.5"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["profile"]["name"] == "limit+custom"
    assert rec["profile"]["efficiency"]["bandwidth"] == 0.5
    assert main([*argv, "--profile", "nope"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err
    assert main([*argv, "--engine", "vllm"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["profile"]["name"] == "h100-sxm-vllm" and rec["profile"]["engine"] == "vllm"
    assert main([*argv, "--engine", "vlm"]) == 2
    assert "--engine" in capsys.readouterr().err


def test_solve_cli_engine_is_the_problem_key(capsys):
    assert main(["solve", str(QUICKSTART), "--engine", "vllm", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    names = {p["name"] for p in rec["profiles"].values()}
    assert names and names <= {"generic-vllm", "h100-sxm-vllm", "mi300x-vllm", "generic"}


def test_workload_for_a_chip_carries_its_profile():
    prob = load_problem(QUICKSTART)
    h100 = profiles.workload_for(prob, "h100-sxm")
    b200 = profiles.workload_for(prob, "b200")
    assert h100.efficiency == profiles.get("h100-sxm-tensorrt-llm").efficiency
    assert b200.efficiency == profiles.get("generic").efficiency
    assert h100.model is prob.workload.model and h100.context_tokens == 8192


def test_catalog_lists_and_shows_profiles(capsys):
    assert main(["catalog", "list", "profiles", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["generic-vllm"]["engine"] == "vllm"
    assert rows["h100-sxm-tensorrt-llm"]["default for"] == "h100-sxm"
    assert rows["generic"]["error"] == profiles.get("generic").error()
    assert main(["catalog", "show", "profiles", "generic", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["name"] == "generic" and rec["command"].startswith("designer calibrate ")
    assert main(["catalog", "show", "profiles", "generc"]) == 2
    assert "closest valid name: generic" in capsys.readouterr().err


def test_every_shipped_profile_is_what_its_recorded_command_fits(load_script):
    """scripts/refit_profiles.py reruns each profile's `command`: the shipped numbers (all but
    the fit date) must come out within the tolerances the regularized fit can hold on any
    numpy/scipy (refit_profiles.PARAMETER_TOLERANCE, ERROR_TOLERANCE), the parameters it held at
    its prior the same, so every profile is reproducible from the data."""
    import tomllib

    refit = load_script("refit_profiles")
    text = refit.PROFILES.read_text(encoding="utf-8")
    new = tomllib.loads(refit.refit(text))
    old = tomllib.loads(text)
    assert set(new) == set(old)
    assert refit.changed(old, new) == []
    assert refit.changed(old, {**new, "extra": {}}) == ["extra"]  # the check can fail
    pid = next(iter(new))
    assert refit.changed(old, {**new, pid: {**new[pid], "rows": -1}}) == [pid]
    # a parameter inside its tolerance passes, one just beyond it does not (compute: range 0.95)
    for step, moved in ((0.009, []), (0.0096, [pid])):
        shifted = {**new[pid], "compute": old[pid]["compute"] + step}
        assert refit.changed(old, {**old, pid: shifted}) == moved
    late = {**old[pid], "overhead_per_layer": "999 us"}
    assert refit.changed(old, {**old, pid: late}) == [pid]
    held = {**old[pid], "not_identified": ["bandwidth"]}
    assert refit.changed(old, {**old, pid: held}) == [pid]
    # a generation's platform numbers: within 1% (the per-step time within 1% or 10 µs)
    gen = next(p for p, v in old.items() if "platforms" in v)
    name, on = next(iter(old[gen]["platforms"].items()))
    for change, moved in (
        ({"scale": on["scale"] * 1.009}, []),
        ({"scale": on["scale"] * 1.011}, [gen]),
        ({"overhead_per_step": "1.5 ms"}, [] if _ms(on) == 1.5 else [gen]),
        ({"rows": on["rows"] + 1}, [gen]),
    ):
        platforms = {**old[gen]["platforms"], name: {**on, **change}}
        assert refit.changed(old, {**old, gen: {**old[gen], "platforms": platforms}}) == moved


def _ms(on: dict) -> float:
    from designer.model.units import parse

    return round(parse(on["overhead_per_step"], "time") * 1e3, 6)


def test_each_chips_engine_profile_sets_its_gemm_rate_in_the_solver_columns(catalog):
    """FP4 weights under TensorRT-LLM (W4A4 where the chip has an FP4 rate, FP8 on Hopper) and
    under vLLM (W8A8): every chip's column FLOP rate is its own profile's engine's dtype."""
    from designer.optimize import columns

    for engine, b200_dtype, h100_dtype in (("tensorrt-llm", "fp4", "fp8"), ("vllm", "fp8", "fp8")):
        prob = load_problem(
            QUICKSTART,
            {
                "efficiency.engine": engine,
                "workload.weight_dtype": "fp4",
                "space.chips": ["b200", "h100-sxm"],
            },
        )
        wls = {c: profiles.workload_for(prob, c) for c in ("b200", "h100-sxm")}
        assert wls["b200"].compute_dtype == b200_dtype
        g = columns.grid(prob, prob.classes[0])
        for chip, dtype in (("b200", b200_dtype), ("h100-sxm", h100_dtype)):
            flops = g.hw["flops"][g.chip == list(prob.chips).index(chip)]
            assert np.all(flops == catalog.chip(chip).flops(dtype))


def test_a_profile_without_moe_rows_takes_the_layer_times_of_the_fit_that_saw_them():
    # h100-sxm-tensorrt-llm's fit identified none of τ_moe, τ_mla, τ_expert: it carries τ_mla of
    # generic-tensorrt-llm (its engine's fit over several platforms, DeepSeek-R1 rows included)
    # and, with two Mixtral rows, keeps its own MoE times, equal to that fit's (0), so MoE physics
    # does not depend on which profile a chip defaults to.
    shipped = profiles.load()
    own = shipped["h100-sxm-tensorrt-llm"]
    donor = shipped["generic-tensorrt-llm"]
    assert set(profiles.LAYER_TIMES) <= set(own.not_identified)
    assert own.layer_times_from == "generic-tensorrt-llm"
    for f in profiles.LAYER_TIMES:
        assert getattr(own.efficiency, f) == getattr(donor.efficiency, f)
    assert donor.efficiency.mla_layer > 0
    # a fit that identified a layer time keeps its own
    assert shipped["generic"].layer_times_from == ""
    # without an engine fit that saw MoE rows, `generic`'s
    lone = profiles.Profile("x", Efficiency(), not_identified=profiles.LAYER_TIMES)
    got = profiles.with_layer_times(lone, shipped)
    assert got.layer_times_from == "generic"
    assert got.efficiency.moe_expert == shipped["generic"].efficiency.moe_expert


def test_layer_times_are_taken_per_family_of_models_the_rows_lack():
    # h100-sxm-vllm's rows hold one Mixtral row (MoE) and no MLA model: it keeps its own τ_expert
    # and τ_moe, and takes τ_mla from generic-vllm, whose rows hold DeepSeek-R1 (docs/model.md §6)
    shipped = profiles.load()
    own, donor = shipped["h100-sxm-vllm"], shipped["generic-vllm"]
    file = profiles.read(bundled_dir() / "profiles.toml")["h100-sxm-vllm"]
    assert dict(own.measured_ranges).keys() == {"dense_batch", "moe_batch"}
    assert profiles.missing_layer_times(dict(own.measured_ranges)) == ("mla_layer",)
    assert own.layer_times_from == "generic-vllm"
    assert own.efficiency.mla_layer == donor.efficiency.mla_layer > 0
    assert own.efficiency.moe_expert == file.efficiency.moe_expert != donor.efficiency.moe_expert
    # a profile whose rows hold both families keeps all three
    assert {"moe_batch", "mla_batch"} <= dict(shipped["mi300x-vllm"].measured_ranges).keys()
    assert shipped["mi300x-vllm"].layer_times_from == ""
    # dense rows only: all three from the engine's fit, else generic's
    dense = profiles.Profile(
        "x",
        Efficiency(),
        not_identified=profiles.LAYER_TIMES,  # as a fit of dense rows leaves them
        measured_ranges=(("dense_batch", 64),),
    )
    got = profiles.with_layer_times(dense, shipped)
    assert got.layer_times_from == "generic"
    assert got.efficiency.mla_layer == shipped["generic"].efficiency.mla_layer
    # an MLA model's rows (DeepSeek is both) lack nothing
    assert profiles.missing_layer_times({"moe_batch": 8, "mla_batch": 8}) == ()


def test_a_layer_time_the_fit_identified_stays_whatever_its_ranges_say():
    # a profile file written before `mla_batch` existed: DeepSeek rows counted as `moe_batch`
    # only, but its fit identified τ_mla, which stays its own
    shipped = profiles.load()
    eff = Efficiency(mla_layer=5e-4, moe_expert=1e-6)
    old = profiles.Profile(
        "old", eff, not_identified=("moe_layer",), measured_ranges=(("moe_batch", 64),)
    )
    got = profiles.with_layer_times(old, shipped)
    assert got.efficiency.mla_layer == 5e-4 and got.layer_times_from == ""


def test_a_check_added_to_or_gone_from_the_interval_table_is_a_change(load_script):
    """refit_profiles --check: `[coverage]` entries that appear or disappear (an engine's check,
    `engine_check`) count as a moved table instead of raising."""
    import tomllib

    from designer.calibration.intervals import FILE
    from designer.model.catalog import bundled_dir

    refit = load_script("refit_profiles")
    table = tomllib.loads((bundled_dir() / FILE).read_text())
    assert not refit.intervals_moved(table, table)
    fewer = {
        **table,
        "coverage": {k: v for k, v in table["coverage"].items() if k != "generic-vllm"},
    }
    assert refit.intervals_moved(table, fewer) and refit.intervals_moved(fewer, table)


def test_a_fitted_profile_missing_a_parameter_is_bad_input(tmp_path):
    """A profile file that states its fit (`command`, `cv_mape`) but lacks a parameter took the
    default (the hardware limit's) and still quoted the fit's accuracy; a hand-written profile
    with no fit statement may leave any out."""
    import tomllib

    shipped = tomllib.loads(profiles.as_written(profiles.get("generic")).to_toml())["generic"]
    del shipped["bandwidth"]
    lines = [f"{k} = {toml_text.value(v)}" for k, v in shipped.items() if not isinstance(v, dict)]
    path = tmp_path / "mine.toml"
    path.write_text("[mine]\n" + "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"mine\.bandwidth: missing key bandwidth"):
        profiles.get(str(path))
    path.write_text('[mine]\nbandwidth = 0.7\noverhead_per_layer = "20 us"\n')
    assert profiles.get(str(path)).efficiency.compute == 1.0

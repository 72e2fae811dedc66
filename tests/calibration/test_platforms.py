"""designer.calibration.platforms and profiles.on_platform: a software generation on the
platforms (chip × engine) it measured, with each one's own per-step time and scale, and the
held-out check of those numbers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from designer.calibration import intervals, platforms, profiles
from designer.calibration.calibrate import Rows, as_rows
from designer.calibration.measurements import bundled_path, load
from designer.calibration.validate import validate
from designer.interface.cli import main
from designer.model.errors import InputError
from designer.model.workload import Efficiency
from tests.test_intervals import largest_sized_batch

QUICKSTART = Path(__file__).resolve().parents[2] / "problems" / "quickstart.toml"
DEEPSEEK_MI300X = [
    "evaluate", "--model", "deepseek-v3", "--chip", "mi300x", "--tp", "8", "--batch", "32",
    "--context", "1383", "--json",
]  # fmt: skip
LATE_SGLANG = ["--engine", "sglang", "--engine-version", "0.5.6"]


@pytest.fixture(scope="module")
def late(catalog):
    """The late-2025 rows `current` was fitted to, prepared."""
    return as_rows(load(bundled_path("inferencemax.csv"), catalog), catalog)


def test_a_scale_multiplies_every_decode_term(catalog):
    from designer.calibration.evaluate import evaluate

    design = {"tp": 8, "batch": 16, "context_tokens": 4096, "catalog": catalog}
    eff = profiles.get("current").efficiency
    base = evaluate("deepseek-v3", "h200", **design, efficiency=eff)["metrics"]
    scaled = dataclasses.replace(eff, step_scale=1.7)
    more = evaluate("deepseek-v3", "h200", **design, efficiency=scaled)["metrics"]
    for term in ("memory_time_s", "compute_time_s", "sync_time_s", "overhead_time_s"):
        assert more[term] == pytest.approx(1.7 * base[term], rel=1e-12), term
    assert more["step_time_s"] == pytest.approx(1.7 * base["step_time_s"], rel=1e-12)
    assert more["tokens_per_s_per_user"] == pytest.approx(
        base["tokens_per_s_per_user"] / 1.7, rel=1e-12
    )
    assert more["memory_per_chip_bytes"] == base["memory_per_chip_bytes"]  # time only


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan")])
def test_a_scale_is_a_positive_factor(bad):
    with pytest.raises(InputError, match="positive factor") as e:
        Efficiency(step_scale=bad)
    assert e.value.key == "efficiency.step_scale"


def _with_measured(rows, ms):
    """Prepared `rows` with other measured times (the terms do not depend on them)."""
    items = [
        dataclasses.replace(i, row=dataclasses.replace(i.row, measured_ms=float(m)))
        for i, m in zip(rows.items, ms, strict=True)
    ]
    return Rows(items, rows.terms)


@pytest.mark.parametrize(("scale", "tau"), [(1.7, 0.0), (0.8, 0.012), (1.1, 0.0035)])
def test_fit_recovers_the_numbers_a_platform_was_made_with(late, scale, tau):
    eff = profiles.get("current").efficiency
    plat = np.array([i.row.platform for i in late.items])
    rows = late.take(np.flatnonzero(plat == "b200/sglang").tolist())
    made = rows.terms.predict(profiles.platform_numbers(eff, scale, tau))
    got = platforms.fit(_with_measured(rows, made), eff)
    assert got == pytest.approx((scale, tau), rel=1e-4, abs=1e-7)


def test_fit_is_the_least_squares_point_of_a_platforms_rows(late):
    eff = profiles.get("current").efficiency
    plat = np.array([i.row.platform for i in late.items])
    rows = late.take(np.flatnonzero(plat == "mi300x/sglang").tolist())

    def sse(scale, tau):
        on = profiles.platform_numbers(eff, scale, tau)
        return float(np.sum(np.log(rows.measured_ms / rows.terms.predict(on)) ** 2))

    scale, tau = platforms.fit(rows, eff)
    best = sse(scale, tau)
    for ds, dt in ((1.01, 0), (0.99, 0), (1, 1.01), (1, 0.99)):
        assert sse(scale * ds, tau * dt) > best
    assert best < 0.1 * sse(1.0, eff.overhead_per_step)  # the generation's fit, unchanged
    assert tau > 5 * eff.overhead_per_step  # MI300X SGLang: a much larger time per step


def test_the_shipped_scales_are_what_the_rows_give(late):
    p = profiles.get("current")
    got = dict(platforms.measured(late, p.efficiency))
    assert set(dict(p.platforms)) == set(got) == {i.row.platform for i in late.items}
    for name, on in p.platforms:  # within the refit's tolerance (scripts/refit_profiles.py)
        mine = got[name]
        assert (on.models, on.rows, on.configurations) == (
            mine.models,
            mine.rows,
            mine.configurations,
        )
        assert on.scale == pytest.approx(mine.scale, rel=0.01), name
        assert on.overhead_per_step == pytest.approx(mine.overhead_per_step, rel=0.01, abs=1e-5)
    assert got["mi300x/sglang"].models == ("deepseek-v3",)
    assert got["b200/tensorrt-llm"].configurations == 8 and got["b200/tensorrt-llm"].rows == 21


def test_only_a_model_measured_on_that_platform_is_scaled(catalog):
    p = profiles.get("current")
    mine = dict(p.platforms)["mi300x/sglang"]
    on = profiles.default_for(catalog, "mi300x", "sglang", "0.5.6", "deepseek-v3")
    assert on.id == "current" and on.on == "mi300x/sglang"
    assert on.efficiency == mine.applied(p.efficiency) != p.efficiency
    for chip, engine, version, model in (
        ("mi300x", "sglang", "0.5.6", "gpt-oss-120b"),  # another model on a measured platform
        ("mi300x", "vllm", "0.13.0", "deepseek-v3"),  # an unmeasured platform
        ("gb200", "sglang", "0.5.6", "deepseek-v3"),  # an unmeasured chip
    ):
        other = profiles.default_for(catalog, chip, engine, version, model)
        assert other.id == "current" and not other.on and other.efficiency == p.efficiency
    # no engine, no platform: a generation named alone is never scaled
    assert profiles.on_platform(p, "mi300x", None, "deepseek-v3") is p
    # older builds keep their defaults, unscaled
    assert profiles.default_for(catalog, "mi300x", "sglang", "0.4.3", "deepseek-v3").on == ""


def test_a_platforms_answer_uses_its_numbers_and_is_judged_by_its_platform(capsys, catalog):
    from designer.calibration.evaluate import evaluate

    mine = dict(profiles.get("current").platforms)["mi300x/sglang"]
    assert main([*DEEPSEEK_MI300X, "--profile", "current"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*DEEPSEEK_MI300X, *LATE_SGLANG]) == 0
    scaled = json.loads(capsys.readouterr().out)
    assert main([*DEEPSEEK_MI300X, "--profile", "current", *LATE_SGLANG]) == 0
    named = json.loads(capsys.readouterr().out)
    assert named["metrics"] == plain["metrics"]  # a profile named is the fit alone
    by_hand = evaluate(
        "deepseek-v3",
        "mi300x",
        tp=8,
        batch=32,
        context_tokens=1383,
        assumptions="deployment",
        efficiency=mine.applied(profiles.get("current").efficiency),
        catalog=catalog,
    )["metrics"]
    assert scaled["metrics"]["step_time_s"] == pytest.approx(by_hand["step_time_s"], rel=1e-12)
    assert scaled["metrics"]["step_time_s"] > 1.5 * plain["metrics"]["step_time_s"]
    assert scaled["profile"]["on_platform"] == {
        "platform": "mi300x/sglang",
        "scale": mine.scale,
        "overhead_per_step_s": mine.overhead_per_step,
        "models": ["deepseek-v3"],
        "rows": 5,
        "configurations": 1,
    }
    assert "on mi300x/sglang" in scaled["profile"]["error"]
    assert "measured one configuration, not in that check" in scaled["profile"]["error"]
    assert scaled["interval"]["domain"].startswith("platform+moe")
    assert plain["interval"]["domain"].startswith("generation+moe")
    assert "moe" in plain["interval"]["extrapolated"]  # fewer than 3 MoE models measured …
    assert "moe" not in scaled["interval"]["extrapolated"]  # … but this one, on this platform

    def width(rec):
        m = rec["metrics"]
        return m["tokens_per_s_per_user_high"] / m["tokens_per_s_per_user_low"]

    assert width(scaled) < width(plain)
    m = scaled["metrics"]  # the measured rows' level, inside the interval
    assert m["tokens_per_s_per_user_low"] <= m["tokens_per_s_per_user"]
    assert m["tokens_per_s_per_user"] <= m["tokens_per_s_per_user_high"]


def test_a_held_out_configuration_never_sees_its_own_rows(late, catalog):
    """Moving a configuration's measured times moves no prediction of that configuration
    (refitted without it, scaled by its platform's other configurations), and a platform
    measured in one configuration has nothing to be checked against."""
    predicted, checked = platforms.held_out(late, catalog)
    config = np.array([platforms.configuration(i.row) for i in late.items])
    plat = np.array([i.row.platform for i in late.items])
    for single in ("mi300x/sglang", "mi325x/sglang", "h200/sglang"):
        assert not checked[plat == single].any()
    assert checked.sum() == 103
    c = config[np.flatnonzero(plat == "b200/sglang")[0]]
    held = config == c
    items = [
        dataclasses.replace(i, row=dataclasses.replace(i.row, measured_ms=3 * i.row.measured_ms))
        if h
        else i
        for i, h in zip(late.items, held, strict=True)
    ]
    again, _ = platforms.held_out(Rows(items, late.terms), catalog)
    np.testing.assert_allclose(again[held], predicted[held], rtol=1e-9)
    # … while the platform's other configurations, scaled by it, move
    others = ~held & checked & (plat == "b200/sglang")
    assert others.any() and np.all(again[others] > 1.2 * predicted[others])


def test_its_interval_is_checked_held_out(late):
    table = intervals.table_for(profiles.get("current"))
    cov = table.coverage["platform"]
    assert cov["held_out"] == "leave-one-configuration-out" and cov["points"] == 103
    assert cov["inside"] >= 75.0 and cov["median_half_width"] < 15.0 and cov["mape"] < 10.0
    assert set(table.cells) >= {"platform+moe", "generation+moe"}


def test_validate_names_the_platform_a_row_was_scaled_to(catalog, late):
    rows = load(bundled_path("inferencemax.csv"), catalog)
    rec = validate(rows, None, catalog)
    assert {r["on_platform"] for r in rec["rows"]} == {i.row.platform for i in late.items}
    older = load(bundled_path(), catalog)[:20]
    assert all("on_platform" not in r for r in validate(older, None, catalog)["rows"])
    # the profile named: the fit alone, further off than each platform's numbers
    named = validate(rows, profiles.get("current"), catalog)
    assert all("on_platform" not in r for r in named["rows"])
    assert named["mape"] > 2 * rec["mape"]


@pytest.mark.parametrize(
    ("table", "fragment", "key"),
    [
        ('[p.platforms."mi300x/sglang"]\nscale = 0', "positive factor", "scale"),
        ('[p.platforms."mi300x/sglang"]\nscale = 2', "expected overhead_per_step", "overhead"),
        (
            '[p.platforms."mi300x/sglang"]\nscale = 2\noverhead_per_step = "1 kg"',
            "time",
            "overhead",
        ),
        ('[p.platforms."mi300x/sglang"]\nscale = "2"', "positive factor", "scale"),
        (
            '[p.platforms."mi300x/sglang"]\nscale = 2\noverhead_per_step = "1 ms"\nsize = 1',
            "unknown platform key",
            "size",
        ),
        (
            '[p.platforms."mi300x/sglang"]\nscale = 2\noverhead_per_step = "1 ms"\nrows = -1',
            "counts",
            "mi300x/sglang",
        ),
        (
            '[p.platforms."mi300x/sglang"]\nscale = 2\noverhead_per_step = "1 ms"\nmodels = "a"',
            "list of model ids",
            "models",
        ),
        ("[p.platforms.mi300x]\nscale = 2", "chip/engine", "mi300x"),
        ("[p]\nplatforms = 3", "chip/engine", "platforms"),
    ],
)
def test_a_bad_platform_table_is_one_line_naming_its_key(tmp_path, table, fragment, key):
    f = tmp_path / "profiles.toml"
    f.write_text('[p]\nname = "x"\n' + table.replace("[p]\n", "") + "\n")
    with pytest.raises(InputError, match=fragment) as e:
        profiles.read(f)
    assert e.value.where == str(f) and e.value.key.startswith("p.") and key in e.value.key


def test_a_platform_table_round_trips(tmp_path):
    p = profiles.get("current")
    f = tmp_path / "profiles.toml"
    f.write_text(p.to_toml())
    again = profiles.read(f)["current"]
    assert again.platforms == p.platforms and again.efficiency == p.efficiency


def test_no_profile_is_loaded_scaled():
    assert Efficiency().step_scale == 1.0
    for pid, p in profiles.load().items():
        assert p.efficiency.step_scale == 1.0 and not p.on, pid  # only on_platform scales


@pytest.fixture(scope="module")
def late_answer():
    """DeepSeek-V3 on MI300X or H200 under SGLang 0.5.6, sized at the 90% slow end."""
    from designer.optimize.problem import load_problem
    from designer.optimize.solve import solve

    sets = {
        "workload.model": "deepseek-v3",
        "workload.context_tokens": 1383,
        "sla.tokens_per_s_per_user": 30,
        "sla.concurrent_users": 256,
        "sla.confidence": 0.9,
        "space.chips": ["mi300x", "h200"],
        "efficiency.engine": "sglang",
        "efficiency.engine_version": "0.5.6",
    }
    p = load_problem(QUICKSTART, sets)
    return p, solve(p).record


def test_a_fleet_on_measured_platforms_is_sized_with_their_numbers(late_answer):
    """Brute force over the batch (`largest_sized_batch`): each column's is the largest whose
    rate under the platform's numbers, divided by its platform interval's slow end, meets the
    target; the answer names the platform behind every chip's numbers."""
    p, rec = late_answer
    assert rec["status"] == "optimal" and rec["recheck"] == "passed"
    assert {row["chip"] for row in rec["fleet"]} <= {"mi300x", "h200"}
    for chip in {row["chip"] for row in rec["fleet"]}:
        assert rec["profiles"][chip]["on_platform"]["platform"] == f"{chip}/sglang"
    current = profiles.get("current")
    for row in rec["fleet"]:
        mine = dict(current.platforms)[f"{row['chip']}/sglang"]
        assert profiles.workload_for(p, row["chip"]).efficiency == mine.applied(current.efficiency)
        batch = largest_sized_batch(p, row, 0.9)
        assert row["capacity_users"] == row["replicas"] * row["pp"] * batch
        assert row["interval"]["domain"].startswith("platform+moe")


def test_the_catalog_shows_each_measured_platforms_numbers(capsys):
    assert main(["catalog", "show", "profiles", "current"]) == 0
    shown = json.loads(capsys.readouterr().out)["platforms"]
    p = profiles.get("current")
    assert shown == {k: on.describe() for k, on in p.platforms}
    assert shown["mi325x/sglang"]["overhead_per_step_s"] > 10 * p.efficiency.overhead_per_step
    assert main(["catalog", "show", "profiles", "generic"]) == 0
    assert "platforms" not in json.loads(capsys.readouterr().out)


def test_borrowing_numbers_is_checked_against_the_fit_alone(load_script, catalog):
    """scripts/platform_donors.py: with no donors it is the generation's leave-one-platform-out
    cross-validation; a platform with donors is predicted with their numbers, one without keeps
    the fit alone."""
    from designer.calibration.calibrate import cross_validate

    rows = load(bundled_path("inferencemax.csv"), catalog)
    measured, predicted, plat = load_script("platform_donors").borrowed(
        bundled_path("inferencemax.csv")
    )
    cv = cross_validate(rows, catalog, "platform")
    np.testing.assert_allclose(predicted["none"], cv.errors.predicted_ms, rtol=1e-12)
    np.testing.assert_allclose(measured, cv.errors.measured_ms)
    trt = plat == "b200/tensorrt-llm"  # the only TensorRT-LLM platform: no engine donor
    np.testing.assert_allclose(predicted["engine"][trt], predicted["none"][trt], rtol=1e-12)
    mi300x = plat == "mi300x/sglang"  # MI325X and MI355X SGLang lend theirs
    assert np.all(predicted["engine and vendor"][mi300x] > 1.2 * predicted["none"][mi300x])


def test_numbers_across_publications_are_checked_as_the_intervals_hold_them_out(
    load_script, catalog
):
    """scripts/platform_numbers_by_source.py: its first prediction is the interval table's
    held-out one (`intervals.held_out`); a row takes its platform's numbers only from at least
    three rows of other publications, never at the limit."""
    script = load_script("platform_numbers_by_source")
    measured, base, numbers, plat = script.by_source(bundled_path())
    rows = load(bundled_path(), catalog)
    res = intervals.held_out(rows, catalog)
    np.testing.assert_allclose(base, res.predicted_ms, rtol=1e-12)
    np.testing.assert_allclose(measured, res.measured_ms)
    took = base != numbers
    source = np.array([r.source for r in rows])
    limit = np.array([str(k).startswith("limit") for k in res.kind])
    for k in np.flatnonzero(took):
        assert ((plat == plat[k]) & (source != source[k])).sum() >= script.MIN_PEERS
    assert not (took & limit).any() and took.any()

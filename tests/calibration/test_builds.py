"""An engine build outside the builds a profile's rows state is an extrapolation (`build`):
profiles record the range (`measured_builds`), answers the build they name (`asked`), and the
interval widens and names it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from designer.calibration import engines, intervals, profiles
from designer.calibration.measurements import bundled_path, load
from designer.calibration.validate import default, validate
from designer.interface.cli import main

EVALUATE = [
    "evaluate", "--model", "llama3.1-70b", "--chip", "h200", "--tp", "4", "--batch", "8",
    "--context", "2048", "--json",
]  # fmt: skip


def test_every_calibrated_profile_records_the_builds_its_rows_state(catalog):
    for pid, p in profiles.load().items():
        if not p.calibrated:
            continue
        assert p.measured_builds, pid
        for engine, oldest, newest in p.measured_builds:
            assert engines.parse_version(oldest) <= engines.parse_version(newest), pid
            assert engine in profiles.engines() or engine == "lmdeploy", pid
    late = load(bundled_path("inferencemax.csv"), catalog)
    stated = engines.stated_builds(late, strict=False)
    assert {e: (o, n) for e, o, n in profiles.get("current").measured_builds} == stated
    assert stated["sglang"] == ("0.5.5", "0.5.7")


def test_stated_builds_strict_leaves_out_an_engine_with_an_unstated_row():
    from types import SimpleNamespace as R

    rows = [R(engine="vllm", software="vLLM 0.8.4"), R(engine="vllm", software="vLLM")]
    assert engines.stated_builds(rows) == {}
    assert engines.stated_builds(rows, strict=False) == {"vllm": ("0.8.4", "0.8.4")}


@pytest.mark.parametrize(
    ("pid", "engine", "version", "side"),
    [
        ("generic-sglang", "sglang", "0.4.3", 0),  # a build its rows state
        ("generic-sglang", "sglang", "0.5.0", 1),  # between the generations
        ("generic-sglang", "sglang", "0.4.0", -1),  # older than its rows
        ("current", "sglang", "0.5.6", 0),
        ("current", "sglang", "0.6.0", 1),  # later than its rows
        ("current", "tensorrt-llm", "1.2.0", 0),  # 1.2.0rc2 is 1.2.0
        ("generic-sglang", "tgi", "3.0", 0),  # no stated build of that engine: not judged
        ("limit", "sglang", "0.9.0", 0),  # the hardware limit is no build
    ],
)
def test_a_build_outside_the_rows_is_named(pid, engine, version, side):
    p = profiles.asking(profiles.get(pid), engine, version)
    assert p.asked == (engine, version) and p.build_side() == side
    assert p.build_outside() is (side != 0)
    assert not profiles.get(pid).build_outside()  # no build named: nothing to judge
    assert profiles.asking(profiles.get(pid), engine, None) == profiles.get(pid)


def test_an_answer_naming_a_build_outside_is_widened_at_one_end(capsys, monkeypatch):
    """A later build than the profile's rows widens the fast end only, an earlier one the slow
    end only; the nominal is the profile's either way."""

    def answer(version):
        assert main([*EVALUATE, "--engine", "sglang", "--engine-version", version]) == 0
        return json.loads(capsys.readouterr().out)

    inside, later, earlier = answer("0.4.3"), answer("0.5.0"), answer("0.4.0")
    assert {r["profile"]["name"] for r in (inside, later, earlier)} == {"generic-sglang"}
    assert "build" not in inside["interval"]["extrapolated"]
    for rec in (later, earlier):
        assert "build" in rec["interval"]["extrapolated"]
        assert rec["metrics"]["step_time_s"] == inside["metrics"]["step_time_s"]
    i, la, ea = (r["interval"] for r in (inside, later, earlier))
    assert la["step_time_low_s"] == pytest.approx(i["step_time_low_s"] / intervals.WIDEN)
    assert la["step_time_high_s"] == pytest.approx(i["step_time_high_s"])
    assert ea["step_time_low_s"] == pytest.approx(i["step_time_low_s"])
    assert ea["step_time_high_s"] == pytest.approx(i["step_time_high_s"] * intervals.WIDEN)
    assert la["tokens_per_s_per_user_high"] == pytest.approx(
        i["tokens_per_s_per_user_high"] * intervals.WIDEN
    )
    n = len(i["extrapolated"])
    assert i["widened"] == {"fast": n, "slow": n}
    assert la["widened"] == {"fast": n + 1, "slow": n}
    assert ea["widened"] == {"fast": n, "slow": n + 1}
    # and the text answer says which end
    monkeypatch.setenv("COLUMNS", "300")
    assert main([*EVALUATE[:-1], "--engine", "sglang", "--engine-version", "0.5.0"]) == 0
    assert "extrapolated: build (later: fast end))" in capsys.readouterr().out
    # a profile named with the build: judged the same way
    named = ["--profile", "generic-sglang", "--engine", "sglang", "--engine-version", "0.5.0"]
    assert main([*EVALUATE, *named]) == 0
    assert "build" in json.loads(capsys.readouterr().out)["interval"]["extrapolated"]


def test_a_problem_naming_an_earlier_build_is_sized_at_its_wider_slow_end(catalog):
    """`--confidence` sizes at the slow end: widened for an earlier build, not for a later one
    (`intervals.widenings`)."""
    from designer.optimize.problem import load_problem

    sets = {"space.chips": ["h200"], "efficiency.engine": "sglang", "sla.confidence": 0.9}
    problems = [
        load_problem("problems/quickstart.toml", {**sets, "efficiency.engine_version": v})
        for v in ("0.4.0", "0.4.3", "0.5.0")
    ]
    asked = [profiles.for_problem(p, "h200") for p in problems]
    assert [p.build_side() for p in asked] == [-1, 0, 1]
    wl = profiles.workload_for(problems[1], "h200")
    b = np.arange(1, 65)
    earlier, tight, later = (
        intervals.slow_factor(p, wl, "h200", 4, 1, 1, "tp", b, 0.9) for p in asked
    )
    np.testing.assert_allclose(earlier, tight * intervals.WIDEN, rtol=1e-12)
    np.testing.assert_allclose(later, tight, rtol=1e-12)


def test_validate_judges_each_row_by_the_build_it_states(catalog):
    """Late-build rows under an older profile named are an extrapolation in `build` (their
    interval widened once, at the fast end), the older rows under their defaults are not."""
    late = load(bundled_path("inferencemax.csv"), catalog)[:10]
    rec = validate(late, profiles.get("generic"), catalog)
    plain = profiles.get("generic")
    for r, row in zip(late, rec["rows"], strict=True):
        item = intervals.table_for(plain)
        p = profiles.asking(plain, r.engine, r.version)
        assert p.build_outside(), r.id
        _, dims = intervals.domain(
            p, item, _decode(r, catalog), r.chip, r.tp, r.pp, r.ep, r.attention, r.batch
        )
        assert "build" in dims
        assert intervals.widenings(p, dims) == (len(dims), len(dims) - 1)
        assert row["high_ms"] > row["predicted_ms"] > row["low_ms"]
    # every older row's build is among those its default profile was fitted on
    older = load(bundled_path(), catalog)
    assert sum(r.version is not None for r in older) > 100
    assert not any(default(catalog, r).build_outside() for r in older)


def _decode(row, catalog):
    from designer.calibration.measurements import prepare

    return prepare([row], catalog)[0].decode


def test_a_build_range_round_trips(tmp_path):
    p = profiles.get("generic")
    f = tmp_path / "profiles.toml"
    f.write_text(p.to_toml())
    assert profiles.read(f)["generic"].measured_builds == p.measured_builds


BETWEEN = bundled_path("held_out/between_generations.csv")


def test_the_rows_between_the_generations_fall_inside_their_intervals(catalog):
    """catalogs/measurements/held_out/between_generations.csv, fitted by no profile: published
    rows of builds between the generations (vLLM 0.11.1 RC on MI300X, SGLang 0.5.1.post3 on
    B200 and H100). Under their chips' defaults each is an older profile's answer, named
    extrapolated in `build` where that profile states builds of the row's engine (all later,
    so only the fast end widens), and each measured step falls inside its interval."""
    rows = load(BETWEEN, catalog)
    assert len(rows) == 36
    assert all(r.version and profiles.for_build(r.engine, r.version) is None for r in rows)
    used = [default(catalog, r) for r in rows]
    assert [p.build_side() for p in used].count(1) == 34  # H100 SGLang: not judged
    assert {p.build_side() for p in used} == {0, 1}
    rec = validate(rows, None, catalog)
    assert all(x["low_ms"] <= x["measured_ms"] <= x["high_ms"] for x in rec["rows"])
    profiles_toml = (BETWEEN.parents[2] / "profiles.toml").read_text(encoding="utf-8")
    assert "between_generations" not in profiles_toml


def test_a_later_build_ran_the_same_configuration_at_most_7_percent_slower(catalog):
    """Why a later build widens only the fast end (`intervals.widenings`): where the data
    measure one configuration on two builds, the later build is faster or at most 7% slower.
    The MI300X vLLM latency table of January 2025 (the MI300X rows of cal-277 … cal-340, image
    rocm/vllm-dev:20250112) against vLLM 0.11.1 RC
    (bg-01 … bg-32), and vLLM 0.10.1 (cal-31) against 0.11.1 (bg-01)."""
    by_id = {r.id: r for r in [*load(bundled_path(), catalog), *load(BETWEEN, catalog)]}
    jan = [by_id[f"cal-{k}"] for k in (*range(277, 293), *range(309, 325))]
    nov = [by_id[f"bg-{k:02d}"] for k in range(1, 33)]
    same = ("chip", "model", "tp", "batch", "input_tokens", "output_tokens", "weight_dtype")
    for a, b in zip(jan, nov, strict=True):
        assert [getattr(a, k) for k in same] == [getattr(b, k) for k in same]
    ratio = np.array([b.measured_ms / a.measured_ms for a, b in zip(jan, nov, strict=True)])
    assert (ratio < 1).sum() == 28 and ratio.max() < 1.07
    assert by_id["bg-01"].measured_ms / by_id["cal-31"].measured_ms < 1.07


def test_the_ways_to_answer_between_the_generations_are_checked_as_answers_are(
    load_script, catalog
):
    """scripts/between_generations.py: `older` is what `validate --profile default` answers;
    `generation` is the newest generation's answer for its oldest build, its slow end widened
    once (an earlier build); `bracket` lies between the two and spans both intervals."""
    measured, ways = load_script("between_generations").predicted(BETWEEN)
    rows = load(BETWEEN, catalog)
    rec = validate(rows, None, catalog)["rows"]
    np.testing.assert_allclose(measured, [x["measured_ms"] for x in rec])
    (po, lo_o, hi_o), (pg, lo_g, hi_g), (pb, lo_b, hi_b) = (ways[k] for k in ways)
    np.testing.assert_allclose(po, [x["predicted_ms"] for x in rec], rtol=1e-12)
    np.testing.assert_allclose(hi_o, [x["high_ms"] for x in rec], rtol=1e-12)
    # off its measured platforms the generation answers with its fit alone, as when named
    alone = validate(rows, profiles.get("current"), catalog)["rows"]
    own = [f"{r.chip}/{r.engine}" in dict(profiles.get("current").platforms) for r in rows]
    assert 0 < sum(own) < len(rows)
    for x, p, on in zip(alone, pg, own, strict=True):
        assert on or p == pytest.approx(x["predicted_ms"], rel=1e-12)
    assert np.all((np.minimum(po, pg) <= pb) & (pb <= np.maximum(po, pg)))
    assert np.all((lo_b <= np.minimum(lo_o, lo_g)) & (hi_b >= np.maximum(hi_o, hi_g)))
    assert np.all(pg < po)  # the newest generation is the faster

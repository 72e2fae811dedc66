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
    ("pid", "engine", "version", "outside"),
    [
        ("generic-sglang", "sglang", "0.4.3", False),  # a build its rows state
        ("generic-sglang", "sglang", "0.5.0", True),  # between the generations
        ("generic-sglang", "sglang", "0.4.0", True),  # older than its rows
        ("current", "sglang", "0.5.6", False),
        ("current", "sglang", "0.6.0", True),  # later than its rows
        ("current", "tensorrt-llm", "1.2.0", False),  # 1.2.0rc2 is 1.2.0
        ("generic-sglang", "tgi", "3.0", False),  # no stated build of that engine: not judged
        ("limit", "sglang", "0.9.0", False),  # the hardware limit is no build
    ],
)
def test_a_build_outside_the_rows_is_named(pid, engine, version, outside):
    p = profiles.asking(profiles.get(pid), engine, version)
    assert p.asked == (engine, version) and p.build_outside() is outside
    assert not profiles.get(pid).build_outside()  # no build named: nothing to judge
    assert profiles.asking(profiles.get(pid), engine, None) == profiles.get(pid)


def test_an_answer_naming_a_build_between_the_generations_is_widened(capsys):
    assert main([*EVALUATE, "--engine", "sglang", "--engine-version", "0.4.3"]) == 0
    inside = json.loads(capsys.readouterr().out)
    assert main([*EVALUATE, "--engine", "sglang", "--engine-version", "0.5.0"]) == 0
    between = json.loads(capsys.readouterr().out)
    assert inside["profile"]["name"] == between["profile"]["name"] == "generic-sglang"
    assert "build" not in inside["interval"]["extrapolated"]
    assert "build" in between["interval"]["extrapolated"]
    assert between["metrics"]["step_time_s"] == inside["metrics"]["step_time_s"]

    def spread(rec):
        i = rec["interval"]
        return i["step_time_high_s"] / i["step_time_low_s"]

    assert spread(between) == pytest.approx(spread(inside) * intervals.WIDEN**2, rel=1e-9)
    # a profile named with the build: judged the same way
    named = ["--profile", "generic-sglang", "--engine", "sglang", "--engine-version", "0.5.0"]
    assert main([*EVALUATE, *named]) == 0
    assert "build" in json.loads(capsys.readouterr().out)["interval"]["extrapolated"]


def test_a_problem_naming_a_build_is_sized_at_its_wider_slow_end(catalog):
    from designer.optimize.problem import load_problem

    sets = {"space.chips": ["h200"], "efficiency.engine": "sglang", "sla.confidence": 0.9}
    wide = load_problem("problems/quickstart.toml", {**sets, "efficiency.engine_version": "0.5.0"})
    tight = load_problem("problems/quickstart.toml", {**sets, "efficiency.engine_version": "0.4.3"})
    pw, pt = (profiles.for_problem(p, "h200") for p in (wide, tight))
    assert pw.build_outside() and not pt.build_outside()
    wl = profiles.workload_for(tight, "h200")
    b = np.arange(1, 65)
    fw, ft = (intervals.slow_factor(p, wl, "h200", 4, 1, 1, "tp", b, 0.9) for p in (pw, pt))
    np.testing.assert_allclose(fw, ft * intervals.WIDEN, rtol=1e-12)


def test_validate_judges_each_row_by_the_build_it_states(catalog):
    """Late-build rows under an older profile named are an extrapolation in `build` (their
    interval widened once), the older rows under their defaults are not."""
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

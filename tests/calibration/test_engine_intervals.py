"""scripts/engine_intervals.py: the intervals answers naming an engine print, against that
engine's platforms held out within the engine."""

from __future__ import annotations

import dataclasses

import numpy as np

from designer.calibration import profiles
from designer.calibration.calibrate import cross_validate
from designer.calibration.measurements import bundled_path, load
from designer.calibration.validate import validate


def test_each_engine_profile_is_checked_on_its_platforms_held_out(load_script, catalog):
    checked = load_script("engine_intervals").checked(bundled_path())
    rows = load(bundled_path(), catalog)
    cv = cross_validate(rows, catalog, "platform", within="engine")
    engines = {p.removeprefix("generic-") for p in profiles.load() if p.startswith("generic-")}
    assert set(checked) == engines
    for engine, c in checked.items():
        ks = [k for k, r in enumerate(rows) if r.engine == engine]
        np.testing.assert_allclose(c["held_out_ms"], cv.errors.predicted_ms[ks], rtol=1e-12)
        np.testing.assert_allclose(c["measured_ms"], [rows[k].measured_ms for k in ks])
        assert np.all(c["fast"] < 1.0) and np.all(c["slow"] > 1.0)
        # the ends are those of the interval the engine's profile prints for the row
        first = validate([rows[ks[0]]], profiles.get(f"generic-{engine}"), catalog)["rows"][0]
        assert c["slow"][0] == first["high_ms"] / first["predicted_ms"]


def test_a_factor_is_the_smallest_that_puts_four_in_five_inside_every_platform_alike(
    load_script,
):
    script = load_script("engine_intervals")
    platform = np.array(["a"] * 5 + ["b"] * 5)
    fast, slow = np.full(10, 0.9), np.full(10, 1.1)
    ratio = np.array([1.0, 1.0, 1.0, 1.0, 1.3] + [1.0] * 4 + [1.2])
    assert script.choose(ratio, fast, slow, platform) == 1.0  # 4 of 5 of each inside
    ratio[3] = 1.25
    # at 1.00 and 1.05 a holds 3 of 5, b 4 of 5 (mean 70%); at 1.10 (slow end 1.21) b holds
    # all 5, a still 3: the mean of the platforms' shares reaches 80%
    assert script.choose(ratio, fast, slow, platform) == 1.1
    c = {"measured_ms": ratio, "held_out_ms": np.ones(10), "fast": fast, "slow": slow}
    c["platform"] = platform
    # b's rows as predicted without a: as held out; a's, without b: none can be (NaN)
    nested = {"a": np.r_[np.full(5, np.nan), np.ones(5)], "b": np.full(10, np.nan)}
    got = script.factor_check(c, nested)
    # a is judged at the factor b's rows choose (1.0: 80% of b inside), so a's two far rows
    # fall outside; b, with no row of a predicted without it, is not judged
    assert got["inside"][:5].tolist() == [True, True, True, False, False]
    assert got["judged"].tolist() == [True] * 5 + [False] * 5


def test_the_remedies_judge_each_platform_by_fits_that_never_saw_it(load_script, catalog):
    """`double_nested`: moving one platform's measurements leaves every prediction made for
    judging it (the other platforms' rows, predicted without it) as it was."""
    script = load_script("engine_intervals")
    rows = [r for r in load(bundled_path(), catalog) if r.engine == "tensorrt-llm"]
    before = script.double_nested(rows, catalog)
    moved = [
        dataclasses.replace(r, measured_ms=r.measured_ms * 2.0)
        if r.platform == "h200/tensorrt-llm"
        else r
        for r in rows
    ]
    after = script.double_nested(moved, catalog)
    np.testing.assert_allclose(after["h200/tensorrt-llm"], before["h200/tensorrt-llm"], rtol=1e-9)
    assert not np.allclose(
        after["h100-sxm/tensorrt-llm"], before["h100-sxm/tensorrt-llm"], equal_nan=True
    )


def test_neither_remedy_brings_vllm_to_three_in_four(load_script, catalog):
    """docs/model.md §8 ("The `--engine` gap, two more remedies") and the README quote these."""
    script = load_script("engine_intervals")
    c = script.checked(bundled_path())["vllm"]
    rows = [r for r in load(bundled_path(), catalog) if r.engine == "vllm"]
    nested = script.double_nested(rows, catalog)
    own = script.own_table_check(rows, catalog, nested, c["held_out_ms"])
    factor = script.factor_check(c, nested)
    assert own["judged"].all() and factor["judged"].all()
    assert round(own["inside"].mean() * 100, 1) == 63.3
    assert factor["factor"] == 1.1 and round(factor["inside"].mean() * 100, 1) == 60.2

"""designer/calibration/widening.py: the factor an answer outside the data widens by, measured on
the rows of the data that lie outside the other publications' data."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from designer.calibration import intervals, measurements, widening
from designer.calibration.calibrate import GROUPINGS, as_rows


@pytest.fixture(scope="module")
def held(catalog):
    rows = as_rows(measurements.load(measurements.bundled_path(), catalog), catalog)
    res = intervals.held_out(rows, catalog)
    measured, dims = widening.measure(rows, res, catalog)
    assert dims == widening.held_out_dimensions(rows, res, catalog)
    return rows, res, dims, measured


def test_the_factor_is_the_smallest_on_the_grid_that_puts_80_percent_inside():
    # ten rows with one configuration dimension, ends 0.9-1.1: eight of them sit inside at 1.0,
    # the ninth needs 1.3 / 1.1 = 1.18 (so 1.2 on the grid), the tenth far more
    ratio = np.array([1.0] * 7 + [1.05, 1.3, 5.0, 9.0])
    lo, hi = np.full(11, 0.9), np.full(11, 1.1)
    n = np.array([1] * 10 + [0])  # the last row names no dimension of the group: not counted
    fixed = np.ones(11)
    assert widening.choose(ratio, lo, hi, n, fixed) == pytest.approx(1.0)
    ratio[7] = 1.3  # now two rows of ten need a wider factor: the smaller of them decides
    assert widening.choose(ratio, lo, hi, n, fixed) == pytest.approx(1.2)
    # a row's other dimensions widen it first (1.3 is inside 1.1 * 1.5)
    other = np.array([1.0] * 7 + [intervals.WIDEN] * 4)
    assert widening.choose(ratio, lo, hi, n, other) == 1.0
    # nothing reaches 80%: the grid's largest; no row to measure it: the assumption
    assert widening.choose(np.full(11, 100.0), lo, hi, n, fixed) == widening.GRID[-1]
    assert widening.choose(ratio, lo, hi, np.zeros(11, int), fixed) == intervals.WIDEN


def test_rows_outside_the_other_publications_data_name_their_dimensions(held, catalog):
    rows, _, dims, _ = held
    by_id = {i.row.id: d for i, d in zip(rows.items, dims, strict=True)}
    source = GROUPINGS["source"]
    # the one B200 row: no other publication measured a B200
    (b200,) = [i.row.id for i in rows.items if i.row.chip == "b200"]
    assert "chip" in by_id[b200]
    # a row at a longer context than any other publication's extrapolates along it
    for i in rows.items:
        others = [j.row.decode_context for j in rows.items if source(j.row) != source(i.row)]
        assert ("context" in by_id[i.row.id]) == (i.row.decode_context > max(others))
    named = {d for x in dims for d in x}
    # the data measure these configuration dimensions; TP, PP and the attention layout no
    # held-out row extrapolates along, so they keep the assumption
    assert named & set(widening.CONFIGURATION) == {"batch", "chip", "context", "ep", "weight_dtype"}
    # every MoE row is `moe` (fewer than three MoE models), each of a model another publication
    # measured (none is `UNMEASURED_MOE`)
    assert named - set(widening.CONFIGURATION) == {widening.MOE}
    moe = [catalog.model(i.row.model).is_moe for i in rows.items]
    assert [widening.MOE in d for d in dims] == moe
    # a platform profile's row is judged by the batches of the profile its chip gets: vLLM's
    # Llama 3.1 405B rows on H100 at 128 and 256 sequences are predicted under
    # h100-sxm-tensorrt-llm, whose other publications' dense rows reach 1,024 sequences
    for i in ("cal-151", "cal-152", "cal-158", "cal-159"):
        assert "batch" not in by_id[i], i


def test_without_a_second_publication_its_data_no_longer_count(held, catalog):
    """The double nesting judges each row by the data of neither its publication nor the one
    held out: without LLM-Inference-Bench, vLLM CI's Mixtral rows are of an MoE model no other
    publication measured (`UNMEASURED_MOE`), and its chips are outside the data."""
    rows, res, dims, _ = held
    source = GROUPINGS["source"]
    names = [source(i.row) for i in rows.items]
    (bench,) = {n for n in names if "LLM-Inference-Bench" in n}
    without = widening.held_out_dimensions(rows, res, catalog, frozenset([bench]))
    ci = [
        k for k, i in enumerate(rows.items) if i.row.model == "mixtral-8x7b" and names[k] != bench
    ]
    assert ci and all(widening.MOE in dims[k] for k in ci)
    assert all(widening.UNMEASURED_MOE in without[k] for k in ci)
    assert all(without[k] == [] for k, n in enumerate(names) if n == bench)


def test_the_shipped_factors_and_the_double_nested_check(held):
    _, res, dims, m = held
    shipped = intervals.shipped()
    assert shipped.widen == m.widths()
    assert [f.group for f in m.factors] == [g for g, _ in widening.GROUPS]
    per, other = widening.counts(dims)
    for f in m.factors:
        assert set(f.without) == set(res.group)  # one factor chosen without each publication
        assert all(w in widening.GRID for w in f.without.values())
        # below the assumption: the rows outside the other publications' data missed by less
        # than 1.5 per dimension, and 80% of them fit inside the measured factor
        assert 1.0 < f.factor < intervals.WIDEN
        assert f.rows == int((per[f.group] > 0).sum()) and f.publications >= 3
        # adopted: its rows, each at the factor chosen without its publication, reach ADOPT
        assert f.adopted and f.inside >= 100 * widening.ADOPT
        assert shipped.coverage[widening.COVERAGE[f.group]]["points"] == f.rows
    w = widening.nested(res, dims, m)
    none = (sum(per.values()) == 0) & (other == 0)
    assert none.any() and np.all(w[none] == 1.0)
    # an MoE row only: the family's factor chosen without its publication
    (moe,) = [f for f in m.factors if f.group == widening.MOE]
    only = (per["configuration"] == 0) & (per[widening.MOE] == 1) & (other == 0)
    expected = [moe.without[str(g)] for g in res.group[only]]
    np.testing.assert_allclose(w[only], expected)


def test_a_factor_under_the_adoption_bar_is_not_used(held):
    _, res, dims, m = held
    config = dataclasses.replace(m.factors[0], inside=100 * widening.ADOPT - 0.1, adopted=False)
    assert config.used() == config.used(str(res.group[0])) == intervals.WIDEN
    kept = widening.Measured((config, m.factors[1]))
    assert kept.widths() == {widening.MOE: m.factors[1].factor}


def test_an_moe_model_no_other_publication_measured_keeps_the_assumption():
    """`UNMEASURED_MOE` counts among the other dimensions: `intervals.WIDEN`, never measured."""
    per, other = widening.counts([[widening.UNMEASURED_MOE], [widening.MOE, "batch"]])
    assert list(other) == [1, 0]
    assert list(per[widening.MOE]) == [0, 1] and list(per["configuration"]) == [0, 1]


def test_each_dimension_widens_by_its_own_factor_and_a_build_one_end():
    ranges = {intervals.MEASURED_MOE: ["m"], intervals.MEASURED_PROFILES: ["p"]}
    t = intervals.Table({}, {}, ranges, {}, {"batch": 1.2, "chip": 1.2})
    p = SimpleNamespace(id="p")
    later = SimpleNamespace(id="p", build_side=lambda: 1)  # a build later than the profile's rows
    earlier = SimpleNamespace(id="p", build_side=lambda: -1)
    w = intervals.WIDEN
    assert intervals.factors(p, t, []) == (1.0, 1.0)
    assert intervals.factors(p, t, ["batch", "moe"]) == pytest.approx((1.2 * w, 1.2 * w))
    # the family's measured factor holds for a model the data measured only
    t = intervals.Table({}, {}, ranges, {}, {"moe": 1.1})
    assert intervals.factors(p, t, ["moe"], "m") == pytest.approx((1.1, 1.1))
    assert intervals.factors(p, t, ["moe"], "other") == pytest.approx((w, w))
    t = intervals.Table({}, {}, ranges, {}, {"batch": 1.2, "chip": 1.2})
    # a build outside the profile's rows: the measured factors do not hold (their base was the
    # rows' builds), every dimension keeps the assumption; the build widens one end
    assert intervals.factors(later, t, ["chip", "build"]) == pytest.approx((w * w, w))
    assert intervals.factors(earlier, t, ["chip", "build"]) == pytest.approx((w, w * w))
    # the counts an answer's JSON states are per end, whatever the factors
    assert intervals.widenings(later, ["chip", "build"]) == (2, 1)


def test_a_generations_own_table_takes_the_measured_factor():
    from designer.calibration import profiles

    current = profiles.get("current")
    assert current.intervals is not None
    assert intervals.table_for(current).widen == intervals.shipped().widen


def test_only_answers_on_the_measured_base_take_the_measured_factors():
    """The factors were measured on the held-out residuals of the data chips' defaults and
    `generic`, on the builds their rows state: an `--engine` profile, another chip's profile or
    a build outside the rows keeps the assumption for every dimension."""
    from designer.calibration import profiles

    t = intervals.shipped()
    w = intervals.WIDEN
    assert set(t.ranges[intervals.MEASURED_PROFILES]) == {
        "generic",
        "h100-sxm-tensorrt-llm",
        "mi300x-vllm",
    }
    c = t.factor("chip")
    assert c < w
    assert intervals.factors(profiles.get("generic"), t, ["chip"]) == pytest.approx((c, c))
    assert intervals.factors(profiles.get("generic-vllm"), t, ["chip"]) == pytest.approx((w, w))
    own = profiles.get("h100-sxm-tensorrt-llm")
    assert t.measured_for(own, ["batch"]) and not t.measured_for(own, ["batch", "profile"])
    later = SimpleNamespace(id="generic", build_side=lambda: 1)
    assert intervals.factors(later, t, ["chip", "build"]) == pytest.approx((w * w, w))
    # a generation judged by its own table takes them (its answers' base is its own residuals)
    assert t.measured_for(profiles.get("current"), ["context"])


def test_slow_factor_keeps_the_assumption_under_an_engine_profile(catalog):
    from designer.calibration import profiles
    from designer.model.assumptions import Assumptions
    from designer.model.workload import Workload

    wl = Workload(catalog.model("llama3.1-70b"), 8192, assumptions=Assumptions.preset("deployment"))
    b = np.array([1280, 1281])  # the dense rows' largest batch, and one more
    f = {
        name: intervals.slow_factor(profiles.get(name), wl, "h200", 4, 1, 1, "tp", b, 0.9)
        for name in ("generic", "generic-vllm")
    }
    batch = intervals.shipped().factor("batch")
    assert f["generic"][1] == pytest.approx(f["generic"][0] * batch)
    # both judged by the same `composed` cells; beyond every batch, the engine profile's answer
    # widens by the assumption where generic's takes the measured factor
    ratio = f["generic-vllm"][1] / f["generic"][1]
    assert ratio == pytest.approx(intervals.WIDEN / batch)

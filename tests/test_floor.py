"""designer.floor: the error a data set's own spread leaves to any calibration."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer import calibrate, floor, measurements
from designer.cli import main
from designer.workload import Efficiency

DATA = str(measurements.bundled_path())


@pytest.fixture(scope="module")
def rows(catalog):
    return measurements.load(DATA, catalog)


def test_twins_are_rows_equal_in_every_input_and_measured_differently(rows):
    a = rows[0]
    twin = dataclasses.replace(a, id="x-1", source_url="https://elsewhere", measured_ms=50.0)
    same = dataclasses.replace(a, id="x-2", source_url="https://elsewhere")  # same number
    other = dataclasses.replace(a, id="x-3", batch=a.batch + 1, measured_ms=50.0)  # an input
    first = dataclasses.replace(a, measured_ms=100.0)
    t = floor.twins([first, twin, other])
    assert t.groups == ((a.id, "x-1"),)
    # one prediction for measurements 100 and 50: p = 50 misses 100 by 50%, the pair by 25%
    assert t.least == pytest.approx((25.0,))
    assert t.mape == pytest.approx(25.0 * 2 / 3)  # the third row can be predicted exactly
    assert floor.twins([a, same]).groups == ()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.1, 1e4), min_size=1, max_size=8), st.floats(0.01, 2e4))
def test_no_single_prediction_beats_the_least_mape(measured, p):
    m = np.array(measured)
    assert floor.least_mape(m) <= np.abs(p - m).dot(1.0 / m) + 1e-9


def test_per_group_profiles_fit_data_each_group_generated(rows, catalog):
    """Two platforms measured as the model predicts under two different profiles: a profile
    per platform fits both exactly, one profile for both cannot."""
    keep = {"h100-sxm/tensorrt-llm", "a100-80gb/lmdeploy"}
    part = [r for r in rows if r.platform in keep]
    truths = {
        "h100-sxm/tensorrt-llm": Efficiency(0.8, 0.5, 20e-6, 1e-6, 10e-6, 300e-6, 0.6),
        "a100-80gb/lmdeploy": Efficiency(0.5, 0.3, 80e-6, 6e-6, 40e-6, 2e-3, 0.3),
    }
    synthetic = []
    for name, true in truths.items():
        rs = [r for r in part if r.platform == name]
        predicted = measurements.predict_all(measurements.prepare(rs, catalog), true, catalog)
        synthetic += [
            dataclasses.replace(r, measured_ms=float(p)) for r, p in zip(rs, predicted, strict=True)
        ]
    seen = []
    fit = floor.per_group(synthetic, catalog, "platform", each=lambda n, e: seen.append(n))
    assert seen == sorted(keep) and set(fit.groups) == keep and fit.exact == ()
    assert fit.errors.ids == tuple(r.id for r in synthetic)  # in the rows' order
    assert fit.errors.mape < 1e-4
    assert calibrate.fit_profile(synthetic, catalog).mape > 1.0


def test_per_group_rejects_an_unknown_grouping(rows, catalog):
    with pytest.raises(Exception, match="unknown floor grouping 'chip'"):
        floor.per_group(rows[:3], catalog, "chip")


def test_the_shipped_floor_is_below_its_single_fit(rows, catalog):
    """Finer groups fit better: twins ≤ per platform and source ≤ per platform ≤ one profile
    for all rows. The twins bound holds for any predictor; the others hold at the fits' global
    optima (finer groups are subsets of coarser ones), and the shipped margins are wide."""
    t = floor.twins(rows)
    by_source = floor.per_group(rows, catalog, "platform-source")
    by_platform = floor.per_group(rows, catalog, "platform")
    single = calibrate.fit_profile(rows, catalog)
    assert t.mape <= by_source.errors.mape <= by_platform.errors.mape <= single.mape
    assert len(by_platform.groups) == len({r.platform for r in rows})


def test_calibrate_floor_json(capsys):
    code = main(["calibrate", DATA, "--platform", "mi300x/tgi", "--floor", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rec = json.loads(out)
    assert rec["points"] == 6 and rec["twins"] == {"mape": 0.0, "groups": []}
    assert set(rec["per_group"]) == {"platform", "platform-source"}
    assert rec["per_group"]["platform"]["exact"] == ["mi300x/tgi"]  # 6 rows, 7 parameters
    assert rec["single"]["points"] == 6


def test_calibrate_floor_text_names_every_group(capsys):
    code = main(["calibrate", DATA, "--platform", "mi300x/tgi", "--floor"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "same inputs, measured differently: 0 rows in 0 groups" in out
    assert "  mi300x/tgi: MAPE" in out
    assert "one profile per platform (1 profile," in out
    assert "one profile for all rows: MAPE" in out


def test_floor_and_cross_validation_are_separate_reports(capsys):
    code = main(["calibrate", DATA, "--floor", "--cross-validate", "platform"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "--floor and --cross-validate are two reports" in err and "Traceback" not in err

"""designer.calibration.floor: the error a data set's own spread leaves to any calibration."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from designer.calibration import calibrate, floor, measurements
from designer.interface.cli import main
from designer.model.errors import InputError
from designer.model.workload import Efficiency

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


def test_per_group_profiles_fit_data_each_group_generated(rows, catalog, monkeypatch):
    """Two platforms measured as the model predicts under two different profiles: a profile
    per platform fits both exactly, one profile for both cannot (exactness is the fit's without
    the prior that holds parameters the rows do not identify: calibrate.PRIOR_WEIGHT)."""
    monkeypatch.setattr(calibrate, "PRIOR_WEIGHT", 0.0)
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
    assert fit.errors.mape < 1e-3  # percent; the two Mixtral rows of h100-sxm leave 1.2e-4
    assert calibrate.fit_profile(synthetic, catalog).mape > 1.0


def test_per_group_rejects_an_unknown_grouping(rows, catalog):
    with pytest.raises(InputError, match="unknown floor grouping 'chip'"):
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
    assert rec["hardware_oracle"] == {}  # leave-one-platform-out needs two platforms


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


def test_hardware_oracle_recovers_chips_that_differ_only_in_hardware(rows, catalog, monkeypatch):
    """Two platforms on two chips, measured as the model predicts with one serving stack's
    software times and each chip's own hardware shares. Held out, each is predicted with the
    other chip's shares and misses; each fit to the other platform alone recovers the software
    times, so with its own chip's shares fitted it is predicted exactly (without the prior,
    calibrate.PRIOR_WEIGHT, whose pull is what exactness leaves out)."""
    monkeypatch.setattr(calibrate, "PRIOR_WEIGHT", 0.0)
    software = Efficiency(1.0, 1.0, 30e-6, 2e-6, 15e-6, 400e-6, 1.0)  # shares set per chip
    shares = {"h100-sxm": (0.85, 0.6, 0.7), "mi300x": (0.5, 0.2, 0.3)}
    keep = {"h100-sxm/tensorrt-llm", "mi300x/vllm"}
    synthetic = []
    for r in (r for r in rows if r.platform in keep):
        bw, f, pf = shares[r.chip]
        true = dataclasses.replace(software, bandwidth=bw, compute=f, prefill_compute=pf)
        p = measurements.predict_all(measurements.prepare([r], catalog), true, catalog)[0]
        synthetic.append(dataclasses.replace(r, measured_ms=float(p)))
    o = floor.hardware_oracle(synthetic, catalog, within=None)
    assert o.held_out.errors.mape > 10.0
    assert o.errors.mape < 0.05  # exact to the least-squares solver's tolerance
    assert o.errors.ids == tuple(r.id for r in synthetic)
    for chip, (bw, f, pf) in shares.items():
        got = o.shares[chip]
        assert (got["bandwidth"], got["compute"], got["prefill_compute"]) == pytest.approx(
            (bw, f, pf), rel=1e-3
        )


def test_calibrate_floor_json_with_two_platforms_has_both_oracles(capsys):
    argv = ["calibrate", DATA, "--platform", "mi300x/tgi", "--platform", "a100-40gb/vllm"]
    code = main([*argv, "--floor", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    oracle = json.loads(out)["hardware_oracle"]
    assert set(oracle) == {"leave-one-platform-out", "leave-one-platform-out within engine"}
    for o in oracle.values():
        assert set(o) == {"mape", "median", "cross_validated_mape", "shares"}
        assert set(o["shares"]) == {"mi300x", "a100-40gb"}
        assert set(o["shares"]["mi300x"]) == set(floor.HARDWARE)

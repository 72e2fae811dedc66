"""80% intervals of answers (designer/calibration/intervals.py): the shipped table, its held-out
coverage,
domains, extrapolation, and where answers carry them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from designer.calibration import interval_fit, intervals, measurements, profiles
from designer.calibration.evaluate import evaluate
from designer.interface.cli import main
from designer.model.errors import InputError
from tests.contract import INTERVAL_KEYS, METRIC_KEYS

DATA = str(measurements.bundled_path())


def _evaluate(**kw):
    args = {"assumptions": "deployment", **kw}
    return evaluate(args.pop("model"), args.pop("chip"), **args)


def test_shipped_coverage_meets_the_target():
    """Leave-one-source-out, each publication's intervals from the others' residuals: at least
    75% of held-out predictions inside, median half-width at most ±40%."""
    cov = intervals.shipped().coverage["calibrated"]
    assert cov["points"] == 461
    assert cov["inside"] >= 75.0
    assert cov["median_half_width"] <= 40.0


def test_the_moe_widening_holds_for_a_moe_model_never_measured(catalog):
    """`WIDEN` for MoE answers is an assumption; the table records how it does on each MoE
    model's rows predicted as a model the data never measured (leave-one-model-out): near the
    stated 80%, where the same rows without the widening would mostly fall outside."""
    cov = intervals.shipped().coverage[intervals.UNSEEN]
    moe_rows = sum(catalog.model(r.model).is_moe for r in measurements.load(DATA, catalog))
    assert cov["points"] == moe_rows and cov["held_out"] == "leave-one-model-out"
    assert cov["inside"] >= 70.0


def test_unseen_moe_models_never_learn_from_the_model_held_out(catalog, monkeypatch):
    from designer.calibration import calibrate

    rows = calibrate.as_rows(measurements.load(DATA, catalog), catalog)
    seen = []
    fit = calibrate.fit_items

    def spy(items, cat, *a, **k):
        seen.append({i.row.model for i in items.items})
        return fit(items, cat, *a, **k)

    monkeypatch.setattr(calibrate, "fit_items", spy)
    res = intervals.held_out(rows, catalog)
    seen.clear()
    cov = intervals.unseen_moe_models(rows, res, catalog)
    assert [sorted({"deepseek-v3", "mixtral-8x7b"} - s) for s in seen] == [
        ["deepseek-v3"],
        ["mixtral-8x7b"],
    ]
    shipped = intervals.shipped().coverage[intervals.UNSEEN]
    assert cov.summary()["inside"] == pytest.approx(shipped["inside"], abs=1.0)


@pytest.fixture(scope="module")
def refitted(catalog):
    rows = measurements.load(DATA, catalog)
    return interval_fit.fit(rows, catalog)


def test_the_shipped_table_is_what_its_command_fits(refitted):
    table, cov, _ = refitted
    shipped = intervals.shipped()
    assert set(table.cells) == set(shipped.cells)
    for key, q in table.cells.items():
        assert np.allclose(q, shipped.cells[key], rtol=0.01), key
    assert table.ranges == shipped.ranges
    assert table.widen == shipped.widen  # the measured factor (`widening`) and its dimensions
    for name, s in table.coverage.items():
        assert s["inside"] == pytest.approx(shipped.coverage[name]["inside"], abs=1.0)
    # the coverage is of held-out rows: a row's interval never uses its own publication
    assert cov.summary()["inside"] == pytest.approx(table.coverage["calibrated"]["inside"])


def test_publications_weigh_the_same():
    ratio = np.array([1.0] * 99 + [2.0])
    group = np.array(["big"] * 99 + ["small"], dtype=object)
    q = intervals.weighted_quantiles(ratio, group)
    # unweighted, the 90th percentile would be 1.0; the small publication holds half the weight
    assert q[list(intervals.QUANTILES).index(0.9)] > 1.5


def test_a_sparse_cell_never_narrows_its_kind():
    t = intervals.shipped()
    base = np.array(t.cells["composed"])
    for b in (1, 8, 64, 512):
        for c in (1000, 8000, 60000):
            _, q = t.quantiles("composed", b, c)
            low = np.array(intervals.QUANTILES) < 0.5
            assert np.all(q[low] <= base[low]) and np.all(q[~low] >= base[~low])


def test_a_dense_answer_above_batch_128_takes_its_kinds_cell_there():
    """Dense rows above batch 128 are too few for a cell of their own, so a dense answer there
    is judged by every row of its kind at that batch (never narrower than its kind); at 128 and
    below it keeps the dense cells."""
    t = intervals.shipped()
    low = np.array(intervals.QUANTILES) < 0.5
    for kind in ("composed", "platform"):
        assert f"{kind}|>128" not in t.cells and f"{kind}+moe|>128" in t.cells
        cell, q = t.quantiles(kind, 512, 1000)
        base = np.array(t.cells[kind])
        assert cell.startswith(f"{kind}+moe|>128")
        assert np.all(q[low] <= base[low]) and np.all(q[~low] >= base[~low])
        assert intervals.at(q, 0.9) > intervals.at(base, 0.9)
        assert "+moe" not in t.quantiles(kind, 128, 1000)[0]


def test_an_interval_brackets_the_nominal_and_names_no_dimension_inside_the_data():
    rec = _evaluate(model="llama3.1-70b", chip="h100-sxm", tp=4, batch=32)
    m, iv = rec["metrics"], rec["interval"]
    assert set(m) >= METRIC_KEYS and set(iv) == INTERVAL_KEYS
    assert m["tokens_per_s_per_user_low"] < m["tokens_per_s_per_user"]
    assert m["tokens_per_s_per_user"] < m["tokens_per_s_per_user_high"]
    assert iv["extrapolated"] == [] and iv["domain"].startswith("platform")
    assert iv["step_time_low_s"] < m["step_time_s"] < iv["step_time_high_s"]


def test_outside_the_data_the_interval_widens_and_names_the_dimensions():
    inside = _evaluate(model="llama3.1-70b", chip="a100-80gb", tp=8, batch=16)["interval"]
    # the data hold MoE/MLA rows of one model on 8 GPUs (cal-341 ...): an MoE answer is still an
    # extrapolation (`moe`: fewer than MIN_MOE_MODELS measured), MLA is inside; no TP 16, no PP 2
    # and no GB200
    moe_in = _evaluate(model="deepseek-v3", chip="h200", tp=8, batch=16)["interval"]
    moe = _evaluate(model="deepseek-v3", chip="gb200", tp=16, pp=2, batch=16)["interval"]
    assert moe_in["extrapolated"] == ["moe"]
    assert {"moe", "tp", "pp", "chip"} == set(moe["extrapolated"])
    assert inside["extrapolated"] == []
    # under a chip's own profile too (its kind is named "platform", as a generation scaled to a
    # platform's is: only the latter measured the answer's model there, tests/calibration)
    own = _evaluate(model="deepseek-v3", chip="mi300x", tp=8, batch=16)
    assert own["profile"]["name"] == "mi300x-vllm" and own["interval"]["extrapolated"] == ["moe"]
    assert own["interval"]["widened"] == {"fast": 1, "slow": 1}
    # DeepSeek-V3 is an MoE model the data measured: its `moe` widens by the measured factor
    m = intervals.shipped().factor("moe", "deepseek-v3")
    assert 1.0 < m < intervals.WIDEN
    assert own["interval"]["widened_by"] == pytest.approx({"fast": m, "slow": m})

    def spread(iv):
        return iv["step_time_high_s"] / iv["step_time_low_s"]

    # TP 16 and PP 2: no held-out row measures them (the `WIDEN` assumption); the chip: measured
    # (`widening`, the shipped `[widen_measured]`), at both ends each; `moe` widens both
    t = intervals.shipped()
    assert t.factor("tp") == t.factor("pp") == intervals.WIDEN
    assert 1.0 < t.factor("chip") < intervals.WIDEN
    more = (intervals.WIDEN**2 * t.factor("chip")) ** 2
    assert spread(moe) == pytest.approx(spread(moe_in) * more, rel=1e-9)
    by = intervals.WIDEN**2 * t.factor("chip") * m  # tp, pp, the chip and moe
    assert moe["widened_by"] == pytest.approx({"fast": by, "slow": by})
    # an MoE model the data never measured keeps the assumption for `moe`
    assert t.factor("moe", "qwen3-235b-a22b") == t.factor("moe") == intervals.WIDEN
    big = _evaluate(model="llama3.1-70b", chip="h100-sxm", tp=16, pp=2, batch=4096)["interval"]
    assert {"tp", "pp", "batch"} <= set(big["extrapolated"])


def test_a_profile_of_another_chip_is_not_a_platform_profile():
    h100 = profiles.get("h100-sxm-tensorrt-llm")
    assert intervals.kind_of(h100, "h100-sxm") == ("platform", [])
    assert intervals.kind_of(h100, "h200") == ("composed", ["profile"])
    assert intervals.kind_of(profiles.get("generic"), "h200") == ("composed", [])
    assert intervals.kind_of(profiles.LIMIT_PROFILE, "h200") == ("limit", [])


def test_slow_factor_is_non_decreasing_in_the_batch(catalog):
    from designer.model.assumptions import Assumptions
    from designer.model.workload import Workload

    wl = Workload(catalog.model("llama3.1-70b"), 8192, assumptions=Assumptions.preset("deployment"))
    b = np.arange(1, 4000)  # the dense rows' largest batch is 1,280
    f = intervals.slow_factor(profiles.get("generic"), wl, "h100-sxm", 4, 1, 1, "tp", b, 0.9)
    assert np.all(np.diff(f) >= 0)
    assert f[-1] > f[0]  # beyond the largest measured batch it widens
    # batch 1,281 against 1,280: the batch's measured factor (`widening`)
    assert f[1280] == pytest.approx(f[1279] * intervals.shipped().factor("batch"))


def test_the_batch_extrapolates_beyond_the_largest_batch_of_the_answers_family(catalog):
    """The dense rows stop at 1,280 sequences (cal-124), the MoE rows at 3,072: a dense answer
    at 2,048 extrapolates (`batch`, widened once at each end) though MoE rows measured more; an
    MoE answer there does not add `batch`."""
    rows = measurements.load(DATA, catalog)
    ranges = intervals.data_ranges(rows, catalog)
    dense = max(r.batch for r in rows if not catalog.model(r.model).is_moe)
    moe = max(r.batch for r in rows if catalog.model(r.model).is_moe)
    assert (ranges["dense_batch"], ranges["moe_batch"], ranges["batch"]) == (dense, moe, moe)
    assert intervals.table_for(profiles.get("generic")).ranges["dense_batch"] == dense < moe
    at = {b: _evaluate(model="llama3.1-8b", chip="b200", tp=1, batch=b) for b in (dense, 2048)}
    assert at[dense]["interval"]["extrapolated"] == []
    assert at[2048]["interval"]["extrapolated"] == ["batch"]
    assert at[2048]["interval"]["widened"] == {"fast": 1, "slow": 1}
    big_moe = _evaluate(model="deepseek-v3", chip="h200", tp=8, ep=8, attention="dp", batch=2048)
    assert "batch" not in big_moe["interval"]["extrapolated"]
    # a table without per-family ranges (an older intervals file) uses its one largest batch
    assert intervals.largest_batch({"batch": 3072}, moe=False) == 3072
    assert intervals.largest_batch({}, moe=True) == np.inf


def test_validate_json_rows_carry_intervals_and_default_profiles(capsys):
    assert main(["validate", DATA, "--profile", "default", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["profile"] == "default"
    by_id = {r["id"]: r for r in rec["rows"]}
    rows = {r.id: r for r in measurements.load(DATA)}
    for i, r in by_id.items():
        assert r["low_ms"] < r["predicted_ms"] < r["high_ms"]
        want = {"mi300x": "mi300x-vllm", "h100-sxm": "h100-sxm-tensorrt-llm"}
        assert r["profile"] == want.get(rows[i].chip, "generic")
        # inside the data but for the model family: an MoE row names `moe`, widened by the
        # factor measured for a model the data measured
        moe = intervals.shipped().factor("moe", rows[i].model)
        if rows[i].model in ("deepseek-v3", "mixtral-8x7b"):
            assert r["extrapolated"] == ["moe"]
            assert r["widened_by"] == pytest.approx({"fast": moe, "slow": moe})
        else:
            assert r["extrapolated"] == [] and r["widened_by"] == {"fast": 1.0, "slow": 1.0}
    # the width the target is on: the median of (high − low) / 2 over the prediction
    half = [(r["high_ms"] - r["low_ms"]) / 2 / r["predicted_ms"] * 100 for r in rec["rows"]]
    assert rec["median_half_width"] == pytest.approx(float(np.median(half)), rel=1e-12)
    # per domain: every row in one, answers outside the data apart from those inside it
    doms = rec["domains"]
    assert sum(d["points"] for d in doms.values()) == len(rec["rows"])
    assert {"composed", "platform", "composed+moe (extrapolated)"} <= set(doms)
    assert all(0.0 <= d["inside"] <= 100.0 and d["median_half_width"] > 0 for d in doms.values())
    total = sum(d["inside"] * d["points"] for d in doms.values()) / len(rec["rows"])
    assert total == pytest.approx(rec["inside"], rel=1e-12)
    assert main(["validate", DATA, "--profile", "generic", "--json"]) == 0
    generic = json.loads(capsys.readouterr().out)
    assert generic["mape"] > rec["mape"]  # own profiles where a chip has them


def test_the_attention_column_is_read_and_checked(tmp_path, catalog):
    header = ",".join(measurements.COLUMNS) + ",attention"
    row = {
        "id": "x",
        "source_url": "https://example.org",
        "chip": "h100-sxm",
        "engine": "vllm",
        "catalog_model": "llama3.1-8b",
        "weight_dtype": "bf16",
        "kv_dtype": "",
        "tp": "2",
        "pp": "1",
        "batch": "8",
        "input_tokens": "128",
        "output_tokens": "128",
        "ms_per_output_token": "7",
        "measure": "itl",
    }
    path = tmp_path / "m.csv"
    path.write_text(header + "\n" + ",".join(row[c] for c in measurements.COLUMNS) + ",dp\n")
    (r,) = measurements.load(path, catalog)
    assert r.attention == "dp"
    tp = measurements.Measurement(**{**r.__dict__, "attention": "tp"})
    a, b = (
        measurements.predict_all(
            measurements.prepare([x], catalog), profiles.get("generic").efficiency, catalog
        )
        for x in (r, tp)
    )
    assert a[0] != b[0]  # the layout reaches the prediction
    path.write_text(header + "\n" + ",".join(row[c] for c in measurements.COLUMNS) + ",ep\n")
    with pytest.raises(InputError, match="attention"):
        measurements.load(path, catalog)


# ---- design with margin ----------------------------------------------------------------------
QUICKSTART = "problems/quickstart.toml"


@pytest.fixture(scope="module")
def margin_answer():
    from designer.optimize.problem import load_problem
    from designer.optimize.solve import solve

    p = load_problem(QUICKSTART, {"sla.confidence": 0.9, "space.chips": ["h100-sxm", "h200"]})
    return p, solve(p).record


def test_confidence_sizes_for_the_slow_end_and_shows_the_margin(margin_answer):
    p, rec = margin_answer
    target = p.classes[0].target_utps
    for row in rec["fleet"]:
        assert row["guaranteed_tokens_per_s_per_user"] >= target * (1 - 1e-9)
        assert row["guaranteed_tokens_per_s_per_user"] < row["tokens_per_s_per_user"]
    m = rec["margin"]
    assert set(m) == {"confidence", "nominal", "guaranteed", "cost", "cost_ratio"}
    assert m["guaranteed"]["objective"] == rec["objective"]["value"]
    assert m["cost"] == pytest.approx(m["guaranteed"]["objective"] - m["nominal"]["objective"])
    assert m["cost"] > 0  # the margin is not free on these chips
    assert rec["inputs"]["classes"][0]["confidence"] == 0.9


def largest_sized_batch(p, row: dict, confidence: float) -> int:
    """Brute force over every batch: the largest at which the fleet row's design, on its chip's
    workload and profile, meets the first class's rate divided by the slow-end factor."""
    from designer.model.perf import ChipArrays, evaluate_arrays

    wl = profiles.workload_for(p, row["chip"])
    prof = profiles.for_problem(p, row["chip"])
    hw = ChipArrays.build(p.catalog, [row["chip"]], wl.compute_dtype).take(0)
    b = np.arange(1, p.max_batch + 1)
    m = evaluate_arrays(wl, hw, row["tp"], row["pp"], b, ep=row["ep"], attention=row["attention"])
    f = intervals.slow_factor(
        prof, wl, row["chip"], row["tp"], row["pp"], row["ep"], row["attention"], b, confidence
    )
    ok = (m["tokens_per_s_per_user"] / f >= p.classes[0].target_utps) & m["fits"]
    return int(b[ok].max())


def test_the_guaranteed_fleet_is_the_nominal_fleet_of_a_slower_stack(margin_answer):
    """Brute force: each column's batch is the largest whose rate, divided by the slow-end
    factor, meets the target."""
    p, rec = margin_answer
    for row in rec["fleet"]:
        batch = largest_sized_batch(p, row, 0.9)
        assert row["capacity_users"] == row["replicas"] * row["pp"] * batch


@pytest.mark.parametrize("value", ["0.99", "0.2"])
def test_a_confidence_out_of_range_is_bad_input(value, capsys):
    assert main(["solve", QUICKSTART, "--confidence", value]) == 2
    assert "--confidence" in capsys.readouterr().err
    assert main(["solve", QUICKSTART, "--set", f"sla.confidence={value}"]) == 2
    assert "sla.confidence" in capsys.readouterr().err


def test_a_rate_reachable_only_nominally_is_infeasible_with_confidence(capsys):
    argv = ["solve", "problems/fleet-three-workloads-power-cap.toml", "--json"]
    assert main([*argv, "--confidence", "0.9"]) == 3
    rec = json.loads(capsys.readouterr().out)
    assert "slow end of its interval (confidence 0.9)" in rec["explanation"]


def test_dense_answers_keep_the_dense_rows_width_and_moe_answers_take_every_rows():
    """A dense row's residual counts in its kind and in the kind's MoE family, an MoE row's in
    the MoE family only: the dense cell holds the dense rows, the MoE cell all of them."""
    res = intervals.Residuals(
        ratio=np.array([1.0, 1.1, 0.9, 2.0, 3.0]),
        kind=intervals.family("composed", np.array([False, False, False, True, True])),
        batch=np.ones(5, int),
        context=np.full(5, 1000),
        group=np.array(["a", "b", "c", "d", "e"], dtype=object),
        predicted_ms=np.ones(5),
        measured_ms=np.ones(5),
    )
    t = intervals.table_of(res)
    assert t.counts["composed"] == 3 and t.counts["composed+moe"] == 5
    assert max(t.cells["composed"]) < 1.2 < max(t.cells["composed+moe"])
    dense = _evaluate(model="llama3.1-70b", chip="h200", tp=8, batch=16)["interval"]
    moe = _evaluate(model="deepseek-v3", chip="h200", tp=8, batch=16)["interval"]
    assert "+moe" not in dense["domain"] and moe["domain"].startswith("composed+moe")


def test_a_profile_records_how_far_its_rows_reach(catalog, tmp_path):
    """`measured_ranges`: the largest batch per model family of the rows each profile was
    fitted to."""
    rows = measurements.load(DATA, catalog)
    for pid, p in profiles.load().items():
        if not p.calibrated or p.id == "current":
            continue
        mine = [r for r in rows if p.platform in ("", r.platform) and p.engine in ("", r.engine)]
        assert dict(p.measured_ranges) == measurements.measured_ranges(mine, catalog), pid
    late = measurements.load(measurements.bundled_path("inferencemax.csv"), catalog)
    reach = {"mla_batch": 128, "moe_batch": 128}  # DeepSeek-R1 (MoE, MLA) and gpt-oss (MoE)
    assert dict(profiles.get("current").measured_ranges) == reach
    assert measurements.measured_ranges(late, catalog) == reach
    f = tmp_path / "profiles.toml"
    f.write_text(profiles.get("mi300x-vllm").to_toml())
    mi = profiles.read(f)["mi300x-vllm"]
    assert mi.measured_ranges == profiles.get("mi300x-vllm").measured_ranges
    assert dict(mi.measured_ranges)["dense_batch"] == 256


def test_beyond_its_profiles_own_rows_a_batch_extrapolates(catalog):
    """mi300x-vllm's dense rows stop at 256 sequences, though other platforms measured dense
    batches up to 1,280: its answer at 384 is named extrapolated (`batch`) and widened once at
    each end (confidence sizing too); under `generic`, whose rows reach 1,280, it is not."""
    from designer.model.assumptions import Assumptions
    from designer.model.workload import Workload

    mi = profiles.get("mi300x-vllm")
    assert dict(mi.measured_ranges)["dense_batch"] == 256
    kw = {"model": "llama3.1-70b", "chip": "mi300x", "tp": 1, "context_tokens": 1024}
    at = {b: _evaluate(**kw, batch=b)["interval"] for b in (256, 384)}
    assert at[256]["extrapolated"] == [] and at[384]["extrapolated"] == ["batch"]
    assert at[384]["widened"] == {"fast": 1, "slow": 1}
    assert _evaluate(**kw, batch=384, profile="generic")["interval"]["extrapolated"] == []
    wl = Workload(catalog.model("llama3.1-70b"), 1024, assumptions=Assumptions.preset("deployment"))
    f = intervals.slow_factor(mi, wl, "mi300x", 1, 1, 1, "tp", np.array([256, 257]), 0.9)
    assert f[1] >= f[0] * intervals.shipped().factor("batch")


def test_calibrate_intervals_writes_the_table_and_says_the_factors(capsys, tmp_path):
    """`designer calibrate DATA --intervals`: the file it writes is the shipped one, and it
    prints each coverage and the widening factors (the JSON carries them as `widen_measured`)."""
    out = tmp_path / "iv.toml"
    assert main(["calibrate", DATA, "--intervals", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    written, shipped = intervals.read(out), intervals.shipped()
    assert written.widen == shipped.widen and written.ranges == shipped.ranges
    assert set(written.coverage) == set(shipped.coverage)
    for name, s in shipped.coverage.items():
        assert written.coverage[name]["inside"] == pytest.approx(s["inside"], abs=1e-3), name
    line = next(x for x in text.splitlines() if x.startswith("widening outside the data"))
    assert f"{shipped.factor('batch'):g} for ep, batch" in line
    assert f"{intervals.WIDEN:g} for every other dimension" in line
    assert main(["calibrate", DATA, "--intervals", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["widen_measured"] == shipped.widen
    inside = rec["coverage"]["calibrated"]["inside"]
    assert inside == pytest.approx(shipped.coverage["calibrated"]["inside"], abs=1e-3)

"""designer.calibration.measurements, designer.calibration.calibrate, designer.calibration.validate
and their commands."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest

from designer.calibration import calibrate, measurements, profiles
from designer.calibration.measurements import closed_loop_itl
from designer.calibration.validate import validate
from designer.interface.cli import main
from designer.model.catalog import bundled_dir
from designer.model.errors import InputError
from designer.model.workload import Efficiency

DATA = str(measurements.bundled_path())
HEADER = ",".join(measurements.COLUMNS)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def rows(catalog):
    return measurements.load(DATA, catalog)


SMALL = 6  # rows of one stack for the command tests (each fit is a least-squares run)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> str:
    """The first SMALL rows of H100 SXM on vLLM from the shipped data, as a CSV file."""
    with open(DATA, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames
        kept = [r for r in reader if (r["chip"], r["engine"]) == ("h100-sxm", "vllm")][:SMALL]
    path = tmp_path_factory.mktemp("small") / "h100-vllm.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(kept)
    assert len(kept) == SMALL
    return str(path)


# ---- the data --------------------------------------------------------------------------------
def test_shipped_data_has_461_sourced_rows(rows):
    assert len(rows) == 461
    assert all(r.source_url.startswith("https://") for r in rows)
    assert {r.measure for r in rows} == set(measurements.MEASURES)
    assert {r.platform for r in rows} == {
        "h100-sxm/tensorrt-llm",
        "h100-sxm/vllm",
        "mi300x/vllm",
        "gh200/tensorrt-llm",
        "gaudi2/deepspeed",
        "a100-40gb/tensorrt-llm",
        "h200/tensorrt-llm",
        "a100-40gb/deepspeed-mii",
        "a100-40gb/vllm",
        "gh200/vllm",
        "a100-80gb/tensorrt-llm",
        "l40s/tensorrt-llm",
        "mi300x/tgi",
        "a100-80gb/lmdeploy",
        "h200/sglang",
        "h200/vllm",
        "mi300x/sglang",
        "b200/tensorrt-llm",
        "a100-80gb/vllm",
    }


def test_unstated_kv_dtype_is_the_weight_dtype(rows):
    by_id = {r.id: r for r in rows}
    assert by_id["cal-38"].kv_dtype == "fp8"  # FP8 engine, KV not stated
    assert by_id["cal-35"].kv_dtype == "fp8"  # the doc's build command: --fp8_kv_cache
    assert by_id["cal-07"].kv_dtype == "fp16"
    assert by_id["cal-22"].weight_dtype == "fp16"  # "fp16/bf16": 2 bytes either way


def test_fp8_kv_is_what_lets_the_tensorrt_llm_batches_fit(rows, catalog):
    # cal-35: Llama 2 70B, TP4 H100, 480 sequences of 128 + 2048 tokens. With a 16-bit KV cache
    # the batch would need 342 GB of KV on 320 GB of HBM; with FP8 it fits.
    from designer.model.workload import Workload

    r = {x.id: x for x in rows}["cal-35"]
    arch = catalog.model(r.model)
    peak = r.input_tokens + r.output_tokens
    fp8 = Workload(arch, peak, "fp8", "fp8")
    bf16 = Workload(arch, peak, "fp8", "bf16")
    hbm = 4 * catalog.chip("h100-sxm").memory_capacity
    assert fp8.weight_bytes + r.batch * fp8.kv_bytes_per_user < hbm
    assert r.batch * bf16.kv_bytes_per_user > hbm


def test_closed_loop_itl_by_hand():
    # batch 1: one decode step; batch B: X = O·T_d + (B − 1)·T_pf·X/(T_pf + X)
    assert closed_loop_itl(0.02, 0.4, 1, 500) == pytest.approx(0.02)
    itl = closed_loop_itl(0.02, 0.4, 50, 500)
    x = 500 * itl
    assert x == pytest.approx(500 * 0.02 + 49 * 0.4 * x / (0.4 + x), rel=1e-12)


def test_loaded_itl_of_a_mixed_batch_build_is_the_mean_of_mixed_and_plain_steps(rows, catalog):
    # cal-437: TensorRT-LLM (in-flight batching mixes prompts into decode steps), 3,072 in
    # flight: the other requests' prompts are tokens its steps carry, by serving's equations
    from designer.model import perf, serving

    by_id = {r.id: r for r in rows}
    r = by_id["cal-437"]
    assert r.mixed and r.measure == "itl"
    item = measurements.prepare([r], catalog)[0]
    eff = Efficiency(0.8, 0.5, 20e-6, 1e-6, 10e-6, prefill_compute=0.4)
    dec = dataclasses.replace(item.decode, efficiency=eff)
    b = item.in_flight
    m = perf.evaluate_arrays(dec, item.hw, r.tp, r.pp, b, ep=r.ep, attention=r.attention)
    req = dataclasses.replace(item.request, efficiency=eff)
    c = (b - 1) * r.input_tokens / r.output_tokens
    chunk = serving.DEFAULT_CHUNK_TOKENS
    expected = serving.mean_step(req, item.hw, r.tp, r.pp, b, m, c, chunk) * 1e3
    got = measurements.predict_ms(item, eff, catalog)
    assert got == pytest.approx(float(expected), rel=1e-12)
    assert got > float(m["step_time_s"]) * 1e3  # the prompts cost something
    alone = dataclasses.replace(r, engine="sglang", software="SGLang 0.4.3")  # no mixed batches
    assert not alone.mixed
    assert measurements.predict_ms(measurements.prepare([alone], catalog)[0], eff, catalog) > got


def test_the_in_flight_correction_follows_the_engine_build(rows, catalog):
    by_id = {r.id: r for r in rows}
    assert by_id["cal-05"].mixed  # NIM on TensorRT-LLM: in-flight batching in every release
    assert not by_id["cal-359"].mixed  # vLLM 0.7.4 (V0): prefill steps of their own
    v1 = dataclasses.replace(by_id["cal-359"], software="vLLM 0.8.4")
    assert v1.mixed
    item = measurements.prepare([v1], catalog)[0]
    # a mixed-batch build pays less for the same prompts than stand-alone prefill passes
    eff = Efficiency(0.8, 0.5, 20e-6, 1e-6, 10e-6, prefill_compute=0.4)
    v0 = measurements.prepare([by_id["cal-359"]], catalog)[0]
    assert measurements.predict_ms(item, eff, catalog) < measurements.predict_ms(v0, eff, catalog)


def test_predict_e2e_is_prefill_plus_decode_steps(rows, catalog):
    from designer.model import perf
    from designer.model.prefill import prefill

    item = measurements.prepare([{r.id: r for r in rows}["cal-13"]], catalog)[0]
    eff = Efficiency()
    step = float(perf.evaluate_arrays(item.decode, item.hw, 4, 1, 1)["step_time_s"])
    pf = prefill(item.prompt, catalog, "h100-sxm", tp=4, prompt_tokens=128).time_s
    assert item.decode.context_tokens == 128 + 64  # prompt + output / 2
    expected = (pf + 127 * step) / 128 * 1e3
    assert measurements.predict_ms(item, eff, catalog) == pytest.approx(expected, rel=1e-12)


def test_a_batch_that_does_not_fit_runs_in_waves_of_what_fits(rows, catalog):
    from designer.model import perf
    from designer.model.prefill import prefill

    r = {r.id: r for r in rows}["cal-212"]  # 64 × 33k-token prompts of 405B on 4 MI300X
    item = measurements.prepare([r], catalog)[0]
    b = item.in_flight
    assert 1 <= b < r.batch
    mem = perf.evaluate_arrays(item.decode, item.hw, r.tp, 1, np.array([b, b + 1]))
    assert list(mem["fits"]) == [True, False]  # b is the most that fit
    eff = Efficiency()
    step = float(perf.evaluate_arrays(item.decode, item.hw, r.tp, 1, b)["step_time_s"])
    pf = prefill(item.prompt, catalog, "mi300x", tp=r.tp, prompts=b, prompt_tokens=r.input_tokens)
    expected = r.batch / b * (pf.time_s + (r.output_tokens - 1) * step) / r.output_tokens * 1e3
    assert measurements.predict_ms(item, eff, catalog) == pytest.approx(expected, rel=1e-12)
    fitting = {r.id: r for r in rows}["cal-13"]
    assert measurements.prepare([fitting], catalog)[0].in_flight == fitting.batch


def test_per_step_overhead_adds_exactly_tau_step_to_every_prediction(rows, catalog):
    # τ_step is paid once per decode step and once per prefill pass, so an e2e row (one prefill
    # + O − 1 steps, over O tokens) and a throughput row move by exactly τ_step; a batch-1 ITL
    # row is one step.
    base = Efficiency(0.8, 0.5, 20e-6, 1e-6, 10e-6)
    more = dataclasses.replace(base, overhead_per_step=3e-3)
    by_id = {r.id: r for r in rows}
    for rid in ("cal-13", "cal-35", "cal-06"):  # e2e, throughput_step, itl at batch 1
        item = measurements.prepare([by_id[rid]], catalog)[0]
        a = measurements.predict_ms(item, base, catalog)
        b = measurements.predict_ms(item, more, catalog)
        assert b - a == pytest.approx(3.0, rel=1e-9), rid


def test_prefill_compute_scales_only_the_prefill(rows, catalog):
    from designer.model import perf
    from designer.model.prefill import prefill_time

    item = measurements.prepare([{r.id: r for r in rows}["cal-48"]], catalog)[0]  # 2048 → 128
    r = item.row
    base = Efficiency(0.8, 0.5, 20e-6, 1e-6, 10e-6)
    slow = dataclasses.replace(base, prefill_compute=0.25)

    def parts(eff):
        dec = dataclasses.replace(item.decode, efficiency=eff)
        pro = dataclasses.replace(item.prompt, efficiency=eff)
        step = float(perf.evaluate_arrays(dec, item.hw, r.tp, r.pp, r.batch)["step_time_s"])
        pf = prefill_time(
            pro, item.hw, item.link_bw, tp=r.tp, prompts=r.batch, prompt_tokens=r.input_tokens
        )
        return step, pf

    step_a, pf_a = parts(base)
    step_b, pf_b = parts(slow)
    assert step_b == step_a  # decode does not use η_pf
    assert pf_b.compute_s == pytest.approx(pf_a.compute_s * base.prefill_compute / 0.25, rel=1e-12)
    assert pf_a.compute_s > pf_a.memory_s  # this prefill is compute-bound
    expected = (pf_b.time_s + (r.output_tokens - 1) * step_b) / r.output_tokens * 1e3
    assert measurements.predict_ms(item, slow, catalog) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("chip", "h100"), "unknown chip 'h100' (closest valid name: h100-sxm)"),
        (("catalog_model", "llama-7b"), "unknown model 'llama-7b'"),
        (("measure", "ttlt"), "unknown measure 'ttlt'"),  # tpot is itl (test_plain_names)
        # a TTFT row is read only where validate asks for it (tests/test_ttft.py)
        (("measure", "ttft"), "a time to first token (measure ttft): designer validate"),
        (("batch", "0"), "batch: expected a positive integer"),
        (("ms_per_output_token", "-3"), "ms_per_output_token: expected a positive number"),
    ],
)
def test_bad_rows_are_input_errors(tmp_path, catalog, change, fragment):
    good = {
        "id": "x",
        "source_url": "https://example.org",
        "chip": "h100-sxm",
        "engine": "vllm",
        "catalog_model": "llama3.1-8b",
        "weight_dtype": "bf16",
        "kv_dtype": "",
        "tp": "1",
        "pp": "1",
        "batch": "1",
        "input_tokens": "128",
        "output_tokens": "128",
        "ms_per_output_token": "7",
        "measure": "itl",
    }
    good[change[0]] = change[1]
    path = tmp_path / "m.csv"
    path.write_text(HEADER + "\n" + ",".join(good[c] for c in measurements.COLUMNS) + "\n")
    with pytest.raises(InputError) as exc:
        measurements.load(path, catalog)
    assert fragment in str(exc.value)
    assert str(path) in str(exc.value)


def test_missing_column_is_an_input_error(tmp_path, catalog):
    path = tmp_path / "m.csv"
    path.write_text("id,chip\nx,h100-sxm\n")
    with pytest.raises(InputError, match="missing column"):
        measurements.load(path, catalog)


# ---- the fit ---------------------------------------------------------------------------------
def _synthetic(rows, catalog, true):
    items = measurements.prepare(rows, catalog)
    return [
        dataclasses.replace(r, measured_ms=float(p))
        for r, p in zip(rows, measurements.predict_all(items, true, catalog), strict=True)
    ]


def test_fit_recovers_known_parameters_from_synthetic_data(rows, catalog, monkeypatch):
    # Measurements generated by the model itself from known parameters, at the 449 shipped
    # configurations: without the prior the fit finds all twelve parameters again; with it (the
    # default) the prior's pull leaves every parameter within 5% and every prediction within 1%.
    # The MoE rows without MLA (Mixtral 8x7B) tell τ_moe from τ_mla, and the batches τ_expert
    # from both. (The terms the shipped fits hold, `calibrate.HELD`, are released here.)
    monkeypatch.setattr(calibrate, "HELD", ())
    true = Efficiency(
        0.7,
        0.45,
        30e-6,
        2e-6,
        15e-6,
        400e-6,
        0.6,
        per_sequence_step=20e-6,
        attention_kernel=0.3,
        moe_layer=300e-6,
        mla_layer=150e-6,
        moe_expert=3e-6,
    )
    synthetic = _synthetic(rows, catalog, true)
    fit = calibrate.fit_profile(synthetic, catalog)
    np.testing.assert_allclose(
        calibrate.vector_of(fit.efficiency), calibrate.vector_of(true), rtol=0.05
    )
    assert fit.mape < 1.0 and fit.not_identified == ()
    monkeypatch.setattr(calibrate, "PRIOR_WEIGHT", 0.0)
    fit = calibrate.fit_profile(synthetic, catalog)
    np.testing.assert_allclose(
        calibrate.vector_of(fit.efficiency), calibrate.vector_of(true), rtol=1e-4
    )
    assert fit.mape < 1e-6


def test_a_parameter_the_rows_do_not_see_is_held_at_its_prior_from_every_start(rows, catalog):
    # Memory-bound rows only (batch 1, short context) say almost nothing about the compute
    # efficiency: unregularized, its value would be wherever the path from a start ends. The
    # prior holds it, and every start lands on the same point.
    true = Efficiency(0.7, 0.2, 30e-6, 2e-6, 15e-6, 0.0, 0.6)
    low = [r for r in rows if r.batch == 1][:40]
    synthetic = _synthetic(low, catalog, true)
    items = calibrate.as_rows(measurements.prepare(synthetic, catalog), catalog)
    fits = [
        calibrate.efficiency_of(
            calibrate.least(
                lambda x: items.terms.predict(calibrate.efficiency_of(x)) / items.measured_ms - 1,
                np.ones(len(calibrate.PARAMETERS), bool),
                [start],
            )
        )
        for start in calibrate.STARTS
    ]
    lo, hi, prior = calibrate._bounds(np.ones(len(calibrate.PARAMETERS), bool))
    vectors = np.array([calibrate.vector_of(f) for f in fits])
    assert np.all(np.ptp(vectors, axis=0) <= 0.01 * (hi - lo))  # the same point from each
    fit = calibrate.fit_items(items, catalog)
    assert "compute" in fit.not_identified and fit.efficiency.compute == pytest.approx(0.6)


@pytest.mark.parametrize("loss", ["soft_l1", "linear"])
def test_the_fit_uses_the_loss_asked_for(rows, catalog, monkeypatch, loss):
    seen = []
    real = calibrate.least_squares

    def spy(*args, **kwargs):
        seen.append((kwargs["loss"], kwargs["f_scale"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(calibrate, "least_squares", spy)
    sub = [r for r in rows if r.platform == "h100-sxm/vllm"]
    calibrate.fit_profile(sub, catalog, loss)
    scale = calibrate.SOFT_L1_SCALE if loss == "soft_l1" else 1.0
    assert seen and set(seen) == {(loss, scale)}


def test_default_loss_is_soft_l1_and_the_cli_offers_the_losses(capsys):
    assert calibrate.DEFAULT_LOSS == "soft_l1" and calibrate.SOFT_L1_SCALE == 0.01
    import inspect

    assert inspect.signature(calibrate.fit_items).parameters["loss"].default == "soft_l1"
    with pytest.raises(InputError, match="unknown loss 'huber'"):
        calibrate.cross_validate([], None, "row", "huber")
    code, out, err = run(capsys, "calibrate", "--help")
    assert "soft_l1" in out and "linear" in out
    from designer.interface.cli import parser

    sub = next(a for a in parser()._actions if a.dest == "command")
    cal = sub.choices["calibrate"]
    action = next(a for a in cal._actions if a.dest == "loss")
    assert tuple(action.choices) == calibrate.LOSSES
    within = next(a for a in cal._actions if a.dest == "within")
    assert tuple(within.choices) == calibrate.WITHIN


def test_soft_l1_fits_a_lower_mape_than_least_squares(rows, catalog):
    # the shipped loss targets the metric profiles are judged by
    soft = calibrate.fit_profile(rows, catalog, "soft_l1").mape
    linear = calibrate.fit_profile(rows, catalog, "linear").mape
    assert soft < linear


def test_fit_stays_within_bounds(rows, catalog):
    h100 = [r for r in rows if r.platform == "h100-sxm/vllm"][:SMALL]
    fit = calibrate.fit_profile(h100, catalog)
    x = calibrate.vector_of(fit.efficiency)
    for value, (_, _, _, lo, hi) in zip(x, calibrate.PARAMETERS, strict=True):
        assert lo - 1e-9 <= value <= hi + 1e-9
    assert fit.mape < 5  # 6 rows of one stack


def test_cross_validation_predicts_every_row_held_out(rows, catalog):
    sub = [r for r in rows if r.platform == "h100-sxm/vllm"][:SMALL]
    cv = calibrate.cross_validate(sub, catalog, "row")
    assert set(cv.groups) == {r.id for r in sub}
    assert list(cv.errors.ids) == [r.id for r in sub]
    in_sample = calibrate.fit_profile(sub, catalog).errors
    assert cv.errors.mape > in_sample.mape  # held out is worse than in sample


def _trained_on(monkeypatch, field: str) -> list[set[str]]:
    """Records, for every fit a cross-validation makes, the `field` values of its rows."""
    seen: list[set[str]] = []
    fit_items = calibrate.fit_items

    def spy(items, cat, loss=calibrate.DEFAULT_LOSS):
        seen.append({getattr(i.row, field) for i in items.items})
        return fit_items(items, cat, loss)

    monkeypatch.setattr(calibrate, "fit_items", spy)
    return seen


def test_cross_validation_within_engine_trains_on_the_held_out_engine(rows, catalog, monkeypatch):
    seen = _trained_on(monkeypatch, "engine")
    cv = calibrate.cross_validate(rows, catalog, "platform", within="engine")
    assert cv.name == "leave-one-platform-out within engine"
    trained = dict(zip(cv.groups, seen, strict=True))
    assert trained["mi300x/vllm"] == {"vllm"}
    assert trained["h200/tensorrt-llm"] == {"tensorrt-llm"}
    # an engine with no other platform is predicted from all of them
    assert len(trained["gaudi2/deepspeed"]) > 1
    assert len(cv.errors.ids) == len(rows)


def test_leave_one_model_out_never_trains_on_the_held_out_model(rows, catalog, monkeypatch):
    seen = _trained_on(monkeypatch, "model")
    sub = [r for r in rows if r.model in ("llama2-7b", "llama2-13b", "mixtral-8x7b")]
    cv = calibrate.cross_validate(sub, catalog, "model")
    assert cv.name == "leave-one-model-out"
    assert set(cv.groups) == {"llama2-7b", "llama2-13b", "mixtral-8x7b"}
    for held, trained in zip(cv.groups, seen, strict=True):
        assert held not in trained and trained  # fitted on the other models only
    assert len(cv.errors.ids) == len(sub)


def test_cross_validation_within_engine_needs_platform_groups(rows, catalog):
    with pytest.raises(InputError, match="--within engine needs --cross-validate platform"):
        calibrate.cross_validate(rows[:10], catalog, "source", within="engine")


def test_cross_validation_needs_two_groups(rows, catalog):
    with pytest.raises(InputError, match="at least two groups"):
        calibrate.cross_validate(rows[:1], catalog, "platform")
    with pytest.raises(InputError, match="unknown cross-validation grouping 'chips'"):
        calibrate.cross_validate(rows, catalog, "chips")


def test_shipped_profiles_reproduce_their_stated_fit(rows, catalog):
    # Every shipped profile states the in-sample MAPE of its fit; validating it on its own
    # rows gives that number back (the profile is what the fit produced). The file's numbers,
    # not the loaded profile's: loading gives a fit that identified no MoE/MLA layer time its
    # engine's (profiles.with_layer_times), which moves its MoE rows (h100-sxm-vllm's Mixtral
    # row cal-461) away from the fit.
    named = {}  # rows of the other data files a profile names (`current`: inferencemax.csv)
    for p in profiles.read(bundled_dir() / "profiles.toml").values():
        if p.data != "measurements/decode.csv":
            path = bundled_dir() / p.data
            named.setdefault(p.data, measurements.load(str(path), catalog))
        data = named.get(p.data, rows)
        own = [r for r in data if p.platform in ("", r.platform) and p.engine in ("", r.engine)]
        assert len(own) == p.rows
        assert validate(own, p, catalog)["mape"] == pytest.approx(p.fit_mape, abs=0.02), p.id


def test_the_limit_is_too_fast_everywhere(rows, catalog):
    rec = validate(rows, profiles.get("limit"), catalog)
    too_fast = [r for r in rec["rows"] if r["predicted_ms"] < r["measured_ms"]]
    # but one: cal-442, Mixtral 8x7B at batch 64 on 4 A100s taken as 40GB (SKU not verified;
    # catalogs/measurements/README.md), measured 10% under the limit's time to read every expert
    assert {r["id"] for r in rec["rows"]} - {r["id"] for r in too_fast} == {"cal-442"}
    assert 55 < rec["mape"] < 65


# ---- the commands ----------------------------------------------------------------------------
def test_validate_json_contract(capsys):
    code, out, err = run(capsys, "validate", DATA, "--profile", "limit", "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert {"profile", "mape", "rows"} <= set(rec)
    assert rec["profile"] == "limit"
    assert len(rec["rows"]) == 461
    keys = {"id", "predicted_ms", "measured_ms", "low_ms", "high_ms", "profile"}
    keys |= {"extrapolated", "widened_by"}  # added in round 11 (extensions)
    keys |= {"in_flight"}  # added in round 13 (an extension)
    # added in round 16 (an extension): the build a row's software states, where it states one
    stated = {r.id: r.version for r in measurements.load(DATA)}
    assert all(set(r) == keys | ({"build"} if stated[r["id"]] else set()) for r in rec["rows"])
    assert all(r.get("build") == stated[r["id"]] for r in rec["rows"])
    assert 0 < sum("build" in r for r in rec["rows"]) < 461
    # the limit's answers: an MoE row names `moe` and keeps the 1.5 assumption (the measured
    # factors are not the limit's: `Table.measured_for`); a dense row inside the data, nothing
    for r in rec["rows"]:
        w = 1.5 if r["extrapolated"] == ["moe"] else 1.0
        assert r["extrapolated"] in ([], ["moe"]) and r["widened_by"] == {"fast": w, "slow": w}
    assert sum(r["extrapolated"] == ["moe"] for r in rec["rows"]) == 113
    errors = [abs(r["predicted_ms"] / r["measured_ms"] - 1) for r in rec["rows"]]
    assert rec["mape"] == pytest.approx(100 * sum(errors) / 461, rel=1e-12)  # percent


def test_validate_says_which_rows_are_predicted_with_fewer_sequences_than_stated(capsys, catalog):
    # each row's `in_flight` is the sequences its prediction runs at once: the batch, or fewer
    # when their KV at the mean context does not fit beside the weights
    code, out, err = run(capsys, "validate", DATA, "--profile", "default", "--json")
    assert code == 0, err
    rows = measurements.load(DATA)
    held = {p.row.id: p.in_flight for p in measurements.prepare(rows, catalog)}
    rec = json.loads(out)
    assert {r["id"]: r["in_flight"] for r in rec["rows"]} == held
    batch = {r.id: r.batch for r in rows}
    over = [r["id"] for r in rec["rows"] if r["in_flight"] < batch[r["id"]]]
    assert all(held[i] <= batch[i] for i in held) and over  # cal-05: 100 asked, 85 fit
    assert held["cal-05"] == 85 and batch["cal-05"] == 100
    code, out, err = run(capsys, "validate", DATA, "--profile", "default")
    assert code == 0, err
    line = out.strip().splitlines()[-1]
    assert line.startswith(f"{len(over)} of 461 rows state more sequences than fit")
    assert f"{over[0]} {batch[over[0]]} → {held[over[0]]}" in line
    assert f"and {len(over) - 4} more" in line
    # a file whose every batch fits prints no such line
    fits = str(measurements.bundled_path().parent / "held_out" / "trtllm_0_9.csv")
    prepared = measurements.prepare(measurements.load(fits), catalog)
    assert all(p.in_flight == p.row.batch for p in prepared)
    code, out, err = run(capsys, "validate", fits, "--profile", "default")
    assert code == 0 and "more sequences than fit" not in out


def test_validate_reports_each_platforms_errors_with_their_sign(capsys):
    code, out, err = run(capsys, "validate", DATA, "--profile", "default", "--json")
    assert code == 0, err
    rec = json.loads(out)
    platform = {r.id: r.platform for r in measurements.load(DATA)}
    by = rec["platforms"]
    assert sum(p["points"] for p in by.values()) == 461
    for name, p in by.items():
        mine = [r for r in rec["rows"] if platform[r["id"]] == name]
        rel = [r["predicted_ms"] / r["measured_ms"] - 1 for r in mine]
        assert p["points"] == len(mine)
        assert p["signed"] == pytest.approx(100 * sum(rel) / len(rel), rel=1e-9, abs=1e-9)
        assert p["mape"] == pytest.approx(100 * sum(map(abs, rel)) / len(rel), rel=1e-9)
        inside = [r["low_ms"] <= r["measured_ms"] <= r["high_ms"] for r in mine]
        assert p["inside"] == pytest.approx(100 * sum(inside) / len(inside))
    code, out, err = run(capsys, "validate", DATA, "--profile", "default")
    h100 = by["h100-sxm/tensorrt-llm"]
    assert f"  h100-sxm/tensorrt-llm: {h100['points']} points, MAPE {h100['mape']:.1f}%" in out


def test_the_over_capacity_line_follows_rows_not_ids(capsys, tmp_path):
    # two rows under one id (a CSV may repeat ids): each is judged by its own batch
    with open(DATA, encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    row = next(r for r in rows if r[0] == "cal-05")
    one = [*row]
    one[header.index("batch")] = "1"
    path = tmp_path / "twice.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row, one])
    code, out, err = run(capsys, "validate", str(path), "--profile", "default")
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("1 of 2 rows state more sequences")
    assert "cal-05 100 → 85" in out


def test_calibrate_writes_a_profile_that_validate_reads(capsys, tmp_path, small_data):
    out_file = tmp_path / "p.toml"
    code, out, err = run(
        capsys,
        "calibrate",
        small_data,
        "--name",
        "mine",
        "--platform",
        "h100-sxm/vllm",
        "--out",
        str(out_file),
    )
    assert code == 0, err
    assert "fit:" in out and "MAPE" in out and "median" in out and "worst" in out
    assert "leave-one-row-out" in out
    p = profiles.get(str(out_file))
    assert p.id == "mine" and p.rows == SMALL and p.platform == "h100-sxm/vllm"
    code, out, err = run(
        capsys,
        "validate",
        small_data,
        "--profile",
        str(out_file),
        "--platform",
        "h100-sxm/vllm",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["mape"] == pytest.approx(p.fit_mape, abs=0.01)


def test_calibrate_cross_validate_json(capsys, small_data):
    code, out, err = run(
        capsys,
        "calibrate",
        small_data,
        "--platform",
        "h100-sxm/vllm",
        "--cross-validate",
        "row",
        "--json",
    )
    assert code == 0, err
    rec = json.loads(out)
    assert rec["cross_validation"] == "leave-one-row-out"
    assert rec["points"] == SMALL and len(rec["groups"]) == SMALL


def test_calibrate_engine_filter_writes_an_engine_profile(capsys, tmp_path, small_data):
    out_file = tmp_path / "e.toml"
    code, _, err = run(
        capsys, "calibrate", small_data, "--name", "e", "--engine", "vllm", "--out", str(out_file)
    )
    assert code == 0, err
    p = profiles.get(str(out_file))
    assert p.engine == "vllm" and p.rows == SMALL
    assert "--out" not in p.command and "--engine vllm" in p.command


def test_validate_parity_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "parity.png"
    code, _, err = run(capsys, "validate", DATA, "--plot", str(png))
    assert code == 0, err
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["validate", "nope.csv"], "no such file"),
        (["validate", DATA, "--profile", "generc"], "closest valid name: generic"),
        (["validate", DATA, "--platform", "h100/vllm"], "unknown platform 'h100/vllm'"),
        (["calibrate", DATA], "expected --name NAME"),
        (["calibrate", DATA, "--cross-validate", "chips"], "invalid choice"),
        (["validate", DATA, "--engine", "vlm"], "unknown engine 'vlm' (closest valid name: vllm)"),
        (
            ["calibrate", DATA, "--cross-validate", "row", "--within", "engine"],
            "--within engine needs --cross-validate platform",
        ),
    ],
)
def test_bad_input_exits_2(capsys, argv, fragment):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    _, err = capsys.readouterr()
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_array_prediction_equals_the_row_by_row_model(rows, catalog):
    """`Terms.predict` (every row at once) equals `predict_ms` (perf and prefill per row) under
    random profiles anywhere inside the fitted bounds, scaled to a platform or not."""
    items = measurements.prepare(rows, catalog)
    terms = measurements.Terms.of(items)
    rng = np.random.default_rng(7)
    for k in range(5):
        x = np.array([rng.uniform(lo, hi) for _, _, _, lo, hi in calibrate.PARAMETERS])
        eff = calibrate.efficiency_of(x)
        if k % 2:  # a generation's platform scale (Efficiency.step_scale)
            eff = dataclasses.replace(eff, step_scale=rng.uniform(0.5, 2.0))
        direct = np.array([measurements.predict_ms(i, eff, catalog) for i in items])
        np.testing.assert_allclose(terms.predict(eff), direct, rtol=1e-12)


def test_held_parameters_stay_at_their_prior(rows, catalog):
    # The physical per-sequence terms worsen the shipped rows' cross-validated error when fitted
    # (docs/model.md §6): every fit holds them at 0 and says so.
    fit = calibrate.fit_profile(rows[:40], catalog)
    for name in calibrate.HELD:
        assert getattr(fit.efficiency, name) == 0.0 and name in fit.not_identified


def _moe_rows(rows):
    """Dense H100/H200 TensorRT-LLM rows recast as MoE (Qwen3 235B: GQA) and MoE + MLA
    (DeepSeek-V3) rows in FP8 at TP8, one of each per row."""
    base = [r for r in rows if r.engine == "tensorrt-llm" and r.chip in ("h100-sxm", "h200")]
    out = []
    for model in ("qwen3-235b-a22b", "deepseek-v3"):
        for r in base[:30]:
            out.append(
                dataclasses.replace(
                    r,
                    id=f"{r.id}-{model}",
                    model=model,
                    weight_dtype="fp8",
                    kv_dtype="fp8",
                    tp=8,
                    batch=min(r.batch, 64),
                )
            )
    return out


def test_moe_and_mla_layer_times_are_recovered_from_synthetic_moe_rows(rows, catalog, monkeypatch):
    # MoE rows with and without MLA, at several batches, tell τ_expert (every distinct expert a
    # chip computes in a MoE layer) from τ_mla (every MLA layer): the fit finds both again, with
    # the other parameters, within 5%; exactly without the prior.
    true = Efficiency(0.75, 0.5, 20e-6, 1e-6, 10e-6, 300e-6, 0.6, mla_layer=150e-6, moe_expert=3e-6)
    synthetic = _synthetic(_moe_rows(rows) + rows[:60], catalog, true)
    fit = calibrate.fit_profile(synthetic, catalog)
    got = fit.efficiency
    assert got.moe_expert == pytest.approx(3e-6, rel=0.05)
    assert got.mla_layer == pytest.approx(150e-6, rel=0.05)
    assert fit.mape < 1.0
    assert "moe_expert" not in fit.not_identified and "mla_layer" not in fit.not_identified
    monkeypatch.setattr(calibrate, "PRIOR_WEIGHT", 0.0)
    exact = calibrate.fit_profile(synthetic, catalog)
    seen = [k for k, p in enumerate(calibrate.PARAMETERS) if p[1] not in calibrate.HELD]
    np.testing.assert_allclose(
        calibrate.vector_of(exact.efficiency)[seen], calibrate.vector_of(true)[seen], rtol=1e-4
    )


def test_rows_that_cannot_tell_moe_from_mla_fit_one_term_and_hold_the_other(
    rows, catalog, monkeypatch
):
    # DeepSeek-V3 rows only: 58 MoE layers and 61 MLA layers in every row, so τ_moe (released
    # here; the shipped fits hold it) and τ_mla move every prediction in proportion. The fit
    # puts the time into τ_mla (61 × τ_mla = 58 × 400 µs + 61 × 150 µs: where rows separate
    # them, the time is the MLA layers', docs/model.md §6) and holds τ_moe at 0, saying so.
    monkeypatch.setattr(calibrate, "HELD", ("per_sequence_step", "attention_kernel"))
    true = Efficiency(
        0.75, 0.5, 20e-6, 1e-6, 10e-6, 300e-6, 0.6, moe_layer=400e-6, mla_layer=150e-6
    )
    ds = [r for r in _moe_rows(rows) if r.model == "deepseek-v3"]
    fit = calibrate.fit_profile(_synthetic(ds + rows[:60], catalog, true), catalog)
    assert fit.efficiency.moe_layer == 0.0 and "moe_layer" in fit.not_identified
    assert 61 * fit.efficiency.mla_layer == pytest.approx(58 * 400e-6 + 61 * 150e-6, rel=0.05)

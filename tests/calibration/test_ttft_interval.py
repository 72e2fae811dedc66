"""The 80% interval of a predicted time to first token (designer/calibration/ttft_interval.py)."""

from __future__ import annotations

import numpy as np
import pytest

from designer.calibration import intervals, ttft, ttft_interval
from designer.calibration.ttft import Ratios
from designer.calibration.ttft_interval import Answer


def _ratios(ratio, source, engine=None, chip=None, prompt=None, moe=None) -> Ratios:
    n = len(ratio)
    return Ratios(
        ratio=np.array(ratio, float),
        source=np.array(source),
        engine=np.array(engine or ["sglang"] * n),
        chip=np.array(chip or ["h200"] * n),
        prompt=np.array(prompt or [1000] * n),
        moe=np.array(moe or [False] * n),
        tp=np.ones(n, int),
        pp=np.ones(n, int),
        weight_dtype=np.array(["fp8"] * n),
    )


def test_the_rules_it_was_adopted_by_hold_held_out():
    """docs/model.md §6 (rule N2, round 12's bar): at least 75% of the published TTFTs inside
    their interval held out by publication, and no engine of 10 or more rows under 60%; rule E
    (round 19): TensorRT-LLM's rows, which build its answers' intervals alone, at least 75%,
    and the median half-width narrower than N2's pooled interval gave (±291.4%)."""
    c = ttft_interval.cross_validated()
    assert c["points"] == 82 and c["publications"] == 9
    assert c["inside"] >= 75.0
    res = ttft.shipped_ratios()
    for engine, share in c["inside_by_engine"].items():
        assert c["points_by_engine"][engine] == np.sum(res.engine == engine)
        if np.sum(res.engine == engine) >= 10:
            assert share >= 60.0, engine
    assert c["inside_by_engine"]["tensorrt-llm"] >= 75.0
    assert c["median_half_width"] < 291.4


def test_an_engine_three_publications_measured_gets_its_own_rows():
    """Rule E counted by hand: engine x from three publications, y from two; an answer naming
    x takes x's rows alone, one naming y, or none, every row; a check judging a row held out
    counts its publication, so x's other two still build x's interval."""
    res = _ratios(
        [1, 1.2, 1.4, 5, 6], list("abcde"), engine=["x", "x", "x", "y", "y"], prompt=[500] * 5
    )
    x = Answer("x", "h200", 500, False, 1, 1, "fp8")
    rows, engine = ttft_interval.basis(x, res)
    assert engine == "x" and sorted(rows.ratio) == [1, 1.2, 1.4]
    e = ttft_interval.ends(x, res)
    assert (e.engine, e.rows, e.publications) == ("x", 3, 3)
    assert e.high < 5  # y's slow rows do not reach x's answers
    for other in (x._replace(engine="y"), x._replace(engine=None), x._replace(engine="z")):
        assert ttft_interval.basis(other, res)[1] is None
        assert len(ttft_interval.basis(other, res)[0].ratio) == 5
    two = res.take(res.source != "a")  # x's b and c left: the judged row's a counts back
    assert ttft_interval.basis(x, two)[1] is None
    assert ttft_interval.basis(x, two, judged="a")[1] == "x"
    assert ttft_interval.basis(x, two, judged="b")[1] is None  # b already counted


def test_held_out_by_publication_counted_by_hand():
    """Three publications of two rows each, measured 1, 2 and 4 times the prediction: each
    judged by the other two, whose quantiles (equal weights) span exactly their two ratios."""
    res = _ratios([1, 1, 2, 2, 4, 4], ["a", "a", "b", "b", "c", "c"])
    got = ttft_interval.held_out(res)
    # a by [2, 4]: out; b by [1, 4]: in; c by [1, 2]: out
    assert got["inside"] == pytest.approx(100 / 3)
    # half-widths 1, 1.5 and 0.5 of the prediction, two rows each
    assert got["median_half_width"] == pytest.approx(100.0)
    # c's engine unmeasured by a and b: its interval [1, 2] widens to [1/1.5, 3], and 2.5 is in
    res = _ratios([1, 1, 2, 2, 2.5, 2.5], list("aabbcc"), engine=["x"] * 4 + ["y"] * 2)
    got = ttft_interval.held_out(res)
    assert got["inside_by_engine"] == {"x": 50.0, "y": 100.0}
    # the judged publication's own rows never shape its interval
    moved = _ratios([1, 1, 2, 2, 250, 250], list("aabbcc"), engine=["x"] * 4 + ["y"] * 2)
    assert ttft_interval.held_out(moved)["inside_by_engine"]["x"] == 50.0


def test_held_out_under_rule_e_judges_an_engines_rows_by_its_other_publications():
    """x from three publications (ratios 1, 1.1, 1.2: each judged by the other two alone), y
    from two (judged by every other row): y's slow rows never reach x's intervals."""
    res = _ratios(
        [1.0, 1.1, 1.2, 5.0, 6.0],
        ["x1", "x2", "x3", "y1", "y2"],
        engine=["x", "x", "x", "y", "y"],
    )
    got = ttft_interval.held_out(res)
    # x1 by [1.1, 1.2]: out; x2 by [1, 1.2]: in; x3 by [1, 1.1]: out
    assert got["inside_by_engine"]["x"] == pytest.approx(100 / 3)
    assert got["median_half_width_by_engine"]["x"] == pytest.approx(5.0)
    # y1 by [1, 6] (y2's 6 among every other row): in; y2 by [1, 5]: out
    assert got["inside_by_engine"]["y"] == 50.0
    # rule N2 alone: x1 by [1.1, 6]: out, x2 by [1, 6]: in, x3 by [1, 6]: in
    pooled = ttft_interval.held_out(res, least=np.inf)
    assert pooled["inside_by_engine"]["x"] == pytest.approx(200 / 3)
    assert pooled["median_half_width_by_engine"]["x"] > 200.0


def test_a_repositorys_pages_at_one_commit_are_one_publication():
    """Rule E counts publications by `publication`: the four SGLang cookbook pages of one
    commit are one, so SGLang's answers keep every row's interval."""
    base = "https://github.com/sgl-project/sgl-cookbook/blob/7b5bd9c/docs/"
    assert ttft_interval.publication(base + "a.md") == ttft_interval.publication(base + "b.md")
    other = "https://github.com/sgl-project/sgl-cookbook/blob/0a1b2c3/docs/a.md"
    assert ttft_interval.publication(other) != ttft_interval.publication(base + "a.md")
    page = "https://docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance"
    assert ttft_interval.publication(page) == page
    res = ttft.shipped_ratios()
    sglang = res.source[res.engine == "sglang"]
    assert len(set(sglang)) == 4 and len({ttft_interval.publication(u) for u in sglang}) == 1
    a = Answer("sglang", "b200", 1000, False, 8, 1, "fp8")
    assert ttft_interval.ends(a).engine is None
    assert ttft_interval.ends(a._replace(engine="tensorrt-llm")).engine == "tensorrt-llm"


def test_each_dimension_outside_the_rows_widens_both_ends_once():
    res = ttft.shipped_ratios()
    inside = Answer(None, "h100-sxm", 2048, False, 2, 1, "fp8")  # no engine named: every row
    base = ttft_interval.ends(inside)
    assert base.extrapolated == [] and base.widened_by == 1.0 and base.engine is None
    q = intervals.weighted_quantiles(res.ratio, res.source)
    assert (base.low, base.high) == pytest.approx(intervals.bounds(q))
    assert base.low < 1.0 < base.high  # the prediction lies inside its own interval
    # TensorRT-LLM named (three publications): its rows alone (rule E)
    trt = ttft_interval.ends(inside._replace(engine="tensorrt-llm"))
    mine = res.take(res.engine == "tensorrt-llm")
    q = intervals.weighted_quantiles(mine.ratio, mine.source)
    assert (trt.low, trt.high) == pytest.approx(intervals.bounds(q))
    assert trt.extrapolated == [] and trt.high < base.high
    far = int(res.prompt.max()) + 1
    outside = Answer("deepspeed-mii", "b300", far, False, 16, 2, "fp4", False, False)
    e = ttft_interval.ends(outside)
    assert e.extrapolated == [
        *("engine", "prompt", "chip", "tp", "pp", "weight_dtype", "assumptions", "profile")
    ]
    assert e.widened_by == pytest.approx(1.5**8)
    assert e.low == pytest.approx(base.low / 1.5**8) and e.high == pytest.approx(base.high * 1.5**8)
    # bf16 and fp16 are one 16-bit format to the model: TensorRT-LLM's fp16 rows hold bf16
    trt16 = inside._replace(engine="tensorrt-llm", weight_dtype="bf16")
    assert ttft_interval.ends(trt16).extrapolated == []
    assert "tensorrt-llm" in set(res.engine) and "bf16" not in set(mine.weight_dtype)


def test_the_slow_ratio_is_the_confidence_quantile_widened():
    res = ttft.shipped_ratios()
    a = Answer("tensorrt-llm", "h100-sxm", 2048, False, 2, 1, "fp8")
    e = ttft_interval.ends(a)
    assert ttft_interval.slow_ratio(a, 0.9) == pytest.approx(e.high)  # the 80% interval's end
    assert ttft_interval.slow_ratio(a, 0.95) > e.high > ttft_interval.slow_ratio(a, 0.5)
    far = a._replace(prompt=int(res.prompt.max()) + 1, engine=None)
    assert ttft_interval.slow_ratio(far, 0.9) == pytest.approx(ttft_interval.ends(far).high)
    assert ttft_interval.ends(far).extrapolated == ["prompt"]


def test_an_moe_answer_extrapolates_only_while_the_rows_hold_no_moe_model():
    dense = _ratios([1.0, 2.0], ["a", "b"])
    a = Answer("sglang", "h200", 1000, True, 1, 1, "fp8")
    assert ttft_interval.extrapolated(dense, a) == ["moe"]
    assert ttft_interval.extrapolated(ttft.shipped_ratios(), a) == []  # DeepSeek-R1, Qwen3


def test_a_profile_is_judged_by_its_name_and_its_numbers(catalog):
    """The published TTFTs were predicted under their chip and engine's calibrated default:
    another profile, the same name with other numbers, or the hardware limit, extrapolates."""
    import dataclasses

    from designer.calibration import profiles

    default = profiles.default_for(catalog, "h100-sxm", "tensorrt-llm")
    assert ttft_interval.judged(catalog, "h100-sxm", "tensorrt-llm", default)
    assert ttft_interval.judged(catalog, "h100-sxm", "tensorrt-llm", None)
    assert not ttft_interval.judged(catalog, "h100-sxm", "tensorrt-llm", profiles.get("generic"))
    slower = dataclasses.replace(
        default, efficiency=dataclasses.replace(default.efficiency, prefill_compute=0.05)
    )
    assert not ttft_interval.judged(catalog, "h100-sxm", "tensorrt-llm", slower)
    limit = profiles.default_for(catalog, "xpu-hbm3")  # a paper chip's default is the limit
    assert limit.id == profiles.LIMIT
    assert not ttft_interval.judged(catalog, "xpu-hbm3", None, limit)


def test_evaluate_gives_one_prompts_ttft_its_interval(catalog):
    from designer.calibration.evaluate import evaluate

    kw = dict(catalog=catalog, assumptions="deployment", prompt_tokens=4096, output_tokens=256)
    rec = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, **kw)
    m, iv = rec["metrics"], rec["ttft_interval"]
    assert m["ttft_low_s"] < m["ttft_s"] < m["ttft_high_s"]
    assert (iv["ttft_low_s"], iv["ttft_high_s"]) == (m["ttft_low_s"], m["ttft_high_s"])
    assert iv["extrapolated"] == [] and iv["check"] == ttft_interval.cross_validated()
    # every row built it: 9 sources, 6 publications as rule E counts them (one cookbook)
    assert iv["built_from"] == {"engine": None, "rows": 82, "publications": 6}
    c = ttft_interval.cross_validated()
    assert iv["check_of_its_rows"] == {"rows_of": "every engine", "points": 82, **c["every_engine"]}
    trt = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, engine="tensorrt-llm", **kw)
    mine = trt["ttft_interval"]["check_of_its_rows"]
    assert mine["rows_of"] == "tensorrt-llm" and mine["points"] == 44
    assert mine["median_half_width"] == c["median_half_width_by_engine"]["tensorrt-llm"]
    assert iv["ttft_s"] == m["ttft_s"] and iv["widened_by"] == {"fast": 1.0, "slow": 1.0}
    # an engine none of the published TTFTs ran, named though its profile is every engine's fit
    mii = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, engine="deepspeed-mii", **kw)
    assert mii["profile"]["name"] == rec["profile"]["name"]
    assert mii["ttft_interval"]["extrapolated"] == ["engine"]
    # the paper's equations (the Python default) are not the ones they were predicted under
    paper = evaluate(
        "llama3.1-70b", "h200", tp=8, pp=1, batch=16, catalog=catalog, prompt_tokens=4096
    )
    assert paper["ttft_interval"]["extrapolated"] == ["assumptions"]
    # nor FP4 weights, which no published TTFT ran
    fp4 = evaluate("llama3.1-70b", "b200", tp=8, pp=1, batch=16, weight_dtype="fp4", **kw)
    assert fp4["ttft_interval"]["extrapolated"] == ["weight_dtype"]
    # the hardware limit is not what the published TTFTs were predicted under
    lim = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, profile="limit", **kw)
    assert lim["ttft_interval"]["extrapolated"] == ["profile"]
    # a loaded TTFT: the record still bounds the one prompt, and `loaded` the queued TTFT
    loaded = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, requests_per_s=0.5, **kw)
    assert loaded["ttft_interval"]["of"] == "one prompt's prefill, no queue"
    assert loaded["ttft_interval"]["ttft_low_s"] == pytest.approx(iv["ttft_low_s"])
    assert loaded["ttft_interval"]["ttft_s"] == pytest.approx(m["ttft_s"])
    lm, lv = loaded["metrics"], loaded["ttft_interval"]["loaded"]
    assert lm["ttft_s"] != pytest.approx(m["ttft_s"])  # the loaded one
    assert lm["ttft_low_s"] < lm["ttft_s"] < lm["ttft_high_s"]
    assert lm["ttft_p90_low_s"] < lm["ttft_p90_s"] < lm["ttft_p90_high_s"]
    assert (lv["ttft_low_s"], lv["ttft_p90_high_s"]) == (lm["ttft_low_s"], lm["ttft_p90_high_s"])
    assert not lv["saturates"] and lv["of"] == ttft_interval.LOADED
    ratio = lv["service_ratio"]  # the one prompt's interval, as ratios to its prediction
    assert ratio["fast"] == pytest.approx(iv["ttft_low_s"] / iv["ttft_s"])
    assert ratio["slow"] == pytest.approx(iv["ttft_high_s"] / iv["ttft_s"])
    # the queue adds to the one prompt's ends: never below them
    assert lm["ttft_low_s"] >= iv["ttft_low_s"] and lm["ttft_high_s"] >= iv["ttft_high_s"]
    # a load whose slow end fills the queue: no bound there, and it says so
    full = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, requests_per_s=2.0, **kw)
    fv = full["ttft_interval"]["loaded"]
    assert fv["saturates"] and fv["prefill_utilization_high"] >= 1.0
    assert fv["ttft_high_s"] is None and full["metrics"]["ttft_p90_high_s"] is None
    assert full["metrics"]["prefill_utilization"] < 1.0  # the nominal queue is stable
    # a rate the prompts fill the queue at: no steady state, no TTFT or TPOT, no interval end
    over = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, requests_per_s=50.0, **kw)
    om = over["metrics"]
    assert om["prefill_utilization"] > 1.0
    assert np.isinf(om["ttft_s"]) and np.isinf(om["tpot_s"])
    assert np.isinf(om["prefill_kv_per_chip_bytes"])  # the diverged chunk load's, before
    assert all(om[k] is None for k in ("ttft_low_s", "ttft_high_s", "ttft_p90_low_s"))
    assert "loaded" not in over["ttft_interval"]
    # just past a full queue: the fast end would fit, but there is no steady state to bound
    edge = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, requests_per_s=6.0, **kw)
    assert edge["metrics"]["prefill_utilization"] > 1.0 and edge["metrics"]["ttft_low_s"] is None


def test_the_check_line_quotes_the_rows_that_built_the_interval():
    from designer.interface.report import ttft_interval_check_line

    c = ttft_interval.cross_validated()
    own = ttft_interval_check_line(c, "tensorrt-llm")
    assert "tensorrt-llm's 44 published TTFTs" in own and "81.8% inside" in own
    pooled = ttft_interval_check_line(c, None)
    assert "every engine's rows, 86.6% of 82" in pooled and "±281%" in pooled
    overall = ttft_interval_check_line(c)
    assert "84.1% of 82 published TTFTs inside" in overall and "±89%" in overall

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


def test_the_rule_it_was_adopted_by_holds_held_out():
    """docs/model.md §6 (rule N2, round 12's bar): at least 75% of the published TTFTs inside
    their interval held out by publication, and no engine of 10 or more rows under 60%."""
    c = ttft_interval.cross_validated()
    assert c["points"] == 67 and c["publications"] == 8
    assert c["inside"] >= 75.0
    res = ttft.shipped_ratios()
    for engine, share in c["inside_by_engine"].items():
        if np.sum(res.engine == engine) >= 10:
            assert share >= 60.0, engine


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


def test_each_dimension_outside_the_rows_widens_both_ends_once():
    res = ttft.shipped_ratios()
    inside = Answer("tensorrt-llm", "h100-sxm", 2048, False, 2, 1, "fp8")
    base = ttft_interval.ends(inside)
    assert base.extrapolated == [] and base.widened_by == 1.0
    q = intervals.weighted_quantiles(res.ratio, res.source)
    assert (base.low, base.high) == pytest.approx(intervals.bounds(q))
    assert base.low < 1.0 < base.high  # the prediction lies inside its own interval
    far = int(res.prompt.max()) + 1
    outside = Answer("lmdeploy", "b300", far, False, 16, 2, "fp4", False, False)
    e = ttft_interval.ends(outside)
    assert e.extrapolated == [
        *("engine", "prompt", "chip", "tp", "pp", "weight_dtype", "assumptions", "profile")
    ]
    assert e.widened_by == pytest.approx(1.5**8)
    assert e.low == pytest.approx(base.low / 1.5**8) and e.high == pytest.approx(base.high * 1.5**8)
    # no engine named: every engine's ratios hold it
    assert ttft_interval.ends(inside._replace(engine=None)).extrapolated == []


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
    assert iv["ttft_s"] == m["ttft_s"] and iv["widened_by"] == {"fast": 1.0, "slow": 1.0}
    # an engine none of the published TTFTs ran, named though its profile is every engine's fit
    lmdeploy = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, engine="lmdeploy", **kw)
    assert lmdeploy["profile"]["name"] == rec["profile"]["name"]
    assert lmdeploy["ttft_interval"]["extrapolated"] == ["engine"]
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
    # a loaded TTFT (queueing) has no interval: the record bounds the one prompt only
    loaded = evaluate("llama3.1-70b", "h200", tp=8, pp=1, batch=16, requests_per_s=1.0, **kw)
    assert "ttft_low_s" not in loaded["metrics"]
    assert loaded["ttft_interval"]["of"] == "one prompt's prefill, no queue"
    assert loaded["ttft_interval"]["ttft_low_s"] == pytest.approx(iv["ttft_low_s"])
    assert loaded["ttft_interval"]["ttft_s"] == pytest.approx(m["ttft_s"])
    assert loaded["metrics"]["ttft_s"] != pytest.approx(m["ttft_s"])  # the loaded one

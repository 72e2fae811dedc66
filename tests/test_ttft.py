"""Published TTFTs (catalogs/measurements/prefill.csv) and the prefill model's prediction of
them (designer/calibration/ttft.py)."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest

from designer.calibration import measurements, ttft
from designer.model.workload import Efficiency


def test_every_ttft_is_stated_by_the_source_of_its_decode_row(catalog):
    decode = {r["id"]: r for r in csv.DictReader(measurements.bundled_path().open())}
    rows = [r for r in ttft.load(ttft.bundled_path(), catalog) if r.id.startswith("cal-")]
    assert len(rows) == 13
    for r in rows:
        d = decode[r.id]  # the one-request run of the same id
        assert d["batch"] == "1" and d["source_url"] == r.source_url, r.id
        for key, value in (("chip", r.chip), ("engine", r.engine), ("catalog_model", r.model)):
            assert d[key] == value, (r.id, key)
        assert int(d["tp"]) == r.tp and int(d["input_tokens"]) == r.input_tokens, r.id
        stated = f"{r.ttft_ms:.2f}".rstrip("0").rstrip(".")
        assert stated in d["notes"], r.id  # the value the source states, quoted in its notes


def test_every_other_ttft_is_quoted_from_its_source_in_its_notes(catalog):
    """pf-01 … pf-54: first-token tables (batch 1, one output token) and concurrency-1 serving
    runs; each row's notes quote the number, and each is one request of a stated prompt."""
    with ttft.bundled_path().open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["id"].startswith("pf-")]
    assert [r["id"] for r in rows] == [f"pf-{k:02d}" for k in range(1, 55)]
    for r in rows:
        stated = f"{float(r['ttft_ms']):.2f}".rstrip("0").rstrip(".")
        assert stated in r["notes"] and r["batch"] == "1", r["id"]
        assert r["source_url"].startswith("https://"), r["id"]
    assert len(ttft.load(ttft.bundled_path(), catalog)) == 67


def test_a_long_prompt_is_mostly_compute_at_eta_pf(catalog):
    row = next(r for r in ttft.load(ttft.bundled_path(), catalog) if r.input_tokens == 128000)
    base = Efficiency(0.8, 0.5, prefill_compute=0.6)
    slow = dataclasses.replace(base, prefill_compute=0.3)
    a, b = ttft.predict_ms(row, base, catalog), ttft.predict_ms(row, slow, catalog)
    assert 1.8 * a < b < 2 * a  # its compute doubles; its collectives do not move


def test_a_batch_other_than_one_is_refused(tmp_path, catalog):
    text = ttft.bundled_path().read_text().splitlines()
    header, first = text[0], text[1]
    cols = header.split(",")
    parts = first.split(",")
    parts[cols.index("batch")] = "4"
    p = tmp_path / "p.csv"
    p.write_text(header + "\n" + ",".join(parts) + "\n")
    from designer.model.errors import InputError

    with pytest.raises(InputError):
        ttft.load(p, catalog)


def test_every_answer_with_a_ttft_quotes_how_the_model_met_published_ttfts(catalog, capsys):
    """`ttft.published_check`: measured / predicted over prefill.csv under the profiles answers
    use (the same predictions `ttft.compare` prints), quoted by `evaluate` and by a serving
    `solve`, in JSON and in text."""
    from designer.interface.cli import main

    decode = measurements.load(measurements.bundled_path(), catalog)
    rows = ttft.load(ttft.bundled_path(), catalog)
    ratio = [r["measured_ms"] / r["profile_ms"] for r in ttft.compare(rows, decode, catalog)]
    check = ttft.published_check()
    assert check["measured_over_predicted"] == pytest.approx([min(ratio), max(ratio)], rel=1e-12)
    assert check["median_measured_over_predicted"] == pytest.approx(np.median(ratio), rel=1e-12)
    assert check["rows"] == len(rows) and check["publications"] == len({r.source_url for r in rows})
    args = ["evaluate", "--model", "llama3.3-70b", "--chip", "h100-sxm", "--tp", "2"]
    assert main([*args, "--prompt-tokens", "5000", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ttft_check"] == check
    assert main([*args, "--json"]) == 0  # no prompt, no TTFT: nothing to quote
    assert "ttft_check" not in json.loads(capsys.readouterr().out)
    assert main(["solve", "problems/serving-llama3.1-70b-30rps-ttft2s.toml", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ttft_check"] == check
    assert main(["solve", "problems/quickstart.toml", "--json"]) == 0
    assert "ttft_check" not in json.loads(capsys.readouterr().out)


def test_the_ttft_forms_hold_each_source_out_of_its_own_prediction_and_interval(
    load_script, catalog
):
    """scripts/ttft_check.py --forms: a source's rows are predicted, and their interval built,
    without any of its rows (double nested); `t0` recovers a fixed time it is given."""
    script = load_script("ttft_check")
    rows = ttft.load(ttft.bundled_path(), catalog)
    f = script.Forms(rows, catalog)
    np.testing.assert_allclose(f.shipped * 1e3, [ttft.answer_ms(r, catalog)[1] for r in rows])
    judged = f.source == f.source[0]
    measured = f.measured.copy()
    for form in script.FORMS:
        f.measured = measured
        before = f.held_out(form)
        f.measured = np.where(judged, measured * 5.0, measured)  # only the judged source moves
        after = f.held_out(form)
        for key in ("predicted", "low", "high"):
            np.testing.assert_allclose(after[key][judged], before[key][judged], rtol=1e-6)
        assert not np.allclose(after["predicted"][~judged], before["predicted"][~judged]) or (
            form == "shipped"
        )
    f.measured = f.shipped + 0.05  # every row 50 ms over its pass
    got = f.held_out("t0")
    np.testing.assert_allclose(got["predicted"], f.measured, rtol=1e-6)
    s = script.summary(f.measured, got)
    assert s["mape"] < 1e-3 and s["inside"] == 100.0


def test_the_ttft_forms_print_the_figures_docs_quote(load_script, capsys):
    """docs/model.md §6 ("A fixed time per request, and a TTFT interval") quotes these."""
    assert load_script("ttft_check").main(["--forms"]) == 0
    out = capsys.readouterr().out
    assert "shipped          37.9%   30.2%  -33.7%   71.6%     125.0%" in out
    assert "t0 per engine    26.9%   14.9%  -17.4%   68.7%     134.3%" in out

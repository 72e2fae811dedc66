"""Published TTFTs (catalogs/measurements/prefill.csv) and the prefill model's prediction of
them (designer/calibration/ttft.py)."""

from __future__ import annotations

import csv
import dataclasses
import json

import numpy as np
import pytest

from designer.calibration import intervals, measurements, ttft, ttft_interval
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
    """pf-01 … pf-69: first-token tables (batch 1, one output token) and concurrency-1 serving
    runs; each row's notes quote the number, and each is one request of a stated prompt."""
    with ttft.bundled_path().open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["id"].startswith("pf-")]
    assert [r["id"] for r in rows] == [f"pf-{k:02d}" for k in range(1, 70)]
    for r in rows[:54]:
        stated = f"{float(r['ttft_ms']):.2f}".rstrip("0").rstrip(".")
        assert stated in r["notes"] and r["batch"] == "1", r["id"]
        assert r["source_url"].startswith("https://"), r["id"]
    assert len(ttft.load(ttft.bundled_path(), catalog)) == 82


def test_lmdeploys_ttfts_are_their_quoted_table_rows():
    """pf-55 … pf-69 (round 19): each quotes its row of LMDeploy's A100 table (batch | tp |
    prompt_tokens | output_tokens | throughput | mem | FTL(ave)(s) | …); the row's batch is 1,
    and its TP, prompt and TTFT (FTL(ave) in ms) are the quoted row's."""
    with ttft.bundled_path().open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["engine"] == "lmdeploy"]
    assert [r["id"] for r in rows] == [f"pf-{k}" for k in range(55, 70)]
    for r in rows:
        quoted = r["notes"].split("row '| ", 1)[1].split("|'", 1)[0]
        cells = [c.strip() for c in quoted.split("|")]
        batch, tp, prompt, _, _, _, ftl_avg = cells[:7]
        assert batch == r["batch"] == "1", r["id"]
        assert tp == r["tp"] and prompt == r["input_tokens"], r["id"]
        assert float(r["ttft_ms"]) == pytest.approx(float(ftl_avg) * 1000), r["id"]
        assert "v0.1.0" in r["notes"] and r["chip"] == "a100-80gb" and r["weight_dtype"] == "fp16"


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
    """docs/model.md §6 ("A fixed time per request, and a TTFT interval") quotes these (the 82
    rows since round 19; its table keeps round 12's, on the 67 rows then)."""
    assert load_script("ttft_check").main(["--forms"]) == 0
    out = capsys.readouterr().out
    assert "shipped          35.4%   29.1%  -31.1%   74.4%     108.4%" in out
    assert "t0 per engine    26.2%   15.5%  -16.5%   74.4%     110.4%" in out
    assert "84.1% inside, median half-width ±88.7% (lmdeploy 100.0% at ±456.7%" in out
    assert "tensorrt-llm 81.8% at ±26.4%" in out
    assert "one publication (6): 84.1% inside, median half-width ±92.4%;" in out
    assert "0.96-3.16x the prediction" in out  # round 18, 67 rows: 1.07-3.77x


def test_validate_predicts_a_file_of_ttfts_as_the_published_check_does(capsys, catalog):
    """`designer validate prefill.csv`: each TTFT under its answer's profile (`--profile
    default`), the same milliseconds as `ttft.compare`, each with the TTFT interval answers give
    (`ttft_interval`), and the range answers quote."""
    from designer.interface.cli import main

    rows = ttft.load(ttft.bundled_path(), catalog)
    decode = measurements.load(measurements.bundled_path(), catalog)
    expected = {r["id"]: r for r in ttft.compare(rows, decode, catalog)}
    assert main(["validate", str(ttft.bundled_path()), "--profile", "default", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["measure"] == "ttft" and rec["points"] == len(rows) == 82
    assert rec["interval"]["check"] == ttft_interval.cross_validated()
    assert rec["check"] == ttft.published_check()
    res = ttft.shipped_ratios()
    by_id = {r.id: r for r in rows}
    for r in rec["rows"]:
        assert r["predicted_ms"] == pytest.approx(expected[r["id"]]["profile_ms"], rel=1e-12)
        assert r["profile"] == expected[r["id"]]["profile"]
        # every shipped row lies inside the rows its interval was built from: not widened; an
        # engine three publications measured (TensorRT-LLM) by its own rows (rule E)
        assert r["extrapolated"] == [] and r["widened_by"] == {"fast": 1.0, "slow": 1.0}
        mine = res.engine == by_id[r["id"]].engine
        own = (
            len({ttft_interval.publication(u) for u in res.source[mine]})
            >= ttft_interval.MIN_PUBLICATIONS
        )
        basis = res.take(mine) if own else res
        q10, q90 = intervals.bounds(intervals.weighted_quantiles(basis.ratio, basis.source))
        assert r["low_ms"] == pytest.approx(r["predicted_ms"] * q10, rel=1e-12)
        assert r["high_ms"] == pytest.approx(r["predicted_ms"] * q90, rel=1e-12)
        assert r["interval_built_from"]["engine"] == (by_id[r["id"]].engine if own else None)
        assert r["interval_built_from"]["rows"] == len(basis.ratio)
    inside = [r["low_ms"] <= r["measured_ms"] <= r["high_ms"] for r in rec["rows"]]
    assert rec["inside"] == pytest.approx(np.mean(inside) * 100)  # in-sample: built from them
    assert rec["built_from"] == 82
    rel = [r["predicted_ms"] / r["measured_ms"] - 1 for r in rec["rows"]]
    assert rec["mape"] == pytest.approx(np.mean(np.abs(rel)) * 100)
    assert rec["signed"] == pytest.approx(np.mean(rel) * 100) and rec["signed"] < 0
    assert sum(d["points"] for d in rec["platforms"].values()) == 82

    assert main(["validate", str(ttft.bundled_path()), "--profile", "default"]) == 0
    out = capsys.readouterr().out
    assert "MAPE 35.4%" in out and "TTFT check:" in out
    assert "inside their 80% TTFT interval" in out and "TTFT interval check: held out" in out
    assert "(in-sample for 82 of 82: built from their publications)" in out
    assert "mi300x/vllm: 6 points" in out


def test_validate_of_ttfts_under_a_named_profile_and_filters(capsys, catalog):
    from designer.calibration import profiles
    from designer.interface.cli import main

    path = str(ttft.bundled_path())
    assert main(["validate", path, "--profile", "limit", "--engine", "sglang", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    rows = [r for r in ttft.load(ttft.bundled_path(), catalog) if r.engine == "sglang"]
    limit = profiles.get("limit").efficiency
    assert [r["id"] for r in rec["rows"]] == [r.id for r in rows]
    for got, row in zip(rec["rows"], rows, strict=True):
        assert got["profile"] == "limit"
        assert got["predicted_ms"] == pytest.approx(ttft.predict_ms(row, limit, catalog))
        # not the profile the published TTFTs were judged under: widened once for it
        assert got["extrapolated"] == ["profile"] and got["widened_by"]["slow"] == 1.5
    assert main(["validate", path, "--platform", "b200/vllm"]) == 2
    assert "closest" in capsys.readouterr().err


def test_a_ttft_file_read_from_the_sources_words(tmp_path, capsys):
    """Without chip, engine and catalog_model the words are read (`plain_names`), and validate
    says what it read them as, as for decode rows."""
    from designer.interface.cli import main

    with ttft.bundled_path().open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["id"] in ("cal-01", "pf-54")]
    cols = ["id", "source_url", "hardware", "software", "model", "weight_dtype", "kv_dtype"]
    cols += ["tp", "pp", "batch", "input_tokens", "ttft_ms"]
    words = {"hardware": "2x H100 SXM", "model": "Llama 3.3 70B Instruct"}
    p = tmp_path / "ttft_words.csv"
    with p.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({**r, **words, "software": r["software"], "model": words["model"]})
    assert main(["validate", str(p), "--profile", "default", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["read_as"]["hardware"] == {"2x H100 SXM": "h100-sxm"}
    assert rec["read_as"]["model"] == {"Llama 3.3 70B Instruct": "llama3.3-70b"}


def test_calibrate_says_a_ttft_file_is_for_validate(capsys):
    from designer.interface.cli import main

    assert main(["calibrate", str(ttft.bundled_path())]) == 2
    err = capsys.readouterr().err
    assert "times to first token (ttft_ms): designer validate predicts it" in err
    assert err.count("\n") == 1


def test_a_ttft_file_without_rows_is_one_line_of_bad_input(tmp_path, capsys):
    from designer.interface.cli import main

    p = tmp_path / "empty.csv"
    p.write_text(ttft.bundled_path().read_text().splitlines()[0] + "\n")
    assert main(["validate", str(p)]) == 2
    assert "no TTFT rows" in capsys.readouterr().err


def _mixed_file(tmp_path, decode_ids=("cal-01", "cal-02"), batch="1") -> str:
    """decode.csv's rows `decode_ids` and, as `measure` = `ttft` rows, prefill.csv's cal-01 and
    pf-54 (NIM 1.8.0 on 2 H100, 5,000 and 500 prompt tokens)."""
    with measurements.bundled_path().open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    out = [r for r in rows if r[0] in decode_ids]
    with ttft.bundled_path().open(encoding="utf-8", newline="") as f:
        firsts = [r for r in csv.DictReader(f) if r["id"] in ("cal-01", "pf-54")]
    base = out[0] if out else next(r for r in rows if r[0] == "cal-01")
    for t in firsts:
        row = list(base)
        row[col["id"]] = f"ttft-{t['id']}"
        row[col["measure"]], row[col["ms_per_output_token"]] = "TTFT", t["ttft_ms"]
        row[col["input_tokens"]], row[col["batch"]] = t["input_tokens"], batch
        out.append(row)
    path = tmp_path / "mixed.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *out])
    return str(path)


def test_ttft_rows_of_a_measurements_file_are_predicted_beside_its_decode_rows(
    tmp_path, capsys, catalog
):
    """`measure` = `ttft` rows (one request, the TTFT in ms_per_output_token): the decode record
    is the one without them, and `ttft` holds theirs, as for a TTFT file."""
    from designer.interface.cli import main

    path = _mixed_file(tmp_path)
    assert main(["validate", path, "--profile", "default", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rec["rows"]] == ["cal-01", "cal-02"]
    shipped = {r.id: r for r in ttft.load(ttft.bundled_path(), catalog)}
    got = {r["id"]: r for r in rec["ttft"]["rows"]}
    assert set(got) == {"ttft-cal-01", "ttft-pf-54"}
    assert rec["ttft"]["interval"]["check"] == ttft_interval.cross_validated()
    for key in ("cal-01", "pf-54"):
        expected = ttft.answer_ms(shipped[key], catalog)
        assert (got[f"ttft-{key}"]["profile"], got[f"ttft-{key}"]["predicted_ms"]) == expected
    assert main(["validate", path, "--profile", "default"]) == 0
    out = capsys.readouterr().out
    assert "time to first token, profile default" in out and "ttft-pf-54" in out

    only = _mixed_file(tmp_path, decode_ids=())  # ttft rows only: the TTFT record itself
    assert main(["validate", only, "--profile", "default", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["measure"] == "ttft"
    assert main(["calibrate", only]) == 2
    assert "no decode rows to fit" in capsys.readouterr().err


def test_calibrate_leaves_ttft_rows_out_and_says_so(tmp_path, capsys):
    from designer.interface.cli import main

    ids = tuple(f"cal-{k:02d}" for k in range(1, 13))
    path = _mixed_file(tmp_path, decode_ids=ids)
    assert main(["calibrate", path, "--name", "mine", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["points"] == 12
    assert "2 points of time to first token (measure ttft) not fitted" in captured.err


def test_a_ttft_row_under_concurrency_is_one_line_of_bad_input(tmp_path, capsys):
    from designer.interface.cli import main

    assert main(["validate", _mixed_file(tmp_path, batch="8")]) == 2
    err = capsys.readouterr().err
    assert ":4: batch: expected 1 for a time to first token" in err and err.count("\n") == 1


def test_a_ttft_row_runs_on_the_group_its_decode_row_runs_on(tmp_path, capsys, catalog):
    """The same reading of the partition for a time to first token as for a decode row
    (`measurements.partition_of`): vLLM's `-dp 8 -tp 1 --enable-expert-parallel` written as
    tp 1, ep 8, attention dp is the 8-chip group, in a measurements file and in a TTFT file."""
    with measurements.bundled_path().open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    col = {c: k for k, c in enumerate(header)}
    row = next(r for r in rows if r[0] == "cal-437")
    row[col["measure"]], row[col["batch"]], row[col["ms_per_output_token"]] = "ttft", "1", "900"
    vllm = list(row)
    vllm[col["id"]], vllm[col["tp"]] = "vllm", "1"
    path = tmp_path / "m.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row, vllm])
    first: list = []
    assert measurements.load(path, catalog, first_tokens=first) == []
    assert [r.tp for r in first] == [8, 8]
    eff = Efficiency(0.8, 0.5, prefill_compute=0.6)
    assert ttft.predict_ms(first[0], eff, catalog) == ttft.predict_ms(first[1], eff, catalog)


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("ttft_ms", "nan", "ttft_ms: expected a positive number of ms"),
        ("ttft_ms", "inf", "ttft_ms: expected a positive number of ms"),
        ("ttft_ms", "1e300", "ttft_ms: expected a positive number of ms"),
        ("batch", "2", "batch: expected 1 for a time to first token"),
        ("input_tokens", "0", "input_tokens: expected a positive integer"),
        ("chips", "3", "chips: expected a multiple of the 2 chips"),
    ],
)
def test_a_ttft_files_bad_cells_name_line_and_column(tmp_path, capsys, column, value, needle):
    from designer.interface.cli import main

    with ttft.bundled_path().open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    header = [*header, "chips"]
    row = [*next(r for r in rows if r[0] == "cal-01"), "2"]  # TP 2
    row[header.index(column)] = value
    path = tmp_path / "p.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row])
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"p.csv:2: {needle}" in err and err.count("\n") == 1


def test_a_ttft_file_reads_cells_as_a_spreadsheet_writes_them(tmp_path, catalog):
    with ttft.bundled_path().open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    row = next(r for r in rows if r[0] == "cal-01")
    row[header.index("batch")], row[header.index("ttft_ms")] = "1.0", "0.407 s"
    path = tmp_path / "p.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, row])
    (r,) = ttft.load(path, catalog)
    assert r.ttft_ms == pytest.approx(407.0)

"""catalogs/measurements/held_out/inferencex_2026.csv, fitted by no profile: every row with a
TPOT of the Baseline tables of InferenceX's 2026 image-update pull requests for DeepSeek-R1
(single node, no speculative decoding), on builds 5-9 months after `current`'s (catalogs/
measurements/README.md "InferenceX 2026")."""

from __future__ import annotations

import csv
import re

import pytest

from designer.calibration import profiles
from designer.calibration.measurements import bundled_path, load
from designer.calibration.validate import validate

LATER = bundled_path("held_out/inferencex_2026.csv")
# the lengths a fixed-seq-len shape draws, uniformly in [int(0.8 L), L]: their means
MEANS = {"1k/1k": (922, 922), "8k/1k": (7373, 922)}


def test_every_row_is_its_tables_line(catalog):
    rows = load(LATER, catalog)
    assert [r.id for r in rows] == [f"ix-{k:02d}" for k in range(1, 57)]
    assert {(r.chip, r.engine) for r in rows} == {
        ("b300", "sglang"),
        ("b200", "sglang"),
        ("b200", "tensorrt-llm"),
        ("h200", "sglang"),
        ("mi325x", "sglang"),
    }
    fitted = [(p.data, p.command) for p in profiles.load().values()]
    assert not any("inferencex_2026" in d or "inferencex_2026" in c for d, c in fitted)
    with LATER.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            line = re.search(r'Verbatim baseline table line: "(\|[^"]*\|)"', row["notes"])[1]
            cells = [c.strip() for c in line.strip("|").split("|")]
            point = re.fullmatch(r"(\dk/1k) c(\d+) TP(\d+) EP(\d+) [0-9a-f]{6}", cells[0])
            if point:  # "| 1k/1k c4 TP8 EP1 48133a | ... |"
                shape, batch, tp, ep = point[1], int(point[2]), int(point[3]), int(point[4])
            else:  # "| 4 | ... |" under a table headed "8k/1k · TP8/EP1"
                head = re.search(r"'(\dk/1k) · TP(\d+)/EP(\d+)", row["notes"])
                shape, tp, ep, batch = head[1], int(head[2]), int(head[3]), int(cells[0])
            assert (batch, tp, ep) == (int(row["batch"]), int(row["tp"]), int(row["ep"]))
            assert MEANS[shape] == (int(row["input_tokens"]), int(row["output_tokens"]))
            assert float(row["ms_per_output_token"]) == float(cells[-1]), row["id"]
            assert not re.search(r"mtp|eagle|dynamo|disagg", row["software"], re.IGNORECASE)


def test_what_the_blind_check_says(catalog):
    """The numbers the measurements README states: under the defaults (`current`, the builds
    being later than its rows') MAPE 16.7%, every row inside its interval, which is wide:
    median half-width ±124% (a later build widens every dimension by the assumption; ±148%
    before round 20, when an unmeasured chip under the generation was named `chip` too)."""
    rec = validate(load(LATER, catalog), None, catalog)
    assert {r["profile"] for r in rec["rows"]} == {"current"}
    assert all("build" in r["extrapolated"] for r in rec["rows"])
    assert rec["mape"] == pytest.approx(16.7, abs=0.05)
    assert rec["inside"] == 100.0
    assert rec["median_half_width"] == pytest.approx(124.5, abs=0.05)


def test_its_one_request_ttfts_are_its_tables_ttft_column(catalog):
    """held_out/inferencex_2026_ttft.csv: the TTFT column of every concurrency-1 line the decode
    rows quote (one request in flight, no queue), each with its decode row's configuration."""
    from designer.calibration import ttft

    path = bundled_path("held_out/inferencex_2026_ttft.csv")
    decode = {r.id: r for r in load(LATER, catalog)}
    rows = ttft.load(path, catalog)
    assert [r.id for r in rows] == [i for i, r in decode.items() if r.batch == 1]
    with LATER.open(encoding="utf-8") as f:
        notes = {row["id"]: row["notes"] for row in csv.DictReader(f)}
    for r in rows:
        d = decode[r.id]
        same = ("source_url", "chip", "engine", "model", "weight_dtype", "kv_dtype", "tp", "pp")
        assert all(getattr(r, k) == getattr(d, k) for k in same), r.id
        assert r.input_tokens == d.input_tokens
        line = re.search(r'Verbatim baseline table line: "(\|[^"]*\|)"', notes[r.id])[1]
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert " c1 " in cells[0] and r.ttft_ms == float(cells[3]), r.id  # the TTFT ms column


def test_the_ttft_interval_out_of_sample(catalog):
    """The shipped TTFT interval (built from prefill.csv only) on these 8 one-request TTFTs of
    2026 builds: MAPE 37.7%, all too fast, every one inside (docs/model.md §6, rules N2 and E:
    SGLang, one publication under rule E's count, keeps N2's interval from every row: ±352.7%
    since round 19's LMDeploy rows joined them, ±456.7% before)."""
    from designer.calibration import ttft
    from designer.calibration.validate import validate_ttft

    rows = ttft.load(bundled_path("held_out/inferencex_2026_ttft.csv"), catalog)
    rec = validate_ttft(rows, None, catalog)
    assert rec["built_from"] == 0  # none of their publications built the interval
    assert rec["mape"] == pytest.approx(37.7, abs=0.05) and rec["signed"] < 0
    assert rec["inside"] == 100.0
    assert rec["median_half_width"] == pytest.approx(352.7, abs=0.05)

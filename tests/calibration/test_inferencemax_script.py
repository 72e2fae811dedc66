"""scripts/inferencemax_rows.py, the writer of the InferenceMAX rows: fed the records the shipped
rows quote (rebuilt from their notes into a checkout-shaped folder), it writes both shipped files
byte for byte, keeps the latest run of a configuration, and leaves the shipped rows' ids alone."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MEASUREMENTS = ROOT / "catalogs" / "measurements"


@pytest.fixture(scope="module")
def script(load_script):
    return load_script("inferencemax_rows")


def _record(row: dict[str, str]) -> tuple[int, dict]:
    """The artifact record (and its run) a row's notes quote."""
    n = row["notes"]
    run = int(re.search(r"actions/runs/(\d+)", n).group(1))
    rec = dict(re.findall(r"(hw|framework|model|precision|image)=(\S+?)[ ;]", n))
    for k in ("tp", "ep", "conc", "isl", "osl"):
        rec[k] = int(re.search(rf" {k}=(\d+) ", n).group(1))
    rec["dp_attention"] = re.search(r"dp_attention=(\w+)", n).group(1)  # 'true'/'false' strings
    rec["mean_tpot"] = float(re.search(r"mean_tpot ([0-9.]+) s", n).group(1))
    rec["median_tpot"] = float(re.search(r"median ([0-9.]+) s", n).group(1))
    rec["mean_ttft"] = float(re.search(r"mean TTFT ([0-9.]+) s", n).group(1))
    rec |= {"is_multinode": False, "disagg": False, "spec_decoding": "none"}
    return run, rec


def _checkout(tmp: Path, script, extra: list[tuple[int, dict]] = ()) -> Path:
    runs: dict[int, list[dict]] = {}
    dates = []
    for name in ("inferencemax.csv", "held_out/inferencemax_long.csv"):
        with (MEASUREMENTS / name).open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                run, rec = _record(row)
                runs.setdefault(run, []).append(rec)
                m = re.search(r"run date (\d{4}-\d\d-\d\d) \(the copy's", row["notes"])
                if m:
                    dates.append({"run_id": run, "benchmark_date": f"{m.group(1)}T00:00:00Z"})
    for run, rec in extra:
        runs.setdefault(run, []).append(rec)
    for run, recs in runs.items():
        folder = tmp / script.RAW / f"run_{run}"
        folder.mkdir(parents=True)
        (folder / "agg_bmk.json").write_text(json.dumps(recs))
    (tmp / script.DATES).parent.mkdir(parents=True)
    with (tmp / script.DATES).open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["run_id", "benchmark_date"])
        w.writeheader()
        w.writerows(dates)
    return tmp


def test_it_writes_the_shipped_files_from_the_records_they_quote(tmp_path, script):
    mantile = _checkout(tmp_path, script)
    text, problems = script.build(mantile)
    assert problems == []
    assert text == (MEASUREMENTS / "inferencemax.csv").read_text(encoding="utf-8")
    long, problems = script.build(mantile, ((1024, 8192), (8192, 1024)), new_only=True)
    assert problems == []
    assert long == (MEASUREMENTS / "held_out" / "inferencemax_long.csv").read_text(encoding="utf-8")


def test_a_later_run_of_a_shipped_configuration_is_reported_and_new_ones_are_appended(
    tmp_path, script
):
    with (MEASUREMENTS / "inferencemax.csv").open(encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    run, rec = _record(first)
    later = {**rec, "mean_tpot": rec["mean_tpot"] * 2}
    unseen = {**rec, "conc": 256}  # a concurrency the selection does not take
    multinode = {**rec, "conc": 8, "tp": 16, "is_multinode": True}
    mantile = _checkout(tmp_path, script, [(run + 1, later), (run, unseen), (run, multinode)])
    text, problems = script.build(mantile)
    assert problems == [f"{first['id']}: the record gives another row"]
    assert text == (MEASUREMENTS / "inferencemax.csv").read_text(encoding="utf-8")

    new = {**rec, "conc": 8, "tp": 2, "ep": 2}  # a configuration not shipped
    mantile = _checkout(tmp_path / "b", script, [(run, new)])
    text, problems = script.build(mantile)
    rows = list(csv.DictReader(text.splitlines()))
    assert problems == [] and len(rows) == 119
    assert rows[-1]["id"] == "im-119" and rows[-1]["batch"] == "8" and rows[-1]["ep"] == "2"
    assert rows[-1]["ms_per_output_token"] == first["ms_per_output_token"]


def test_the_image_names_the_engine_build(script):
    assert script.software("lmsysorg/sglang:v0.5.6-cu129-amd64").startswith("SGLang 0.5.6 (")
    assert script.software("vllm/vllm-openai:v0.13.0").startswith("vLLM 0.13.0 (")
    trt = script.software("nvcr.io#nvidia/tensorrt-llm/release:1.2.0rc2")
    assert trt.startswith("TensorRT-LLM 1.2.0rc2 (nvcr.io/nvidia/tensorrt-llm/release:1.2.0rc2)")
    with pytest.raises(ValueError, match="no engine"):
        script.software("example/llama.cpp:b1")
    assert script.mean_length(1024) == 922 and script.mean_length(8192) == 7372


def test_a_launch_it_has_no_kv_dtype_for_is_an_error(script):
    with (MEASUREMENTS / "inferencemax.csv").open(encoding="utf-8") as f:
        run, rec = _record(next(csv.DictReader(f)))
    with pytest.raises(ValueError, match="no KV dtype known for .*'b200', 'vllm'"):
        script.row(run, {**rec, "framework": "vllm"}, {})

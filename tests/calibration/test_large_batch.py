"""catalogs/measurements/held_out/large_batch.csv, fitted by no profile: published rows of 2025
vLLM builds at 256 to 3,200 sequences in flight (docs/model.md §6, README "Large batches")."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from designer.calibration import profiles
from designer.calibration.measurements import bundled_path, load
from designer.calibration.validate import default, validate

LARGE = bundled_path("held_out/large_batch.csv")


@pytest.fixture(scope="module")
def checked(catalog):
    rows = load(LARGE, catalog)
    return rows, validate(rows, None, catalog)


def test_the_rows_load_with_their_builds_and_no_profile_fits_them(checked):
    rows, _ = checked
    assert [r.id for r in rows] == [f"lb-{k:02d}" for k in range(1, 42)]
    assert min(r.batch for r in rows) == 256
    builds = {r.version for r in rows}
    assert builds == {None, "0.8.5", "0.9.0.1", "0.9.1", "0.10.0", "0.11.1"}
    fitted = [(p.data, p.command) for p in profiles.load().values()]
    assert not any("large_batch" in d or "large_batch" in c for d, c in fitted)
    # every static batch is the table's Num Prompts over its throughput: ms = batch / tok/s
    with LARGE.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["measure"] != "throughput_step":
                continue
            tok_s = float(re.search(r"Throughput \(tokens/s\) ([0-9.]+)", row["notes"]).group(1))
            assert float(row["ms_per_output_token"]) == pytest.approx(
                int(row["batch"]) / tok_s * 1e3, abs=1e-3
            ), row["id"]


def test_each_is_answered_beyond_its_profiles_batches_and_named_so(checked, catalog):
    """Every row is above the largest batch its profile's rows measured (mi300x-vllm: dense
    256, MoE 1,024; lb-01's DeepSeek-R1 at 256 is inside), so its answer names `batch`."""
    from designer.calibration import intervals
    from designer.calibration.measurements import prepare

    rows, rec = checked
    assert {x["profile"] for x in rec["rows"]} == {"mi300x-vllm"}
    for r, item in zip(rows, prepare(rows, catalog), strict=True):
        p = default(catalog, r)
        t = intervals.table_for(p)
        dims = intervals.domain(p, t, item.decode, r.chip, r.tp, r.pp, r.ep, r.attention, r.batch)
        assert ("batch" in dims[1]) == (r.id != "lb-01"), r.id


def test_what_the_check_says(checked, catalog):
    """The numbers the README states (width-scaled, batch-sub-linear `τ_seq`): the 70B rows
    +7.1% slow and the 405B rows +10.0% (median), MAPE 13.4%, and the intervals hold 31 of 41
    (all 41 at round 10's 1.5 per dimension; the batch's factor is measured since round 11,
    `designer.calibration.widening`; lb-01, DeepSeek-R1 under `mi300x-vllm`, is named `moe`
    since round 10's fix of `intervals.domain`)."""
    rows, rec = checked
    signed = {x["id"]: x["predicted_ms"] / x["measured_ms"] - 1 for x in rec["rows"]}
    by_model = {m: [signed[r.id] for r in rows if r.model == m] for m in {r.model for r in rows}}
    assert np.median(by_model["llama3.1-405b"]) == pytest.approx(0.100, abs=0.002)
    assert np.median(by_model["llama3.1-70b"]) == pytest.approx(0.071, abs=0.002)
    inside = [x["low_ms"] <= x["measured_ms"] <= x["high_ms"] for x in rec["rows"]]
    assert sum(inside) == 31 and rec["mape"] == pytest.approx(13.4, abs=0.05)
    assert profiles.get("mi300x-vllm").measured_ranges == (
        ("dense_batch", 256),
        ("mla_batch", 1024),
        ("moe_batch", 1024),
    )

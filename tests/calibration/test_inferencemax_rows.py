"""The InferenceMAX rows kept beside decode.csv (catalogs/measurements/inferencemax.csv): each loads
against the catalog, and each value is the record's mean TPOT that its notes quote."""

from __future__ import annotations

import csv
import re

from designer.calibration import measurements
from designer.model.catalog import bundled_dir

PATH = bundled_dir() / "measurements" / "inferencemax.csv"


def test_every_row_loads_and_quotes_its_record():
    rows = measurements.load(PATH)
    with PATH.open(encoding="utf-8") as f:
        notes = {row["id"]: row["notes"] for row in csv.DictReader(f)}
    assert len(rows) == 47
    assert {r.measure for r in rows} == {"itl"}
    assert {r.chip for r in rows} == {"b200", "h200", "h100-sxm", "mi300x", "mi325x", "mi355x"}
    for r in rows:
        assert r.source_url.startswith("https://github.com/gminneci/mantile/tree/72ff84e")
        tpot = re.search(r"mean_tpot ([0-9.]+) s", notes[r.id])
        assert tpot, r.id
        assert abs(float(tpot.group(1)) * 1000 - r.measured_ms) < 0.001, r.id
        assert f"conc={r.batch} " in notes[r.id] and f"tp={r.tp} " in notes[r.id], r.id
        assert (r.attention == "dp") == ("dp_attention=true" in notes[r.id]), r.id

"""The InferenceMAX rows kept beside decode.csv (catalogs/measurements/inferencemax.csv) and the
ones the length rule keeps out of every fit (catalogs/measurements/held_out/): each loads against
the catalog, each value is the record's mean TPOT that its notes quote, and no profile is fitted to
a held-out file."""

from __future__ import annotations

import csv
import re
import tomllib

import pytest

from designer.calibration import measurements
from designer.model.catalog import bundled_dir

PATH = bundled_dir() / "measurements" / "inferencemax.csv"
LONG = bundled_dir() / "measurements" / "held_out" / "inferencemax_long.csv"


def _notes(path):
    with path.open(encoding="utf-8") as f:
        return {row["id"]: row["notes"] for row in csv.DictReader(f)}


@pytest.mark.parametrize(
    ("path", "count", "lengths"),
    [(PATH, 118, {(1024, 1024)}), (LONG, 224, {(1024, 8192), (8192, 1024)})],
)
def test_every_row_loads_and_quotes_its_record(path, count, lengths):
    rows = measurements.load(path)
    notes = _notes(path)
    assert len(rows) == count
    assert {r.measure for r in rows} == {"itl"}
    assert {r.chip for r in rows} == {"b200", "h200", "h100-sxm", "mi300x", "mi325x", "mi355x"}
    assert {r.batch for r in rows} == {4, 8, 16, 32, 64, 128}
    configs = set()
    for r in rows:
        assert r.source_url.startswith("https://github.com/gminneci/mantile/tree/72ff84e")
        tpot = re.search(r"mean_tpot ([0-9.]+) s", notes[r.id])
        assert tpot, r.id
        assert abs(float(tpot.group(1)) * 1000 - r.measured_ms) < 0.001, r.id
        assert f"conc={r.batch} " in notes[r.id] and f"tp={r.tp} " in notes[r.id], r.id
        assert (r.attention == "dp") == ("dp_attention=true" in notes[r.id]), r.id
        isl, osl = (int(re.search(rf" {k}=(\d+) ", notes[r.id]).group(1)) for k in ("isl", "osl"))
        assert (isl, osl) in lengths, r.id
        # the mean of lengths drawn uniformly in [int(0.8 L), L]
        assert (r.input_tokens, r.output_tokens) == (
            round((int(0.8 * isl) + isl) / 2),
            round((int(0.8 * osl) + osl) / 2),
        ), r.id
        config = re.search(r"record (.*?) image=", notes[r.id]).group(1)
        assert config not in configs, r.id  # one row per configuration: its latest run
        configs.add(config)


def test_the_held_out_rows_continue_the_ids_and_no_profile_fits_them():
    fitted, held = _notes(PATH), _notes(LONG)
    assert list(fitted) == [f"im-{n:02d}" for n in range(1, 119)]
    assert list(held) == [f"im-{n:02d}" for n in range(119, 343)]
    profiles = tomllib.loads((bundled_dir() / "profiles.toml").read_text(encoding="utf-8"))
    intervals = tomllib.loads((bundled_dir() / "intervals.toml").read_text(encoding="utf-8"))
    commands = [p["command"] for p in profiles.values()] + [intervals["command"]]
    assert all("held_out/" not in c for c in commands)
    assert all("held_out/" not in p["data"] for p in profiles.values())

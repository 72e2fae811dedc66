"""A measurement whose software names its engine but no build is predicted as running the build
its date implies (`engines.dated_build`, catalogs/engines.toml `published`): the latest build
that was out by the earliest month the date admits, so that it ran that build or a later one."""

from __future__ import annotations

import contextlib
import csv
import io

import pytest

from designer.calibration import engines, measurements, profiles
from designer.calibration.validate import validate
from designer.interface.cli import main
from designer.model.errors import InputError


@pytest.mark.parametrize(
    "date, expected",
    [
        ("2025-12-17", (2025, 12)),
        ("2025-12-17T10:00Z", (2025, 12)),
        ("2025-12", (2025, 12)),
        ("2025/12", (2025, 12)),
        ("2025.12", (2025, 12)),
        ("20251217", (2025, 12)),  # ISO 8601 basic
        ("2025年12月", (2025, 12)),
        ("12/2025", (2025, 12)),
        ("12.2025", (2025, 12)),
        ("2025-12/2026-01", (2025, 12)),  # a range: its start
        ("2019-2026", (2019, 1)),
        ("2026", (2026, 1)),  # a year alone: its January
        ("late 2025", (2025, 1)),
        ("2025-Q4", (2025, 1)),  # a quarter after its year: the year only
        ("12/17/2025", (2025, 1)),  # a day before the year: only the year is read
        ("2025-13", (2025, 1)),  # no such month: only the year
        ("December 2025", (2025, 12)),
        ("Dec. 2025", (2025, 12)),
        ("Dec 17, 2025", (2025, 12)),
        ("17 Dec 2025", (2025, 12)),
        ("published Sep 2025", (2025, 9)),
        ("Sept 2025", (2025, 9)),
        ("Nov-Dec 2025", (2025, 11)),  # a range of months: its first
        ("Nov/Dec 2025", (2025, 11)),
        ("Jan–Mar 2026", (2026, 1)),
        ("Nov 2025 - Jan 2026", (2025, 11)),
        ("Q4 2025", (2025, 10)),
        ("Q3/Q4 2025", (2025, 7)),
        ("Jun 2026 (dataset from Nov 2025)", (2025, 11)),  # the earliest date written
        ("updated 2026-02-01; first run 2025-10-20", (2025, 10)),
        ("Market 2026", (2026, 1)),  # not a month's name
        ("Dec-Jan 2026", (2025, 12)),  # a range of months that wraps the year
        ("December/January 2026", (2025, 12)),
        ("Q4-Q1 2026", (2025, 10)),
        ("Q4 2025 - Q1 2026", (2025, 10)),
        ("2025-12-31/2026-01-01", (2025, 12)),
        ("01.12.2025", (2025, 1)),  # day.month.year: only the year is read
        ("Q4/2025", (2025, 1)),
        ("2025-12 (by NVIDIA)", (2025, 12)),  # "by" before no date is no bound
        ("<= 2026-01", None),
        ("2026-01 or earlier", None),
        ("2026-01 at the latest", None),
        ("til 2026-01", None),
        ("pre\u20112026", None),  # a non-breaking hyphen
        ("est. 2026", None),
        ("Dec 2025 (approx.)", None),
        ("2026?", None),
        ("≈2026-01", None),
        ("fiscal 2026", None),
        ("github.com/x/pull/2026", None),  # an address without its scheme
        ("PR #2026", None),
        ("2025-12 " + " " * 200, None),  # a cell longer than a date is notes
        ("pre-2026", None),  # a bound from above: no start
        ("before 2026-01", None),
        ("<2026-01", None),
        ("by Dec 2025", None),
        ("~2025", None),  # an estimate
        ("~2026-01", None),
        ("FY2026", None),  # a fiscal year
        ("Q1 FY 2026", None),
        ("https://github.com/x/y/pull/2026", None),  # an address
        ("v2025", None),
        ("", None),
        ("unknown", None),
        ("120251", None),  # no year inside a longer number
    ],
)
def test_the_earliest_month_a_date_admits(date, expected):
    assert engines.earliest_month(date) == expected


@pytest.mark.parametrize(
    "engine, date, expected",
    [
        ("sglang", "2025-11-30", None),  # before SGLang 0.5.5 was out
        ("sglang", "2025-12", "0.5.6"),  # the newest out by then
        ("sglang", "2026-04", "0.5.9"),  # the newest listed: 0.5.10 and 0.5.11 are not
        ("sglang", "2026-06-10", "0.5.12"),
        ("sglang", "2026-09-10", "0.5.19"),
        ("vllm", "2025-12/2026-01", None),  # it may have started before vLLM 0.13.0 was out
        ("vllm", "2026-01-02", "0.13.0"),
        ("tensorrt-llm", "2025-11", "1.2.0rc2"),
        ("tensorrt-llm", "2026", "1.2.0rc2"),  # a year alone: its January
        ("tensorrt-llm", "~2026", None),  # an estimate gives no start
        ("tgi", "2026-06", None),  # an engine with no published build
        ("sglang", "", None),
    ],
)
def test_the_build_a_date_implies(engine, date, expected):
    assert engines.dated_build(engine, date) == expected


def test_a_stated_build_comes_before_the_date_which_needs_the_engine_named():
    assert engines.build("sglang", "SGLang 0.4.3", "2026-01") == "0.4.3"
    assert engines.build("sglang", "SGLang", "2026-01") == "0.5.7"
    assert engines.build("sglang", "lmsysorg/sglang (nightly)", "2026-01") == "0.5.7"
    for software in ("", "in-house stack", "vLLM"):  # names no build of SGLang
        assert engines.build("sglang", software, "2026-01") is None
    # a bundle's own version pins an engine build it does not state: not dated
    assert engines.build("tensorrt-llm", "NVIDIA NIM 1.8.0 (TensorRT-LLM backend)", "2026") is None
    assert engines.build("vllm", "dynamo-vllm 0.4.1", "2026-03") is None
    assert engines.build("sglang", "SGLang", "") is None
    assert not engines.mixed_batches("vllm", "", "2026-02")
    assert engines.mixed_batches("vllm", "vLLM", "2026-02")


@contextlib.contextmanager
def _vllm_published(tmp_path, monkeypatch, table: str):
    """catalogs/engines.toml with vLLM's `published` line replaced by `table`, while inside."""
    from designer.model import catalog as cat_mod

    text = (cat_mod.bundled_dir() / engines.FILE).read_text()
    (listed,) = [x for x in text.splitlines() if x.startswith('published = { "0.13.0"')]
    (tmp_path / engines.FILE).write_text(text.replace(listed, table))
    monkeypatch.setattr(engines, "bundled_dir", lambda: tmp_path)
    caches = (engines._raw, engines._published)
    for c in caches:
        c.cache_clear()
    try:
        yield
    finally:
        for c in caches:
            c.cache_clear()


def test_the_newest_version_out_wins_whatever_order_the_table_lists(tmp_path, monkeypatch):
    table = 'published = { "0.13.0" = "2026-01", "0.9.0" = "2026-01", "0.12.1" = "2026-02" }'
    with _vllm_published(tmp_path, monkeypatch, table):
        assert engines.dated_build("vllm", "2026-03") == "0.13.0"
        assert engines.dated_build("vllm", "2026-01") == "0.13.0"


def test_every_generation_lists_its_first_builds_publication():
    """A row dated after a generation's first build gets that generation: each engine build a
    profile's `builds` starts from has its month in `published`."""
    published = {e: dict((b, m) for m, b in v) for e, v in engines._published().items()}
    starts = [(e, v) for p in profiles.load().values() for e, v in p.builds]
    assert starts
    for engine, first in starts:
        assert first in published.get(engine, {}), (engine, first)


def _stripped(path, keep_date=True) -> str:
    """The CSV at `path` with each `software` cut to its engine's name (no build stated)."""
    reader = csv.DictReader(path.open())
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
    writer.writeheader()
    for row in reader:
        row["software"] = row["software"].split(" ")[0]
        if not keep_date:
            row["date"] = ""
        writer.writerow(row)
    return out.getvalue()


def test_rows_dated_after_the_builds_are_predicted_as_rows_stating_them(tmp_path, catalog):
    """InferenceMAX's rows (Dec 2025 - Jan 2026) cut to the engine's name are predicted as the
    rows stating SGLang 0.5.5-0.5.7, vLLM 0.13.0 and TensorRT-LLM 1.2.0rc2 are, under the same
    profile; as they may have run an older build, the slow end of each interval widens, the
    fast end stays. Undated, they fall back to their chips' defaults."""
    shipped = measurements.bundled_path().with_name("inferencemax.csv")
    stated = validate(measurements.load(shipped, catalog), None, catalog)
    path = tmp_path / "no_builds.csv"
    path.write_text(_stripped(shipped))
    dated = validate(measurements.load(path, catalog), None, catalog)
    for a, b in zip(stated["rows"], dated["rows"], strict=True):
        assert "build" in a and "build_from_date" not in a
        assert "build" not in b and "build_from_date" in b
        same = profiles.for_build("sglang", "0.5.5").id  # the generation of both builds
        assert a["profile"] == b["profile"] == same
        assert a["predicted_ms"] == b["predicted_ms"] and a["low_ms"] == b["low_ms"]
        assert b["high_ms"] > a["high_ms"] and "build" in b["extrapolated"]
        assert b["widened_by"]["fast"] == a["widened_by"]["fast"]
    assert dated["inside"] >= stated["inside"]
    path.write_text(_stripped(shipped, keep_date=False))
    undated = validate(measurements.load(path, catalog), None, catalog)
    assert {r["profile"] for r in undated["rows"]}.isdisjoint({"current"})
    assert not any("build_from_date" in r for r in undated["rows"])
    assert undated["mape"] > 2 * dated["mape"]


def test_a_date_later_than_the_profiles_builds_widens_both_ends(tmp_path, catalog):
    """InferenceX's 2026 rows cut to the engine's name: dated builds later than `current`'s
    rows, widened at the fast end as the stated builds are, and at the slow end too."""
    shipped = measurements.bundled_path("held_out/inferencex_2026.csv")
    stated = validate(measurements.load(shipped, catalog), None, catalog)
    path = tmp_path / "no_builds.csv"
    path.write_text(_stripped(shipped))
    dated = validate(measurements.load(path, catalog), None, catalog)
    for a, b in zip(stated["rows"], dated["rows"], strict=True):
        assert a["predicted_ms"] == b["predicted_ms"] and a["low_ms"] == b["low_ms"]
        assert b["high_ms"] > a["high_ms"]
        assert b["build_from_date"] == a["build"].split(".post")[0]


def _row(software: str, date: str, engine: str = "vllm") -> str:
    header = (
        "id,source_url,date,chip,engine,software,catalog_model,weight_dtype,tp,pp,batch,"
        "input_tokens,output_tokens,ms_per_output_token,measure"
    )
    return (
        f"{header}\nx-1,https://example.org,{date},h200,{engine},{software},llama3.1-70b,fp8,"
        "8,1,32,1024,1024,20,itl\n"
    )


@pytest.mark.parametrize(
    "software, date, profile, mixed",
    [
        ("vLLM", "2026-01-02", "current", True),  # the date implies vLLM 0.13.0
        ("vLLM", "2025-12/2026-01", "generic", False),  # it may predate 0.13.0
        ("vLLM", "", "generic", False),
        ("vLLM 0.6.0", "2026-03", "generic", False),  # a stated build is never overridden
        ("vLLM 0.13.0", "2024-01", "current", True),
        ('""', "2026-01-02", "generic", False),  # no software: no engine named, no build
        ("SGLang", "2026-01-02", "generic", False),  # another engine named
    ],
)
def test_a_date_picks_the_profile_and_the_scheduler(
    tmp_path, catalog, software, date, profile, mixed
):
    path = tmp_path / "row.csv"
    path.write_text(_row(software, date))
    (row,) = measurements.load(path, catalog)
    assert row.mixed is mixed
    (got,) = validate([row], None, catalog)["rows"]
    assert got["profile"] == profile
    assert ("build_from_date" in got) is (software == "vLLM" and profile == "current")


def test_the_text_output_names_the_rows_a_date_put_on_a_build(tmp_path, capsys):
    path = tmp_path / "row.csv"
    path.write_text(_row("SGLang", "2026-06-01", engine="sglang"))
    assert main(["validate", str(path), "--profile", "default"]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 rows state their engine but no build, and a date" in out
    assert "x-1 0.5.12" in out
    path.write_text(_row("SGLang 0.5.6", "2026-02-01", engine="sglang"))
    assert main(["validate", str(path), "--profile", "default"]) == 0
    assert "but no build" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "table, message",
    [
        ('published = { "0.13.0" = "2026-1" }', r"vllm\.published\.0\.13\.0.*a month such as"),
        ('published = { "x" = "2026-01" }', r"vllm\.published.*a version"),
        ('published = "0.13.0"', r"vllm\.published.*expected published"),
        ('published = { "0.13.0" = 2026-01-01 }', r"a month such as 2025-12, got '2026-01-01'"),
    ],
)
def test_a_bad_published_table_is_one_line_naming_its_key(tmp_path, monkeypatch, table, message):
    with _vllm_published(tmp_path, monkeypatch, table), pytest.raises(InputError, match=message):
        engines.dated_build("vllm", "2026-02")


def test_a_named_profile_is_asked_the_dated_build_too(tmp_path, catalog):
    """Under a profile named, the row is still taken to run the build its date implies: the
    profile stays as named, and its interval judges that build (older or as stated)."""
    path = tmp_path / "row.csv"
    path.write_text(_row("vLLM", "2026-01-02"))
    rows = measurements.load(path, catalog)
    (got,) = validate(rows, profiles.get("generic"), catalog)["rows"]
    assert got["profile"] == "generic" and got["build_from_date"] == "0.13.0"
    assert "build" in got["extrapolated"]
    path.write_text(_row("vLLM 0.13.0", "2026-01-02"))
    (stated,) = validate(measurements.load(path, catalog), profiles.get("generic"), catalog)["rows"]
    assert stated["predicted_ms"] == got["predicted_ms"]
    assert stated["high_ms"] < got["high_ms"]  # later than generic's rows, and maybe older


def test_a_cell_longer_than_a_date_is_not_read():
    """Notes written in the `date` column are not searched for dates (nor backtracked over)."""
    assert len("Dec 17, 2025 (the vendor's blog, updated Jan 2026)") <= engines._LONGEST
    for text in ("pre" + " " * 16000 + "x", "2" * 5000, "Dec " * 3000, "Q4-" * 4000):
        assert engines.earliest_month(text) is None

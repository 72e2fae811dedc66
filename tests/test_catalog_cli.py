"""`designer catalog list`: aligned columns, tables that fit the terminal, SI numbers in JSON."""

from __future__ import annotations

import json
import re

import pytest

from designer.interface.cli import main
from designer.interface.report import catalog_display_rows, catalog_rows, catalog_table
from designer.model.catalog import SECTIONS


def _no_nan(token: str) -> float:
    raise AssertionError(f"{token} in JSON")


def list_section(capsys, monkeypatch, section: str, width: int, *extra: str) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    code = main(["catalog", "list", section, *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_lists_as_table_and_json(capsys, monkeypatch, catalog, section):
    assert list_section(capsys, monkeypatch, section, 100).strip()
    rows = json.loads(
        list_section(capsys, monkeypatch, section, 100, "--json"), parse_constant=_no_nan
    )
    assert [r["id"] for r in rows] == catalog.ids(section)


def _cells(out: str, headers: list[str]) -> list[list[str]]:
    """Split an unwrapped table into cells at the offsets where its headers start."""
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith(headers[0] + " "))
    starts = [lines[head].index(h) for h in headers]
    body = [line for line in lines[head + 2 :] if line.strip()]
    return [
        [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        for line in body
    ]


@pytest.mark.parametrize("section", ["chips", "memory", "interconnects", "models"])
def test_every_value_sits_under_its_header(capsys, monkeypatch, catalog, section):
    expected = catalog_display_rows(section, catalog_rows(catalog, section))
    headers = list(dict.fromkeys(k for r in expected for k in r))
    out = list_section(capsys, monkeypatch, section, 400)
    got = _cells(out, headers)[: len(expected)]
    want = [["-" if r.get(h) is None else str(r[h]) for h in headers] for r in expected]
    assert got == want


def test_memory_entries_with_different_fields_stay_aligned(capsys, monkeypatch):
    """hbm2 has no per-stack bandwidth: its cell is "-", not hbm2's next value shifted left."""
    out = list_section(capsys, monkeypatch, "memory", 400)
    headers = ["id", "bandwidth per stack", "capacity per stack", "energy per bit", "$ per GB"]
    rows = {r[0]: r for r in _cells(out, [*headers, "confidence"])}
    assert rows["hbm2"][1:] == ["-", "-", "7 pJ/bit", "$5", "U"]
    assert rows["hbm3"][1:] == ["819 GB/s", "20 GB", "4.25 pJ/bit", "$8", "U"]


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("section", SECTIONS)
def test_tables_fit_the_terminal(capsys, monkeypatch, section, width):
    out = list_section(capsys, monkeypatch, section, width)
    assert max(len(line) for line in out.splitlines()) <= width
    assert "http" not in out  # no sources or notes in tables


def test_chips_show_what_a_buyer_compares(capsys, monkeypatch):
    out = list_section(capsys, monkeypatch, "chips", 130)
    line = next(x for x in out.splitlines() if x.startswith("h100-sxm "))
    assert line.split() == [
        *["h100-sxm", "datasheet", "hbm3", "80", "GB", "3.35", "TB/s"],
        *["1.98", "PFLOP/s", "989", "TFLOP/s", "700", "W", "$28k", "8"],
    ]
    wse = next(x for x in out.splitlines() if x.startswith("cerebras-wse3 "))
    assert "15.6 PFLOP/s" in wse and "$2.5M" in wse and "23 kW" in wse


def test_json_values_are_si_numbers(capsys, monkeypatch):
    chips = {
        r["id"]: r for r in json.loads(list_section(capsys, monkeypatch, "chips", 100, "--json"))
    }
    h = chips["h100-sxm"]
    assert (h["capacity"], h["bandwidth"], h["fp8"], h["bf16"]) == (80e9, 3.35e12, 1979e12, 989e12)
    assert (h["tdp"], h["price_usd"], h["server_chips"], h["server_power"]) == (
        700,
        28000,
        8,
        10200,
    )
    assert chips["tpu-v5e"]["fp8"] == 197e12  # no FP8 units: runs at the BF16 rate
    assert chips["b300"]["price_usd"] is None
    mem = {
        r["id"]: r for r in json.loads(list_section(capsys, monkeypatch, "memory", 100, "--json"))
    }
    assert mem["hbm3"]["energy_per_bit"] == pytest.approx(4.25e-12, rel=1e-12)  # J/bit
    assert mem["hbm2"]["bandwidth_per_stack"] is None
    ics = json.loads(list_section(capsys, monkeypatch, "interconnects", 100, "--json"))
    paper = next(r for r in ics if r["id"] == "paper")
    assert paper["intra_domain_latency"] == pytest.approx(0.2e-6, rel=1e-12)
    for section in SECTIONS:
        for row in json.loads(list_section(capsys, monkeypatch, section, 100, "--json")):
            for key, value in row.items():
                # a number with a unit ("80 GB") would be a string, not an SI number
                if isinstance(value, str):
                    assert not re.match(r"^[\d.]+\s+\S", value), (section, key, value)


def test_catalog_table_columns_are_the_union_of_keys():
    t = catalog_table([{"id": "a", "x": "1"}, {"id": "b", "y": "2"}], "t", width=80)
    assert [c.header for c in t.columns] == ["id", "x", "y"]
    assert [list(c.cells) for c in t.columns] == [["a", "b"], ["1", "-"], ["-", "2"]]

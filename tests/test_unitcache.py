"""designer.model.unitcache: pint's numbers kept on disk, read back by a later process."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from designer.model import unitcache, units

ROOT = Path(__file__).resolve().parent.parent
STRINGS = [("3.35 TB/s", "bandwidth"), ("80 GiB", "information"), ("0.2 µs", "time")]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """An empty cache folder of this test; the session's cache is restored afterwards."""
    monkeypatch.setenv("DESIGNER_CACHE_DIR", str(tmp_path))
    unitcache.reset()
    yield tmp_path
    unitcache.reset()


def _parse_in_child(folder: Path) -> tuple[list[float], bool]:
    """units.parse of STRINGS in a fresh process using the cache in `folder`, and whether that
    process imported pint."""
    code = (
        "import sys, json\n"
        "from designer.model.units import parse\n"
        f"numbers = [parse(t, k) for t, k in {STRINGS!r}]\n"
        "print(json.dumps([numbers, 'pint' in sys.modules]))\n"
    )
    env = dict(os.environ, DESIGNER_CACHE_DIR=str(folder))
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


def test_a_second_process_reads_pints_numbers_without_pint(cache_dir):
    first, loaded_pint = _parse_in_child(cache_dir)
    assert loaded_pint
    assert [p.name for p in cache_dir.iterdir()] == [f"units-{unitcache.fingerprint()}.json"]
    assert _parse_in_child(cache_dir) == [first, False]
    assert first == [units._parse_text_uncached(t, k, None, None) for t, k in STRINGS]


def test_numbers_are_written_at_exit_and_merged(cache_dir):
    unitcache.remember("1 W", "power", 1.0)
    unitcache.save()
    unitcache.reset()
    unitcache.remember("2 W", "power", 2.0)
    unitcache.save()
    unitcache.reset()
    assert unitcache.lookup("1 W", "power") == 1.0
    assert unitcache.lookup("2 W", "power") == 2.0
    assert unitcache.lookup("2 W", "time") is None


def test_malformed_strings_are_not_kept(cache_dir):
    with pytest.raises(units.InputError):
        units.parse("3 furlongs per week", "bandwidth", key="k")
    unitcache.save()
    assert not list(cache_dir.iterdir())


@pytest.mark.parametrize(
    "content", ["not json", '{"bandwidth|1 B/s": "1"}', '{"power|1 W": NaN}', "[1.0]"]
)
def test_a_damaged_file_is_ignored(cache_dir, content):
    (cache_dir / f"units-{unitcache.fingerprint()}.json").write_text(content)
    assert unitcache.lookup("1 B/s", "bandwidth") is None
    assert _parse_in_child(cache_dir) == [[3.35e12, 80 * 2**30, 0.2e-6], True]


def test_an_empty_setting_turns_the_cache_off(cache_dir, monkeypatch):
    monkeypatch.setenv("DESIGNER_CACHE_DIR", "")
    unitcache.reset()
    assert unitcache.folder() is None
    unitcache.remember("1 W", "power", 1.0)
    assert unitcache.lookup("1 W", "power") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_not_an_error(cache_dir):
    cache_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        unitcache.remember("1 W", "power", 1.0)
        unitcache.save()
        assert not list(cache_dir.iterdir())
    finally:
        cache_dir.chmod(stat.S_IRWXU)


def test_a_folder_that_cannot_be_made_is_not_an_error(cache_dir, monkeypatch):
    blocker = cache_dir / "file"
    blocker.write_text("")
    monkeypatch.setenv("DESIGNER_CACHE_DIR", str(blocker / "designer"))
    unitcache.reset()
    unitcache.remember("1 W", "power", 1.0)
    unitcache.save()  # mkdir fails under a file: nothing written, nothing raised
    assert blocker.read_text() == ""


def test_only_what_pint_parsed_is_kept(cache_dir):
    """A number in its kind's own unit (what catalog.scale_value writes at every what-if
    point) needs no pint, and would only grow the file."""
    assert units.parse("1234.5 B/s", "bandwidth") == 1234.5
    assert units.parse("2.0625 kW", "power") == 2062.5
    unitcache.save()
    unitcache.reset()
    assert unitcache.lookup("2.0625 kW", "power") == 2062.5
    assert unitcache.lookup("1234.5 B/s", "bandwidth") is None


def test_the_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("DESIGNER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert unitcache.folder() == tmp_path / "designer"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert unitcache.folder() == tmp_path / ".cache" / "designer"

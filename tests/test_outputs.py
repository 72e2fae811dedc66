"""designer.model.outputs: what the tool writes never replaces a file it did not write, a device or
a
folder; files appear whole (temporary name, then rename); CSV cells never start a formula."""

from __future__ import annotations

import os

import pytest

from designer.model import outputs
from designer.model.errors import InputError


def test_a_new_name_is_written_whole_and_then_replaceable(tmp_path):
    p = tmp_path / "sub" / "front.csv"
    outputs.write_text(p, f"# {outputs.STAMP}\na\n1\n", "a frontier")
    assert p.read_text().startswith("# written by designer")
    outputs.write_text(p, f"# {outputs.STAMP}\na\n2\n", "a frontier")  # it is ours: replaced
    assert p.read_text().endswith("2\n")
    assert [f.name for f in p.parent.iterdir()] == ["front.csv"]  # no temporary file left


def test_someone_elses_file_is_kept_unless_forced(tmp_path):
    p = tmp_path / "problem.toml"
    p.write_text("[sla]\n")
    with pytest.raises(InputError, match="was not written by designer.*--force") as info:
        outputs.write_text(p, "x\n", "a frontier")
    assert str(info.value).startswith(f"{p}: ") and info.value.exit_code == 2
    assert p.read_text() == "[sla]\n"
    outputs.write_text(p, "x\n", "a frontier", force=True)
    assert p.read_text() == "x\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: os.mkfifo(p), "not a regular file"),
        (lambda p: os.symlink("/dev/full", p), "not a regular file"),
        (lambda p: os.symlink("/dev/null", p), "not a regular file"),
        (lambda p: os.symlink(p, p), "cannot write a plot here"),
    ],
)
def test_folders_devices_and_loops_are_refused_at_once(tmp_path, make, message):
    p = tmp_path / "out.png"
    make(p)
    with pytest.raises(InputError, match=message) as info:
        outputs.check(p, "a plot", force=True)  # --force never writes into a device
    assert "\n" not in str(info.value)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    p = tmp_path / "front.csv"
    outputs.write_text(p, f"# {outputs.STAMP}\nold\n", "a frontier")
    with pytest.raises(RuntimeError), outputs.replacing(p, "a frontier") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-way")
    assert p.read_text().endswith("old\n") and [f.name for f in tmp_path.iterdir()] == [p.name]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1+2", "'+1+2"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-3.5", "-3.5"),
        ("1e-3", "1e-3"),
        (-2, -2),
        ("h100-sxm", "h100-sxm"),
        (None, None),
    ],
)
def test_cells_never_start_a_formula(value, written):
    assert outputs.cell(value) == written
    assert outputs.cell(outputs.cell(value)) == written  # escaping twice changes nothing


def test_figures_carry_the_mark_in_each_format(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    for ext in (".png", ".svg", ".pdf"):
        p = outputs.savefig(fig, tmp_path / f"f{ext}", "a plot")
        assert outputs.made_here(p)
        outputs.check_figure(p, (".png", ".svg", ".pdf"))  # ours: may be replaced
    plt.close(fig)
    with pytest.raises(InputError, match=r"expected a \.png or \.svg file name"):
        outputs.check_figure(tmp_path / "f.txt", (".png", ".svg"))

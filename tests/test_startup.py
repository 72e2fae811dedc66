"""Start-up: each command imports only what it uses (`python -X importtime` in a subprocess).

A command that loads a heavy package it does not need pays for it on every run: Pyomo and
HiGHS (0.4 s), scipy.stats (0.7 s, which Pyomo's import hook loads once anything imports
scipy), pandas (0.4 s), matplotlib, dask (0.15 s, which pint loads when installed); and pint
with its registry (0.15 s) once designer.model.unitcache knows the catalogs' strings.
`benchmarks/bench_startup.py` times the commands.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLOTTING_AND_TABLES = {"pandas", "matplotlib", "dask", "distributed"}
SOLVER = {"pyomo", "highspy", "scipy"}
EVALUATE = (
    "evaluate",
    "--model",
    "llama3.1-70b",
    "--chip",
    "h100-sxm",
    "--tp",
    "4",
    "--batch",
    "32",
)
LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \|\s*(\S+)$")
# the command as `python -m designer.interface.cli ARGV` would run it, then the modules loaded at
# exit
# (`-X importtime` also logs imports that failed: pint's optional `import scipy`, refused)
RUN = """
import runpy, sys
sys.argv = ["designer", *sys.argv[1:]]
try:
    runpy.run_module("designer.interface.cli", run_name="__main__", alter_sys=True)
finally:
    print("LOADED", *sorted(k for k, v in sys.modules.items() if v is not None), file=sys.stderr)
"""


def imported(*argv: str) -> dict[str, int]:
    """Every module `designer ARGV` loads, with its cumulative import time in µs from
    `python -X importtime` (the exit code is checked)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", RUN, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stderr.splitlines()
    loaded = next(line for line in reversed(lines) if line.startswith("LOADED ")).split()[1:]
    times = {m.group(2): int(m.group(1)) for line in lines if (m := LINE.match(line))}
    return {name: times.get(name, 0) for name in loaded}


def heavy(modules: dict[str, int], packages: set[str]) -> dict[str, int]:
    """The modules of `modules` that belong to one of `packages`, with their import times."""
    return {m: t for m, t in modules.items() if m.split(".")[0] in packages}


def test_the_parser_sees_every_import():
    """The test below would pass vacuously if `-X importtime` printed nothing."""
    mods = imported("evaluate", "--model", "llama3.1-8b", "--chip", "h100-sxm", "--json")
    assert {"numpy", "designer.calibration.evaluate", "designer.model.perf"} <= set(mods)
    assert mods["numpy"] > 0 and mods["designer.calibration.evaluate"] > 0  # timed by -X importtime


@pytest.mark.parametrize("argv", [("--version",), ("--help",), ("solve", "--help")])
def test_version_and_help_load_no_numerics(argv):
    mods = imported(*argv)
    assert not heavy(mods, {"numpy", "pint", "rich", *SOLVER, *PLOTTING_AND_TABLES})
    assert "designer.model.errors" in mods


@pytest.mark.parametrize(
    "argv",
    [
        EVALUATE,
        ("evaluate", "--model", "deepseek-v3", "--chip", "b200", "--tp", "8", "--json"),
        ("catalog", "list", "chips"),
        ("catalog", "show", "models", "deepseek-v3", "--json"),
    ],
)
def test_evaluate_and_catalog_load_no_solver_scipy_or_tables(argv):
    mods = imported(*argv)
    assert not heavy(mods, SOLVER | PLOTTING_AND_TABLES)
    assert not [m for m in mods if m.startswith("designer.optimize")]  # nor the optimizer's code


@pytest.mark.parametrize(
    "argv", [EVALUATE, ("catalog", "list", "chips"), ("--version",), ("catalog", "--help")]
)
def test_with_a_warm_unit_cache_no_pint_and_no_tables(argv):
    """The catalogs' strings parsed once (designer.model.unitcache), a command loads no pint; and
    evaluate, which prints a table, no pandas (the session's cache folder, from conftest)."""
    imported(*EVALUATE)  # fills the cache if this test runs first
    assert not heavy(imported(*argv), {"pint", *PLOTTING_AND_TABLES})


def test_solve_loads_the_model_layer_only():
    """Pyomo's core and HiGHS, scipy.sparse for the compiler; not pyomo.environ (every solver
    plugin), scipy.stats, pandas, matplotlib, or rich for a JSON answer."""
    mods = imported("solve", str(ROOT / "problems" / "quickstart.toml"), "--json")
    assert {"pyomo.core", "highspy", "scipy.sparse"} <= set(mods)
    assert "pyomo.environ" not in mods
    assert not [m for m in mods if m.startswith(("scipy.stats", "scipy.optimize"))]
    assert not heavy(mods, PLOTTING_AND_TABLES | {"rich"})  # JSON needs no tables


def test_sweep_and_compare_without_a_table_file_load_no_pandas(tmp_path):
    """A sweep writes its CSV with the csv module and counts statuses from its rows; compare
    prints from its rows: pandas only for --plot, Parquet or a table file."""
    study = tmp_path / "study.toml"
    quickstart = (ROOT / "problems" / "quickstart.toml").as_posix()
    study.write_text(
        f'problem = "{quickstart}"\n\n[grid]\n"sla.tokens_per_s_per_user" = [50, 100]\n'
    )
    out = tmp_path / "out.csv"
    mods = imported("sweep", str(study), "--out", str(out), "--quiet", "--workers", "1")
    assert not heavy(mods, PLOTTING_AND_TABLES)
    assert len(out.read_text().splitlines()) == 4  # the stamp, the columns, two points
    assert not heavy(imported("compare", quickstart, "--json"), PLOTTING_AND_TABLES)


@pytest.mark.parametrize(
    "argv",
    [
        ("solve", str(ROOT / "problems" / "serving-llama3.1-70b-30rps-ttft2s.toml"), "--json"),
        (*EVALUATE[:-1], "16", "--prompt-tokens", "4096", "--output-tokens", "256")
        + ("--requests-per-s", "1", "--json"),
    ],
)
def test_an_answer_with_a_ttft_interval_loads_no_fitting(argv):
    """A serving answer's TTFT interval reads the prefill rows' measured-over-predicted ratios;
    it loaded `calibrate` and with it scipy's least squares (0.3 s), which only refits use."""
    mods = imported(*argv)
    assert "designer.calibration.ttft_interval" in mods
    assert "designer.calibration.calibrate" not in mods
    assert not [m for m in mods if m.startswith("scipy.optimize")]

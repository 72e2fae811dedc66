"""Whole commands from the shell (issue 18): what a user waits for, start-up included.

Each command runs `--repeats` times (default 7) as a fresh process under `/usr/bin/time`; the
median CPU seconds (user + system: the machine is shared, so CPU time is steadier than wall
time) and the median wall seconds are reported:

- `designer --version`
- `designer evaluate --model llama3.1-70b --chip h100-sxm --tp 4 --batch 32`
- `designer catalog list chips`
- `designer solve problems/quickstart.toml`
- a 100-point `designer sweep` (every tenth point of `bench_sweep.py`'s 1,000-point study,
  written as a study file): points per wall second, start-up and the process pool included.

`--source DIR` times the checkout in DIR instead (PYTHONPATH=DIR; for before/after numbers).
Commands run as `python -m designer.interface.cli` with this interpreter.

The commands run as installed: Python's bytecode is cached (in a temporary PYTHONPYCACHEPREFIX,
never next to the sources; PYTHONDONTWRITEBYTECODE is dropped: with it every run compiles
designer's ~50 modules again, 0.05–0.1 s) unless `--no-bytecode-cache`, and designer's unit
cache (`designer.model.unitcache`) is a temporary folder that the untimed first run fills. One
more line, `evaluate, no unit cache`, runs evaluate with that cache off (DESIGNER_CACHE_DIR=""),
as a first run after installing or after a change of pint or units.py would.

Run:  python benchmarks/bench_startup.py [--repeats 7] [--source DIR] [--no-bytecode-cache]
Writes benchmarks/results/startup.json (with --source: startup_source.json).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import environment, median, write_json

ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"
COMMANDS = {
    "--version": ["--version"],
    "evaluate": ["evaluate", "--model", "llama3.1-70b", "--chip", "h100-sxm", "--tp", "4"]
    + ["--batch", "32"],
    "catalog list chips": ["catalog", "list", "chips"],
    "solve quickstart": ["solve", str(ROOT / "problems" / "quickstart.toml")],
}
UNCACHED = {"evaluate, no unit cache": COMMANDS["evaluate"]}  # run with DESIGNER_CACHE_DIR=""
SWEEP_POINTS = 100


def run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one `designer ARGV` process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as f:
        cmd = [
            TIME,
            "-f",
            "%U %S %e",
            "-o",
            f.name,
            sys.executable,
            "-m",
            "designer.interface.cli",
            *argv,
        ]
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-500:]}")
        user, system, wall = (float(x) for x in f.read().split()[-3:])
    return user + system, wall


def sweep_files(folder: Path) -> Path:
    """A problem file and a 100-point study file (a [list] of bench_sweep's strided points)."""
    from bench_sweep import PROBLEM, study

    lines = []
    for section, table in PROBLEM.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    (folder / "problem.toml").write_text("\n".join(lines) + "\n")
    points = study(SWEEP_POINTS).points
    keys = list(points[0])
    text = 'problem = "problem.toml"\n\n[list]\n'
    text += "".join(f"{json.dumps(k)} = {json.dumps([p[k] for p in points])}\n" for k in keys)
    path = folder / "study.toml"
    path.write_text(text)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--source", type=Path, help="time the designer checkout in this folder")
    ap.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE as set (designer's modules compiled at every run)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        measure(args, Path(scratch))


def measure(args: argparse.Namespace, scratch: Path) -> None:
    """Time every command and the sweep; write the JSON. `scratch` holds the caches."""
    env = dict(os.environ, DESIGNER_CACHE_DIR=str(scratch / "units"))
    if not args.no_bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    if args.source:
        env["PYTHONPATH"] = str(args.source.resolve())
    cwd = args.source.resolve() if args.source else ROOT
    load_before = os.getloadavg()
    results = {}
    for name, argv in (COMMANDS | UNCACHED).items():
        env_here = dict(env, DESIGNER_CACHE_DIR="") if name in UNCACHED else env
        run(argv, env_here, cwd)  # warm the file, bytecode and unit caches
        cpu, wall = zip(*(run(argv, env_here, cwd) for _ in range(args.repeats)), strict=True)
        results[name] = {"cpu_s": list(cpu), "wall_s": list(wall)}
        results[name] |= {"median_cpu_s": median(list(cpu)), "median_wall_s": median(list(wall))}
        print(f"{name:24s} CPU {median(list(cpu)):.3f} s   wall {median(list(wall)):.3f} s")
    with tempfile.TemporaryDirectory() as d:
        study = sweep_files(Path(d))
        walls, cpus = [], []
        for i in range(args.repeats + 1):
            out = Path(d) / f"out{i}.csv"
            cpu, wall = run(["sweep", str(study), "--out", str(out), "--quiet"], env, Path(d))
            if i:  # the first run warms the file cache
                walls.append(wall)
                cpus.append(cpu)
    rate = SWEEP_POINTS / median(walls)
    results["sweep 100 points"] = {
        "wall_s": walls,
        "cpu_s": cpus,
        "median_wall_s": median(walls),
        "median_cpu_s": median(cpus),
        "points_per_s": rate,
    }
    print(f"{'sweep 100 points':24s} {rate:.1f} points/s (wall {median(walls):.2f} s)")
    path = write_json(
        "startup_source.json" if args.source else "startup.json",
        {
            "environment": environment(),
            "source": str(args.source) if args.source else "this checkout",
            "load_average_before": load_before,
            "load_average": os.getloadavg(),
            "bytecode_cache": not args.no_bytecode_cache,
            "repeats": args.repeats,
            "results": results,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

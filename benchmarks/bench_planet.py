"""A planet-scale plan (issue 18): `benchmarks/problems/planet.toml` — 20 workload classes
(dense, mixture-of-experts and long-context models), 10 million concurrent users, a 1 GW IT
power limit, at most three chip types, minimum TCO over the default space.

Each run is one fresh `designer solve … --json` process under `/usr/bin/time`: its wall and
CPU seconds, its peak resident memory, and from the answer the status (proven optimal or
not), the in-process `solve_seconds`, HiGHS' last termination and the fleet's size. Medians
over `--repeats` runs (default 3).

Run:  python benchmarks/bench_planet.py [--repeats 3] [--time-limit 600] [--set PATH=VALUE …]
Writes benchmarks/results/planet.json.
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
PROBLEM = ROOT / "benchmarks" / "problems" / "planet.toml"


def run(time_limit: float, sets: list[str]) -> dict:
    """One `designer solve` of the planet problem: seconds, peak memory and the answer."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as f:
        cmd = ["/usr/bin/time", "-f", "%U %S %e %M", "-o", f.name, sys.executable]
        cmd += ["-m", "designer.interface.cli", "solve", str(PROBLEM), "--json"]
        cmd += ["--time-limit", str(time_limit)] + [a for s in sets for a in ("--set", s)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        user, system, wall, rss_kib = (float(x) for x in f.read().split()[-4:])
    if done.returncode not in (0, 4):
        raise RuntimeError(f"designer solve exited {done.returncode}: {done.stderr[-800:]}")
    rec = json.loads(done.stdout)
    return {
        "status": rec["status"],
        "objective_usd_per_year": rec["objective"]["value"],
        "mip_gap": rec["mip_gap"],
        "solve_seconds": rec["solve_seconds"],
        "wall_s": wall,
        "cpu_s": user + system,
        "peak_rss_mib": rss_kib / 1024,
        "configurations": len(rec["fleet"]),
        "chip_types": [b["chip"] for b in rec["totals"]["by_chip"]],
        "power_w": rec["totals"]["power_w"],
        "users_served": rec["totals"]["users_served"],
        "candidates": rec["candidates"],
        "termination": rec["solver"]["termination"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    args = ap.parse_args()
    runs = []
    for i in range(args.repeats):
        r = run(args.time_limit, args.set)
        runs.append(r)
        print(
            f"run {i + 1}: {r['status']} in {r['solve_seconds']:.1f} s (process: wall "
            f"{r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s, peak {r['peak_rss_mib']:.0f} MiB); "
            f"{r['configurations']} configurations on {', '.join(r['chip_types'])}"
        )
    summary = {
        k: median([r[k] for r in runs])
        for k in ("solve_seconds", "wall_s", "cpu_s", "peak_rss_mib")
    }
    print("medians: " + ", ".join(f"{k} {v:.2f}" for k, v in summary.items()))
    path = write_json(
        "planet.json",
        {
            "environment": environment(),
            "load_average": os.getloadavg(),
            "problem": str(PROBLEM.relative_to(ROOT)),
            "sets": args.set,
            "runs": runs,
            "medians": summary,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""The column build alone (issue 18): CPU seconds of `designer.optimize.columns.build` on the
20-class problem of `bench_classes.py` (the first 20 classes of the planet, users /1000) and on
the planet itself (`benchmarks/problems/planet.toml`).

Each of `--repeats` fresh processes (default 5) loads the problem (untimed), then times its
first build (`cold`: the process's caches empty, as in one `designer solve`) and `--again`
more builds (`warm`: what a second solve in the same process pays, as in `bench_classes.py`),
with `time.process_time`. Reports the median of the cold builds and of all warm builds, and
the time spent outside the column build by the problem load. With `--solves N`, also N
in-process solves of the 20-class problem (sensitivity off) after one warm-up, their CPU
seconds split into HiGHS (`highspy.Highs.run`) and the rest (columns, bounds, model, start,
re-check). Writes results/columns.json.

Run:  python benchmarks/bench_columns.py [--repeats 5] [--again 3] [--solves 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _common import environment, median, write_json

HERE = Path(__file__).resolve().parent
CASES = ("classes20", "planet")


def one_process(case: str, again: int) -> dict:
    """In this process: load the case's problem, then time the first and `again` more builds."""
    from bench_classes import problem as class_problem
    from bench_planet import PROBLEM

    from designer.optimize import columns
    from designer.optimize.problem import load_problem

    start = time.process_time()
    pr = class_problem(20, 1e-3) if case == "classes20" else load_problem(PROBLEM)
    load = time.process_time() - start
    runs = []
    for _ in range(1 + again):
        start = time.process_time()
        c = columns.build(pr)
        runs.append(time.process_time() - start)
    return {"load_s": load, "cold_s": runs[0], "warm_s": runs[1:], "columns": len(c)}


def solves(n: int) -> dict:
    """`n` solves of the 20-class problem after a warm-up: CPU seconds, all and HiGHS'."""
    import highspy
    from bench_classes import problem as class_problem

    from designer.optimize.solve import solve

    in_highs = [0.0]
    run = highspy.Highs.run

    def timed_run(self, *args, **kwargs):
        start = time.process_time()
        try:
            return run(self, *args, **kwargs)
        finally:
            in_highs[0] += time.process_time() - start

    highspy.Highs.run = timed_run
    pr = class_problem(20, 1e-3)
    total, highs = [], []
    for i in range(n + 1):
        in_highs[0] = 0.0
        start = time.process_time()
        solve(pr, with_sensitivity=False)
        if i:  # the first is the warm-up
            total.append(time.process_time() - start)
            highs.append(in_highs[0])
    rest = [t - h for t, h in zip(total, highs, strict=True)]
    return {
        "cpu_s": total,
        "highs_cpu_s": highs,
        "rest_cpu_s": rest,
        "median_cpu_s": median(total),
        "median_highs_cpu_s": median(highs),
        "median_rest_cpu_s": median(rest),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--again", type=int, default=3)
    ap.add_argument("--solves", type=int, default=0)
    ap.add_argument("--one", choices=CASES, help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one_process(args.one, args.again)))
        return
    rows = []
    for case in CASES:
        cmd = [sys.executable, str(HERE / "bench_columns.py"), "--one", case]
        cmd += ["--again", str(args.again)]
        runs = [
            json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            for _ in range(args.repeats)
        ]
        warm = [w for r in runs for w in r["warm_s"]]
        row = {
            "case": case,
            "columns": runs[0]["columns"],
            "cold_cpu_s": [r["cold_s"] for r in runs],
            "warm_cpu_s": warm,
            "median_cold_cpu_s": median([r["cold_s"] for r in runs]),
            "median_warm_cpu_s": median(warm),
            "median_load_cpu_s": median([r["load_s"] for r in runs]),
        }
        rows.append(row)
        print(
            f"{case}: {row['columns']} columns; build CPU {row['median_cold_cpu_s']:.3f} s "
            f"cold, {row['median_warm_cpu_s']:.3f} s warm (medians of {args.repeats} "
            f"processes, {len(warm)} warm builds); problem load {row['median_load_cpu_s']:.3f} s",
            flush=True,
        )
    out = {"environment": environment(), "settings": vars(args), "rows": rows}
    if args.solves:
        out["solves"] = s = solves(args.solves)
        print(
            f"20-class solve: CPU {s['median_cpu_s']:.2f} s, of which HiGHS "
            f"{s['median_highs_cpu_s']:.2f} s and the rest {s['median_rest_cpu_s']:.2f} s "
            f"(medians of {args.solves})",
            flush=True,
        )
    write_json("columns.json", out)


if __name__ == "__main__":
    main()

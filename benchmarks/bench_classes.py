"""Many-class fleets (issue 18): how the solve grows with the number of workload classes.

The first N classes of `benchmarks/problems/planet.toml` (dense, MoE and long-context models;
1 GW, at most three chip types, minimum TCO over the default space) with every class's
concurrent users scaled by `--users-scale` (default 1/1000: 10,000 users over 20 classes), for
N in `--classes` (default 1 5 10 20). Times `designer.optimize.solve.solve` in-process
(columns, MILP with its tie-break, re-check; no sensitivity): wall and CPU seconds
(`time.process_time`), median of `--repeats` after one untimed warm-up; writes
results/classes.json.
"""

from __future__ import annotations

import argparse
import copy
import time
import tomllib

from _common import median, write_rows
from bench_planet import PROBLEM

from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve


def problem(n: int, scale: float):
    """The first `n` classes of the planet problem, users scaled by `scale`."""
    raw = tomllib.loads(PROBLEM.read_text())
    raw = copy.deepcopy(raw)
    raw["class"] = [
        {**wc, "concurrent_users": max(1, round(wc["concurrent_users"] * scale))}
        for wc in raw["class"][:n]
    ]
    return problem_from_dict(raw, where=f"planet[:{n}]", base_dir=PROBLEM.parent)


def timed(pr, time_limit: float) -> tuple[float, float, dict]:
    w, c = time.perf_counter(), time.process_time()
    sol = solve(pr, with_sensitivity=False, time_limit=time_limit)
    return time.perf_counter() - w, time.process_time() - c, sol.record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, nargs="+", default=[1, 5, 10, 20])
    ap.add_argument("--users-scale", type=float, default=1e-3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=600.0)
    args = ap.parse_args()
    rows = []
    for n in args.classes:
        pr = problem(n, args.users_scale)
        timed(pr, args.time_limit)  # warm-up
        runs = [timed(pr, args.time_limit) for _ in range(args.repeats)]
        rec = runs[-1][2]
        row = {
            "classes": n,
            "users": sum(wc.users or 0 for wc in pr.classes),
            "status": rec["status"],
            "mip_gap": rec["mip_gap"],
            "objective": rec["objective"]["value"],
            "columns": rec["candidates"],
            "configurations": len(rec["fleet"]),
            "wall_s": [r[0] for r in runs],
            "cpu_s": [r[1] for r in runs],
            "median_wall_s": median([r[0] for r in runs]),
            "median_cpu_s": median([r[1] for r in runs]),
        }
        rows.append(row)
        print(
            f"{n:3d} classes, {row['users']:,} users: {row['status']} (gap {row['mip_gap']:.1g}) "
            f"CPU {row['median_cpu_s']:.2f} s, wall {row['median_wall_s']:.2f} s (median of "
            f"{args.repeats}); {row['columns']} columns, {row['configurations']} configurations",
            flush=True,
        )
    write_rows("classes.json", args, rows)


if __name__ == "__main__":
    main()

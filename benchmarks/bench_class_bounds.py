"""Per-class knapsack bounds and cold starts (issue 18), paired on the same profiles.

For each (classes, users scale) of `--cases` (the first N classes of
`benchmarks/problems/planet.toml`, users scaled as `bench_classes.py` does), solves the problem
in-process `--repeats` times in each of two modes, alternating so that the machine's load
falls on both alike:

- `before`: the solve without this round's changes — no class bounds (`class_bounds.applies`
  off) and every start given to HiGHS (`start.warm` always true), as the solve ran before;
- `after`: the shipped solve.

Changes of later rounds (the tie-break's re-solves without RINS, its server fixing) are in both
modes: the two differ by the class bounds and the cold starts only.

Reports CPU seconds (`time.process_time`), the medians, and checks that both modes return the
same objective, capex, power and chips (the changes are exact). Writes results/class_bounds.json.
"""

from __future__ import annotations

import argparse
import time

from _common import median, write_rows
from bench_classes import problem

from designer.optimize import class_bounds, start
from designer.optimize.solve import solve

CASES = ["5:1e-3", "10:1e-3", "20:1e-3", "20:1e-2", "20:1"]


def _mode(before: bool, applies, warm) -> None:
    class_bounds.applies = (lambda data: False) if before else applies
    start.warm = (lambda *a: True) if before else warm


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=CASES, help="CLASSES:USERS_SCALE")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    applies, warm = class_bounds.applies, start.warm
    rows = []
    try:
        for case in args.cases:
            n, scale = case.split(":")
            pr = problem(int(n), float(scale))
            cpu: dict[str, list[float]] = {"before": [], "after": []}
            answers = set()
            for _ in range(args.repeats):
                for mode in ("before", "after"):
                    _mode(mode == "before", applies, warm)
                    c = time.process_time()
                    sol = solve(pr, with_sensitivity=False)
                    cpu[mode].append(time.process_time() - c)
                    t = sol.totals
                    answers.add(
                        tuple(
                            round(x, 6)
                            for x in (sol.objective, t["capex_usd"], t["power_w"], t["chips"])
                        )
                    )
            row = {
                "classes": int(n),
                "users_scale": float(scale),
                "users": sum(wc.users or 0 for wc in pr.classes),
                "same_answer": len(answers) == 1,
                "cpu_s": cpu,
                "median_cpu_s": {k: median(v) for k, v in cpu.items()},
            }
            rows.append(row)
            b, a = row["median_cpu_s"]["before"], row["median_cpu_s"]["after"]
            print(
                f"{n:>3} classes, {row['users']:,} users: before {b:.2f} s, after {a:.2f} s "
                f"CPU (median of {args.repeats}, {b / a:.2f}x); same answer: {row['same_answer']}",
                flush=True,
            )
    finally:
        _mode(False, applies, warm)
    write_rows("class_bounds.json", args, rows)


if __name__ == "__main__":
    main()

"""Why HiGHS runs with presolve off: its time on the quick-start question over the full default
design space, without bound pruning (961 candidates), with HiGHS presolve off and on.

Run: python benchmarks/bench_highs_presolve.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics

from designer import formulation, solver
from designer.problem import load_problem, problem_from_dict
from designer.space import presolve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    raw = dict(load_problem("problems/quickstart.toml").raw)
    raw.pop("space")  # the full default space
    cands = presolve(problem_from_dict(raw), prune=False)
    for setting in ("off", "on"):
        solver.OPTIONS["presolve"] = setting
        seconds, value = [], None
        for _ in range(args.repeats):
            st = solver.Solver().solve(formulation.build(cands))
            seconds.append(st.seconds)
            value = st.incumbent
        print(
            f"HiGHS presolve {setting}: {len(cands)} candidates, median of {args.repeats}: "
            f"{statistics.median(seconds):.3f} s (objective {value:.4f} k$)"
        )


if __name__ == "__main__":
    main()

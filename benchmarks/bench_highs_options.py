"""Why `designer.optimize.solver.OPTIONS` turns HiGHS' feasibility-jump heuristic off and keeps
presolve on.

Times whole `solve` calls (columns, model, HiGHS with its tie-break re-solves, re-check) with
the options as shipped and with one of them switched back to HiGHS' default, on
(a) 50 small what-if points of the sweep benchmark (Llama 3.1 70B over three chips: 1–9
columns each) and (b) the five-class fleet of `bench_solve.py` (~500 columns, a shared power
cap, at most two chip types). Reports the median of `--repeats` for each. (c) times one HiGHS
run of a two-column MIP (cover 64 users with integer replicas, whole servers) in `highspy`
alone, presolve off, with the feasibility jump on and off (median of 50 runs).

Run:  python benchmarks/bench_highs_options.py [--repeats 3] [--skip-presolve]
(`--skip-presolve` leaves out the presolve-off fleet run.)
Writes benchmarks/results/highs_options.json.
"""

from __future__ import annotations

import argparse
import contextlib
import time

from _common import environment, median, write_json
from bench_solve import FLEET
from bench_sweep import study

from designer.model.errors import DesignerError
from designer.optimize import solver
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve

VARIANTS = {
    "as shipped": {},
    "feasibility jump on": {"mip_heuristic_run_feasibility_jump": True},
    "presolve off": {"presolve": "off"},
}


def _set(options: dict) -> None:
    h = solver._highs()
    for key, value in {**solver.OPTIONS, **options}.items():
        h.setOptionValue(key, value)


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return median(times)


def two_column_mip(jump: bool) -> float:
    """Seconds of one `run()` of a two-column replicas/servers MIP, presolve off (median)."""
    import numpy as np

    h = solver._highs()
    _set({"presolve": "off", "mip_heuristic_run_feasibility_jump": jump})
    inf = solver.INF
    times = []
    for _ in range(50):
        h.clearModel()
        # min 200 S + 5 R  s.t.  8 S - 4 R >= 0 (servers hold chips),  30 R >= 64 (users)
        h.passModel(
            2, 2, 3, 1, 1, 0.0,
            np.array([200.0, 5.0]), np.zeros(2), np.array([100.0, 100.0]),
            np.array([0.0, 64.0]), np.array([inf, inf]),
            np.array([0, 1, 3], dtype=np.int32), np.array([0, 0, 1], dtype=np.int32),
            np.array([8.0, -4.0, 30.0]), np.array([1, 1], dtype=np.int32),
        )  # fmt: skip
        t = time.perf_counter()
        h.run()
        times.append(time.perf_counter() - t)
    _set({})
    return median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-presolve", action="store_true")
    args = ap.parse_args()
    s = study(50)
    points = [s.problem.with_changes(p) for p in s.points]
    fleet = problem_from_dict(FLEET, where="five-class fleet")

    def sweep_points():
        for p in points:
            with contextlib.suppress(DesignerError):  # infeasible points are part of it
                solve(p, with_sensitivity=False)

    out: dict = {"environment": environment(), "variants": {}}
    for name, options in VARIANTS.items():
        _set(options)
        row = {"options": options}
        row["sweep_50_points_s"] = _time(sweep_points, args.repeats)
        if not (args.skip_presolve and name == "presolve off"):
            row["fleet_s"] = _time(lambda: solve(fleet, with_sensitivity=False), args.repeats)
        out["variants"][name] = row
        fleet_s = f"{row['fleet_s']:.2f} s" if "fleet_s" in row else "skipped"
        print(
            f"{name:22s} 50 sweep points {row['sweep_50_points_s']:.3f} s "
            f"({1e3 * row['sweep_50_points_s'] / 50:.1f} ms/point); five-class fleet {fleet_s}"
        )
    _set({})
    out["two_column_mip_s"] = {
        "feasibility jump off": two_column_mip(False),
        "feasibility jump on": two_column_mip(True),
    }
    print(
        "two-column MIP in highspy, presolve off: "
        + ", ".join(f"{k} {1e3 * v:.2f} ms" for k, v in out["two_column_mip_s"].items())
    )
    write_json("highs_options.json", out)


if __name__ == "__main__":
    main()

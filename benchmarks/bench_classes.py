"""Many-class fleets (issue 18): how the solve grows with the number of workload classes.

The first N classes of `benchmarks/problems/planet.toml` (dense, MoE and long-context models;
1 GW, at most three chip types, minimum TCO over the default space) with every class's
concurrent users scaled by `--users-scale` (default 1/1000: 10,000 users over 20 classes), for
N in `--classes` (default 1 5 10 20). Times `designer.optimize.solve.solve` in-process
(columns, MILP with its tie-break, re-check; no sensitivity): wall and CPU seconds
(`time.process_time`), median of `--repeats` after one untimed warm-up; writes
results/classes.json. With `--stages`, each row also lists the HiGHS solves of the last run
(`Solver.resolve`: the objective, then each tie-break stage that re-solves; the first fleet's
side MIPs are not among them) with their CPU seconds and branch-and-bound nodes. With
`--stage-option N:KEY=VALUE` (repeatable), HiGHS option KEY is VALUE for the Nth of those solves
of every run, over the solver's own (`Solver.options`, e.g. `solver.TIE_OPTIONS` in the tie-break)
and back to as shipped after it (e.g. `3:mip_heuristic_run_rins=true`: the third, the chips
tie-break under a purchase basis, with RINS as before round 6): how a stage's HiGHS settings
move the time.
"""

from __future__ import annotations

import argparse
import copy
import time
import tomllib

from _common import median, write_rows
from bench_planet import PROBLEM

from designer.optimize import solver as solver_mod
from designer.optimize.problem import problem_from_dict
from designer.optimize.solve import solve

STAGES: list[dict] = []  # the HiGHS solves of the current run (`--stages`)


def record_stages(options: dict[int, dict[str, object]]) -> None:
    """Wrap `Solver.resolve` so that each HiGHS solve appends its CPU seconds and nodes, with
    `options[n]` set for the nth solve of a run (1-based) and reset to as shipped after it."""
    plain = solver_mod.Solver.resolve

    def resolve(self):
        shipped = self.options
        self.options = {**shipped, **options.get(len(STAGES) + 1, {})}  # `Solver._run` sets them
        c = time.process_time()
        try:
            st = plain(self)
        finally:
            self.options = shipped
        nodes = int(self._highs.getInfo().mip_node_count)
        STAGES.append({"cpu_s": time.process_time() - c, "nodes": nodes, "status": st.status})
        return st

    solver_mod.Solver.resolve = resolve


def stage_options(items: list[str]) -> dict[int, dict[str, object]]:
    """`N:KEY=VALUE` items as {N: {KEY: VALUE}} (VALUE: true/false, a number or a string)."""
    out: dict[int, dict[str, object]] = {}
    for item in items:
        n, _, kv = item.partition(":")
        key, _, raw = kv.partition("=")
        value: object = {"true": True, "false": False}.get(raw.lower(), raw)
        if isinstance(value, str):
            try:
                value = int(raw) if raw.lstrip("-").isdigit() else float(raw)
            except ValueError:
                value = raw
        out.setdefault(int(n), {})[key] = value
    return out


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
    ap.add_argument("--stages", action="store_true", help="list every HiGHS solve of a run")
    ap.add_argument(
        "--stage-option",
        action="append",
        default=[],
        metavar="N:KEY=VALUE",
        help="HiGHS option KEY=VALUE for the Nth HiGHS solve of every run (implies --stages)",
    )
    args = ap.parse_args()
    args.stages = args.stages or bool(args.stage_option)
    if args.stages:
        record_stages(stage_options(args.stage_option))
    rows = []
    for n in args.classes:
        pr = problem(n, args.users_scale)
        timed(pr, args.time_limit)  # warm-up
        runs = []
        for _ in range(args.repeats):
            STAGES.clear()
            runs.append(timed(pr, args.time_limit))
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
        if args.stages:
            row["highs_solves"] = list(STAGES)
        rows.append(row)
        print(
            f"{n:3d} classes, {row['users']:,} users: {row['status']} (gap {row['mip_gap']:.1g}) "
            f"CPU {row['median_cpu_s']:.2f} s, wall {row['median_wall_s']:.2f} s (median of "
            f"{args.repeats}); {row['columns']} columns, {row['configurations']} configurations",
            flush=True,
        )
        if args.stages:
            shown = ", ".join(f"{s['cpu_s']:.2f} s ({s['nodes']} nodes)" for s in STAGES)
            print(f"      HiGHS solves of the last run: {shown}", flush=True)
    write_rows("classes.json", args, rows)


if __name__ == "__main__":
    main()

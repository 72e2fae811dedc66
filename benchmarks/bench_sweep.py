"""Sweep and compare speed (issue 11): a 1,000-point what-if sweep of one model over three
chips, run in the local process pool and on a Dask LocalCluster; `compare --by chip` over the
full default space; and where one sweep point's time goes (cProfile, by module).

The sweep: Llama 3.1 70B, 8K context, FP8, the `paper` assumptions, on H100 SXM, B200 and
MI300X (TP 1…1024, PP 1…64),
10 tokens/s-per-user targets × 10 memory-bandwidth factors (`chips.*.memory_bandwidth=xF`) ×
10 user counts = 1,000 points, every point one fresh `solve`.

Run:  python benchmarks/bench_sweep.py [--points 1000] [--workers N] [--repeats 3]
(`--points 100` runs every tenth point of the same grid.)
Writes benchmarks/results/sweep.json.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
from collections import defaultdict
from pathlib import Path

from _common import environment, median, timed, write_json

from designer.optimize.problem import problem_from_dict
from designer.studies import Study, compare, sweep
from designer.studies.rows import solve_row

PROBLEM = {
    "workload": {
        "model": "llama3.1-70b",
        "context_tokens": 8192,
        "weight_dtype": "fp8",
        "kv_dtype": "fp8",
    },
    "sla": {"tokens_per_s_per_user": 100, "concurrent_users": 64},
    "space": {"chips": ["h100-sxm", "b200", "mi300x"]},
    "assumptions": {"preset": "paper"},
}
GRID = {
    "sla.tokens_per_s_per_user": [25, 50, 75, 100, 150, 200, 300, 400, 600, 800],
    "chips.*.memory_bandwidth": [f"x{f}" for f in (0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5)],
    "sla.concurrent_users": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
}
FULL_SPACE = {
    "workload": {
        "model": "llama3.1-70b",
        "context_tokens": 8192,
        "weight_dtype": "fp8",
        "kv_dtype": "fp8",
    },
    "sla": {"tokens_per_s_per_user": 50, "concurrent_users": 256},
    "assumptions": {"preset": "paper"},
}


def study(points: int) -> Study:
    """The 1,000-point study, or an evenly strided sample of it (`points` < 1000)."""
    s = Study.from_grid(problem_from_dict(PROBLEM, where="bench"), GRID)
    s.points = s.points[:: max(1, len(s.points) // points)][:points]
    return s


def run_pool(s: Study, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        seconds, frame = timed(lambda: sweep(s, Path(d) / "out.csv", workers=workers))
    mode = f"process pool, {workers} workers" if workers > 1 else "in-process (--workers 1)"
    return _summary(len(s.points), seconds, frame, mode)


def run_dask(s: Study, workers: int) -> list[dict]:
    """The sweep on a fresh LocalCluster (workers started, nothing imported: the first sweep a
    new cluster runs), then again on the same cluster (its workers have loaded the solver, as
    a long-lived cluster's have)."""
    from distributed import Client, LocalCluster

    out = []
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.submit(lambda: None).result()  # workers up before the clock starts
        for label in ("first sweep", "second sweep"):
            with tempfile.TemporaryDirectory() as d:
                seconds, frame = timed(lambda d=d: sweep(s, Path(d) / "out.csv", scheduler=client))
            mode = f"Dask LocalCluster, {workers} processes, {label}"
            out.append(_summary(len(s.points), seconds, frame, mode))
    return out


def _summary(n: int, seconds: float, frame, mode: str) -> dict:
    counts = frame["status"].value_counts().to_dict()
    return {
        "mode": mode,
        "points": n,
        "seconds": seconds,
        "points_per_s": n / seconds,
        "median_point_seconds": median(list(frame["seconds"])),
        "statuses": counts,
    }


def profile_point(s: Study) -> dict:
    """One point's time by module (cumulative in designer's modules, tottime elsewhere)."""
    point = s.points[len(s.points) // 2]
    solve_row(s.problem, point)  # warm caches like a running sweep
    prof = cProfile.Profile()
    reps = 5
    prof.enable()
    for _ in range(reps):
        solve_row(s.problem, point)
    prof.disable()
    stats = pstats.Stats(prof).stats
    total = sum(v[2] for v in stats.values()) / reps
    by_file: dict[str, float] = defaultdict(float)
    for (file, _, _), (_, _, tottime, _, _) in stats.items():
        by_file[_bucket(file)] += tottime / reps
    steps = {}
    for (file, _, name), (_, _, _, cum, _) in stats.items():
        for label, (f, n) in STEPS.items():
            if file.endswith(f) and name == n:
                steps[label] = cum / reps
    top = sorted(by_file.items(), key=lambda kv: -kv[1])[:10]
    return {"point": point, "seconds": total, "steps": steps, "self_time_by_module": dict(top)}


STEPS = {
    "problem.with_changes (what-if applied)": ("designer/optimize/problem.py", "with_changes"),
    "columns.build (presolve, numpy)": ("designer/optimize/columns.py", "build"),
    "optimize.build (Pyomo model)": ("designer/optimize/build.py", "build"),
    "solver.solve (HiGHS, all calls)": ("designer/optimize/solver.py", "solve"),
    "solve._tie_break": ("designer/optimize/solve.py", "_tie_break"),
    "sensitivity (LP duals)": ("designer/optimize/sensitivity.py", "sensitivity"),
    "solve._single_configuration": ("designer/optimize/solve.py", "_single_configuration"),
    "solve.answer (export, re-check)": ("designer/optimize/solve.py", "answer"),
    "explain (infeasible points)": ("designer/optimize/explain.py", "explain"),
}


def _bucket(file: str) -> str:
    if "/designer/" in file:
        return "designer/" + file.rsplit("/designer/", 1)[1]
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0]
    return "python" if file.startswith(("/usr", "<", "~")) else file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--repeats", type=int, default=3, help="compare runs (median)")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    s = study(args.points)
    out: dict = {"environment": environment(), "load_average": os.getloadavg(), "sweep": []}
    prof = profile_point(s)
    out["profile"] = prof
    print(f"one point: {prof['seconds']:.3f} s")
    for step, sec in sorted(prof["steps"].items(), key=lambda kv: -kv[1]):
        print(f"  {step:45s} {sec:.4f} s ({100 * sec / prof['seconds']:.0f}%)")
    runs = [run_pool(s, args.workers), run_pool(s, 1)]
    if not args.skip_dask:
        runs += run_dask(s, args.workers)
    for r in runs:
        out["sweep"].append(r)
        print(
            f"{r['points']} points, {r['mode']}: {r['seconds']:.1f} s = "
            f"{r['points_per_s']:.1f} points/s (median point {r['median_point_seconds']:.3f} s); "
            f"{r['statuses']}"
        )
    full = problem_from_dict(FULL_SPACE, where="bench")
    times = [timed(lambda: compare(full, by="chip"))[0] for _ in range(args.repeats)]
    out["compare"] = {"chips": len(full.chips), "median_seconds": median(times), "runs": times}
    print(f"compare --by chip over {len(full.chips)} chips: median {median(times):.2f} s")
    write_json("sweep.json", out)


if __name__ == "__main__":
    main()

"""Speed of `designer.optimize.solve` (columns in numpy → master MILP in Pyomo → HiGHS → re-check).

(a) single-class questions over the full default space (every catalog chip, the paper's xPUs
    included × TP 1…1024 × PP 1…64 × the partition options of the assumption set): the bundled
    one-class problems with their [space] chips/tp/pp removed (a maximize question keeps its
    chips, which its [supply] bounds). Per question: the whole solve
    (build, tie-break and re-check included, sensitivity off and on), the numpy closed form of
    the best single-configuration fleet (`columns.single_configuration_values`, the presolve's
    incumbent), and what mixing configurations saves against it.
(b) a five-class fleet over the full default space under a shared power cap and at most two
    chip types, proven optimal.

Every timing is the median of `--repeats` runs after one warm-up.

    python benchmarks/bench_solve.py [--repeats 5] [--problems DIR]

Writes benchmarks/results/solve.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import environment, median, write_json
from rich.console import Console
from rich.table import Table

from designer.model.errors import DesignerError
from designer.optimize import columns as cm
from designer.optimize.problem import Problem, load_problem, problem_from_dict
from designer.optimize.solve import solve

ROOT = Path(__file__).resolve().parent.parent

FLEET = {
    "class": [
        {
            "name": "chat-8b",
            "model": "llama3.1-8b",
            "context_tokens": "8K",
            "tokens_per_s_per_user": 80,
            "concurrent_users": 3000,
        },
        {
            "name": "chat-70b",
            "model": "llama3.1-70b",
            "context_tokens": "8K",
            "tokens_per_s_per_user": 50,
            "concurrent_users": 2000,
        },
        {
            "name": "reasoning",
            "model": "qwen3-235b-a22b",
            "context_tokens": "32K",
            "tokens_per_s_per_user": 100,
            "concurrent_users": 300,
        },
        {
            "name": "long-context",
            "model": "llama3.1-8b",
            "context_tokens": "128K",
            "tokens_per_s_per_user": 30,
            "concurrent_users": 400,
        },
        {
            "name": "moe",
            "model": "deepseek-v3",
            "context_tokens": "16K",
            "tokens_per_s_per_user": 40,
            "concurrent_users": 500,
        },
    ],
    "objective": {"minimize": "tco"},
    "space": {"include_hypothetical": True},
    "limits": {"max_power": "2 MW"},
    "fleet": {"max_chip_types": 2},
}


def full_space(path: Path) -> Problem | None:
    """A bundled one-class problem over every catalog chip and the default TP and PP. A
    maximize question keeps its chips: its [supply] of them is what bounds it (over every chip
    it would have no bound)."""
    raw = load_problem(path).raw
    if "class" in raw:
        return None
    keep = ("chips",) if "maximize" in raw.get("objective", {}) else ()
    drop = {"chips", "tp", "pp"} - set(keep)
    space = {k: v for k, v in raw.get("space", {}).items() if k not in drop}
    raw = {**raw, "space": {**space, "include_hypothetical": True}}
    return problem_from_dict(raw, where=str(path), base_dir=path.parent)


def median_time(fn, repeats: int) -> tuple[float, Any]:
    out = fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return median(times), out


def bench_single(args, console: Console) -> list[dict]:
    rows = []
    for path in sorted(Path(args.problems).glob("*.toml")):
        problem = full_space(path)
        if problem is None:
            continue
        try:
            fast, sol = median_time(
                lambda p=problem: solve(p, with_sensitivity=False), args.repeats
            )
            full, _ = median_time(lambda p=problem: solve(p), args.repeats)
        except DesignerError as exc:
            rows.append({"problem": path.name, "error": str(exc)[:120]})
            continue

        def closed_form(p=problem):
            c = cm.build(p)
            return float(np.min(cm.single_configuration_values(p, c)))

        closed, single_value = None, None  # the closed form answers minimize questions only
        if problem.sense == "minimize":
            closed, single_value = median_time(closed_form, args.repeats)
        st = sol.record["presolve"]
        rows.append(
            {
                "problem": path.name,
                "candidates": st["candidates"],
                "columns": sol.record["candidates"],
                "solve_s": fast,
                "solve_with_sensitivity_s": full,
                "closed_form_single_s": closed,
                "objective": sol.objective,
                "single_configuration": single_value,
                "mixing_saves": None if single_value is None else 1 - sol.objective / single_value,
                "configurations": len(sol.fleet),
                "status": sol.status,
            }
        )
    t = Table(title=f"(a) one class, full default space — median of {args.repeats}")
    for col in (
        "problem",
        "candidates",
        "columns",
        "solve",
        "+ sensitivity",
        "closed form",
        "mixing saves",
        "configs",
    ):
        t.add_column(col)
    for r in rows:
        if "error" in r:
            t.add_row(r["problem"], "-", "-", r["error"], "", "", "", "")
            continue
        t.add_row(
            r["problem"],
            str(r["candidates"]),
            str(r["columns"]),
            f"{r['solve_s']:.3f} s",
            f"{r['solve_with_sensitivity_s']:.3f} s",
            "-" if r["closed_form_single_s"] is None else f"{r['closed_form_single_s']:.3f} s",
            "-" if r["mixing_saves"] is None else f"{r['mixing_saves']:.1%}",
            str(r["configurations"]),
        )
    console.print(t)
    return rows


def bench_fleet(args, console: Console) -> dict:
    problem = problem_from_dict(FLEET, where="five-class fleet")
    seconds, sol = median_time(lambda: solve(problem, with_sensitivity=False), args.repeats)
    out = {
        "classes": len(problem.classes),
        "columns": sol.record["candidates"],
        "status": sol.status,
        "mip_gap": sol.record["mip_gap"],
        "solve_s": seconds,
        "objective": sol.objective,
        "chip_types": [b["chip"] for b in sol.totals["by_chip"]],
        "configurations": len(sol.fleet),
    }
    console.print(
        f"(b) five classes, full default space, max_power 2 MW, at most 2 chip types: "
        f"{out['status']} (gap {out['mip_gap']:.1g}) in {seconds:.3f} s (median of "
        f"{args.repeats}); {out['columns']} columns, {out['configurations']} configurations "
        f"on {', '.join(out['chip_types'])}"
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--problems", default=str(ROOT / "problems"))
    args = ap.parse_args()
    console = Console()
    single = bench_single(args, console)
    fleet = bench_fleet(args, console)
    write_json("solve.json", {"environment": environment(), "single": single, "fleet": fleet})


if __name__ == "__main__":
    main()

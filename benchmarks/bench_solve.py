"""Speed of `designer.solve` (numpy presolve → Pyomo build → HiGHS → re-check) against the
number of candidates, and against brute-force enumeration with the numpy model.

(a) scaling: llama3.1-70b, 8K context, 50 tok/s/user, 256 users, minimize capex, over design
    spaces of growing size (subsets of catalog chips × TP × PP; the two largest use every integer
    TP, beyond the default powers of two). Per space: `solve(prune=False)` (the MILP gets every
    candidate that survives the structural presolve) and `solve(prune=True)`, with the presolve
    and the Pyomo build timed on their own, and `enumerate_space` for comparison.
(b) full default space (every catalog chip × TP 1…1024 × PP 1…64, powers of two, batch 1…256):
    the bundled questions in problems/*.toml (their [space] chips/tp/pp removed, everything
    else kept; `--as-written` keeps them) and a few built-in ones (skipped when a bundled file
    asks the same question); seconds per query with
    pruning on and off, beside the time to enumerate the same space with the numpy model, and a
    check that the optimal objective values agree.

Every timing is the median of `--repeats` runs after one warm-up; the methods of one space are
run round-robin so that drift affects them alike.

    python benchmarks/bench_solve.py [--repeats 5] [--max-space 6000] [--skip-scaling]
                                     [--skip-full] [--problems DIR] [--as-written]

Writes benchmarks/results/solve.json.
"""

from __future__ import annotations

import argparse
import math
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import environment, median, timed, write_json
from designer.enumeration import enumerate_space
from designer.space import presolve
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from designer import formulation
from designer import solver as solver_module
from designer.catalog import Catalog
from designer.errors import InfeasibleError
from designer.problem import DEFAULT_PP, DEFAULT_TP, Problem, load_problem, problem_from_dict
from designer.solve import solve

ROOT = Path(__file__).resolve().parent.parent
REL_TOL = 1e-6  # objective values closer than this (relative) agree

SCALING_QUESTION = {
    "workload": {"model": "llama3.1-70b", "context_tokens": 8192},
    "sla": {"tokens_per_s_per_user": 50, "concurrent_users": 256},
    "objective": {"minimize": "capex"},
}

# (label, model, context, tok/s/user, users or None for the default)
BUILTIN_QUESTIONS = [
    ("405b-1000tps-128k-32u", "llama3.1-405b", 131072, 1000, 32),
    ("dsv3-600tps-128k-64u", "deepseek-v3", 131072, 600, 64),
    ("70b-2000tps-8k", "llama3.1-70b", 8192, 2000, None),
]
BUILTIN_OBJECTIVES = ("capex", "power")


# ---- one run of each method ------------------------------------------------------------------
def run_solve(problem: Problem, prune: bool, time_limit: float) -> dict[str, Any]:
    """Time one `solve`; infeasible answers count as value = inf."""
    try:
        seconds, sol = timed(lambda: solve(problem, prune=prune, time_limit=time_limit))
    except InfeasibleError as exc:
        rec = getattr(exc, "record", {}) or {}
        return {
            "seconds": None,
            "status": "infeasible",
            "value": math.inf,
            "candidates": rec.get("candidates"),
            "space": rec.get("presolve", {}).get("candidates"),
            "highs_seconds": None,
            "design": None,
            "infeasible_seconds": rec.get("solve_seconds"),
        }
    rec = sol.record
    return {
        "seconds": seconds,
        "status": rec["status"],
        "value": float(sol.objective),
        "candidates": rec["candidates"],
        "space": rec["presolve"]["candidates"],
        "highs_seconds": rec["solver"]["seconds"],
        "design": rec["design"],
        "recheck": rec.get("recheck"),
    }


def run_enumerate(problem: Problem) -> dict[str, Any]:
    seconds, e = timed(lambda: enumerate_space(problem))
    design = None
    if e.chip is not None:
        design = {"chip": e.chip, "tp": e.tp, "pp": e.pp, "batch": e.batch, "replicas": e.replicas}
    return {"seconds": seconds, "value": float(e.value), "points": e.points, "design": design}


def run_build(problem: Problem, prune: bool) -> dict[str, Any]:
    """The presolve and the Pyomo model build alone (no HiGHS)."""
    p_s, cands = timed(lambda: presolve(problem, prune=prune))
    b_s = timed(lambda: formulation.build(cands))[0] if len(cands) else 0.0
    return {"seconds": p_s + b_s, "presolve_seconds": p_s, "build_seconds": b_s}


def agree(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    if math.isinf(a) or math.isinf(b):
        return math.isinf(a) and math.isinf(b)
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b), 1e-300)


def round_robin(
    methods: dict[str, Callable[[], dict]], repeats: int, progress: Progress, task
) -> dict[str, list[dict]]:
    """One warm-up of every method, then `repeats` timed rounds; returns the timed runs."""
    runs: dict[str, list[dict]] = {name: [] for name in methods}
    for rnd in range(repeats + 1):
        for name, fn in methods.items():
            out = fn()
            if rnd > 0:
                runs[name].append(out)
            progress.advance(task)
    return runs


def summarize(runs: list[dict], key: str = "seconds") -> float:
    return median([r[key] for r in runs if r.get(key) is not None])


# ---- (a) scaling -----------------------------------------------------------------------------
def scaling_spaces(chips: list[str]) -> list[tuple[str, dict]]:
    tp, pp = list(DEFAULT_TP), list(DEFAULT_PP)
    spaces = [("1 chip, TP 1-8, PP 1-2", {"chips": chips[:1], "tp": tp[:4], "pp": pp[:2]})]
    for n in (1, 2, 4, 8, 16):
        spaces.append((f"{n} chip{'s' if n > 1 else ''}", {"chips": chips[:n], "tp": tp, "pp": pp}))
    spaces.append((f"all {len(chips)} chips (default space)", {}))
    spaces.append(("all chips, every TP 1-16", {"tp": list(range(1, 17))}))
    spaces.append(("all chips, every TP 1-32", {"tp": list(range(1, 33))}))
    return spaces


def bench_scaling(catalog: Catalog, args, console: Console) -> list[dict]:
    chips = catalog.ids("chips")
    rows = []
    plans = []
    for label, space in scaling_spaces(chips):
        raw = {**SCALING_QUESTION, **({"space": space} if space else {})}
        problem = problem_from_dict(raw, where=f"<scaling: {label}>", catalog=catalog)
        size = len(problem.chips) * len(problem.tp) * len(problem.pp)
        if size > args.max_space:
            console.print(
                f"[yellow]skipping {label!r}: {size} candidates > --max-space {args.max_space}[/]"
            )
            continue
        plans.append((label, space, problem, size))
    with Progress(console=console, transient=True) as progress:
        for label, space, problem, size in plans:
            methods = {
                "build_off": lambda p=problem: run_build(p, False),
                "solve_off": lambda p=problem: run_solve(p, False, args.time_limit),
                "build_on": lambda p=problem: run_build(p, True),
                "solve_on": lambda p=problem: run_solve(p, True, args.time_limit),
                "enumerate": lambda p=problem: run_enumerate(p),
            }
            task = progress.add_task(
                f"(a) {label} [{size}]", total=(args.repeats + 1) * len(methods)
            )
            try:
                runs = round_robin(methods, args.repeats, progress, task)
            except Exception as exc:  # an API changed under us: report, keep going
                console.print(f"[bold red]ERROR in scaling space {label!r}: {exc!r}[/]")
                console.print(traceback.format_exc())
                rows.append({"label": label, "space_size": size, "error": repr(exc)})
                continue
            off, on, en = runs["solve_off"][-1], runs["solve_on"][-1], runs["enumerate"][-1]
            values = {"off": off["value"], "on": on["value"], "enumeration": en["value"]}
            ok = agree(off["value"], en["value"]) and agree(on["value"], en["value"])
            if not ok:
                console.print(f"[bold red]MISMATCH in scaling space {label!r}: {values}[/]")
            rows.append(
                {
                    "label": label,
                    "space": space or "default",
                    "n_chips": len(problem.chips),
                    "n_tp": len(problem.tp),
                    "n_pp": len(problem.pp),
                    "space_size": off["space"],
                    "milp_candidates_prune_off": off["candidates"],
                    "milp_candidates_prune_on": on["candidates"],
                    "median_solve_seconds_prune_off": summarize(runs["solve_off"]),
                    "median_solve_seconds_prune_on": summarize(runs["solve_on"]),
                    "median_highs_seconds_prune_off": summarize(runs["solve_off"], "highs_seconds"),
                    "median_highs_seconds_prune_on": summarize(runs["solve_on"], "highs_seconds"),
                    "median_presolve_seconds_prune_off": summarize(
                        runs["build_off"], "presolve_seconds"
                    ),
                    "median_build_seconds_prune_off": summarize(runs["build_off"], "build_seconds"),
                    "median_presolve_seconds_prune_on": summarize(
                        runs["build_on"], "presolve_seconds"
                    ),
                    "median_build_seconds_prune_on": summarize(runs["build_on"], "build_seconds"),
                    "median_enumerate_seconds": summarize(runs["enumerate"]),
                    "enumeration_points": en["points"],
                    "solve_seconds_prune_off": [r["seconds"] for r in runs["solve_off"]],
                    "solve_seconds_prune_on": [r["seconds"] for r in runs["solve_on"]],
                    "objective": values,
                    "agree": ok,
                }
            )
    return rows


def print_scaling(rows: list[dict], repeats: int, console: Console) -> None:
    table = Table(
        title=f"(a) solve time against candidates, median of {repeats} "
        "(llama3.1-70b, 8K, 50 tok/s/user, 256 users, capex)"
    )
    cols = (
        "space",
        "grid",
        "MILP cand. (off)",
        "solve s (off)",
        "HiGHS s (off)",
        "build s (off)",
        "MILP cand. (on)",
        "solve s (on)",
        "enum s",
        "agree",
    )
    for c in cols:
        table.add_column(c, justify="left" if c == "space" else "right")
    for r in rows:
        if "error" in r:
            table.add_row(r["label"], str(r["space_size"]), "[red]error[/]", *[""] * 7)
            continue
        table.add_row(
            r["label"],
            str(r["space_size"]),
            str(r["milp_candidates_prune_off"]),
            f"{r['median_solve_seconds_prune_off']:.3f}",
            f"{r['median_highs_seconds_prune_off']:.3f}",
            f"{r['median_build_seconds_prune_off']:.3f}",
            str(r["milp_candidates_prune_on"]),
            f"{r['median_solve_seconds_prune_on']:.3f}",
            f"{r['median_enumerate_seconds']:.3f}",
            "yes" if r["agree"] else "[bold red]MISMATCH[/]",
        )
    console.print(table)


# ---- (b) full default space ------------------------------------------------------------------
def full_space(problem: Problem, catalog: Catalog) -> Problem:
    """The same question over the full default space: [space] chips, tp and pp removed
    (max_batch and max_chips, and every other section, kept)."""
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in problem.raw.items()}
    space = {k: v for k, v in raw.get("space", {}).items() if k not in ("chips", "tp", "pp")}
    raw.pop("space", None)
    if space:
        raw["space"] = space
    return problem_from_dict(raw, where=f"{problem.where} (full default space)", catalog=catalog)


def question_key(p: Problem) -> tuple:
    """What makes two questions the same (to skip built-ins a bundled file already asks)."""
    wl = p.workload
    return (
        wl.model.id,
        wl.context_tokens,
        wl.weight_dtype,
        wl.kv_dtype,
        wl.collectives_per_layer,
        wl.efficiency,
        p.target_utps,
        p.users,
        p.objective,
        tuple(p.chips),
        tuple(p.tp),
        tuple(p.pp),
        p.max_batch,
        p.max_chips,
        p.max_power,
        p.max_capex_usd,
        tuple(sorted(p.raw.get("overrides", {}).items())),
    )


def full_space_questions(
    catalog: Catalog, args, console: Console
) -> list[tuple[str, Problem | None, str | None]]:
    out: list[tuple[str, Problem | None, str | None]] = []
    problems_dir = Path(args.problems)
    files = sorted(problems_dir.glob("*.toml")) if problems_dir.is_dir() else []
    if not files:
        console.print(f"[yellow]no bundled problems in {problems_dir} (*.toml): skipped[/]")
    for f in files:
        try:
            problem = load_problem(f, catalog=catalog)
            if not args.as_written:
                problem = full_space(problem, catalog)
            out.append((f.stem, problem, None))
        except Exception as exc:
            console.print(f"[bold red]could not load {f}: {exc}[/]")
            out.append((f.stem, None, repr(exc)))
    seen = {question_key(p) for _, p, _ in out if p is not None}
    for label, model, ctx, utps, users in BUILTIN_QUESTIONS:
        for obj in BUILTIN_OBJECTIVES:
            sla: dict[str, Any] = {"tokens_per_s_per_user": utps}
            if users is not None:
                sla["concurrent_users"] = users
            raw = {
                "workload": {"model": model, "context_tokens": ctx},
                "sla": sla,
                "objective": {"minimize": obj},
            }
            problem = problem_from_dict(raw, where=f"<built-in {label}>", catalog=catalog)
            if question_key(problem) in seen:
                console.print(
                    f"built-in {label} {obj}: the same question as a bundled file "
                    "(full space), not repeated"
                )
                continue
            out.append((f"built-in {label} {obj}", problem, None))
    return out


def bench_full(catalog: Catalog, args, console: Console) -> list[dict]:
    rows = []
    questions = full_space_questions(catalog, args, console)
    with Progress(console=console, transient=True) as progress:
        for label, problem, error in questions:
            if problem is None:
                rows.append({"label": label, "error": error})
                continue
            methods = {
                "solve_on": lambda p=problem: run_solve(p, True, args.time_limit),
                "solve_off": lambda p=problem: run_solve(p, False, args.time_limit),
                "enumerate": lambda p=problem: run_enumerate(p),
            }
            task = progress.add_task(f"(b) {label}", total=(args.repeats + 1) * len(methods))
            try:
                runs = round_robin(methods, args.repeats, progress, task)
            except Exception as exc:
                console.print(f"[bold red]ERROR in {label}: {exc!r}[/]")
                console.print(traceback.format_exc())
                rows.append({"label": label, "error": repr(exc)})
                continue
            on, off, en = runs["solve_on"][-1], runs["solve_off"][-1], runs["enumerate"][-1]
            values = {
                "prune_on": on["value"],
                "prune_off": off["value"],
                "enumeration": en["value"],
            }
            ok = agree(on["value"], en["value"]) and agree(off["value"], en["value"])
            if not ok:
                console.print(
                    f"[bold red]!!! MISMATCH !!! {label}: objective values {values}; "
                    f"solve design {on['design']}, enumeration {en['design']}[/]"
                )
            s_on, s_off = summarize(runs["solve_on"]), summarize(runs["solve_off"])
            s_en = summarize(runs["enumerate"])
            if on["status"] == "infeasible":  # solve raised: time it from the error record
                s_on = median([r["infeasible_seconds"] for r in runs["solve_on"]])
                s_off = median([r["infeasible_seconds"] for r in runs["solve_off"]])
            rows.append(
                {
                    "label": label,
                    "model": problem.workload.model.id,
                    "space_chips": len(problem.chips),
                    "space_tp": list(problem.tp),
                    "space_pp": list(problem.pp),
                    "context_tokens": problem.workload.context_tokens,
                    "tokens_per_s_per_user": problem.target_utps,
                    "concurrent_users": problem.users,
                    "objective_name": problem.objective,
                    "status": on["status"],
                    "space_size": on["space"],
                    "enumeration_points": en["points"],
                    "milp_candidates_prune_on": on["candidates"],
                    "milp_candidates_prune_off": off["candidates"],
                    "median_solve_seconds_prune_on": s_on,
                    "median_solve_seconds_prune_off": s_off,
                    "median_highs_seconds_prune_on": summarize(runs["solve_on"], "highs_seconds"),
                    "median_highs_seconds_prune_off": summarize(runs["solve_off"], "highs_seconds"),
                    "median_enumerate_seconds": s_en,
                    "ratio_solve_on_over_enumeration": s_on / s_en,
                    "ratio_solve_off_over_enumeration": s_off / s_en,
                    "solve_seconds_prune_on": [r["seconds"] for r in runs["solve_on"]],
                    "solve_seconds_prune_off": [r["seconds"] for r in runs["solve_off"]],
                    "enumerate_seconds": [r["seconds"] for r in runs["enumerate"]],
                    "objective": values,
                    "design_solve": on["design"],
                    "design_enumeration": en["design"],
                    "recheck": on.get("recheck"),
                    "agree": ok,
                }
            )
    return rows


def print_full(rows: list[dict], repeats: int, console: Console) -> None:
    table = Table(title=f"(b) full default space, seconds per query, median of {repeats}")
    cols = (
        "question",
        "users",
        "space",
        "cand. on",
        "cand. off",
        "solve s (on)",
        "solve s (off)",
        "enum s",
        "on/enum",
        "off/enum",
        "objective",
        "agree",
    )
    for c in cols:
        table.add_column(c, justify="left" if c == "question" else "right")
    for r in rows:
        if "error" in r:
            table.add_row(r["label"], *[""] * 10, "[bold red]error[/]")
            continue
        v = r["objective"]["prune_on"]
        table.add_row(
            r["label"],
            str(r["concurrent_users"]),
            str(r["space_size"]),
            str(r["milp_candidates_prune_on"]),
            str(r["milp_candidates_prune_off"]),
            f"{r['median_solve_seconds_prune_on']:.3f}",
            f"{r['median_solve_seconds_prune_off']:.3f}",
            f"{r['median_enumerate_seconds']:.3f}",
            f"{r['ratio_solve_on_over_enumeration']:.2f}",
            f"{r['ratio_solve_off_over_enumeration']:.2f}",
            "infeasible" if math.isinf(v) else f"{v:.6g}",
            "yes" if r["agree"] else "[bold red]MISMATCH[/]",
        )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed runs (after one warm-up)")
    ap.add_argument(
        "--max-space",
        type=int,
        default=6000,
        help="skip scaling spaces with more (chip, tp, pp) candidates than this",
    )
    ap.add_argument(
        "--problems", default=str(ROOT / "problems"), help="folder of bundled problem TOMLs for (b)"
    )
    ap.add_argument(
        "--as-written",
        action="store_true",
        help="(b): keep the bundled problems' own [space] chips/tp/pp instead of "
        "the full default space",
    )
    ap.add_argument("--time-limit", type=float, default=60.0, help="HiGHS time limit, s")
    ap.add_argument("--skip-scaling", action="store_true", help="skip (a)")
    ap.add_argument("--skip-full", action="store_true", help="skip (b)")
    ap.add_argument("--output", default="solve.json", help="file name under benchmarks/results")
    args = ap.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 200)
    env = environment()
    env["highs_threads"] = solver_module.THREADS
    env["highs_options"] = dict(solver_module.OPTIONS)
    console.print(
        f"cpu_count={env['cpu_count']} nproc={env['nproc']} python={env['python']} "
        f"numpy={env['numpy']} pyomo={env['pyomo']} highspy={env['highspy']} "
        f"HiGHS threads={env['highs_threads']} options={env['highs_options']}"
    )
    catalog = Catalog.load()
    scaling, full = [], []
    if not args.skip_scaling:
        scaling = bench_scaling(catalog, args, console)
        print_scaling(scaling, args.repeats, console)
    if not args.skip_full:
        full = bench_full(catalog, args, console)
        print_full(full, args.repeats, console)
    path = write_json(
        args.output,
        {
            "benchmark": "solve",
            "environment": env,
            "settings": vars(args),
            "scaling": scaling,
            "full_space": full,
        },
    )
    console.print(f"wrote {path}")
    bad = [r["label"] for r in scaling + full if "error" in r or not r.get("agree", False)]
    if bad:
        console.print(f"[bold red]MISMATCH or error in: {', '.join(bad)}[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `designer` command line: evaluate, solve, compare, sweep, pareto, catalog.

Exit codes: 0 answered, 2 bad input, 3 infeasible (with the explanation), 4 solver limit hit
with no feasible design, 1 internal error (set DESIGNER_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Any

from rich.console import Console

from designer import __version__
from designer.assumptions import DEFAULT_PRESET, PRESETS
from designer.errors import EXIT_SOLVER_LIMIT, DesignerError, InfeasibleError, InputError
from designer.workload import Efficiency

ASSUMPTION_PRESETS = tuple(PRESETS)


def _context(text: str) -> int:
    """'131072', '128K' (×1024) or '128k'."""
    from designer.units import parse_tokens

    try:
        return parse_tokens(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _sets(items: list[str] | None) -> dict[str, Any]:
    from designer.problem import parse_set

    return dict(parse_set(s) for s in items or [])


def _dump(obj: Any) -> None:
    print(json.dumps(obj, indent=2, default=str))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from designer.catalog import SECTIONS, Catalog
    from designer.evaluate import evaluate
    from designer.report import print_evaluation
    from designer.units import parse

    sets = _sets(args.set)
    bad = [k for k in sets if k.split(".")[0] not in SECTIONS]
    if bad:
        raise InputError(
            "evaluate takes catalog paths only (chips.…, models.…, "
            "interconnects.…, memory.…, costs.…)",
            key=f"--set {bad[0]}",
        )
    eff = Efficiency(
        args.bandwidth_efficiency,
        args.compute_efficiency,
        parse(args.overhead_per_layer, "time", key="--overhead-per-layer"),
    )
    record = evaluate(
        args.model,
        args.chip,
        tp=args.tp,
        pp=args.pp,
        batch=args.batch,
        context_tokens=args.context,
        weight_dtype=args.weight_dtype,
        kv_dtype=args.kv_dtype,
        replicas=args.replicas,
        overrides=sets,
        efficiency=eff,
        catalog=Catalog.load(),
        assumptions=args.assumptions,
        ep=args.ep,
        attention=args.attention,
        **_workload_flags(args),
    )
    if args.json:
        _dump(record)
    else:
        print_evaluation(record)
    return 0


def _workload_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The optional workload flags of `evaluate` that were given, as Workload keywords."""
    names = ("prompt_tokens", "output_tokens", "speculative", "draft_tokens", "acceptance_rate")
    out = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    if ("prompt_tokens" in out or "output_tokens" in out) and args.context is not None:
        raise InputError(
            "give either --context or --prompt-tokens and --output-tokens", key="--context"
        )
    return out


def cmd_solve(args: argparse.Namespace) -> int:
    from designer.problem import load_problem
    from designer.report import print_infeasible, print_solution
    from designer.solve import solve

    sets = _sets(args.set)
    if args.assumptions:
        sets["assumptions.preset"] = args.assumptions
    problem = load_problem(args.problem, sets)
    try:
        sol = solve(problem, prune=not args.no_prune, time_limit=args.time_limit)
    except InfeasibleError as exc:
        record = getattr(exc, "record", {"status": "infeasible", "explanation": str(exc)})
        if args.json:
            _dump(record)
        else:
            print_infeasible(record)
        return exc.exit_code
    if args.json:
        _dump(sol.record)
    else:
        print_solution(sol.record)
    # an answer stopped at the time limit is not proven optimal
    return 0 if sol.status == "optimal" else EXIT_SOLVER_LIMIT


def cmd_catalog(args: argparse.Namespace) -> int:
    from designer.catalog import SECTIONS, Catalog
    from designer.cost import chip_cost
    from designer.errors import unknown
    from designer.report import (
        CATALOG_CAPTIONS,
        catalog_display_rows,
        catalog_rows,
        catalog_table,
    )

    cat = Catalog.load()
    section = args.section
    if section not in SECTIONS:
        raise unknown("catalog section", section, SECTIONS, key="catalog")
    if args.action == "show":
        if not args.id:
            raise InputError("expected an entry id after the section", key="catalog show")
        if args.id not in cat.raw[section]:
            raise unknown(section.rstrip("s"), args.id, cat.raw[section], key="catalog show")
        entry = dict(cat.raw[section][args.id])
        if section == "models":
            entry["computed"] = cat.model(args.id).describe()
        if section == "chips":
            cc = chip_cost(cat, args.id)
            entry["computed"] = {
                "price_usd": cc.price_usd,
                "price_basis": cc.price_basis,
                "power_w": cc.power_w,
                "power_basis": cc.power_basis,
            }
        _dump(entry) if args.json else Console().print_json(json.dumps(entry, default=str))
        return 0
    rows = catalog_rows(cat, section)
    if args.json:
        _dump(rows)
    else:
        console = Console()
        table = catalog_table(
            catalog_display_rows(section, rows),
            f"{section} ({len(rows)})",
            caption=CATALOG_CAPTIONS.get(section),
            width=console.width,
        )
        console.print(table)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from designer.problem import load_problem
    from designer.studies import compare

    table = compare(
        load_problem(args.problem, _study_sets(args)),
        by=args.by,
        top=args.top,
        time_limit=args.time_limit,
    )
    if args.plot:
        from designer.studies import plots

        feasible = [r for r in table.rows if r["status"] in ("optimal", "feasible")]
        plots.step_breakdown(feasible, args.plot, by=args.by)
    if args.json:
        _dump(table.json())
    else:
        Console().print(table.table())
    answered = any(r["status"] in ("optimal", "feasible") for r in table.rows)
    return 0 if answered else InfeasibleError.exit_code


def cmd_sweep(args: argparse.Namespace) -> int:
    from designer.studies import Study, sweep

    study = Study.load(args.study)
    if args.assumptions:  # a swept value of every point: a column, and part of its key
        study.points = [{**p, "assumptions.preset": args.assumptions} for p in study.points]
    frame = sweep(
        study,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    if args.plot:
        from designer.studies import plots

        plots.sweep_figure(frame, study.swept, args.plot)
    counts = frame["status"].value_counts().to_dict() if len(frame) else {}
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(
        f"{len(frame)} points ({summary}); computed {frame.attrs['computed']}, skipped "
        f"{frame.attrs['skipped']} already in {args.out}",
        file=sys.stderr,
    )
    return 0


def cmd_pareto(args: argparse.Namespace) -> int:
    from designer.problem import load_problem
    from designer.studies import pareto

    front = pareto(
        load_problem(args.problem, _study_sets(args)),
        args.y,
        x=args.x,
        points=args.points,
        time_limit=args.time_limit,
        complete=args.complete,
    )
    if args.out:
        if args.out.lower().endswith(".json"):
            with open(args.out, "w") as f:
                json.dump(front.json(), f, indent=2, default=str)
        else:
            front.frame().to_csv(args.out, index=False)
    if args.plot:
        from designer.studies import plots

        plots.frontier(front, args.plot)
    if args.json:
        _dump(front.json())
    else:
        Console().print(front.table())
    return 0


def _study_args(p: argparse.ArgumentParser, plot_help: str) -> None:
    p.add_argument("--plot", metavar="FILE", help=f"{plot_help} (.png or .svg; needs matplotlib)")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    _assumptions_arg(p)


def _assumptions_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--assumptions",
        choices=ASSUMPTION_PRESETS,
        default=None,
        help=f"assumption set (default: the problem's [assumptions] preset, else {DEFAULT_PRESET})",
    )


def _study_sets(args: argparse.Namespace) -> dict[str, Any]:
    sets = _sets(args.set)
    if args.assumptions:
        sets["assumptions.preset"] = args.assumptions
    return sets


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2), like every other bad input."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="designer",
        description="Design LLM inference hardware "
        "by optimization (LIMINAL decode model + Pyomo/HiGHS).",
    )
    ap.add_argument("--version", action="version", version=f"designer {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("evaluate", help="evaluate one design with the forward model")
    ev.add_argument("--model", required=True, help="catalog model id or a config.json path")
    ev.add_argument("--chip", required=True, help="catalog chip id")
    ev.add_argument("--tp", type=int, default=1, help="chips per pipeline stage (tensor par.)")
    ev.add_argument("--pp", type=int, default=1, help="pipeline stages")
    ev.add_argument("--batch", type=int, default=1, help="users per micro-batch")
    ev.add_argument("--replicas", type=int, default=1)
    ev.add_argument(
        "--context",
        type=_context,
        default=None,
        help="tokens of context per user (131072 or 128K; default 8K)",
    )
    ev.add_argument(
        "--weight-dtype", default=None, help="default: fp8 (paper) or the model's native dtype"
    )
    ev.add_argument("--kv-dtype", default=None, help="default: fp8 (paper) or bf16 (deployment)")
    ev.add_argument(
        "--assumptions",
        choices=ASSUMPTION_PRESETS,
        default=DEFAULT_PRESET,
        help=f"assumption set (default {DEFAULT_PRESET}; paper = the LIMINAL equations exactly)",
    )
    ev.add_argument("--ep", type=int, default=1, help="expert-parallel degree (divides --tp)")
    ev.add_argument(
        "--attention", choices=["tp", "dp"], default="tp", help="tensor- or data-parallel attention"
    )
    ev.add_argument(
        "--prompt-tokens", type=_context, default=None, help="prompt length per request"
    )
    ev.add_argument(
        "--output-tokens", type=_context, default=None, help="output length per request"
    )
    ev.add_argument(
        "--speculative", default=None, help="speculative decoding: mtp, eagle or a draft model id"
    )
    ev.add_argument("--draft-tokens", type=int, default=None, help="tokens drafted per step")
    ev.add_argument(
        "--acceptance-rate", type=float, default=None, help="probability a draft token is accepted"
    )
    ev.add_argument("--bandwidth-efficiency", type=float, default=1.0)
    ev.add_argument("--compute-efficiency", type=float, default=1.0)
    ev.add_argument("--overhead-per-layer", default="0 s", help="e.g. '114 us'")
    ev.add_argument(
        "--set",
        action="append",
        metavar="PATH=VALUE",
        help="override a catalog value, e.g. chips.xpu-hbm3.memory_bandwidth=8TiB/s",
    )
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_evaluate)

    so = sub.add_parser("solve", help="the cost- or power-minimal design for a problem file")
    so.add_argument("problem", help="problem TOML (see problems/)")
    so.add_argument(
        "--set",
        action="append",
        metavar="PATH=VALUE",
        help="change a problem or catalog value, e.g. sla.tokens_per_s_per_user=1500",
    )
    so.add_argument(
        "--assumptions",
        choices=ASSUMPTION_PRESETS,
        default=None,
        help=f"assumption set (default: the problem's [assumptions] preset, else {DEFAULT_PRESET})",
    )
    so.add_argument("--json", action="store_true")
    so.add_argument(
        "--no-prune",
        action="store_true",
        help="give every candidate that can meet the rate to the MILP",
    )
    so.add_argument(
        "--time-limit",
        type=float,
        default=60.0,
        help="seconds for the whole run; an answer stopped there is marked not proven optimal "
        "(exit 4)",
    )
    so.set_defaults(func=cmd_solve)

    set_help = "change a problem or catalog value (wildcards: chips.*.KEY; factors: x2)"
    co = sub.add_parser("compare", help="the optimum per chip, memory technology or TP, ranked")
    co.add_argument("problem", help="problem TOML (see problems/)")
    co.add_argument("--by", choices=["chip", "memory", "tp"], default="chip")
    co.add_argument("--top", type=int, metavar="K", help="only the K best distinct designs")
    co.add_argument("--set", action="append", metavar="PATH=VALUE", help=set_help)
    co.add_argument("--json", action="store_true")
    _study_args(co, "write the step-time breakdown of the feasible rows")
    co.set_defaults(func=cmd_compare)

    sw = sub.add_parser("sweep", help="solve every point of a study (grid or list of what-ifs)")
    sw.add_argument("study", help="study TOML: problem = PATH, [grid] / [list] of values")
    sw.add_argument("--out", required=True, metavar="FILE", help="results (.csv or .parquet)")
    sw.add_argument("--workers", type=int, help="local processes (default: the CPU count)")
    sw.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.add_argument("--plot", metavar="FILE", help="heat map (two swept values) or line plot")
    _assumptions_arg(sw)
    sw.set_defaults(func=cmd_sweep)

    pa = sub.add_parser("pareto", help="the exact cost frontier against tokens/s per user")
    pa.add_argument("problem", help="problem TOML (see problems/)")
    pa.add_argument("--x", choices=["tokens_per_s_per_user"], default="tokens_per_s_per_user")
    pa.add_argument(
        "--y", choices=["capex", "power", "tco", "cost_per_mtoken", "chips"], default="capex"
    )
    pa.add_argument("--points", type=int, default=12, help="levels of the rate (default 12)")
    pa.add_argument(
        "--complete",
        action="store_true",
        help="walk every frontier design (one solve each) instead of --points levels",
    )
    pa.add_argument("--set", action="append", metavar="PATH=VALUE", help=set_help)
    pa.add_argument("--json", action="store_true")
    pa.add_argument("--out", metavar="FILE", help="the frontier as CSV (or JSON: .json)")
    _study_args(pa, "write the frontier")
    pa.set_defaults(func=cmd_pareto)

    ca = sub.add_parser("catalog", help="browse the catalogs")
    ca.add_argument("action", choices=["list", "show"])
    ca.add_argument(
        "section",
        nargs="?",
        default="chips",
        help="chips | models | memory | interconnects | costs",
    )
    ca.add_argument("id", nargs="?", help="entry id (for show)")
    ca.add_argument("--json", action="store_true")
    ca.set_defaults(func=cmd_catalog)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except DesignerError as exc:
        print(f"designer: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("designer: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: one line unless debugging
        if os.environ.get("DESIGNER_DEBUG"):
            traceback.print_exc()
        print(
            f"designer: internal error: {type(exc).__name__}: {exc} (set DESIGNER_DEBUG=1 for "
            f"the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""The `designer` command line: evaluate, solve, catalog.

Exit codes: 0 answered, 2 bad input, 3 infeasible (with the explanation), 4 solver limit hit
with no feasible design, 1 internal error (set DESIGNER_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import sys
import traceback
import warnings
from typing import Any

import numpy as np
from rich.console import Console

from designer import __version__
from designer.errors import DesignerError, InfeasibleError, InputError, excerpt, in_file
from designer.evaluate import MAX_PARTITION, MAX_REPLICAS
from designer.workload import Efficiency

MAX_CONTEXT = 2**30  # tokens, as in problem files
MAX_TIME_LIMIT = 1e6  # seconds


def _context(text: str) -> int:
    """'131072', '128K' (×1024) or '128k'."""
    t = text.strip()
    try:
        tokens = float(t[:-1]) * 1024 if t[-1:] in "kK" else int(t)
    except ValueError:
        tokens = None
    if tokens is None or not 1 <= tokens <= MAX_CONTEXT or int(tokens) != tokens:
        raise argparse.ArgumentTypeError(
            f"expected a token count from 1 to {MAX_CONTEXT}, like 131072 or 128K, got "
            f"{excerpt(text)}"
        )
    return int(tokens)


def _count(high: int):
    """An argparse type: an integer from 1 to `high`."""

    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected a positive integer (at most {high}), got {excerpt(text)}"
            )
        return value

    return count


def _real(high: float, what: str):
    """An argparse type: a number in (0, high], described as `what` in errors."""

    def real(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not 0 < value <= high:
            raise argparse.ArgumentTypeError(
                f"expected {what} in (0, {high:g}], got {excerpt(text)}"
            )
        return value

    return real


def _sets(items: list[str] | None) -> dict[str, Any]:
    from designer.problem import parse_set

    return dict(parse_set(s) for s in items or [])


def _finite(obj: Any) -> Any:
    """`obj` with every non-finite float (NaN, ±inf) replaced by None: JSON has no NaN."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _json(obj: Any) -> str:
    """Strict JSON (no NaN or Infinity: unknown numbers are null)."""
    return json.dumps(_finite(obj), indent=2, default=str, allow_nan=False)


def _dump(obj: Any) -> None:
    print(_json(obj))


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
    overhead = parse(args.overhead_per_layer, "time", key="--overhead-per-layer")
    if overhead < 0:
        raise InputError(
            f"expected a non-negative time, got {excerpt(args.overhead_per_layer)}",
            key="--overhead-per-layer",
        )
    eff = Efficiency(args.bandwidth_efficiency, args.compute_efficiency, overhead)
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
    )
    if args.json:
        _dump(record)
    else:
        print_evaluation(record)
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    from designer.problem import load_problem
    from designer.report import print_infeasible, print_solution
    from designer.solve import solve

    problem = load_problem(args.problem, _sets(args.set))
    try:
        sol = solve(problem, prune=not args.no_prune, time_limit=args.time_limit)
    except InputError as exc:  # found while solving (a chip without the dtype): name the file
        raise in_file(exc, problem.where) from None
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
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from designer.catalog import SECTIONS, Catalog
    from designer.cost import chip_cost
    from designer.errors import unknown
    from designer.report import catalog_table

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
        _dump(entry) if args.json else Console().print_json(_json(entry))
        return 0
    rows = []
    for entry_id in cat.ids(section):
        e = cat.raw[section][entry_id]
        if section == "chips":
            c = cat.chip(entry_id)
            rows.append(
                {
                    "id": entry_id,
                    "kind": c.kind,
                    "memory": c.memory_technology,
                    "capacity": e["memory_capacity"],
                    "bandwidth": e["memory_bandwidth"],
                    "fp8": e["compute"].get("fp8", "-"),
                    "interconnect": c.interconnect,
                }
            )
        elif section == "models":
            a = cat.model(entry_id)
            rows.append(
                {
                    "id": entry_id,
                    "params": f"{a.total_params() / 1e9:.1f}B",
                    "active": f"{a.active_params() / 1e9:.1f}B",
                    "layers": a.num_hidden_layers,
                    "attention": "MLA" if a.is_mla else "GQA",
                    "experts": f"{a.num_experts}/{a.num_experts_per_tok}" if a.is_moe else "dense",
                }
            )
        else:
            rows.append(
                {
                    "id": entry_id,
                    **{k: v for k, v in e.items() if k not in ("source", "notes", "name")},
                }
            )
    if args.json:
        _dump(rows)
    else:
        Console().print(catalog_table(rows, f"{section} ({len(rows)})"))
    return 0


_QUOTED = re.compile(r"'([^']{40,})'")
MAX_MESSAGE = 600  # characters of an error line


def _one_line(message: str) -> str:
    """An error message on one line of at most MAX_MESSAGE characters."""
    line = " ".join(message.split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2), like every other bad input."""

    def error(self, message: str):
        message = _QUOTED.sub(lambda m: excerpt(m.group(1)), _one_line(message))
        self.exit(2, f"designer: error: {message} (see {self.prog} --help)\n")


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
    part = _count(MAX_PARTITION)
    ev.add_argument("--tp", type=part, default=1, help="chips per pipeline stage (tensor par.)")
    ev.add_argument("--pp", type=part, default=1, help="pipeline stages")
    ev.add_argument("--batch", type=part, default=1, help="users per micro-batch")
    ev.add_argument("--replicas", type=_count(MAX_REPLICAS), default=1)
    ev.add_argument(
        "--context", type=_context, default=8192, help="tokens of context per user (131072 or 128K)"
    )
    ev.add_argument("--weight-dtype", default="fp8")
    ev.add_argument("--kv-dtype", default="fp8")
    ev.add_argument("--bandwidth-efficiency", type=_real(1, "a fraction"), default=1.0)
    ev.add_argument("--compute-efficiency", type=_real(1, "a fraction"), default=1.0)
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
    so.add_argument("--json", action="store_true")
    so.add_argument(
        "--no-prune",
        action="store_true",
        help="give every candidate that can meet the rate to the MILP",
    )
    so.add_argument(
        "--time-limit",
        type=_real(MAX_TIME_LIMIT, "seconds"),
        default=60.0,
        help="seconds for HiGHS",
    )
    so.set_defaults(func=cmd_solve)

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
    """Run the command line; returns the exit code (argparse's own exits included)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    try:
        # Extreme inputs may overflow to inf in numpy: the answer says so (null in JSON, or
        # infeasible); a warning on stderr would not.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            code = args.func(args)
            sys.stdout.flush()
        return code
    except BrokenPipeError:  # the reader (`| head`) has gone: stop quietly
        _silence_stdout()
        return 0
    except DesignerError as exc:
        print(f"designer: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("designer: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: one line unless debugging
        if os.environ.get("DESIGNER_DEBUG"):
            traceback.print_exc()
        print(
            f"designer: internal error: {type(exc).__name__}: {_one_line(str(exc))} (set "
            f"DESIGNER_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no file descriptor (captured output)
        pass


if __name__ == "__main__":
    sys.exit(main())

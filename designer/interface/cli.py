"""The `designer` command line: evaluate, solve, compare, sweep, pareto, catalog, calibrate,
validate, web.

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

from designer import __version__
from designer.model.assumptions import DEFAULT_PRESET, PRESETS
from designer.model.errors import (
    EXIT_SOLVER_LIMIT,
    BadRow,
    DesignerError,
    InfeasibleError,
    InputError,
    SolverLimitError,
    excerpt,
    in_file,
    one_line,
    unknown,
)

# Every command imports what it uses when it runs: `--version`, `--help` and the parser load
# neither numpy, pint nor rich; `evaluate` and `catalog` no Pyomo, scipy, pandas or
# matplotlib; `solve` no scipy.stats, pandas or matplotlib; `sweep` and `compare` pandas only
# for a plot or a table file; pint only for a quantity string the unit cache
# (designer.model.unitcache) does not know yet (tests/test_startup.py).

ASSUMPTION_PRESETS = tuple(PRESETS)

# OpenBLAS starts a thread per core when numpy is imported; on arrays this small one thread
# answers as fast, and the idle thread's spin costs every command 0.05 s of CPU.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")

MAX_TIME_LIMIT = 1e6  # seconds
MAX_COUNT = 2**31 - 1  # counts on the command line; each command caps its own further


def _context(text: str) -> int:
    """'131072', '128K' (×1024), '1M' (×1024²), at most units.MAX_TOKENS."""
    from designer.model.units import parse_tokens

    try:
        return parse_tokens(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_float(text: str) -> float:
    """A positive finite number (--requests-per-s)."""
    from designer.model.units import plain_number

    try:
        value = float(text) if _is_float(text) else text
        return plain_number(value, positive=True, where=None, key="--requests-per-s")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _overhead(text: str) -> float:
    """--overhead-per-layer: a non-negative time."""
    from designer.model.units import parse

    overhead = parse(text, "time", key="--overhead-per-layer")
    if overhead < 0:
        raise InputError(
            f"expected a non-negative time, got {excerpt(text)}", key="--overhead-per-layer"
        )
    return overhead


def _count(limit: int | str):
    """An argparse type: an integer from 1 to `limit`, a number or the name of a constant of
    `designer.model.partition` (read when a value is parsed, so that building the parser does
    not load numpy)."""

    def count(text: str) -> int:
        if isinstance(limit, str):
            from designer.model import partition

            high = getattr(partition, limit)
        else:
            high = limit
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
    if not items:  # evaluate without --set loads no optimizer module
        return {}
    from designer.optimize.problem import parse_set

    sets: dict[str, Any] = {}
    for item in items:
        path, value = parse_set(item)
        if path in sets:  # the second would replace the first, and `xF` scale the file's value
            raise InputError(
                f"{path} is set twice ({excerpt(sets[path])}, then {excerpt(value)}): give one "
                "value (a factor xF scales the problem's own value, not an earlier --set)",
                key="--set",
            )
        sets[path] = value
    return sets


def _finite(obj: Any) -> Any:
    """`obj` with every non-finite float (NaN, ±inf) replaced by None: JSON has no NaN."""
    return _finite_in(obj, sys.modules.get("numpy"))  # no numpy scalar exists without numpy


def _finite_in(obj: Any, np) -> Any:
    if isinstance(obj, dict):
        return {k: _finite_in(v, np) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_in(v, np) for v in obj]
    if isinstance(obj, float) or (np is not None and isinstance(obj, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if np is None:
        return obj
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _console():
    """A rich console (rich is loaded only by the commands that print tables)."""
    from rich.console import Console

    return Console()


def _json(obj: Any) -> str:
    """Strict JSON (no NaN or Infinity: unknown numbers are null)."""
    return json.dumps(_finite(obj), indent=2, default=str, allow_nan=False)


def _dump(obj: Any) -> None:
    print(_json(obj))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from designer.calibration.evaluate import evaluate
    from designer.model.catalog import SECTIONS, Catalog
    from designer.model.cost import BASIS_KEYS, cost_basis_from

    sets = _sets(args.set)
    basis = {k[6:]: sets.pop(k) for k in list(sets) if k[6:] in BASIS_KEYS and k[:6] == "costs."}
    bad = [k for k in sets if k.split(".")[0] not in SECTIONS]
    if bad:
        raise InputError(
            "evaluate takes catalog paths only (chips.…, models.…, "
            "interconnects.…, memory.…, costs.…)",
            key=f"--set {bad[0]}",
        )
    from designer.calibration import engines, profiles

    base_catalog = Catalog.load()
    file, sep, chosen = args.chip.rpartition(".toml:")
    file, chosen = (f"{file}.toml", chosen) if sep else (args.chip, "")
    if file.endswith(".toml"):  # a chip file (e.g. written by solve --chip-out), or FILE:ID
        base_catalog, ids = base_catalog.with_chip_file(file)
        if chosen and chosen not in ids:
            raise unknown(f"chip of {file}", chosen, ids, key="--chip")
        if not chosen and len(ids) > 1:
            raise InputError(
                f"{file} holds {len(ids)} chips ({', '.join(ids)}): name one as "
                f"--chip {file}:{ids[0]}",
                key="--chip",
            )
        args.chip = chosen or ids[0]
        for line in base_catalog.replacement_notes():
            print(f"designer: warning: {line}", file=sys.stderr)
    catalog = base_catalog.with_overrides(sets)
    values = {
        k: v
        for k, v in (
            ("bandwidth", args.bandwidth_efficiency),
            ("compute", args.compute_efficiency),
            (
                "overhead_per_layer",
                None if args.overhead_per_layer is None else _overhead(args.overhead_per_layer),
            ),
        )
        if v is not None
    }
    # Efficiency flags alone keep their meaning (the hardware limit with those values).
    if args.profile:
        base = profiles.asking(profiles.get(args.profile), args.engine, args.engine_version)
    elif values:
        base = profiles.LIMIT_PROFILE
    else:
        if args.engine:
            profiles.check_engine(args.engine, key="--engine")
            engines.check(catalog, args.chip, args.engine, key="--engine")
        if args.engine_version:
            engines.check_version(
                args.engine_version, args.engine, engine_key="--engine", key="--engine-version"
            )
        base = profiles.default_for(
            catalog, args.chip, args.engine, args.engine_version, catalog.model(args.model).id
        )
    prof = profiles.with_values(base, values)
    flags = _workload_flags(args)
    if _speculates(flags.get("speculative", "none"), catalog):
        for flag, name in (
            ("--draft-tokens", "draft_tokens"),
            ("--acceptance-rate", "acceptance_rate"),
        ):
            if name not in flags:  # it was taken as 0
                raise InputError(f"--speculative needs {flag} too", key=flag)
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
        cost_basis=cost_basis_from(basis, "--set"),
        profile=prof,
        catalog=base_catalog,
        assumptions=args.assumptions,
        ep=args.ep,
        attention=args.attention,
        requests_per_s=args.requests_per_s,
        phase=args.phase or "aggregated",
        chunk_tokens=args.chunk_tokens,
        engine=args.engine,
        **flags,
    )
    from designer.interface.plausible import context_warning, mtp_warning

    model = catalog.model(args.model)
    for line in (
        context_warning(model, record["workload"]["context_tokens"], "--context"),
        mtp_warning(model, flags.get("speculative", "none"), "--speculative mtp", catalog),
    ):
        if line:
            print(f"designer: warning: {line}", file=sys.stderr)
    m = record["metrics"]
    if m.get("serves_rate") is False:  # more users in flight than its micro-batches hold
        print(
            f"designer: warning: the replica holds {args.pp * args.batch:,} users (PP × batch) but "
            f"{m['requests_per_s'] / args.replicas:g} requests/s per replica of "
            f"{args.output_tokens:,} tokens at this TPOT keep {m['users_in_flight']:,} in flight: "
            "it cannot serve this rate (raise --batch or --replicas)",
            file=sys.stderr,
        )
    if args.json:
        _dump(record)
    else:
        from designer.interface.report import does_not_fit_line, print_evaluation

        print_evaluation(record)
        if not record["fits"]:
            print(f"designer: warning: {does_not_fit_line(record)}", file=sys.stderr)
    return 0


def _speculates(spec: str, catalog: Any) -> bool:
    """Whether `--speculative` names a method or a draft model `catalog` resolves (an id, a
    Hugging Face id, a config.json); an unknown one is left to the workload's own error."""
    if spec in ("mtp", "eagle"):
        return True
    if spec == "none":
        return False
    try:
        catalog.model(spec)
    except InputError:
        return False
    return True


def _workload_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The optional workload flags of `evaluate` that were given, as Workload keywords."""
    names = (
        "prompt_tokens",
        "output_tokens",
        "speculative",
        "draft_tokens",
        "acceptance_rate",
        "activation_dtype",
    )
    out = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    if ("prompt_tokens" in out or "output_tokens" in out) and args.context is not None:
        raise InputError(
            "give either --context or --prompt-tokens and --output-tokens", key="--context"
        )
    # options that would change nothing were silently taken: each needs another
    if "output_tokens" in out and "prompt_tokens" not in out:
        raise InputError(
            "an answer's length needs its prompt's: give --prompt-tokens too",
            key="--output-tokens",
        )
    for flag, name in (
        ("--draft-tokens", "draft_tokens"),
        ("--acceptance-rate", "acceptance_rate"),
    ):
        if name in out and out.get("speculative", "none") == "none":
            raise InputError("needs --speculative (mtp, eagle or a draft model)", key=flag)
    if args.requests_per_s is None:
        for flag, given in (("--phase", args.phase), ("--chunk-tokens", args.chunk_tokens)):
            if given is not None:
                raise InputError("needs --requests-per-s (a loaded replica)", key=flag)
    elif args.chunk_tokens is not None and (args.phase or "aggregated") != "aggregated":
        raise InputError(
            "is the aggregated replicas' prompt budget: a prefill or decode replica has none",
            key="--chunk-tokens",
        )
    if args.phase == "prefill" and args.batch != 1:
        raise InputError(
            f"is {args.batch}, but a prefill replica serves one prompt at a time and decodes "
            "no one: leave --batch out (or 1) with --phase prefill",
            key="--batch",
        )
    return out


def _with_confidences(problem, confidence: float | None, ttft_confidence: float | None):
    """`problem` with `--confidence` on every class ([sla] or [[class]]) and
    `--ttft-confidence` on every class with a TTFT target (bad input when none has one)."""
    import dataclasses

    from designer.optimize.problem import check_confidence

    changes: dict[str, float] = {}
    if confidence is not None:
        changes["confidence"] = check_confidence(confidence, None, "--confidence")
    if ttft_confidence is not None:
        changes["ttft_confidence"] = check_confidence(ttft_confidence, None, "--ttft-confidence")
        if not any(wc.serving for wc in problem.classes):
            raise InputError(
                'a TTFT confidence needs a class with a TTFT target ([sla] ttft = "2 s")',
                key="--ttft-confidence",
            )
    if not changes:
        return problem

    def changed(wc):
        mine = {k: v for k, v in changes.items() if k == "confidence" or wc.serving}
        return dataclasses.replace(wc, **mine)

    return dataclasses.replace(problem, classes=tuple(changed(wc) for wc in problem.classes))


def cmd_solve(args: argparse.Namespace) -> int:
    from designer.optimize import synthesize
    from designer.optimize.problem import load_problem

    sets = _sets(args.set)
    flags = {
        "assumptions.preset": ("--assumptions", args.assumptions),
        "efficiency.profile": ("--profile", args.profile),
        "efficiency.engine": ("--engine", args.engine),
        "efficiency.engine_version": ("--engine-version", args.engine_version),
    }
    for path, (flag, value) in flags.items():
        _flag_set(sets, path, value, flag)
    if args.chip_out:  # refused before the solve, not after it
        from designer.model import outputs

        outputs.check(args.chip_out, "a chip file", force=args.force, key="--chip-out")
    try:
        problem = _warned(load_problem(args.problem, sets))
    except InputError as exc:  # a value an option gave is named by the option
        flag, given = flags.get(exc.key or "", (None, None))
        if exc.where != "--set" or not given:
            raise
        raise InputError(exc.message, key=flag) from None
    problem = _with_confidences(problem, args.confidence, args.ttft_confidence)
    try:  # a synthesis problem: portfolios by design sets (docs/model.md §7), its block
        sol = synthesize.answer(problem, prune=not args.no_prune, time_limit=args.time_limit)
    except InputError as exc:  # found while solving (a chip without the dtype): name the file
        raise in_file(exc, problem.where) from None
    except InfeasibleError as exc:
        record = getattr(exc, "record", {"status": "infeasible", "explanation": str(exc)})
        if args.json:
            _dump(record)
        else:
            from designer.interface.report import print_infeasible

            print_infeasible(record)
        return exc.exit_code
    except SolverLimitError as exc:  # stopped before any design: JSON still says so
        if not args.json:
            raise
        _dump({"status": "solver-limit", "error": one_line(str(exc))})
        print(f"designer: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    if args.chip_out:
        from designer.optimize.synthesis import write_chip_file

        chosen = list(dict.fromkeys(r["chip"] for r in sol.record["fleet"]))
        write_chip_file(args.chip_out, problem.catalog, chosen, force=args.force)
        sol.record["chip_out"] = {"file": args.chip_out, "chips": chosen}
    if args.json:
        _dump(sol.record)
    else:
        from designer.interface.report import print_solution

        print_solution(sol.record)
        if "synthesis" in sol.record:
            from designer.optimize.synthesis import print_block

            print_block(sol.record["synthesis"])
    # an answer stopped at the time limit is not proven optimal
    return 0 if sol.status == "optimal" else EXIT_SOLVER_LIMIT


RENTS = ("on_demand", "reserved")


def _warned(problem: Any, but: str | None = None) -> Any:
    """`problem`, its plausibility warnings (unit typos) printed on stderr, but those about
    the key `but` (one a command sets itself)."""
    from designer.interface.plausible import warnings

    for line in warnings(problem):
        if but is None or not line.startswith(f"{but} "):
            print(f"designer: warning: {problem.where}: {line}", file=sys.stderr)
    return problem


def cmd_catalog(args: argparse.Namespace) -> int:
    from designer.interface.report import (
        CATALOG_CAPTIONS,
        catalog_display_rows,
        catalog_rows,
        catalog_table,
    )
    from designer.model.catalog import SECTIONS, Catalog
    from designer.model.cost import CostBasis, chip_cost

    cat = Catalog.load()
    section = args.section
    if section not in (*SECTIONS, "profiles"):
        raise unknown("catalog section", section, (*SECTIONS, "profiles"), key="catalog")
    if args.action == "list" and args.id:  # it listed the whole section, as if not given
        raise InputError(
            f"list takes a section only: to see {args.id!r}, designer catalog show "
            f"{section} {args.id}",
            key="catalog list",
        )
    if section == "profiles":
        return _catalog_profiles(args)
    if args.action == "show":
        if not args.id:
            raise InputError("expected an entry id after the section", key="catalog show")
        entry_id = cat.model_id(args.id) if section == "models" else args.id
        if entry_id not in cat.raw[section]:
            names = cat.model_names() if section == "models" else cat.raw[section]
            raise unknown(section.rstrip("s"), args.id, names, key="catalog show")
        entry = dict(cat.raw[section][entry_id])
        if section == "models":
            entry["computed"] = cat.model(entry_id).describe()
        if section == "chips":
            cc = chip_cost(cat, args.id)
            rents = {t: chip_cost(cat, args.id, CostBasis("rent", rent_term=t)) for t in RENTS}
            entry["computed"] = {
                "price_usd": cc.price_usd,
                "price_basis": cc.price_basis,
                "power_w": cc.power_w,
                "power_basis": cc.power_basis,
                **cc.describe(),
                **{
                    f"rent_{t}_usd_per_hour": r.describe()["rent_usd_per_hour"]
                    for t, r in rents.items()
                },
                **{f"rent_{t}_basis": r.rent_basis for t, r in rents.items()},
            }
        _dump(entry) if args.json else _console().print_json(_json(entry))
        return 0
    rows = catalog_rows(cat, section)
    if args.json:
        _dump(rows)
    else:
        console = _console()
        table = catalog_table(
            catalog_display_rows(section, rows),
            f"{section} ({len(rows)})",
            caption=CATALOG_CAPTIONS.get(section),
            width=console.width,
        )
        console.print(table)
    return 0


def _catalog_profiles(args: argparse.Namespace) -> int:
    """`designer catalog list|show profiles`: the calibration profiles and their errors."""
    from designer.calibration import profiles
    from designer.interface.report import catalog_table

    found = profiles.load()
    if args.action == "show":
        if not args.id:
            raise InputError("expected a profile name after the section", key="catalog show")
        if args.id not in found:
            raise unknown("profile", args.id, found, key="catalog show")
        p = found[args.id]
        rec = {**profiles.describe(p), "command": p.command, "data": p.data, "notes": p.notes}
        if p.platforms:  # a generation's measured platforms and their own numbers
            rec["platforms"] = {k: on.describe() for k, on in p.platforms}
        _dump(rec) if args.json else _console().print_json(_json(rec))
        return 0
    rows = [
        {
            "id": p.id,
            "platform": p.platform,
            "engine": p.engine,
            "default for": ", ".join([*p.chips, *(f"{e} >= {v}" for e, v in p.builds)]),
            "rows": p.rows,
            "error": p.error(),
        }
        for p in found.values()
    ]
    if args.json:
        _dump(rows)
        return 0
    console = _console()
    caption = (
        "default per chip: its own platform's profile, else generic (shipping chips) or limit; "
        "with --engine E: chip/E, else generic-E, else generic; with --engine-version V too, "
        "the profile fitted on E's builds up to V first (default for E >= V)"
    )
    named = [p for p in found.values() if profiles.named_only(p)]
    if named:
        shown = ", ".join(f"{p.id} (fitted to {p.data})" for p in named)
        caption += f"; only when named (--profile, \\[efficiency] profile): {shown}"
    console.print(
        catalog_table(rows, f"profiles ({len(rows)})", caption=caption, width=console.width)
    )
    return 0


def _plot_target(args: argparse.Namespace, formats: tuple[str, ...] | None = None) -> None:
    """A --plot name checked before any work: extension, folder, device, someone's file."""
    if getattr(args, "plot", None):
        from designer.model import outputs
        from designer.studies import plots

        outputs.check_figure(args.plot, formats or plots.FORMATS, force=args.force)


def cmd_compare(args: argparse.Namespace) -> int:
    from designer.optimize.problem import load_problem
    from designer.studies import compare

    _plot_target(args)
    sets = _study_sets(args)
    if args.by == "basis":  # each row sets costs.basis and costs.rent_term itself
        mine = [k for k in ("costs.basis", "costs.rent_term") if k in sets]
        if mine:
            raise InputError(
                f"compare --by basis answers on every cost basis: --set {mine[0]} changes "
                "nothing, drop it",
                key="--set",
            )
    table = compare(
        _warned(
            load_problem(args.problem, sets), "costs.rent_term" if args.by == "basis" else None
        ),
        by=args.by,
        top=args.top,
        time_limit=args.time_limit,
        progress=not args.quiet,
    )
    feasible = [r for r in table.rows if r["status"] in ("optimal", "feasible")]
    if args.plot and feasible:
        from designer.studies import plots

        plots.step_breakdown(feasible, args.plot, by=args.by, force=args.force)
    if args.json:
        _dump(table.json())
    else:
        _console().print(table.table())
        if table.note:
            _console().print(table.note)
    if args.plot and not feasible:
        print(
            f"designer: warning: no feasible design to plot: {args.plot} not written",
            file=sys.stderr,
        )
    if feasible:
        return 0
    errors = [r for r in table.rows if r["status"] == "error"]
    if errors and len(errors) == len(table.rows):  # nothing answered: not an infeasible one
        raise InputError(
            f"every member is an error (the first: "
            f"{one_line(str(errors[0]['record'].get('error', '')))})",
            where=str(args.problem),
        )
    stopped = any(r["status"] == "solver-limit" for r in table.rows)  # not proven infeasible
    return EXIT_SOLVER_LIMIT if stopped else InfeasibleError.exit_code


def cmd_sweep(args: argparse.Namespace) -> int:
    from designer.studies.sweep import Study, run

    _plot_target(args)
    if args.scheduler is not None:
        from designer.studies.sweep import scheduler_address

        if args.workers is not None:  # the cluster's workers run the points
            raise InputError(
                "--workers sizes the local pool; with --scheduler the cluster's workers run "
                "the points: drop one of them",
                key="--workers",
            )
        scheduler_address(args.scheduler)  # a malformed address fails before any work
    study = Study.load(args.study)
    _warned(study.problem)
    objectives = [p for p in study.swept if p in ("objective.minimize", "objective.maximize")]
    if args.plot and objectives:  # one axis cannot hold USD and watts
        raise InputError(
            f"the study sweeps {objectives[0]}, and a figure draws one objective: plot from "
            f"the table (--out), or sweep one objective per study",
            key="--plot",
        )
    if args.assumptions:  # a swept value of every point: a column, and part of its key
        if "assumptions.preset" in study.swept:
            raise InputError(
                f"the study sweeps assumptions.preset ({study.where}): drop --assumptions",
                key="--assumptions",
            )
        study.points = [{**p, "assumptions.preset": args.assumptions} for p in study.points]
    try:
        swept = run(
            study,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.quiet,
            force=args.force,
        )
    except KeyboardInterrupt as exc:
        raise type(exc)(
            f"the points solved so far are kept in {args.out}; the same command resumes"
        ) from None
    statuses = swept.statuses()
    answered = statuses.get("optimal", 0) + statuses.get("feasible", 0)
    if args.plot and answered:
        from designer.studies import plots

        plots.sweep_figure(swept.frame(), study.swept, args.plot, force=args.force)
    elif args.plot:
        print(
            f"designer: warning: no feasible point to plot: {args.plot} not written",
            file=sys.stderr,
        )
    summary = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    print(
        f"{len(swept.rows)} points ({summary}); computed {swept.computed}, skipped "
        f"{swept.skipped} already in {args.out}",
        file=sys.stderr,
    )
    if swept.rows and set(statuses) == {"error"}:  # nothing was answered: the study is wrong
        first = next(r for r in swept.rows if r.get("status") == "error")
        raise InputError(
            f"every point is an error (the first: {one_line(str(first.get('error', '')))})",
            where=str(args.study),
        )
    if not swept.rows or answered:
        return 0
    # no point answered: 4 when a solver limit stopped one (not proven infeasible), 3 when one
    # is infeasible (the others errors)
    if "solver-limit" in statuses:
        return EXIT_SOLVER_LIMIT
    return InfeasibleError.exit_code if "infeasible" in statuses else 0


def cmd_pareto(args: argparse.Namespace) -> int:
    from designer.model import outputs
    from designer.optimize.problem import load_problem
    from designer.studies.pareto import PER_CHIP, pareto

    _plot_target(args)
    if args.out:
        if os.path.splitext(args.out)[1].lower() not in (".csv", ".json"):  # not CSV as .txt
            raise InputError(
                f"expected a .csv or .json file name for the frontier, got {args.out!r}",
                key="--out",
            )
        outputs.check(args.out, "a frontier", force=args.force)
    if args.complete and args.points is not None:  # the walk finds its own levels
        raise InputError(
            "--complete walks every frontier design: give it or --points", key="--points"
        )
    problem = _warned(load_problem(args.problem, _study_sets(args)))
    # default: the problem's objective, or the serving chart of a maximizing problem
    default = problem.objective if problem.sense == "minimize" else PER_CHIP
    front = pareto(
        problem,
        args.y or default,
        x=args.x,
        points=12 if args.points is None else args.points,
        time_limit=args.time_limit,
        complete=args.complete,
    )
    if args.out:
        if args.out.lower().endswith(".json"):
            text = _json({"written_by": outputs.STAMP, **front.json()}) + "\n"
        else:
            frame = front.frame().map(outputs.cell)
            text = f"# {outputs.STAMP}: pareto frontier\n" + frame.to_csv(index=False)
        outputs.write_text(args.out, text, "a frontier", force=args.force)
    if args.plot:
        from designer.studies import plots

        plots.frontier(front, args.plot, force=args.force)
    if args.json:
        _dump(front.json())
    else:
        _console().print(front.table())
    stopped = [p["level"] for p in front.points if p["record"].get("status") != "optimal"]
    stopped += [bad["level"] for bad in front.infeasible if bad["status"] == "solver-limit"]
    if stopped:  # a point a solver limit stopped is an upper bound, not the frontier
        print(
            f"designer: warning: {len(stopped)} point(s) not proven optimal within --time-limit "
            f"(levels {', '.join(f'{v:,.1f}' for v in stopped)}): their values are upper "
            "bounds, the frontier may lie below them",
            file=sys.stderr,
        )
    slower = [p["level"] for p in front.points if p["fastest"] is False]
    if slower:  # optimal at its level, but a design of its value may be faster
        print(
            f"designer: warning: {len(slower)} point(s) optimal at their level, but --time-limit "
            "stopped the search for a faster design of the same value (levels "
            f"{', '.join(f'{v:,.1f}' for v in slower)}): one may reach a higher rate",
            file=sys.stderr,
        )
    return EXIT_SOLVER_LIMIT if stopped or slower else 0


FORCE_HELP = (
    "replace output files that designer did not write (or, for a sweep, of another problem)"
)


def _force_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true", help=FORCE_HELP)


def _study_args(p: argparse.ArgumentParser, plot_help: str) -> None:
    p.add_argument("--plot", metavar="FILE", help=f"{plot_help} (.png or .svg; needs matplotlib)")
    p.add_argument(
        "--time-limit",
        type=_real(MAX_TIME_LIMIT, "seconds"),
        default=60.0,
        help="seconds per solve",
    )
    _force_arg(p)
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
    _flag_set(sets, "assumptions.preset", args.assumptions, "--assumptions")
    return sets


def _flag_set(sets: dict[str, Any], path: str, value: Any, flag: str) -> None:
    """`sets[path] = value` for an option that stands for `--set path=value`; the option and
    a `--set` of the same path are refused together (one would silently win)."""
    if not value:
        return
    if path in sets:
        raise InputError(f"given with --set {path} too: give one of them", key=flag)
    sets[path] = value


def _measurements(
    args: argparse.Namespace,
    read: dict[str, dict[str, str]] | None = None,
    load=None,
    first_tokens: list | None = None,
    skipped: list | None = None,
):
    """The catalog and the rows of `args.data` (those of `--platform` / `--engine`), read by
    `load` (default `measurements.load`, whose `measure` = `ttft` rows go to `first_tokens`,
    filtered the same way; `ttft.load` for a TTFT file); `read` receives what the source's
    words were read as (`plain_names.resolve`), `skipped` the rows left out as bad input (when
    given; else such a row is an error)."""
    from designer.calibration import measurements
    from designer.model.catalog import Catalog

    catalog = Catalog.load()
    if load is None:
        rows = measurements.load(args.data, catalog, read, first_tokens, skipped)
    else:
        rows = load(args.data, catalog, read, skipped)
    first = first_tokens if first_tokens is not None else []
    for attr in ("platform", "engine"):  # --platform, --engine: keep only the rows named
        wanted = getattr(args, attr, None)
        if not wanted:
            continue

        known = {getattr(r, attr) for r in (*rows, *first)}
        for w in wanted:
            if w not in known:
                exc = unknown(attr, w, known, where=args.data, key=f"--{attr}")
                if skipped:  # the rows left out may have been its rows: their own is unknown
                    exc = InputError(
                        f"{exc.message}; {len(skipped)} row(s) left out as bad input may be "
                        "its rows (each named above)",
                        where=exc.where,
                        key=exc.key,
                    )
                raise exc
        rows = [r for r in rows if getattr(r, attr) in wanted]
        first[:] = [r for r in first if getattr(r, attr) in wanted]
    return catalog, rows


def _without_out(argv: list[str], *flags: str) -> list[str]:
    """The command line without `--out FILE` (where a profile was written is not how) and the
    other `flags` that take a file."""
    drop = ("--out", *flags)
    out, skip = [], False
    for w in argv:
        if skip or w in drop:
            skip = not skip
        elif not w.startswith(tuple(f"{f}=" for f in drop)):
            out.append(w)
    return out


PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _check_profile_name(name: str) -> None:
    """`calibrate --name`: a name the written profile can be read back and asked for by."""
    from designer.calibration import profiles

    if name == profiles.LIMIT:
        raise InputError(
            f"{name!r} is built in (the hardware limit) and cannot be redefined: give another name",
            key="--name",
        )
    if not PROFILE_NAME.fullmatch(name):
        raise InputError(
            f"expected a name of letters, digits, '.', '_' and '-', got {excerpt(name)}",
            key="--name",
        )


def cmd_calibrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from designer.calibration import calibrate
    from designer.calibration.validate import table
    from designer.interface.report import catalog_table

    if args.name is not None:
        _check_profile_name(args.name)
    if args.plot and not args.intervals:  # only --intervals draws (its coverage)
        raise InputError("needs --intervals (the coverage plot)", key="--plot")
    if args.data_label is not None and not args.data_label.strip():
        raise InputError("expected the data's name, got an empty one", key="--data-label")
    if args.default_for:  # the chips the profile is the default for: catalog chips
        from designer.model.catalog import Catalog

        known = Catalog.load().raw["chips"]
        for chip in args.default_for:
            if chip not in known:
                raise unknown("chip", chip, known, key="--default-for")
    if args.out:
        from designer.model import outputs

        for flag, given in (("--floor", args.floor), ("--cross-validate", args.cross_validate)):
            if given:  # a report on standard output: nothing to write
                raise InputError(
                    f"{flag} writes no file (a report; --json gives its data)", key="--out"
                )
        if not args.out.lower().endswith(".toml"):  # a profile or an interval table is TOML
            raise InputError(f"expected a .toml file name, got {excerpt(args.out)}", key="--out")
        outputs.check(args.out, "a profile", force=args.force)  # before the fit
    for flag, text in (("--data-label", args.data_label), ("DATA", args.data)):
        if text and any(c in text for c in "\n\r"):  # the header comment must stay one line
            raise InputError(f"expected one line of text, got {excerpt(text)}", key=flag)
    read: dict[str, dict[str, str]] = {}
    first: list = []  # measure = ttft rows: not fitted (designer validate predicts them)
    catalog, rows = _measurements(args, read, first_tokens=first)
    if read:  # on stderr: --json keeps standard output one JSON document
        from designer.interface.report import read_as_line

        print(read_as_line(read, all_in=None), file=sys.stderr)
    if not rows:  # every row (of those --platform / --engine keep) is a time to first token
        raise InputError(
            "no decode rows to fit: no profile is fitted to a time to first token (measure "
            "ttft; designer validate predicts them)",
            where=args.data,
        )
    if first:
        from designer.calibration.calibrate import points

        print(
            f"{points(len(first))} of time to first token (measure ttft) not fitted: no profile "
            "is fitted to a TTFT (designer validate predicts them)",
            file=sys.stderr,
        )
    if args.floor:
        if args.cross_validate:
            raise InputError(
                "--floor and --cross-validate are two reports: give one", key="--floor"
            )
        return _floor(rows, catalog, args)
    if args.intervals:
        return _intervals(rows, catalog, args)
    if args.cross_validate:
        cv = calibrate.cross_validate(
            rows, catalog, args.cross_validate, args.loss, within=args.within
        )
        if args.json:
            _dump(
                {
                    "cross_validation": cv.name,
                    "mape": cv.errors.mape,
                    "median": cv.errors.median,
                    "worst": cv.errors.worst[1],
                    "worst_id": cv.errors.worst[0],
                    "points": len(cv.errors.ids),
                    "groups": {
                        g: {"mape": e.mape, "points": len(e.ids)} for g, e in cv.groups.items()
                    },
                    "rows": [
                        {"id": i, "predicted_ms": float(p), "measured_ms": float(m)}
                        for i, p, m in zip(
                            cv.errors.ids,
                            cv.errors.predicted_ms,
                            cv.errors.measured_ms,
                            strict=True,
                        )
                    ],
                }
            )
            return 0
        console = _console()
        console.print(catalog_table(table(cv.errors), f"held-out predictions ({cv.by})"))
        for g, e in cv.groups.items():
            print(f"  {g}: {e.summary()}")
        print(cv.summary())
        return 0
    if not args.name:
        raise InputError("expected --name NAME for the fitted profile", key="calibrate")
    command = "designer calibrate " + " ".join(_without_out(args.argv))
    try:
        profile, fit, cv = calibrate.make_profile(
            rows,
            catalog,
            args.name,
            data=Path(args.data).name if args.data_label is None else args.data_label,
            chips=tuple(args.default_for or ()),
            command=command,
            loss=args.loss,
            within=args.within,
            generation=args.generation,
        )
    except InputError as exc:  # the fit's own held-out error, not a --cross-validate asked
        if exc.key != "--cross-validate" or args.cross_validate:
            raise
        raise InputError(
            f"a profile states its held-out error, and {exc.message} of the rows",
            where=args.data,
        ) from None
    if args.generation:
        from designer.calibration import intervals

        profile = intervals.with_own_table(profile, rows, cv, catalog)
    text = profile.to_toml()
    if len(rows) <= len(calibrate.PARAMETERS):
        print(
            f"designer: warning: {len(rows)} rows for {len(calibrate.PARAMETERS)} parameters: "
            "the fit is underdetermined (the in-sample error means nothing)",
            file=sys.stderr,
        )
    if args.out:
        _write(args.out, text, "a profile", command, args.force)
    if args.json:
        from designer.calibration.profiles import describe

        _dump({**describe(profile), "fit": fit.errors.summary(), "cross_validation": cv.summary()})
        return 0
    print(f"fit:              {fit.errors.summary()}")
    print(f"cross-validation: {cv.summary()}")
    if fit.not_identified:
        print(f"held at the prior (the rows do not identify them): {', '.join(fit.not_identified)}")
    if not args.out:
        print(text, end="")
    else:
        print(f"wrote profile {args.name!r} to {args.out}")
    return 0


def _write(path: str, text: str, what: str, command: str, force: bool) -> None:
    """Write a `calibrate --out` file through the output gate, stamped with its command."""
    from designer.model import outputs

    outputs.write_text(path, f"# {outputs.STAMP}: {command}\n{text}", what, force=force)


def _intervals(rows, catalog, args: argparse.Namespace) -> int:
    """`calibrate --intervals`: the 80% interval table of answers and its held-out coverage
    (`designer.calibration.interval_fit`)."""
    from designer.calibration import interval_fit, intervals

    table, cov, _ = interval_fit.fit(rows, catalog)
    if args.plot:
        from designer.calibration.validate import coverage_plot

        coverage_plot(cov, args.plot, force=args.force)
    command = "designer calibrate " + " ".join(_without_out(args.argv, "--plot"))
    text = intervals.to_toml(table, command)
    if args.out:
        _write(args.out, text, "an interval table", command, args.force)
    if args.json:
        _dump(
            {
                "coverage": table.coverage,
                "cells": table.counts,
                "ranges": table.ranges,
                "widen_measured": table.widen,  # added: the measured factor per dimension
            }
        )
        return 0
    for name, s in table.coverage.items():
        print(
            f"{name}: {s['inside']:.1f}% of {s['points']} held-out predictions inside their "
            f"80% interval ({s.get('held_out', 'leave-one-source-out')}), median half-width "
            f"±{s['median_half_width']:.1f}%"
        )
    by_factor: dict[float, list[str]] = {}
    for dim, f in table.widen.items():
        name = "moe (of a model the data measured)" if dim == "moe" else dim
        by_factor.setdefault(f, []).append(name)
    measured = "; ".join(f"{f:g} for {', '.join(d)}" for f, d in by_factor.items())
    print(
        f"widening outside the data: {measured or 'none measured'}; {intervals.WIDEN:g} for "
        "every other dimension (designer/calibration/widening.py)"
    )
    if args.out:
        print(f"wrote the interval table to {args.out}")
    else:
        print(text, end="")
    return 0


def _floor(rows, catalog, args: argparse.Namespace) -> int:
    """`calibrate --floor`: the error the data's own spread leaves
    (`designer.calibration.floor`)."""
    from designer.calibration import calibrate, floor

    t = floor.twins(rows)
    prepared = calibrate.as_rows(rows, catalog)  # once for every fit below
    show = None if args.json else (lambda name, e: print(f"  {name}: {e.summary()}"))
    if show:
        n = sum(len(g) for g in t.groups)
        print(
            f"same inputs, measured differently: {n} rows in {len(t.groups)} groups; no "
            f"prediction from the recorded inputs gets below MAPE {t.mape:.1f}% over all "
            f"{t.rows} rows"
        )
    per = {}
    for by in floor.GROUPS:
        per[by] = floor.per_group(prepared, catalog, by, args.loss, each=show)
        if show:
            print(per[by].summary())
    oracles = {}
    if len({r.platform for r in rows}) > 1:  # leave-one-platform-out needs two platforms
        for within in (None, "engine"):
            oracles[within] = floor.hardware_oracle(prepared, catalog, args.loss, within)
            if show:
                print(oracles[within].summary())
    single = calibrate.fit_items(prepared, catalog, args.loss).errors
    if not args.json:
        print(f"one profile for all rows: {single.summary()}")
        return 0
    _dump(
        {
            "points": t.rows,
            "twins": {
                "mape": t.mape,
                "groups": [
                    {"ids": list(g), "least_mape": m}
                    for g, m in zip(t.groups, t.least, strict=True)
                ],
            },
            "per_group": {
                by: {
                    "mape": f.errors.mape,
                    "median": f.errors.median,
                    "exact": list(f.exact),
                    "groups": {
                        g: {"mape": e.mape, "points": len(e.ids)} for g, e in f.groups.items()
                    },
                }
                for by, f in per.items()
            },
            "hardware_oracle": {
                o.held_out.name: {
                    "mape": o.errors.mape,
                    "median": o.errors.median,
                    "cross_validated_mape": o.held_out.errors.mape,
                    "shares": o.shares,
                }
                for o in oracles.values()
            },
            "single": {"mape": single.mape, "median": single.median, "points": len(single.ids)},
        }
    )
    return 0


HOSTNAME = re.compile(  # labels of letters, digits, '-' and '_', dot-separated, a final dot
    r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?"
)


def _check_host(host: str) -> str:
    """`host` if it is an IP address or a host name (bad input otherwise, before anything starts:
    999.1.1.1 is neither)."""
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    if len(host) <= 254 and HOSTNAME.fullmatch(host) and not re.fullmatch(r"[0-9.]+", host):
        return host
    raise InputError(f"expected an IP address or a host name, got {host!r}", key="--host")


def cmd_web(args: argparse.Namespace) -> int:
    _check_host(args.host)  # the options first: bad input is exit 2 with or without the extra
    try:
        import nicegui  # noqa: F401
    except ImportError as exc:  # nicegui is an optional extra: the command cannot run as asked
        raise InputError(
            f'designer web needs the web extra ({exc.name} is missing): pip install -e ".[web]"',
            key="web",
        ) from None
    from designer.interface import web

    web.serve(args.host, args.port)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from designer.calibration import profiles, ttft
    from designer.calibration.calibrate import points
    from designer.calibration.validate import (
        DEFAULT,
        PLOT_FORMATS,
        parity_plot,
        table,
        validate,
        validate_ttft,
    )
    from designer.interface.report import catalog_table, over_capacity_line

    _plot_target(args, PLOT_FORMATS)
    name = args.profile or profiles.GENERIC
    profile = None if name == DEFAULT else profiles.get(name, key="--profile")
    read: dict[str, dict[str, str]] = {}
    skipped: list | None = [] if args.skip_bad_rows else None
    try:
        if ttft.holds_ttft(args.data):
            catalog, first = _measurements(args, read, ttft.load, skipped=skipped)
            return _validate_ttft(args, first, profile, catalog, read, skipped)
        first: list = []  # the file's measure = ttft rows
        catalog, rows = _measurements(args, read, first_tokens=first, skipped=skipped)
    except BadRow as exc:  # one row: say how the others are predicted all the same
        raise BadRow(f"{exc.message} ({SKIP_HINT})", where=exc.where, key=exc.key) from None
    except InputError:  # with --skip-bad-rows: every row left out is named before the error
        _extend({}, {}, skipped)
        raise
    if not rows:
        return _validate_ttft(args, first, profile, catalog, read, skipped)
    record = validate(rows, profile, catalog)
    if first:  # an extension: the file's TTFT rows, as validate predicts a TTFT file
        record["ttft"] = validate_ttft(first, profile, catalog)
    _extend(record, read, skipped)
    if args.plot:
        parity_plot(rows, record, args.plot, force=args.force)
    if args.json:
        _dump(record)
        return 0
    errs = _record_errors(record)
    console = _console()
    used = [r["profile"] for r in record["rows"]] if profile is None else None
    title = f"profile {record['profile']} ({record['error']})"
    console.print(catalog_table(table(errs, used), title))
    print(errs.summary())
    print(
        f"{record['inside']:.1f}% of the measurements inside their 80% interval, "
        f"median half-width ±{record['median_half_width']:.1f}%"
    )
    for name, d in record["domains"].items():
        print(
            f"  {name}: {points(d['points'])}, {d['inside']:.1f}% inside, "
            f"median half-width ±{d['median_half_width']:.1f}%"
        )
    _print_platforms(record)
    if line := over_capacity_line(rows, record):
        print(line)
    _print_stated(record)
    if first:
        _print_ttft(record["ttft"])
    _print_tail(read, skipped)
    return 0


# what an error in one row of `designer validate`'s file adds
SKIP_HINT = "--skip-bad-rows predicts the rows that read and lists each bad one"


def _validate_ttft(
    args: argparse.Namespace, rows: list, profile, catalog, read: dict, skipped: list | None
) -> int:
    """`designer validate` on published TTFTs only (a TTFT file, `ttft.holds_ttft`, or a
    measurements file of `measure` = `ttft` rows): predicted against measured per row
    (`validate.validate_ttft`), each with its 80% TTFT interval."""
    from designer.calibration.validate import parity_plot, validate_ttft

    record = validate_ttft(rows, profile, catalog)
    _extend(record, read, skipped)
    if args.plot:
        parity_plot(rows, record, args.plot, force=args.force, quantity="TTFT (ms)")
    if args.json:
        _dump(record)
        return 0
    _print_ttft(record)
    _print_tail(read, skipped)
    return 0


def _extend(record: dict, read: dict, skipped: list | None) -> None:
    """What a validate record adds to its rows (extensions): what the source's words were read
    as (`read_as`), and with --skip-bad-rows each row left out as bad input (`skipped`), also
    on standard error (one line each, as the error it would have been)."""
    if read:
        record["read_as"] = read  # the source's words → catalog ids
    if skipped is None:
        return
    for s in skipped:
        print(f"designer: left out: {s.error}", file=sys.stderr)
    record["skipped"] = [{"line": s.line, "id": s.id, "error": s.error} for s in skipped]


def _print_tail(read: dict, skipped: list | None) -> None:
    """The text output's last lines: what the source's words were read as, and with
    --skip-bad-rows how many rows were left out."""
    from designer.interface.report import read_as_line

    if read:
        print(read_as_line(read))
    if skipped is None:
        return
    if not skipped:
        print("no row left out (--skip-bad-rows)")
        return
    ids = ", ".join(one_line(s.id, 40) or f"line {s.line}" for s in skipped[:5])
    more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    print(
        f"{len(skipped)} row(s) left out as bad input and not predicted: {ids}{more} (why: "
        "standard error, one line each; --json: skipped)"
    )


def _print_ttft(record: dict) -> None:
    """The text of a TTFT record (`validate.validate_ttft`): a table, the errors, the share
    inside the TTFT intervals and how they held out, the range answers quote beside a TTFT, and
    each platform's errors."""
    from designer.calibration.validate import table
    from designer.interface.report import (
        catalog_table,
        ttft_check_line,
        ttft_interval_check_line,
    )

    got = record["rows"]
    errs = _record_errors(record)
    lines = table(errs, [r["profile"] for r in got])
    for line, r in zip(lines, got, strict=True):
        line["prompt"] = f"{r['input_tokens']:,}"
    title = f"time to first token, profile {record['profile']} ({record['error']})"
    _console().print(catalog_table(lines, title))
    print(f"{errs.summary()}, signed {record['signed']:+.1f}% (+: predicted slower)")
    mine = record["built_from"]  # rows of the publications the interval is built from
    print(
        f"{record['inside']:.1f}% inside their 80% TTFT interval, median half-width "
        f"±{record['median_half_width']:.1f}%"
        + (
            f" (in-sample for {mine} of {record['points']}: built from their publications)"
            if mine
            else ""
        )
    )
    print(ttft_interval_check_line(record["interval"]["check"]))
    print(ttft_check_line(record["check"]))
    _print_platforms(record)
    _print_stated(record)


def _print_stated(record: dict) -> None:
    """The lines naming a validate record's rows that no engine runs as stated: weights beyond
    the chips' memory, tokens beyond the model's context (`report._stated_line`)."""
    from designer.interface.report import dated_build_line, over_context_line, over_memory_line

    for line in (over_memory_line(record), over_context_line(record), dated_build_line(record)):
        if line:
            print(line)


def _record_errors(record: dict):
    """The `calibrate.Errors` of a validate record's rows (ids, predicted and measured ms)."""
    import numpy as np

    from designer.calibration.calibrate import Errors

    got = record["rows"]
    return Errors(
        tuple(r["id"] for r in got),
        np.array([r["predicted_ms"] for r in got]),
        np.array([r["measured_ms"] for r in got]),
    )


def _print_platforms(record: dict) -> None:
    """Each platform's points, MAPE and signed error of a validate record, and the share inside
    the 80% interval where the record has intervals (decode rows, not TTFTs)."""
    from designer.calibration.calibrate import points

    print("by platform (signed: + when predicted slower than measured):")
    for name, d in record["platforms"].items():
        inside = f", {d['inside']:.1f}% inside" if "inside" in d else ""
        print(
            f"  {name}: {points(d['points'])}, MAPE {d['mape']:.1f}%, "
            f"signed {d['signed']:+.1f}%{inside}"
        )


_QUOTED = re.compile(r"'([^']{40,})'")
ENGINE_HELP = (
    "serving engine (vllm, tensorrt-llm, …): each chip defaults to its chip × engine profile, "
    "else the engine's fit over its platforms (generic-ENGINE), else generic"
)
ENGINE_VERSION_HELP = (
    "the engine's build, e.g. 0.5.6: a profile fitted on that engine's builds up to it comes "
    "first (catalogs/profiles.toml `builds`; current for SGLang 0.5.5, vLLM 0.13.0, "
    "TensorRT-LLM 1.2.0rc2 and later); needs --engine"
)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2), like every other bad input."""

    def error(self, message: str):
        message = _QUOTED.sub(lambda m: excerpt(m.group(1)), one_line(message))
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
    ev.add_argument(
        "--chip",
        required=True,
        help="catalog chip id, or a chip file (solve --chip-out); FILE:ID for one of its chips",
    )
    part = _count("MAX_PARTITION")
    ev.add_argument("--tp", type=part, default=1, help="chips per pipeline stage (tensor par.)")
    ev.add_argument("--pp", type=part, default=1, help="pipeline stages")
    ev.add_argument("--batch", type=part, default=1, help="users per micro-batch")
    ev.add_argument("--replicas", type=_count("MAX_REPLICAS"), default=1)
    ev.add_argument(
        "--context",
        type=_context,
        default=None,
        help="tokens of context per user (131072, 128K or 1M; default 8K)",
    )
    ev.add_argument(
        "--weight-dtype", default=None, help="default: fp8 (paper) or the model's native dtype"
    )
    ev.add_argument("--kv-dtype", default=None, help="default: fp8 (paper) or bf16 (deployment)")
    ev.add_argument(
        "--activation-dtype",
        default=None,
        help="the GEMMs' activation dtype, i.e. the precision the engine computes at: fp4 with "
        "fp4 weights is W4A4, fp8 with fp8 weights W8A8 (default: bf16 for sub-8-bit weights, "
        "weight-only quantization)",
    )
    ev.add_argument(
        "--assumptions",
        choices=ASSUMPTION_PRESETS,
        default=DEFAULT_PRESET,
        help=f"assumption set (default {DEFAULT_PRESET}; paper = the LIMINAL equations exactly)",
    )
    ev.add_argument("--ep", type=part, default=1, help="expert-parallel degree (divides --tp)")
    ev.add_argument(
        "--attention", choices=["tp", "dp"], default="tp", help="tensor- or data-parallel attention"
    )
    ev.add_argument(
        "--prompt-tokens",
        type=_context,
        default=None,
        help="prompt length per request (also reports metrics.ttft_s, its prefill time, with "
        "its 80%% interval ttft_low_s / ttft_high_s)",
    )
    ev.add_argument(
        "--output-tokens", type=_context, default=None, help="output length per request"
    )
    ev.add_argument(
        "--requests-per-s",
        type=_positive_float,
        default=None,
        help="requests/s the design serves (with --prompt-tokens and --output-tokens): "
        "reports loaded metrics.ttft_s (mean), ttft_p90_s and tpot_s, the TTFTs with their "
        "80%% interval",
    )
    ev.add_argument(
        "--phase",
        choices=["aggregated", "prefill", "decode"],
        default=None,
        help="with --requests-per-s: what the replicas run (default aggregated)",
    )
    ev.add_argument(
        "--chunk-tokens",
        type=_context,
        default=None,
        help="with --requests-per-s: the chunked-prefill budget per step (default 8192)",
    )
    ev.add_argument(
        "--speculative", default=None, help="speculative decoding: mtp, eagle or a draft model id"
    )
    ev.add_argument("--draft-tokens", type=int, default=None, help="tokens drafted per step")
    ev.add_argument(
        "--acceptance-rate", type=float, default=None, help="probability a draft token is accepted"
    )
    ev.add_argument(
        "--bandwidth-efficiency",
        type=_real(1, "a fraction"),
        help="η_bw (alone: the hardware limit with this value; with --profile: replaces it)",
    )
    ev.add_argument(
        "--compute-efficiency", type=_real(1, "a fraction"), help="η_f (as --bandwidth-efficiency)"
    )
    ev.add_argument("--overhead-per-layer", help="τ_layer, e.g. '114 us'")
    ev.add_argument(
        "--profile",
        help="calibration profile: limit, a name in catalogs/profiles.toml or a TOML file "
        "(default: the chip's own, else generic for shipping chips, limit for paper presets)",
    )
    ev.add_argument("--engine", help=ENGINE_HELP)
    ev.add_argument("--engine-version", help=ENGINE_VERSION_HELP)
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
        "--chip-out",
        metavar="FILE",
        help="write the answer's chip(s) as a catalog file ([chips.ID] tables) that "
        "evaluate --chip FILE and space.chips read",
    )
    _force_arg(so)
    so.add_argument(
        "--no-prune",
        action="store_true",
        help="give every candidate that can meet the rate to the MILP",
    )
    so.add_argument(
        "--time-limit",
        type=_real(MAX_TIME_LIMIT, "seconds"),
        default=60.0,
        help="seconds for the whole run; an answer stopped there is marked not proven optimal "
        "(exit 4)",
    )
    so.add_argument("--profile", help="calibration profile (same as --set efficiency.profile=…)")
    so.add_argument("--engine", help=ENGINE_HELP + " (same as --set efficiency.engine=…)")
    so.add_argument(
        "--engine-version",
        help=ENGINE_VERSION_HELP + " (same as --set efficiency.engine_version=…)",
    )
    so.add_argument(
        "--confidence",
        type=float,
        help="size the fleet so each class's SLA holds at the slow end of the prediction's "
        "interval with this probability, e.g. 0.9 (same as [sla] confidence); a TTFT target "
        "stays at the prediction unless --ttft-confidence",
    )
    so.add_argument(
        "--ttft-confidence",
        type=float,
        help="size the prefill so each TTFT target holds at the slow end of the TTFT's "
        "interval with this probability, e.g. 0.9 (same as [sla] ttft_confidence)",
    )
    so.set_defaults(func=cmd_solve)

    set_help = "change a problem or catalog value (wildcards: chips.*.KEY; factors: x2)"
    co = sub.add_parser(
        "compare", help="the optimum per chip, memory technology, TP or cost basis, ranked"
    )
    co.add_argument("problem", help="problem TOML (see problems/)")
    co.add_argument(
        "--by",
        choices=["chip", "memory", "tp", "basis"],
        default="chip",
        help="basis: bought, rented on demand and rented reserved ([costs] basis, rent_term)",
    )
    co.add_argument(
        "--top", type=_count(MAX_COUNT), metavar="K", help="only the K best distinct designs"
    )
    co.add_argument("--set", action="append", metavar="PATH=VALUE", help=set_help)
    co.add_argument("--json", action="store_true")
    co.add_argument("--quiet", action="store_true", help="no progress bar")
    _study_args(co, "write the step-time breakdown of the feasible rows")
    co.set_defaults(func=cmd_compare)

    sw = sub.add_parser("sweep", help="solve every point of a study (grid or list of what-ifs)")
    sw.add_argument("study", help="study TOML: problem = PATH, [grid] / [list] of values")
    sw.add_argument("--out", required=True, metavar="FILE", help="results (.csv or .parquet)")
    sw.add_argument(
        "--workers",
        type=_count(MAX_COUNT),
        help="local processes (default: the CPU count; at most 1024)",
    )
    sw.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler (tcp://HOST:PORT; fails after 10 s without an answer)",
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.add_argument("--plot", metavar="FILE", help="heat map (two swept values) or line plot")
    _force_arg(sw)
    _assumptions_arg(sw)
    sw.set_defaults(func=cmd_sweep)

    pa = sub.add_parser("pareto", help="the exact cost frontier against tokens/s per user")
    pa.add_argument("problem", help="problem TOML (see problems/)")
    pa.add_argument("--x", choices=["tokens_per_s_per_user"], default="tokens_per_s_per_user")
    pa.add_argument(
        "--y",
        choices=["capex", "power", "tco", "cost_per_mtoken", "chips", "tokens_per_s_per_chip"],
        default=None,
        help="an objective to minimize (default: the problem's), or tokens_per_s_per_chip: the "
        "serving chart of fixed hardware ([supply] or [limits]; the most system tokens/s per "
        "chip)",
    )
    pa.add_argument(
        "--points",
        type=_count(MAX_COUNT),
        default=None,
        help="levels of the rate (default 12, at most 1000)",
    )
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
    cal = sub.add_parser("calibrate", help="fit a calibration profile to measured step times")
    cal.add_argument("data", help="measurements CSV (catalogs/measurements/decode.csv)")
    cal.add_argument("--name", help="profile name")
    cal.add_argument("--out", help="write the profile TOML here (default: print it)")
    cal.add_argument(
        "--platform", action="append", help="fit only these chip/engine platforms (repeatable)"
    )
    cal.add_argument(
        "--engine", action="append", help="fit only the rows of these serving engines (repeatable)"
    )
    cal.add_argument(
        "--default-for", action="append", metavar="CHIP", help="chips the profile is default for"
    )
    cal.add_argument("--data-label", help="what the profile's `data` key says (default: file name)")
    cal.add_argument(
        "--generation",
        action="store_true",
        help="a software generation: record the oldest build of each engine the rows state as "
        "the profile's `builds`, making it the default for those builds and later ones "
        "(--engine E --engine-version V, [efficiency] engine_version, validate --profile default)",
    )
    cal.add_argument(
        "--cross-validate",
        choices=["platform", "source", "chip", "row", "model"],
        help="print held-out errors, leaving one group out at a time, instead of fitting",
    )
    cal.add_argument(
        "--floor",
        action="store_true",
        help="instead of fitting, print what the rows' own spread leaves to any calibration: "
        "rows with equal inputs measured differently, one profile per platform (and per "
        "platform and publication) fitted to its own rows, and leave-one-platform-out with "
        "each chip's hardware shares fitted to its own rows",
    )
    cal.add_argument(
        "--within",
        choices=["engine"],  # calibrate.WITHIN
        help="with platform cross-validation: predict a held-out platform from the other "
        "platforms of its engine (from all others when those have too few rows to fit), as "
        "answers given --engine are",
    )
    cal.add_argument(
        "--loss",
        choices=["soft_l1", "linear"],  # calibrate.LOSSES (tests/test_calibrate.py checks)
        default="soft_l1",
        help="loss on the relative errors: soft_l1 (default; the mean absolute percentage error, "
        "smoothed below 1%%) or linear (relative least squares)",
    )
    cal.add_argument(
        "--intervals",
        action="store_true",
        help="the 80%% interval table of answers from leave-one-source-out residuals under the "
        "profile each chip gets, and its coverage (writes catalogs/intervals.toml with --out)",
    )
    cal.add_argument("--plot", help="with --intervals: the held-out coverage as a figure (PNG/SVG)")
    cal.add_argument("--json", action="store_true")
    _force_arg(cal)
    cal.set_defaults(func=cmd_calibrate)

    va = sub.add_parser(
        "validate", help="predicted vs measured step times (or TTFTs) for a profile"
    )
    va.add_argument(
        "data", help="measurements CSV (decode rows, or TTFTs: a ttft_ms column, as prefill.csv)"
    )
    va.add_argument(
        "--profile",
        help="limit, a profile name, a TOML file, or default (each chip's profile in an answer; "
        "default: generic)",
    )
    va.add_argument("--platform", action="append", help="only these chip/engine platforms")
    va.add_argument("--engine", action="append", help="only the rows of these serving engines")
    va.add_argument("--plot", help="write a parity plot (PNG/SVG/PDF) here")
    va.add_argument("--json", action="store_true")
    va.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="predict the rows that read and leave out those that are bad input, each named "
        "on standard error (--json: skipped); without it such a row is an error (exit 2)",
    )
    _force_arg(va)
    va.set_defaults(func=cmd_validate)

    we = sub.add_parser("web", help="the explorer in the browser (needs the web extra)")
    we.add_argument("--port", type=_count(65535), default=8765, help="port (default 8765)")
    we.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default: loopback only)"
    )
    we.set_defaults(func=cmd_web)

    ca = sub.add_parser("catalog", help="browse the catalogs")
    ca.add_argument("action", choices=["list", "show"])
    ca.add_argument(
        "section",
        nargs="?",
        default="chips",
        help="chips | models | memory | interconnects | costs | profiles",
    )
    ca.add_argument("id", nargs="?", help="entry id (for show)")
    ca.add_argument("--json", action="store_true")
    ca.set_defaults(func=cmd_catalog)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (argparse's own exits included)."""
    _one_blas_thread()
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    args.argv = list(sys.argv[1:] if argv is None else argv)[1:]
    logging.getLogger("pyomo").setLevel(logging.ERROR)
    if sys.stdout is None:  # started with standard output closed: answers go nowhere
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  the process's stdout from now on
    stdout = sys.stdout = _Watched(sys.stdout)
    previous = _on_sigterm(_terminate)
    import numpy as np  # every command computes with it; --version and --help do not

    try:
        # Extreme inputs may overflow to inf in numpy: the answer says so (null in JSON, or
        # infeasible); a warning on stderr would not.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _no_empty_values(args)
            code = args.func(args)
            sys.stdout.flush()
        return code
    except BrokenPipeError:  # the reader (`| head`) has gone: stop quietly
        _silence_stdout()
        return 0
    except DesignerError as exc:
        print(f"designer: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        detail = f": {one_line(str(exc))}" if str(exc) else ""
        print(f"designer: {how}{detail}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except OSError as exc:
        if stdout.failed is None:
            return _internal(exc)
        _silence_stdout()  # what is left in its buffer goes nowhere
        print(
            f"designer: error: cannot write to standard output: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    except Exception as exc:  # an internal error: one line unless debugging
        return _internal(exc)
    finally:
        _on_sigterm(previous)
        sys.stdout = stdout.stream


# options whose value names something: an empty one (`--engine ''`) is an error, not "not given"
NAMING_OPTIONS = (
    "engine",
    "engine_version",
    "profile",
    "assumptions",
    "chip_out",
    "out",
    "plot",
    "name",
    "chip",
    "model",
)


def _no_empty_values(args: argparse.Namespace) -> None:
    """An InputError naming the first option given an empty (or blank) value."""
    for dest in NAMING_OPTIONS:
        given = getattr(args, dest, None)
        for value in given if isinstance(given, list) else [given]:  # repeatable options too
            if isinstance(value, str) and not value.strip():
                flag = "--" + dest.replace("_", "-")
                raise InputError("expected a value, got an empty one", key=flag)


def _one_blas_thread() -> None:
    """One OpenBLAS thread for this process and the workers it starts, unless the user chose a
    number (any of BLAS_THREAD_VARIABLES set); no effect once numpy is loaded."""
    if not any(name in os.environ for name in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def _internal(exc: BaseException) -> int:
    if os.environ.get("DESIGNER_DEBUG"):
        traceback.print_exc()
    print(
        f"designer: internal error: {type(exc).__name__}: {one_line(str(exc))} (set "
        f"DESIGNER_DEBUG=1 for the traceback)",
        file=sys.stderr,
    )
    return 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread runs so that pools stop and files close as for
    Ctrl-C (exit 143)."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def _on_sigterm(handler: Any) -> Any:
    """Install `handler` for SIGTERM; the previous one (None off the main thread)."""
    import signal

    if handler is None:
        return None
    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (designer.interface.cli.main called from a thread)
        return None


class _Watched:
    """Standard output, remembering the error of a write or flush that failed (a full disk,
    a closed pipe): an OSError from there is not an internal error."""

    def __init__(self, stream: Any):
        self.stream = stream
        self.failed: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as exc:
            self.failed = exc
            raise

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as exc:
            self.failed = exc
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no file descriptor (captured output)
        pass


if __name__ == "__main__":
    sys.exit(main())

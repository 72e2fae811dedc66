"""One solve as a flat table row, for every study (compare, sweep, pareto).

`solve_row(problem, changes)` never raises for a bad point: infeasible points carry their
explanation, failed points their error, so a study always goes on.

    >>> from designer.optimize.problem import load_problem
    >>> problem = load_problem("problems/quickstart.toml")  # from the repository's root
    >>> row = solve_row(problem, {"sla.tokens_per_s_per_user": 100})
    >>> row["status"], round(row["objective"]), row["totals.chips"]
    ('optimal', 6200064, 128)
    >>> solve_row(problem, {"sla.tokens_per_s_per_user": 2000})["status"]
    'infeasible'
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from designer.model.errors import DesignerError, InfeasibleError, InputError, SolverLimitError
from designer.optimize.problem import Problem

# Statuses of a study row: answers (optimal/feasible/infeasible) and failures.
ANSWERED = ("optimal", "feasible", "infeasible")
SECTIONS = ("design", "metrics", "totals", "best_achievable")


def _scalar(value: Any) -> Any:
    """Scalars as they are; lists and tables as JSON text (one table cell)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """The JSON answer as one row: status, objective, `design.*`, `metrics.*`, `totals.*`,
    `best_achievable.*` (infeasible answers), `fleet` (JSON), `synthesis_chosen` (JSON; a
    synthesis problem's answer), bottleneck, binding."""
    obj = record.get("objective") or {}
    row: dict[str, Any] = {
        "status": record.get("status"),
        "objective": obj.get("value"),
        "objective_name": obj.get("name"),
        "objective_unit": obj.get("unit"),
    }
    for section in SECTIONS:
        for key, value in (record.get(section) or {}).items():
            row[f"{section}.{key}"] = _scalar(value)
    if "fleet" in record:
        row["fleet"] = _scalar(record["fleet"])
    chosen = synthesis_chosen(record)
    if chosen is not None:
        row["synthesis_chosen"] = _scalar(chosen)
    if "bottleneck" in record:
        row["bottleneck"] = record["bottleneck"]
    if "binding" in record:
        row["binding"] = ";".join(record["binding"])
    if record.get("explanation"):
        row["explanation"] = record["explanation"]
    return row


def synthesis_chosen(record: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The synthesized designs a synthesis problem's answer uses (`synthesis.chosen`: area,
    stacks, bandwidth, price, power, what binds; `[]` when it uses catalog chips only); None
    when the record has no synthesis block (no answer, or not a synthesis problem)."""
    block = record.get("synthesis")
    return block["chosen"] if block else None


def achieved_rate(record: dict[str, Any]) -> float | None:
    """The tokens/s per user every user gets: the design's, or a mixed fleet's slowest
    configuration's (prefill rows decode nothing)."""
    if record.get("metrics"):
        return float(record["metrics"]["tokens_per_s_per_user"])
    rates = [
        f["tokens_per_s_per_user"] for f in record.get("fleet") or [] if f.get("phase") != "prefill"
    ]
    return float(min(rates)) if rates else None


def mixed_fleet(record: dict[str, Any]) -> dict[str, Any]:
    """`{"fleet": [...]}` when the answer mixes configurations (its `design` is empty)."""
    return {"fleet": record["fleet"]} if not record.get("design") and record.get("fleet") else {}


def describe(record: dict[str, Any]) -> str:
    """'xpu-hbm4 TP8×PP1, batch 11, 3 replica(s) (24 chips)'; a mixed fleet joined by ' + '."""
    parts = [record["design"]] if record.get("design") else record.get("fleet") or []
    return (
        " + ".join(
            (f"{d['phase']} " if d.get("phase") in ("prefill", "decode") else "")
            + f"{d['chip']} TP{d['tp']}×PP{d['pp']}, batch {d['batch']}, "
            f"{d['replicas']} replica(s) ({d['chips']} chips)"
            for d in parts
        )
        or "-"
    )


def solve_record(
    problem: Problem,
    changes: dict[str, Any] | None = None,
    *,
    time_limit: float = 60.0,
    strict: bool = False,
    origin: str = "--set",
    chips: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The JSON answer of one what-if point; errors become records with status 'error' or
    'solver-limit' and an `error` text instead of exceptions — except, when `strict`, bad
    input (an `InputError`: the question itself, not one point of it, is wrong). A bad
    changed value is named by `origin`, where the changes came from. `chips` keeps only those
    of the problem's chips (after the changes): a synthesis problem's designs, which
    `space.chips` joins rather than replaces.

    A synthesis problem is solved as `designer solve` solves it (`synthesize.answer`: a
    portfolio by design sets) and its answer carries the `synthesis` block, without the
    runner-up designs (a solve per memory technology that a study point does not need)."""
    from designer.optimize import synthesize

    try:
        pr = problem.with_changes(changes, origin) if changes else problem
        if chips is not None:
            kept = tuple(c for c in pr.chips if c in chips)
            if not kept:
                raise InputError(f"none of the chips {list(chips)} is in the problem's space")
            pr = dataclasses.replace(pr, chips=kept)
        options = {"time_limit": time_limit, "with_sensitivity": False, "runner_ups": False}
        return synthesize.answer(pr, **options).record
    except InfeasibleError as exc:
        return dict(
            getattr(exc, "record", None) or {"status": "infeasible", "explanation": str(exc)}
        )
    except SolverLimitError as exc:
        return {"status": "solver-limit", "error": str(exc)}
    except DesignerError as exc:
        if strict and isinstance(exc, InputError):
            raise
        return {"status": "error", "error": str(exc)}
    except Exception as exc:  # an internal error at one point must not stop a study
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"}


def solve_row(
    problem: Problem,
    changes: dict[str, Any] | None = None,
    *,
    time_limit: float = 60.0,
    origin: str = "--set",
) -> dict[str, Any]:
    """`solve_record` flattened, with `error` and the wall time of the point in `seconds`."""
    start = time.perf_counter()
    record = solve_record(problem, changes, time_limit=time_limit, origin=origin)
    row = flatten(record)
    if "error" in record:
        row["error"] = record["error"]
    row["seconds"] = time.perf_counter() - start
    return row

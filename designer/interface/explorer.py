"""What the browser explorer (`designer web`, drawn by `designer.interface.web`) computes, without
any
web framework: the form's choices as a problem, the what-if controls as `--set` changes, one
answer as a page's worth of rows, and the files it offers (problem TOML, results CSV).

    >>> form = Form()                          # the quick-start question
    >>> problem = form.problem()
    >>> problem.target_utps, problem.users, problem.objective
    (50.0, 256, 'capex')
    >>> WhatIf(bandwidth=2.0).changes()
    {'chips.*.memory_bandwidth': 'x2'}
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from designer.model import toml_text
from designer.model.catalog import Catalog
from designer.model.errors import DesignerError, InfeasibleError, InputError, excerpt, one_line
from designer.optimize.problem import MAXIMIZE, OBJECTIVES, Problem, apply_sets, problem_from_dict

# The quick-start question (problems/quickstart.toml; tests/test_explorer.py keeps them equal).
QUICKSTART_CHIPS = (
    "h100-sxm",
    "h200",
    "b200",
    "b300",
    "gb200",
    "gb300",
    "mi300x",
    "mi325x",
    "mi355x",
    "gaudi3",
    "tenstorrent-p150a",
    "groq-lpu",
    "cerebras-wse3",
)
WHERE = "<browser form>"
# The latencies a sync what-if scales: every collective and pipeline hand-off of every fabric.
SYNC_KEYS = ("intra_domain_latency", "inter_domain_latency", "pipeline_latency")
# Step-time parts of a configuration, in the order the page stacks them.
STEP_PARTS = ("memory_time_s", "compute_time_s", "sync_time_s", "overhead_time_s")
FLEET_COLUMNS = (
    "class",
    "chip",
    "memory",
    "tp",
    "pp",
    "ep",
    "attention",
    "batch",
    "replicas",
    "servers",
    "chips",
    "users_served",
    "tokens_per_s_per_user",
    "tokens_per_s_per_user_low",  # the 80% interval's slow and fast ends (intervals.interval)
    "tokens_per_s_per_user_high",
    "system_tokens_per_s",
    "step_time_s",
    *STEP_PARTS,
    "bottleneck",
    "batch_limited_by",
)


@dataclass
class Form:
    """The question as the page's controls hold it. Empty strings and None mean "not given"
    (the problem's default: each chip's profile, no limit, the model's default dtypes)."""

    model: str = "llama3.1-70b"  # a catalog id, or the path of an uploaded config.json
    context_tokens: str = "8192"  # "8K" and "128K" as in a problem file
    prompt_tokens: int | None = None  # with output_tokens: instead of context_tokens
    output_tokens: int | None = None
    weight_dtype: str = "fp8"
    kv_dtype: str = "fp8"
    tokens_per_s_per_user: float = 50.0
    concurrent_users: int | None = 256
    objective: str = "capex"  # one of OBJECTIVES (minimize) or MAXIMIZE
    max_power: str = ""  # "1 MW"
    max_capex_usd: float | None = None
    max_chips: int | None = None
    chips: list[str] = field(default_factory=lambda: list(QUICKSTART_CHIPS))
    assumptions: str = ""  # paper | deployment ("" the problem's default)
    profile: str = ""  # limit | a profile name ("" each chip's default)
    engine: str = ""
    engine_version: str = ""  # the engine's build ("0.5.6"): current from its builds on

    def raw(self) -> dict[str, Any]:
        """The problem as a raw dict (what a problem TOML holds)."""
        workload: dict[str, Any] = {"model": self.model}
        if not (self.prompt_tokens and self.output_tokens):  # both replace the context
            workload["context_tokens"] = _tokens(self.context_tokens)
        for key in ("prompt_tokens", "output_tokens"):  # the problem's checks say what is wrong
            if getattr(self, key):
                workload[key] = _number(getattr(self, key))
        for key in ("weight_dtype", "kv_dtype"):
            if getattr(self, key):
                workload[key] = getattr(self, key)
        sla: dict[str, Any] = {"tokens_per_s_per_user": _number(self.tokens_per_s_per_user)}
        if self.concurrent_users and self.objective != "users":
            sla["concurrent_users"] = _number(self.concurrent_users)
        sense = "maximize" if self.objective in MAXIMIZE else "minimize"
        raw: dict[str, Any] = {
            "workload": workload,
            "sla": sla,
            "objective": {sense: self.objective},
            "space": {"chips": list(self.chips)},
        }
        limits = {
            "max_power": self.max_power.strip(),
            "max_capex_usd": self.max_capex_usd,
            "max_chips": self.max_chips,
        }
        limits = {k: _number(v) if k != "max_power" else v for k, v in limits.items() if v}
        if limits:
            raw["limits"] = limits
        if self.assumptions:
            raw["assumptions"] = {"preset": self.assumptions}
        keys = ("profile", "engine", "engine_version")
        efficiency = {k: getattr(self, k).strip() for k in keys if getattr(self, k).strip()}
        if efficiency:
            raw["efficiency"] = efficiency
        return raw

    def problem(self, base_dir: Path | None = None) -> Problem:
        """The validated problem (InputError names the form's field by its problem key)."""
        if self.objective not in (*OBJECTIVES, *MAXIMIZE):
            raise InputError(f"unknown objective {self.objective!r}", where=WHERE, key="objective")
        if not self.chips:
            raise InputError("choose at least one chip", where=WHERE, key="space.chips")
        return problem_from_dict(self.raw(), where=WHERE, catalog=catalog(), base_dir=base_dir)


@functools.cache
def catalog() -> Catalog:
    """The catalogs, read once per process (every question of the page starts from them;
    what-ifs change copies, see `Problem.with_changes`)."""
    return Catalog.load()


def _tokens(text: str) -> str | int:
    text = str(text).strip()
    return int(text) if text.isdigit() else text


def _number(value: Any) -> Any:
    """A whole float as an int (TOML `50`, not `50.0`); anything else as it is."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


@dataclass(frozen=True)
class WhatIf:
    """The page's what-if controls: factors on every chip's memory bandwidth and every fabric's
    latencies, and explicit bandwidth and compute efficiencies (None: the profile's)."""

    bandwidth: float = 1.0
    sync_latency: float = 1.0
    efficiency: float | None = None

    def changes(self) -> dict[str, Any]:
        """The `--set` changes (`Problem.with_changes`) these controls stand for; a factor
        that is no positive finite number, or an efficiency outside (0, 1], is bad input."""
        for name in ("bandwidth", "sync_latency", "efficiency"):
            v = getattr(self, name)
            if name == "efficiency" and v is None:
                continue
            number = isinstance(v, (int, float)) and not isinstance(v, bool)
            if not number or not math.isfinite(v) or v <= 0 or (name == "efficiency" and v > 1):
                what = "a fraction in (0, 1]" if name == "efficiency" else "a positive factor"
                raise InputError(f"expected {what}, got {excerpt(v)}", where="what-if", key=name)
        out: dict[str, Any] = {}
        if self.bandwidth != 1.0:
            out["chips.*.memory_bandwidth"] = f"x{self.bandwidth:g}"
        if self.sync_latency != 1.0:
            for key in SYNC_KEYS:
                out[f"interconnects.*.{key}"] = f"x{self.sync_latency:g}"
        if self.efficiency is not None:
            out["efficiency.bandwidth"] = float(self.efficiency)
            out["efficiency.compute"] = float(self.efficiency)
        return out


@dataclass
class Outcome:
    """One solve as the page shows it: the answer's record, or the message saying why there
    is none (`kind`: "answer", "infeasible", "error")."""

    kind: str
    message: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def answered(self) -> bool:
        return self.kind == "answer"


def run(problem_or_form: Problem | Form, whatif: WhatIf | None = None) -> Outcome:
    """Solve the question with the what-ifs; never raises (a bad input, an infeasible
    question and an internal error each become a one-line message)."""
    import time

    from designer.optimize import synthesize

    start = time.perf_counter()
    try:
        problem = _problem(problem_or_form, whatif)
        sol = synthesize.answer(problem)  # what `designer solve` answers
        return Outcome("answer", record=sol.record, seconds=time.perf_counter() - start)
    except InfeasibleError as exc:
        record = dict(getattr(exc, "record", None) or {})
        return Outcome("infeasible", one_line(str(exc)), record, time.perf_counter() - start)
    except Exception as exc:  # a message in the page, never a traceback
        return Outcome("error", failure(exc), seconds=time.perf_counter() - start)


def _problem(problem_or_form: Problem | Form, whatif: WhatIf | None) -> Problem:
    problem = problem_or_form.problem() if isinstance(problem_or_form, Form) else problem_or_form
    changes = whatif.changes() if whatif else {}
    return problem.with_changes(changes, origin="what-if") if changes else problem


def failure(exc: Exception) -> str:
    """An exception as the page says it: the project's errors as they are (bad input names
    the key), anything else as an internal error, on one line."""
    if isinstance(exc, DesignerError):
        return one_line(str(exc))
    return f"internal error: {type(exc).__name__}: {one_line(str(exc))}"


def amount(value: float | None, unit: str) -> str:
    """'$800,000', '25.2 kW', '$0.92/Mtoken'; '-' for none."""
    from designer.studies.compare import money

    return "-" if value is None else money(float(value), unit or "")


def fleet_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The answer's configurations, times in ms, tokens/s per user with its 80% interval and the
    dimensions that interval extrapolates along (the page's table)."""
    rows = []
    for f in record.get("fleet") or []:
        row = {k: f.get(k) for k in FLEET_COLUMNS}
        for k in ("step_time_s", *STEP_PARTS):
            if row[k] is not None:
                row[k.replace("_s", "_ms")] = round(1e3 * row.pop(k), 3)
        for k in (
            "tokens_per_s_per_user",
            "tokens_per_s_per_user_low",
            "tokens_per_s_per_user_high",
        ):
            if row[k] is not None:
                row[k] = round(row[k], 2)
        row["system_tokens_per_s"] = round(row["system_tokens_per_s"], 1)
        # the dimensions the answer lies outside the measured data along (its interval widened)
        dims = (f.get("interval") or {}).get("extrapolated")
        row["extrapolated"] = ", ".join(dims) if dims else ("none" if dims is not None else None)
        rows.append(row)
    return rows


def accuracy(record: dict[str, Any]) -> list[str]:
    """What the answer's step times are worth: the assumption set, per chip the profile and its
    cross-validated error, and per configuration the 80% interval of tokens/s per user with the
    dimensions it extrapolates along (`intervals.interval`); under an engine's fit, how such
    intervals held (`report.interval_check_lines`)."""
    preset = (record.get("assumptions") or {}).get("preset", "?")
    lines = [f"assumptions: {preset}"]
    for chip, p in (record.get("profiles") or {}).items():
        lines.append(f"{chip}: profile {p.get('name')} — {p.get('error')}")
    for f in record.get("fleet") or []:
        iv = f.get("interval")
        if not iv or f.get("phase") == "prefill":  # a prefill pool serves no decode tokens
            continue
        dims = ", ".join(iv.get("extrapolated") or []) or "none"
        lines.append(
            f"{f['chip']} TP{f['tp']}×PP{f['pp']} batch {f['batch']}: "
            f"{f['tokens_per_s_per_user']:.1f} tokens/s per user, 80% interval "
            f"{iv['tokens_per_s_per_user_low']:.1f}–{iv['tokens_per_s_per_user_high']:.1f} "
            f"(outside the measured data along: {dims})"
        )
    from designer.interface.report import interval_check_lines

    return lines + interval_check_lines(record.get("fleet") or [])


def results_csv(record: dict[str, Any], whatif: WhatIf | None = None) -> str:
    """One row per configuration of the answer: its design, metrics (SI units), the objective
    and the what-if changes it was solved under."""
    import pandas as pd  # here: the page's first answer does not wait for it

    obj = record.get("objective") or {}
    tag = ";".join(f"{k}={v}" for k, v in (whatif.changes() if whatif else {}).items())
    rows = [
        {
            "status": record.get("status"),
            "objective": obj.get("name"),
            "objective_value": obj.get("value"),
            "objective_unit": obj.get("unit"),
            **{k: f.get(k) for k in FLEET_COLUMNS},
            "whatif": tag,
        }
        for f in record.get("fleet") or []
    ]
    buf = io.StringIO()
    pd.DataFrame(rows).to_csv(buf, index=False)
    return buf.getvalue()


def problem_toml(form: Form, whatif: WhatIf | None = None) -> str:
    """The question with its what-ifs as a problem file: `designer solve` on it answers what
    the page shows."""
    raw = form.raw()
    changes = whatif.changes() if whatif else {}
    if changes:
        raw = apply_sets(raw, changes, where=WHERE)
    head = "# written by `designer web`; answer it with: designer solve THIS_FILE.toml\n"
    if not _is_catalog_model(form.model):
        head += "# workload.model is the uploaded config.json: point it at your copy\n"
    return head + to_toml(raw)


def _is_catalog_model(model: str) -> bool:
    return not (model.endswith(".json") or "/" in model)


def to_toml(raw: dict[str, Any]) -> str:
    """A raw problem dict as TOML (tables of scalars and lists; `[[class]]` arrays)."""
    out: list[str] = []
    for section, body in raw.items():
        if isinstance(body, list):  # [[class]]
            for item in body:
                out += ["", f"[[{toml_text.key(section)}]]", *_pairs(item)]
        else:
            out += ["", f"[{toml_text.key(section)}]", *_pairs(body)]
    return "\n".join(out).lstrip("\n") + "\n"


def _pairs(body: dict[str, Any]) -> list[str]:
    try:
        return [f"{toml_text.key(str(k))} = {toml_text.value(v)}" for k, v in body.items()]
    except ValueError as e:  # a number that is not finite
        raise InputError(str(e), where=WHERE) from None


def study(kind: str, arg: str, form: Form, whatif: WhatIf) -> dict[str, Any]:
    """`kind` "compare" (by `arg`: chip | memory) or "pareto" (the frontier of `arg`, an
    objective to minimize) of the question with its what-ifs, as rows for the page: `{"rows"}`
    or `{"points", "y", "unit"}`, or `{"error"}` with a one-line message."""
    from designer.studies import compare, pareto
    from designer.studies.rows import describe

    try:
        problem = _problem(form, whatif)
        if kind == "compare":
            table = compare(problem, by=arg)
            rows = [
                {
                    arg: r[arg],
                    "status": r["status"],
                    table.objective: amount(r["objective"]["value"], table.unit),
                    "design": describe(r["record"]),
                    "reason": r["reason"],
                }
                for r in table.rows
            ]
            if not rows:
                return {"error": "nothing to compare"}
            return {"rows": rows}
        front = pareto(problem, arg)
        points = [
            {
                "tokens/s per user": round(p["tokens_per_s_per_user"], 2),
                "value": p["value"],
                arg: amount(p["value"], front.unit),
                "design": describe(p["record"]),
            }
            for p in front.points
        ]
        if not points:
            return {"error": "no point of the frontier is feasible"}
        return {"points": points, "y": arg, "unit": front.unit}
    except Exception as exc:  # a message in the page, never a traceback
        return {"error": failure(exc)}

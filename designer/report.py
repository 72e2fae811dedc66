"""Human-readable output: tables in the terminal (rich), numbers in engineering units."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _si(x: float | None, unit: str, binary: bool = False) -> str:
    if x is None:
        return "n/a"
    if binary:
        for p, f in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if abs(x) >= f:
                return f"{x / f:.3g} {p}{unit}"
        return f"{x:.3g} {unit}"
    for p, f in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= f:
            return f"{x / f:.4g} {p}{unit}"
    for p, f in (("m", 1e-3), ("µ", 1e-6), ("n", 1e-9)):
        if 0 < abs(x) < f * 1e3:
            return f"{x / f:.4g} {p}{unit}"
    return f"{x:.4g} {unit}"


def _usd(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.0f}" if abs(x) >= 100 else f"${x:,.3f}"


def design_table(record: dict[str, Any], title: str) -> Table:
    d, m = record["design"], record["metrics"]
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    t.add_row("chip (memory)", f"{d['chip']} ({d['memory']})")
    t.add_row(
        "partition",
        f"TP {d['tp']} × PP {d['pp']}, batch {d['batch']} per stage, "
        f"{d['replicas']} replica(s), {d['chips']} chips",
    )
    t.add_row("tokens/s per user", f"{m['tokens_per_s_per_user']:,.1f}")
    t.add_row("system tokens/s", f"{m['system_tokens_per_s']:,.0f}")
    t.add_row(
        "step time",
        f"{_si(m['step_time_s'], 's')} = max(memory "
        f"{_si(m['memory_time_s'], 's')}, compute "
        f"{_si(m['compute_time_s'], 's')}) + sync {_si(m['sync_time_s'], 's')}"
        f" + overhead {_si(m['overhead_time_s'], 's')}",
    )
    t.add_row("bottleneck", record["bottleneck"])
    t.add_row(
        "memory per chip",
        f"{_si(m['memory_per_chip_bytes'], 'B', binary=True)} of "
        f"{_si(m['usable_memory_per_chip_bytes'], 'B', binary=True)} "
        f"usable" + ("" if record.get("fits", True) else "  (DOES NOT FIT)"),
    )
    t.add_row("capex", _usd(m["capex_usd"]))
    t.add_row("power (IT)", _si(m["power_w"], "W"))
    t.add_row("TCO per year", _usd(m["tco_usd_per_year"]))
    t.add_row("$ per million tokens", _usd(m["cost_per_mtoken_usd"]))
    return t


def print_evaluation(record: dict[str, Any], console: Console | None = None) -> None:
    (console or Console()).print(design_table(record, "Evaluation"))


def fleet_table(record: dict[str, Any], title: str) -> Table:
    """One row per configuration of a mixed fleet."""
    classes = len(record["inputs"]["classes"]) > 1
    t = Table(title=title, title_justify="left")
    heads = ["class"] if classes else []
    heads += ["chip", "TP×PP", "batch", "repl.", "chips", "users", "tok/s/user", "bound by"]
    for col in heads:
        t.add_column(col, overflow="fold")
    for r in record["fleet"]:
        t.add_row(
            *([r["class"]] if classes else []),
            r["chip"],
            f"{r['tp']}×{r['pp']}",
            str(r["batch"]),
            str(r["replicas"]),
            str(r["chips"]),
            str(r["users_served"]),
            f"{r['tokens_per_s_per_user']:,.1f}",
            r["bottleneck"],
        )
    return t


def totals_lines(record: dict[str, Any]) -> list[str]:
    tot = record["totals"]
    servers = ", ".join(
        f"{b['servers']} × {b['server_chips']}-chip {b['chip']}" for b in tot["by_chip"]
    )
    return [
        f"fleet: {tot['chips']} chips in use, {tot['servers']} servers ({servers})",
        f"capex {_usd(tot['capex_usd'])}, power (IT) {_si(tot['power_w'], 'W')}, "
        f"TCO {_usd(tot['tco_usd_per_year'])}/year, "
        f"{_usd(tot['cost_per_mtoken_usd'])} per million tokens",
    ]


def _title(record: dict[str, Any]) -> str:
    obj = record["objective"]
    what = f"{obj['sense']} {obj['name']}"
    if record["status"] == "optimal":
        return f"Optimal {'design' if record['design'] else 'fleet'} — {what}"
    return f"Best found, NOT proven optimal (MIP gap {record['mip_gap']:.2g}) — {what}"


def footer(record: dict[str, Any]) -> list[str]:
    """What produced the answer, in a few lines."""
    inp = record["inputs"]
    lines = []
    for c in inp["classes"]:
        users = c["concurrent_users"]
        lines.append(
            f"workload{' ' + c['name'] if len(inp['classes']) > 1 else ''}: {c['model']}, "
            f"{c['context_tokens']:,} tokens of context, weights {c['weight_dtype']}, "
            f"KV {c['kv_dtype']}, {c['tokens_per_s_per_user']:g} tokens/s per user"
            + (f" for {users:,} users" if users else "")
        )
    lines.append(f"efficiency: {inp['efficiency']['view']}")
    co = inp["costs"]
    lines.append(
        f"costs: {co['amortization_years']:g}-year amortization, PUE {co['pue']:g}, "
        f"${co['electricity_usd_per_kwh']:g}/kWh, {co['utilization']:.0%} utilization for $/Mtoken"
    )
    sp = inp["space"]
    lines.append(
        f"space: {len(sp['chips'])} chips, TP {_span(sp['tp'])}, PP {_span(sp['pp'])}, "
        f"batch ≤ {sp['max_batch']}" + (f"; limits {inp['limits']}" if inp["limits"] else "")
    )
    return lines


def _span(values: list[int]) -> str:
    return f"{values[0]}…{values[-1]}" if len(values) > 1 else str(values[0])


def print_solution(record: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    obj = record["objective"]
    if record["design"] is not None:
        console.print(design_table(record, _title(record)))
    else:
        console.print(fleet_table(record, _title(record)))
    for line in totals_lines(record):
        console.print(line)
    value = obj["value"]
    console.print(
        f"objective {obj['name']} = {value:,.6g} {obj['unit']}  status {record['status']}, "
        f"MIP gap {record['mip_gap']:.2g}, re-check {record['recheck']}"
    )
    single = record.get("single_configuration")
    if single and single.get("objective") and single["saving"] > 1e-9:
        d = single["design"]
        console.print(
            f"mixing saves {single['saving']:.1%} against the best single configuration "
            f"({d['chip']} TP {d['tp']} × PP {d['pp']}, {d['replicas']} replicas: "
            f"{single['objective']:,.6g} {obj['unit']})"
        )
    console.print(f"binding: {', '.join(record['binding']) or 'none'}")
    for s in record.get("sensitivity", []):
        if abs(s["marginal"]) > 0:
            console.print(f"  marginal {s['requirement']}: {s['marginal']:,.4g} {s['unit']}")
    pre = record.get("presolve", {})
    kept = record["candidates"]
    n = pre.get("candidates", "?") if "candidates" in pre else "?"
    console.print(
        f"candidates: {n} in the space → {kept} columns after presolve; solved in "
        f"{record['solve_seconds']:.3f} s"
    )
    excluded = record.get("excluded", [])
    if excluded:
        console.print(
            "left out: " + "; ".join(f"{e['chip']} ({e['reason']})" for e in excluded),
            soft_wrap=True,
        )
    for line in footer(record):
        console.print(line, style="dim", soft_wrap=True)


def print_infeasible(record: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(stderr=True)
    console.print(f"[bold red]infeasible[/]: {record['explanation']}", soft_wrap=True)
    for k, v in record.get("best_achievable", {}).items():
        console.print(f"  {k}: {v}", soft_wrap=True)


def catalog_table(rows: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title, title_justify="left")
    if not rows:
        return t
    for col in rows[0]:
        t.add_column(col)
    for r in rows:
        t.add_row(*[str(v) for v in r.values()])
    return t

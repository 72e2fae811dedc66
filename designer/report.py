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
    console = console or Console()
    console.print(design_table(record, "Evaluation"))
    if "ttft_s" in record["metrics"]:
        console.print(f"time to first token {_si(record['metrics']['ttft_s'], 's')} (one prompt)")
    if "profile" in record:
        p = record["profile"]
        console.print(f"profile {p['name']}: {p['error']}")


def print_solution(record: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    obj = record["objective"]
    console.print(design_table(record, f"Optimal design — minimize {obj['name']}"))
    pre = record.get("presolve", {})
    console.print(
        f"objective {obj['name']} = {obj['value']:,.6g} {obj['unit']}  "
        f"status {record['status']}, MIP gap {record['mip_gap']:.2g}, re-check "
        f"{record['recheck']}"
    )
    console.print(f"binding: {', '.join(record['binding']) or 'none'}")
    console.print(
        f"candidates: {pre.get('candidates', '?')} in the space → "
        f"{record['candidates']} after presolve; solved in "
        f"{record['solve_seconds']:.3f} s"
    )


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

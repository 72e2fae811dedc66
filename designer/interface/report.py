"""Human-readable output: tables in the terminal (rich), numbers in engineering units."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from designer.model.errors import excerpt

if TYPE_CHECKING:
    from designer.calibration.measurements import Measurement
    from designer.model.catalog import Catalog


LEFT_OUT_SHOWN = 12  # chips named per reason in the text answer


def _si(x: float | None, unit: str, binary: bool = False) -> str:
    if x is None or x != x:
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
    if x is None or not math.isfinite(x):
        return "no price"
    return f"${x:,.0f}" if abs(x) >= 100 else f"${x:,.3f}"


def design_table(record: dict[str, Any], title: str) -> Table:
    d, m = record["design"], record["metrics"]
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    if "model" in record:
        mo = record["model"]
        asked = f", asked as {mo['asked']}" if "asked" in mo else ""
        t.add_row("model", f"{mo['id']} ({mo['name']}{asked})")
    t.add_row("chip (memory)", f"{d['chip']} ({d['memory']})")
    t.add_row(
        "partition",
        f"TP {d['tp']} × PP {d['pp']}, batch {d['batch']} per stage, "
        f"{d['replicas']} replica(s), {d['chips']} chips"
        + (f", EP {d['ep']}" if d.get("ep", 1) > 1 else "")
        + (", data-parallel attention" if d.get("attention") == "dp" else ""),
    )
    if "assumptions" in record:
        a = record["assumptions"]
        t.add_row("assumptions", a["preset"] if a["preset"] != "custom" else str(a))
    if "workload" in record:
        w = record["workload"]
        origin = {
            "native": " (the model's native)",
            "assumptions": " (the assumption set's default)",
            "default": " (the model states no native dtype we model: the default)",
        }.get(w["weight_dtype_from"], "")
        t.add_row("dtypes", f"weights {w['weight_dtype']}{origin}, KV {w['kv_dtype']}")
    prefill = m.get("prefill_time_s") is not None  # a prefill replica (`--phase prefill`)
    if prefill:  # it decodes no tokens: its answer is its prompt's pass
        t.add_row(
            "prefill pass",
            f"{_si(m['prefill_time_s'], 's')} = max(memory "
            f"{_si(m['prefill_memory_time_s'], 's')}, compute "
            f"{_si(m['prefill_compute_time_s'], 's')}) + collectives "
            f"{_si(m['prefill_collective_time_s'], 's')} + overhead "
            f"{_si(m['prefill_overhead_time_s'], 's')} (one prompt)",
        )
    else:
        t.add_row(
            "tokens/s per user", f"{m['tokens_per_s_per_user']:,.1f}" + interval_text(m, record)
        )
        t.add_row("system tokens/s", f"{m['system_tokens_per_s']:,.0f}")
        # an aggregated serving step also carries prompt chunks: its rates are 1/TPOT with
        # them, while the parts below are the decode step's
        chunks = m.get("phase") == "aggregated" and m.get("ttft_s") is not None
        tpot = m.get("tpot_s")
        with_chunks = (
            f"; with the prompt chunks TPOT {_si(tpot, 's')}"
            if tpot is not None and math.isfinite(tpot)
            else "; with the prompt chunks no steady state (the prompts fill the queue)"
        )
        t.add_row(
            "decode step" if chunks else "step time",
            f"{_si(m['step_time_s'], 's')} = max(memory "
            f"{_si(m['memory_time_s'], 's')}, compute "
            f"{_si(m['compute_time_s'], 's')}) + sync {_si(m['sync_time_s'], 's')}"
            f" + overhead {_si(m['overhead_time_s'], 's')}"
            + (f" + draft {_si(m['draft_time_s'], 's')}" if m.get("draft_time_s") else "")
            + (with_chunks if chunks else ""),
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
    if not prefill:  # per output token: a prefill replica's cost is its decode pool's share
        t.add_row("$ per million tokens", _usd(m["cost_per_mtoken_usd"]))
    return t


def interval_text(m: dict[str, Any], record: dict[str, Any]) -> str:
    """' (80% interval 16.2–39.6; extrapolated: moe, chip)' when the record has one; a build
    outside the profile's widens one end, and says which ('build (later: fast end)')."""
    if "tokens_per_s_per_user_low" not in m:
        return ""
    iv = record.get("interval", {})
    w = iv.get("widened") or {}
    end = {1: "later: fast end", -1: "earlier: slow end"}.get(w.get("fast", 0) - w.get("slow", 0))
    extra = [f"{d} ({end})" if d == "build" and end else d for d in iv.get("extrapolated") or []]
    return (
        f"  (80% interval {m['tokens_per_s_per_user_low']:,.1f}–"
        f"{m['tokens_per_s_per_user_high']:,.1f}"
        + (f"; extrapolated: {', '.join(extra)}" if extra else "")
        + ")"
    )


def print_evaluation(record: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    console.print(design_table(record, "Evaluation"))
    m = record["metrics"]
    if m.get("ttft_p90_s") is not None or m.get("tpot_s") is not None:
        console.print(serving_line(m, f"at {m['requests_per_s']:g} requests/s"))
    elif "ttft_s" in m:
        console.print(f"time to first token {_si(m['ttft_s'], 's')} (one prompt)")
    if "ttft_interval" in record:
        iv = record["ttft_interval"]
        console.print(ttft_interval_line(iv, loaded=m.get("requests_per_s") is not None))
        if "loaded" in iv:
            console.print(loaded_ttft_line(iv["loaded"]))
        engine = (iv.get("built_from") or {}).get("engine")
        console.print(ttft_interval_check_line(iv["check"], engine))
    if "ttft_check" in record:
        console.print(ttft_check_line(record["ttft_check"]))
    for line in interval_check_lines([record]):
        console.print(line, soft_wrap=True)
    if "profile" in record:
        p = record["profile"]
        console.print(f"profile {p['name']}: {p['error']}")


def does_not_fit_line(record: dict[str, Any]) -> str:
    """Why an evaluated design that does not fit cannot run, and the fewest chips per replica
    it could take: memory per chip falls at most as 1/chips, so a replica needs at least
    ⌈held / usable⌉ times its chips.

    >>> r = {"design": {"chip": "h100-sxm", "tp": 1, "pp": 1},
    ...      "metrics": {"memory_per_chip_bytes": 845e9, "usable_memory_per_chip_bytes": 72e9}}
    >>> does_not_fit_line(r)[:72]
    'the design does not fit: it holds 787 GiB per chip, h100-sxm has 67.1 Gi'
    """
    d, m = record["design"], record["metrics"]
    held, usable = m["memory_per_chip_bytes"], m["usable_memory_per_chip_bytes"]
    chips = d["tp"] * d["pp"]
    least = math.ceil(held / usable * chips) if usable > 0 else None
    more = f"at least {least:,} chips per replica" if least else "a chip with memory"
    return (
        f"the design does not fit: it holds {_si(held, 'B', binary=True)} per chip, "
        f"{d['chip']} has {_si(usable, 'B', binary=True)} usable; its step time and costs are "
        f"of a design that cannot run (it needs {more}: --tp, --pp; or smaller --weight-dtype "
        f"and --kv-dtype)"
    )


def partition_cell(r: dict[str, Any]) -> str:
    """A fleet row's TP×PP, with its expert-parallel degree and data-parallel attention where it
    has them (`evaluate --ep E --attention dp` reproduces such a row; TP beyond the heads is only
    possible with the latter).

    >>> partition_cell({"tp": 8, "pp": 1, "ep": 8, "attention": "dp"})
    '8×1 EP8 DPA'
    """
    out = f"{r['tp']}×{r['pp']}"
    if r.get("ep", 1) > 1:
        out += f" EP{r['ep']}"
    return out + (" DPA" if r.get("attention") == "dp" else "")


PARTITION_LEGEND = "DPA: data-parallel attention (evaluate --attention dp); EPn: expert parallel"


def fleet_table(record: dict[str, Any], title: str) -> Table:
    """One row per configuration of a mixed fleet."""
    classes = len(record["inputs"]["classes"]) > 1
    t = Table(title=title, title_justify="left")
    phases = bool(record["totals"].get("requests_per_s"))
    heads = ["class"] if classes else []
    heads += ["phase"] if phases else []
    heads += ["chip", "TP×PP", "batch", "repl.", "chips", "users", "tok/s/user", "bound by"]
    for col in heads:
        t.add_column(col, overflow="fold")
    for r in record["fleet"]:
        t.add_row(
            *([r["class"]] if classes else []),
            *([r["phase"]] if phases else []),
            r["chip"],
            partition_cell(r),
            str(r["batch"]),
            str(r["replicas"]),
            str(r["chips"]),
            *(
                ("—", "—")  # a prefill pool serves prompts, not users' tokens
                if r.get("phase") == "prefill"
                else (
                    str(r["users_served"]),
                    f"{r['tokens_per_s_per_user']:,.1f}"
                    + (
                        f" ({r['tokens_per_s_per_user_low']:,.0f}–"
                        f"{r['tokens_per_s_per_user_high']:,.0f})"
                        if "tokens_per_s_per_user_low" in r
                        else ""
                    ),
                )
            ),
            r["bottleneck"],
        )
    return t


CHECK_BAR = 75.0  # % inside under which a check warns: issue 20's coverage target


def interval_check_lines(records: list[dict[str, Any]]) -> list[str]:
    """How the intervals of answers under an engine's fit held within the engine
    (`intervals.engine_fit_check`), one line per such profile among `records` (an evaluation,
    or a fleet's rows): the share inside, and a warning where it falls under `CHECK_BAR`."""
    seen: dict[str, dict[str, Any]] = {}
    for r in records:
        c = (r.get("interval") or {}).get("check")
        if c:
            seen.setdefault(c["profile"], c)
    lines = []
    for name, c in seen.items():
        short = c["inside"] < CHECK_BAR
        lines.append(
            f"interval check: answers under {name}, each platform of its engine held out, fell "
            f"{c['inside']:.1f}% inside their 80% interval ({c['points']} rows, median "
            f"±{c['median_half_width']:.1f}%)"
            + ("; such intervals held out were too narrow" if short else "")
        )
    return lines


def ttft_interval_line(iv: dict[str, Any], loaded: bool) -> str:
    """One prompt's TTFT interval (`ttft_interval.record`), naming the engine whose published
    TTFTs alone built it and the dimensions it was widened for; `loaded`: the answer's TTFT is
    a loaded one (its interval: `loaded_ttft_line`)."""
    extra = iv["extrapolated"]
    engine = (iv.get("built_from") or {}).get("engine")
    head = f"one prompt's TTFT {_si(iv['ttft_s'], 's')}" if loaded else "TTFT"
    return (
        f"{head}, 80% interval {_si(iv['ttft_low_s'], 's')}–{_si(iv['ttft_high_s'], 's')}"
        + (f" (from {engine}'s published TTFTs)" if engine else "")
        + (f" (extrapolated: {', '.join(extra)})" if extra else "")
    )


def loaded_ttft_line(lv: dict[str, Any]) -> str:
    """A loaded TTFT's interval (`ttft_interval.loaded`): the one prompt's carried through the
    queue model, with how the model met published closed-loop benchmarks (`loaded_check`);
    unbounded where the slow end fills it."""
    if lv["ttft_low_s"] is None:  # even the fast end fills the queue
        mean = "no bound: the prompts fill the queue even at its fast end"
    elif lv["saturates"]:
        high = (
            f"no bound: at the slow end the prompts load the queue "
            f"{lv['prefill_utilization_high']:.0%}"
        )
        mean = (
            f"from {_si(lv['ttft_low_s'], 's')} mean ({_si(lv['ttft_p90_low_s'], 's')} p90) "
            f"to {high}"
        )
    else:
        mean = (
            f"{_si(lv['ttft_low_s'], 's')}–{_si(lv['ttft_high_s'], 's')} mean, "
            f"{_si(lv['ttft_p90_low_s'], 's')}–{_si(lv['ttft_p90_high_s'], 's')} p90"
        )
    c = lv.get("loaded_check")
    ratios = (c or {}).get("median_measured_over_predicted") or {}
    check = (
        f"; published closed-loop benchmarks measured a median {min(ratios.values()):.1f}–"
        f"{max(ratios.values()):.0f}× the model's loaded TTFT, more with more clients"
        if ratios
        else ""
    )
    return (
        f"loaded TTFT, 80% interval {mean} (the one prompt's interval carried through the "
        f"queue model{check})"
    )


def ttft_check_line(c: dict[str, Any]) -> str:
    """How the prefill model met published TTFTs, said beside every TTFT an answer gives."""
    lo, hi = c["measured_over_predicted"]
    median = c.get("median_measured_over_predicted")
    typical = f", median {median:.1f}×" if median is not None else ""
    return (
        f"TTFT check: published one-request TTFTs measured {lo:.1f}–{hi:.1f}× the prefill "
        f"model's{typical} ({c['rows']} rows, {c['publications']} publications; {c['source']})"
    )


def ttft_interval_check_line(c: dict[str, Any], engine: str | None = "") -> str:
    """How TTFT intervals held out on the published TTFTs (`ttft_interval.cross_validated`):
    overall (`engine` ""), or for an answer's interval, built from `engine`'s rows alone or
    (None) from every engine's."""
    if engine and engine in c.get("median_half_width_by_engine", {}):
        figure = (
            f"{engine}'s {c['points_by_engine'][engine]} published TTFTs, by intervals from its "
            f"own rows, {c['inside_by_engine'][engine]:.1f}% inside, median half-width "
            f"±{c['median_half_width_by_engine'][engine]:.0f}%"
        )
    elif engine is None and "every_engine" in c:
        pooled = c["every_engine"]
        figure = (
            f"by intervals from every engine's rows, {pooled['inside']:.1f}% of {c['points']} "
            f"published TTFTs inside, median half-width ±{pooled['median_half_width']:.0f}%"
        )
    else:
        figure = (
            f"{c['inside']:.1f}% of {c['points']} published TTFTs inside their 80% interval, "
            f"median half-width ±{c['median_half_width']:.0f}%"
        )
    return f"TTFT interval check: held out by publication, {figure} (docs/model.md §6)"


def serving_line(m: dict[str, Any], head: str) -> str:
    """TTFT (mean, p90) and TPOT of a row or an evaluation, where it has them; where the
    prompts fill the queue (load ≥ 1) neither has a steady state, and it says so."""
    load = m.get("prefill_utilization")
    if load is not None and load >= 1.0:
        return (
            f"{head}: the prompts load the queue {load:.0%}: it cannot serve this rate "
            "(no steady-state TTFT or TPOT)"
        )
    parts = []
    if m.get("ttft_s") is not None:
        parts.append(f"TTFT {_si(m['ttft_s'], 's')} mean, {_si(m['ttft_p90_s'], 's')} p90")
    if m.get("tpot_s") is not None:
        parts.append(f"TPOT {_si(m['tpot_s'], 's')}")
    if m.get("prefill_utilization") is not None:
        parts.append(f"prefill load {m['prefill_utilization']:.0%}")
    return f"{head}: " + ", ".join(parts)


def p90_interval(r: dict[str, Any]) -> str:
    """A fleet row's p90 TTFT interval (`recheck._ttft_interval`), unbounded where the slow end
    fills the queue, and the p90 a TTFT confidence held it to; "" for a row without a TTFT."""
    if r.get("ttft_p90_low_s") is None:
        return ""
    high = r["ttft_p90_high_s"]
    out = f" (p90 80% interval {_si(r['ttft_p90_low_s'], 's')}–" + (
        f"{_si(high, 's')})" if high is not None else "no bound: the slow end fills the queue)"
    )
    if r.get("guaranteed_ttft_p90_s") is not None:
        out += f", guaranteed p90 {_si(r['guaranteed_ttft_p90_s'], 's')}"
    return out


def totals_lines(record: dict[str, Any]) -> list[str]:
    tot = record["totals"]
    lines = []
    if tot.get("requests_per_s"):
        for r in record["fleet"]:
            head = f"{r['phase']} {r['chip']} TP{r['tp']}×PP{r['pp']} ×{r['replicas']}"
            if r["requests_per_s"] is None:  # a decode-only class beside a serving one
                continue
            head += f", {r['requests_per_s']:.3g} requests/s"
            lines.append(serving_line(r, head) + p90_interval(r))
        if "ttft_check" in record:
            lines.append(ttft_check_line(record["ttft_check"]))
        lines.append(
            f"{tot['requests_per_s']:g} requests/s; $ per million tokens counts "
            f"{tot['cost_per_mtoken_counts']}: {_usd(tot['cost_per_mtoken_usd'])} "
            f"({_usd(tot['cost_per_mtoken_with_prompts_usd'])} counting prompt tokens too)"
        )
    servers = ", ".join(
        f"{b['servers']} × {b['server_chips']}-chip {b['chip']}" for b in tot["by_chip"]
    )
    rent = tot.get("cost_basis") == "rent"
    lines += [
        f"fleet: {tot['chips']} chips in use, {tot['servers']} servers ({servers})",
        f"{'capex (rent over the amortization period)' if rent else 'capex'} "
        f"{_usd(tot['capex_usd'])}, power (IT, {tot.get('power_basis', 'typical')}) "
        f"{_si(tot['power_w'], 'W')}, TCO {_usd(tot['tco_usd_per_year'])}/year, "
        f"{_usd(tot['cost_per_mtoken_usd'])} per million tokens",
    ]
    if "power_max_w" in tot:
        lines.append(
            f"server power: typical {_si(tot['power_typical_w'], 'W')}, maximum "
            f"{_si(tot['power_max_w'], 'W')} (limits hold the {tot['limit_power_basis']})"
            + (f"; rent ${tot['rent_usd_per_hour']:,.2f}/h" if rent else "")
        )
    for b in tot["by_chip"]:
        for what, kind, basis in (
            ("price", b.get("price_kind"), b.get("price_basis")),
            ("rent", b.get("rent_kind"), b.get("rent_basis")),
        ):
            if kind == "estimate":
                lines.append(
                    f"{b['chip']}: {what} is an estimate" + (f" ({basis})" if basis else "")
                )
    return lines


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
        asked = f" for {users:,} users" if users else ""
        if c.get("requests_asked"):  # sized at each design's own TPOT (features.demand)
            asked = f", {c['requests_per_s']:g} requests/s ({users:,} users at that rate)"
        lines.append(
            f"workload{' ' + c['name'] if len(inp['classes']) > 1 else ''}: {c['model']}, "
            f"{c['context_tokens']:,} tokens of context, weights {c['weight_dtype']}, "
            f"KV {c['kv_dtype']}, {c['tokens_per_s_per_user']:g} tokens/s per user{asked}"
        )
    for chip, prof in record.get("profiles", {}).items():
        lines.append(f"profile on {chip}: {prof['name']} — {prof['error']}")
    co = inp["costs"]
    basis = co.get("basis", "purchase")
    lines.append(
        f"costs: {basis}"
        + (f" ({co['rent_term'].replace('_', '-')} $/h)" if basis == "rent" else "")
        + f", power {co.get('power_basis', 'typical')} (limits: "
        f"{co.get('limit_power_basis', 'maximum')}), {co['amortization_years']:g}-year "
        f"amortization, PUE {co['pue']:g}, ${co['electricity_usd_per_kwh']:g}/kWh, "
        f"{co['utilization']:.0%} utilization for $/Mtoken"
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
        if any(r.get("attention") == "dp" or r.get("ep", 1) > 1 for r in record["fleet"]):
            console.print(PARTITION_LEGEND)
    for line in totals_lines(record):
        console.print(line)
    for line in interval_check_lines([record, *record.get("fleet", [])]):
        console.print(line, soft_wrap=True)
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
    margin = record.get("margin")
    if margin:
        n, g = margin["nominal"], margin["guaranteed"]
        ratio = margin["cost_ratio"]

        def levels(key: str) -> str:
            return ", ".join(f"{c:g}" for c in dict.fromkeys((margin.get(key) or {}).values()) if c)

        conf, ttft_conf = levels("confidence"), levels("ttft_confidence")
        held = []
        if conf:
            held.append(f"the SLA holds at the interval's slow end with confidence {conf}")
        if ttft_conf:
            held.append(
                f"the TTFT target holds at its interval's slow end with confidence {ttft_conf}"
            )

        def num(v: float) -> str:
            return f"{v:,.0f}" if abs(v) >= 1e3 else f"{v:,.4g}"

        console.print(
            f"margin: sized so {' and '.join(held)}: "
            f"{g['chips']} chips, {obj['name']} {num(g['objective'])} {obj['unit']} against the "
            f"nominal fleet's {n['chips']} chips, {num(n['objective'])} {obj['unit']} "
            f"(the margin costs {num(margin['cost'])} {obj['unit']}"
            + (f", {ratio:+.1%}" if ratio is not None else "")
            + ")",
            soft_wrap=True,
        )
    console.print(escape(f"binding: {', '.join(record['binding']) or 'none'}"))
    for s in record.get("sensitivity", []):
        if abs(s["marginal"]) > 1e-12 or s.get("note"):
            note = f" ({s['note']})" if s.get("note") else ""
            console.print(
                escape(f"  marginal {s['requirement']}: {s['marginal']:,.4g} {s['unit']}{note}")
            )
    pre = record.get("presolve", {})
    kept = record["candidates"]
    per_class = [pre] if "candidates" in pre else list(pre.values())
    n = sum(c.get("candidates", 0) for c in per_class)
    console.print(
        f"candidates: {n} in the space → {kept} columns after presolve; solved in "
        f"{record['solve_seconds']:.3f} s"
    )
    by_reason: dict[str, list[str]] = {}
    for e in record.get("excluded", []):
        by_reason.setdefault(e["reason"], []).append(e["chip"])
    for reason, chips in by_reason.items():
        names = ", ".join(chips[:LEFT_OUT_SHOWN])
        if len(chips) > LEFT_OUT_SHOWN:
            names += f" and {len(chips) - LEFT_OUT_SHOWN} more (--json lists every one)"
        console.print(escape(f"left out ({reason}): {names}"), soft_wrap=True)
    for line in footer(record):
        console.print(line, style="dim", soft_wrap=True)


def print_infeasible(record: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(stderr=True)
    console.print(f"[bold red]infeasible[/]: {record['explanation']}", soft_wrap=True)
    for k, v in record.get("best_achievable", {}).items():
        if k == "left_out_for_data":  # one line per chip, as `excluded` reads
            for e in v:
                console.print(escape(f"  left out for data: {e['chip']} — {e['reason']}"))
            continue
        if isinstance(v, float) and math.isinf(v):  # none reached (JSON: null)
            v = "none reachable"
        console.print(f"  {k}: {v}", soft_wrap=True)


def catalog_table(
    rows: list[dict[str, Any]], title: str, caption: str | None = None, width: int = 80
) -> Table:
    """A table of catalog rows whose columns are the union of the rows' keys.

    A row without a key shows "-" in that column, so every value stays under its header. Cells
    wrap at spaces to fit `width` columns; only if the longest words still do not fit are the
    longest of them folded, so no column is ever cut off.

    >>> t = catalog_table([{"id": "a", "x": 1}, {"id": "b", "y": 2}], "t")
    >>> [c.header for c in t.columns], [list(c.cells) for c in t.columns]
    (['id', 'x', 'y'], [['a', 'b'], ['1', '-'], ['-', '2']])
    """
    t = Table(
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        pad_edge=False,
        show_edge=False,
    )
    columns = list(dict.fromkeys(k for r in rows for k in r))
    cells = [["-" if r.get(col) is None else str(r[col]) for col in columns] for r in rows]
    texts = [[col, *(row[i] for row in cells)] for i, col in enumerate(columns)]
    widths = [max(len(x) for x in column) for column in texts]
    mins = [max(len(w) for x in column for w in x.split() or ["-"]) for column in texts]
    # one space of padding and one divider per column
    budget = max(width - 2 * len(columns), len(columns))
    while sum(widths) > budget:
        # narrow first the column with the most room above its longest word (it wraps at a
        # space); only when none is left, the widest column (its longest words fold)
        room = [w - m for w, m in zip(widths, mins, strict=True)]
        i = room.index(max(room)) if max(room) > 0 else widths.index(max(widths))
        widths[i] -= 1
    for col, w in zip(columns, widths, strict=True):
        t.add_column(col, overflow="fold", width=w)
    for row in cells:
        t.add_row(*row)
    return t


def _eng(x: float, unit: str) -> str:
    """Three significant digits with an SI prefix: `_eng(1.979e15, "FLOP/s")` is "1.98 PFLOP/s".

    >>> _eng(3.35e12, "B/s"), _eng(80e9, "B"), _eng(2.3e-6, "s"), _eng(0, "W"), _eng(7e-13, "J")
    ('3.35 TB/s', '80 GB', '2.3 µs', '0 W', '0.7 pJ')
    """
    prefixes = [("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0)]
    prefixes += [("m", 1e-3), ("µ", 1e-6), ("n", 1e-9), ("p", 1e-12)]
    p, f = next(((p, f) for p, f in prefixes if abs(x) >= f * 0.9995), prefixes[-1])
    if x == 0:
        p, f = "", 1.0
    return f"{x / f:.3g} {p}{unit}"


def _money(x: float) -> str:
    """USD with three significant digits: `_money(43056)` is "$43.1k".

    >>> _money(28000), _money(2.5e6), _money(1299), _money(5), _money(0.08)
    ('$28k', '$2.5M', '$1.3k', '$5', '$0.08')
    """
    if not math.isfinite(x):
        return "no price"
    for p, f in (("M", 1e6), ("k", 1e3)):
        if abs(x) >= f * 0.9995:
            return f"${x / f:.3g}{p}"
    return f"${x:.3g}"


def _cell(key: str, value: Any) -> Any:
    """A catalog value (SI units) as an engineering-unit string, chosen by its key."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if "usd" in key:
        return _money(value)
    if key == "energy_per_bit":
        return _eng(value, "J/bit")
    if key.endswith("power_density"):
        return f"{value / 1e6:.3g} W/mm²"
    for part, unit in (("bandwidth", "B/s"), ("capacity", "B"), ("latency", "s")):
        if part in key:
            return _eng(value, unit)
    if key in ("fp8", "bf16"):
        return _eng(value, "FLOP/s")
    if key in ("tdp", "server_power"):
        return _eng(value, "W")
    return f"{value:.3g}"


# What a buyer compares, in table order; the JSON rows carry more.
_CHIP_COLUMNS = {
    "id": "id",
    "kind": "kind",
    "memory": "memory",
    "capacity": "capacity",
    "bandwidth": "bandwidth",
    "fp8": "fp8",
    "bf16": "bf16",
    "tdp": "TDP",
    "price_usd": "price",
    "server_chips": "server",
}
_LABELS = {"cost_per_gb_usd": "$ per GB"}
_MODEL_COLUMNS = ("id", "params", "active", "layers", "attention", "experts")


def catalog_rows(catalog: Catalog, section: str) -> list[dict[str, Any]]:
    """One row per entry of a catalog section, values in SI units (numbers, None when absent).

    Chips: capacity in B, bandwidth in B/s, fp8/bf16 in dense FLOP/s as the model uses them (a
    missing dtype runs at the next wider one), tdp and server_power in W, prices in USD.
    Memory: energy_per_bit in J/bit. Interconnects: latencies in s. Models: parameter counts.

    >>> from designer.model.catalog import Catalog
    >>> h100 = catalog_rows(Catalog.load(), "chips")[5]
    >>> h100["id"], h100["bandwidth"], h100["fp8"], h100["server_chips"]
    ('h100-sxm', 3350000000000.0, 1979000000000000.0, 8)
    """
    from dataclasses import asdict

    from designer.model.errors import InputError

    rows: list[dict[str, Any]] = []
    for entry_id in catalog.ids(section):
        if section == "chips":
            c = catalog.chip(entry_id)
            rates = {}
            for dtype in ("fp8", "bf16"):
                try:
                    rates[dtype] = c.flops(dtype)
                except InputError:
                    rates[dtype] = None
            row = {
                "id": entry_id,
                "name": c.name,
                "vendor": c.vendor,
                "kind": c.kind,
                "memory": c.memory_technology,
                "capacity": c.memory_capacity,
                "bandwidth": c.memory_bandwidth,
                **rates,
                "compute": c.compute,
                "tdp": c.tdp,
                "price_usd": c.price_usd,
                **_chip_cost_cells(catalog, entry_id),
                "server_chips": c.server_chips,
                "server_power": c.server_power,
                "server_price_usd": c.server_price_usd,
                "usable_memory_fraction": c.usable_memory_fraction,
                "interconnect": c.interconnect,
                "confidence": c.confidence,
            }
        elif section == "models":
            a = catalog.model(entry_id)
            row = {
                "id": entry_id,
                "params": a.total_params(),
                "active": a.active_params(),
                "layers": a.num_hidden_layers,
                "attention": "MLA" if a.is_mla else "GQA",
                "experts": f"{a.num_experts}/{a.num_experts_per_tok}" if a.is_moe else "dense",
            }
        elif section == "costs":
            row = {"id": entry_id, **asdict(catalog.costs)}
        else:
            typed = (
                catalog.memory(entry_id) if section == "memory" else catalog.interconnect(entry_id)
            )
            # memory energy under the catalog's key and unit, J per bit
            row = {
                ("energy_per_bit" if k == "energy_per_byte" else k): (
                    v / 8 if k == "energy_per_byte" else v
                )
                for k, v in asdict(typed).items()
            }
            row["confidence"] = catalog.raw[section][entry_id].get("confidence")
        row.pop("source", None)
        rows.append(row)
    return rows


def _chip_cost_cells(catalog: Catalog, chip_id: str) -> dict[str, Any]:
    """The price the cost model uses (the catalog's, else an estimate) and what kind it is,
    and the server's typical and maximum power (W; None when unknown)."""
    from designer.model.cost import chip_cost

    cc = chip_cost(catalog, chip_id).describe()
    return {
        "price_used_usd": cc["price_usd"],
        "price_kind": cc["price_kind"],
        "server_power_typical_w": cc["server_power_typical_w"],
        "server_power_max_w": cc["server_power_max_w"],
    }


def _price_cell(row: dict[str, Any]) -> str | None:
    """The price the cost model uses; an estimate is marked with *."""
    used = row.get("price_used_usd")
    if used is None:
        return None
    return _money(used) + ("*" if row.get("price_kind") == "estimate" else "")


def catalog_display_rows(section: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`catalog_rows` as table cells: engineering units, no sources, notes or long names.

    >>> catalog_display_rows("memory", [{"id": "m", "name": "M", "capacity_per_stack": 36e9}])
    [{'id': 'm', 'capacity per stack': '36 GB'}]
    """
    out = []
    for r in rows:
        if section == "chips":
            cells = {label: _cell(k, r.get(k)) for k, label in _CHIP_COLUMNS.items()}
            cells["price"] = _price_cell(r)
            out.append(cells)
        elif section == "models":
            cells = {k: r.get(k) for k in _MODEL_COLUMNS}
            cells["params"] = f"{r['params'] / 1e9:.1f} B"
            cells["active"] = f"{r['active'] / 1e9:.1f} B"
            out.append(cells)
        elif section == "costs":
            out += [{"key": k, "value": _cell(k, v)} for k, v in r.items() if k != "id"]
        else:
            out.append(
                {
                    _LABELS.get(k, k.replace("_", " ")): _cell(k, v)
                    for k, v in r.items()
                    if k != "name"
                }
            )
    return out


CATALOG_CAPTIONS = {
    "chips": "fp8, bf16: dense FLOP/s per chip (a missing dtype runs at the next wider one); "
    "price: USD per chip (* an estimate from the nearest priced part or the die area); "
    "server: accelerators per server; kind: datasheet (shipping), "
    "paper-preset, hypothetical. Sources: designer catalog show chips <id>.",
}


def over_capacity_line(
    rows: list[Measurement], record: dict[str, Any], shown: int = 4
) -> str | None:
    """One line naming the rows (`rows`, in `record`'s order) whose stated batch does not fit
    beside the weights at their mean context, predicted with the sequences that fit
    (`measurements.in_flight`); None when every row's batch fits. A measured batch beyond the
    chips' memory is either an engine queueing the rest or a row's lengths or batch misstated:
    worth a look before a fit. Rows whose weights alone exceed the chips' memory keep their
    batch (there is nothing smaller to run) and are not named here."""
    over = [
        (r.batch, r.replicas, rec)
        for r, rec in zip(rows, record["rows"], strict=True)
        if rec["in_flight"] < r.batch
    ]
    if not over:
        return None
    pairs = _listed(  # a system of copies of its group: each copy's share (`replicas`)
        [
            f"{r['id']} {b}{f' per copy of {n}' if n > 1 else ''} → {r['in_flight']}"
            for b, n, r in over
        ],
        shown,
    )
    return (
        f"{len(over)} of {len(record['rows'])} rows state more sequences than fit beside the "
        f"weights at their mean context; each is predicted with those that fit (the rest queued, "
        f"or run in later waves for a static batch; `in_flight` in --json): {pairs}"
    )


def over_memory_line(record: dict[str, Any], shown: int = 4) -> str | None:
    """One line naming the rows of a validate `record` whose weights alone exceed their chips'
    memory (`weights_gb_per_chip`): no engine runs them as stated, so a TP, PP, chip count or
    weight dtype is likely misstated; None when every row's weights fit."""
    return _stated_line(
        record,
        "weights_gb_per_chip",
        lambda r: f"{_gb(r['weights_gb_per_chip'])} > {_gb(r['memory_gb_per_chip'])}",
        "a group whose weights alone exceed each chip's memory (a capacity in GB read as GiB), "
        "which no engine runs without offloading weights to the host (check tp, pp, chips and "
        "weight_dtype)",
        shown,
    )


def over_context_line(record: dict[str, Any], shown: int = 4) -> str | None:
    """One line naming the rows of a validate `record` whose tokens (prompt and output; a
    TTFT's prompt) exceed their model's configured context (`context_tokens`): misstated
    lengths, or a context the source extended (RoPE scaling); None when every row fits."""
    return _stated_line(
        record,
        "context_tokens",
        lambda r: f"{r['context_tokens']:,} > {r['model_context']:,} tokens",
        "more tokens (prompt and output; a TTFT's prompt) than their model's configured "
        "context (max_position_embeddings: check the lengths, or the source extended it)",
        shown,
    )


def dated_build_line(record: dict[str, Any], shown: int = 4) -> str | None:
    """One line naming the rows of a validate `record` whose software names their engine but
    no build, and whose date implies one (`build_from_date`: the newest build out by then,
    `engines.dated_build`); None when no row does."""
    return _stated_line(
        record,
        "build_from_date",
        lambda r: r["build_from_date"],
        "their engine but no build, and a date no earlier than a build's publication (catalogs/"
        "engines.toml `published`)",
        shown,
        "each is taken to run the newest build listed as out by then and, where its profile's "
        "rows state builds of that engine, its interval widens at the slow end for an older "
        "build it may have run (at both ends for one later than the rows)",
    )


def _gb(x: float) -> str:
    """Gigabytes: whole from 100 GB (thousands separated), else to three significant figures."""
    return f"{x:,.0f} GB" if x >= 100 else f"{x:.3g} GB"


def _stated_line(
    record: dict[str, Any],
    key: str,
    what,
    why: str,
    shown: int,
    predicted: str = "each is predicted as stated",
) -> str | None:
    """One line naming the rows of a validate `record` whose JSON row holds `key` (`what` of
    each), that state `why`, and how each is `predicted`; None when no row does."""
    over = [r for r in record["rows"] if key in r]
    if not over:
        return None
    pairs = _listed([f"{r['id']} {what(r)}" for r in over], shown)
    return (
        f"{len(over)} of {len(record['rows'])} rows state {why}; {predicted} "
        f"(`{key}` in --json): {pairs}"
    )


def _listed(items: list[str], shown: int) -> str:
    """The first `shown` of `items`, comma separated, and how many more there are."""
    more = f", and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def read_as_line(
    read: dict[str, dict[str, str]], shown: int = 3, all_in: str | None = "--json read_as"
) -> str:
    """One line saying what a measurements file's words (`hardware`, `software`, `model`,
    where no catalog id was written) were read as (`plain_names.resolve`), so that a wrong
    match shows before its predictions are trusted: per column, words that differ from their
    id first; `all_in` names where every pair is listed.

    >>> read_as_line({"hardware": {"h200": "h200", "8xH100": "h100-sxm"}}).split(": ", 1)[1]
    "hardware: '8xH100' → h100-sxm, 'h200' → h200"
    """
    parts = []
    for column, pairs in read.items():
        ordered = sorted(pairs.items(), key=lambda p: p[0].casefold() == p[1].casefold())
        named = [f"{excerpt(w, limit=48)} → {i}" for w, i in ordered[:shown]]
        more = f", and {len(pairs) - shown} more" if len(pairs) > shown else ""
        parts.append(f"{column}: {', '.join(named)}{more}")
    where = f" (all in {all_in})" if all_in else ""
    return f"read from the source's words where no catalog id was written{where}: " + "; ".join(
        parts
    )

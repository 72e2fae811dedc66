"""How each bundled problem's answer changes between the `paper` and `deployment` assumptions.

For every problem in problems/ this solves the question twice, with `[assumptions] preset`
set to "paper" and to "deployment", and prints one markdown table row per (problem, preset):
the chosen chip and partition, tokens/s per user, memory per chip against what is usable,
and the objective. Problems with no feasible design under a preset say why.

A second table re-evaluates each paper answer (same chip, TP, PP, batch) under `deployment`,
once per partition choice `perf.partition_options` offers (data-parallel attention, expert
parallelism): what the paper's design really delivers, and what the new partition dimensions
recover.

Run:  python examples/paper_vs_deployment.py [--out docs/assumptions-table.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from designer import load_problem, solve
from designer.calibration.evaluate import Design, assess
from designer.model import perf
from designer.model.errors import InfeasibleError

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ("paper", "deployment")
HEADER = (
    "| problem | assumptions | chip | TP×PP | EP, attention | batch × replicas | chips "
    "| tokens/s/user | GiB per chip (usable) | objective |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def row(path: Path, preset: str) -> str:
    """Markdown table rows: the answer to `path` under `preset`, one row per configuration of
    its fleet (a mixed fleet has several; the objective is on the first)."""
    problem = load_problem(path, {"assumptions.preset": preset})
    try:
        sol = solve(problem)
    except InfeasibleError as exc:
        reason = getattr(exc, "record", {}).get("explanation", str(exc))
        return f"| {path.stem} | {preset} | infeasible: {reason} | | | | | | | |"
    obj = sol.record["objective"]
    gib = 2**30
    fleet = sol.record["fleet"]
    lines = []
    for k, d in enumerate(fleet):
        label = path.stem if len(fleet) == 1 else f"{path.stem} ({k + 1} of {len(fleet)})"
        value = f"{obj['value']:,.4g} {obj['unit']}" if k == 0 else ""
        lines.append(
            f"| {label} | {preset} | {d['chip']} | {d['tp']}×{d['pp']} "
            f"| {d.get('ep', 1)}, {d.get('attention', 'tp')} "
            f"| {d['batch']} × {d['replicas']} | {d['chips']} "
            f"| {d['tokens_per_s_per_user']:,.0f} "
            f"| {d['memory_per_chip_bytes'] / gib:,.1f} "
            f"({d['usable_memory_per_chip_bytes'] / gib:,.0f}) | {value} |"
        )
    return "\n".join(lines)


def table(paths: list[Path]) -> str:
    return "\n".join([HEADER, *(row(p, preset) for p in paths for preset in PRESETS)])


REEVAL_HEADER = (
    "| problem | paper design | attention, EP | tokens/s/user | GiB per chip (usable) "
    "| KV GiB per chip | fits |\n|---|---|---|---|---|---|---|"
)


def reevaluated(path: Path) -> list[str]:
    """The paper answer of `path` evaluated under deployment for every partition option."""
    paper = load_problem(path, {"assumptions.preset": "paper"})
    deploy = load_problem(path, {"assumptions.preset": "deployment"})
    try:
        d = solve(paper).record["fleet"][0]  # a mixed fleet: its first configuration
    except InfeasibleError:
        return []
    gib = 2**30
    rows = []
    for opt in perf.partition_options(deploy.workload, d["tp"]):
        design = Design(d["chip"], d["tp"], d["pp"], d["batch"], d["replicas"], **opt)
        rec = assess(deploy.workload, deploy.catalog, design)
        m = rec["metrics"]
        rows.append(
            f"| {path.stem} | {d['chip']} TP{d['tp']}×PP{d['pp']} batch {d['batch']} "
            f"| {opt['attention']}, {opt['ep']} | {m['tokens_per_s_per_user']:,.0f} "
            f"| {m['memory_per_chip_bytes'] / gib:,.1f} "
            f"({m['usable_memory_per_chip_bytes'] / gib:,.0f}) "
            f"| {m['kv_per_chip_bytes'] / gib:,.1f} | {'yes' if rec['fits'] else 'no'} |"
        )
    return rows


def reevaluation_table(paths: list[Path]) -> str:
    return "\n".join([REEVAL_HEADER, *(r for p in paths for r in reevaluated(p))])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="also write the table to this file")
    args = ap.parse_args()
    paths = sorted((ROOT / "problems").glob("*.toml"))
    text = table(paths) + "\n\n" + reevaluation_table(paths)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

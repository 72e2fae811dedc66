"""What 10,000 tokens/s per user would take (LIMINAL finding 10: "2000+ user tokens/s is easy,
but 10,000+ needs smaller models, shorter context or algorithmic advances"). For each model and
context, one user, the paper's xPU presets: the highest tokens/s per user the space reaches
(from the infeasible answer's `best_achievable`) and whether 10,000 is reachable — with every
preset, without the wafer-scale xPU-COWS, and without it under hardware what-ifs: collectives
10× faster (`interconnects.*.*_latency=x0.1`), and that plus 4× memory bandwidth
(`chips.*.memory_bandwidth=x4`). Feasible cells name the cheapest design.

Run:  python examples/ten_thousand_utps.py   (docs/figures/ten_thousand_utps.{png,md})
"""

from __future__ import annotations

import numpy as np
from _figures import figure, table

from designer.optimize.problem import problem_from_dict
from designer.studies.plots import _pyplot
from designer.studies.rows import solve_record

TARGET = 10_000
PRESETS = ["xpu-hbm3", "xpu-hbm4", "xpu-3d-dram", "xpu-sram", "xpu-cows"]
CASES = [
    ("llama3.1-8b", 8192),
    ("llama3.1-70b", 8192),
    ("llama3.1-70b", 131072),
    ("llama3.1-405b", 8192),
    ("llama3.1-405b", 131072),
    ("deepseek-v3", 131072),
]
FAST_SYNC = {
    "interconnects.*.intra_domain_latency": "x0.1",
    "interconnects.*.inter_domain_latency": "x0.1",
    "interconnects.*.pipeline_latency": "x0.1",
}
NO_WAFER = {"space.chips": PRESETS[:-1]}
SCENARIOS = {
    "all presets": {},
    "without COWS": NO_WAFER,
    "without COWS, sync ×0.1": {**NO_WAFER, **FAST_SYNC},
    "without COWS, sync ×0.1, bandwidth ×4": {
        **NO_WAFER,
        **FAST_SYNC,
        "chips.*.memory_bandwidth": "x4",
    },
}


def reach(model: str, context: int, changes: dict) -> tuple[float, dict]:
    """(highest tokens/s per user in the space, the answer at 10,000)."""
    problem = problem_from_dict(
        {
            "workload": {
                "model": model,
                "context_tokens": context,
                "weight_dtype": "fp8",
                "kv_dtype": "fp8",
            },
            "assumptions": {"preset": "paper"},
            "sla": {"tokens_per_s_per_user": TARGET, "concurrent_users": 1},
            "space": {"chips": PRESETS},
        },
        where=f"{model}@{context}",
    ).with_changes(changes)
    at_target = solve_record(problem)
    if at_target["status"] == "optimal":
        top = solve_record(problem, {"sla.tokens_per_s_per_user": 1e15})
        return top["best_achievable"]["max_tokens_per_s_per_user"], at_target
    return at_target["best_achievable"]["max_tokens_per_s_per_user"], at_target


def main() -> None:
    rows, best = [], {}
    for model, context in CASES:
        label = f"{model}, {context // 1024}K"
        cells = [label]
        for name, changes in SCENARIOS.items():
            top, ans = reach(model, context, changes)
            best[(label, name)] = top
            if ans["status"] == "optimal":
                d = ans["design"]
                cells.append(f"{top:,.0f} — yes: {d['chip']} ×{d['chips']}")
            else:
                cells.append(f"{top:,.0f} — no")
        rows.append(cells)
    table(
        "ten_thousand_utps",
        "Highest tokens/s per user (one user, xPU presets) and whether 10,000 is reachable",
        ["model, context", *SCENARIOS],
        rows,
        "Each cell: the highest rate any design in the space reaches (batch 1, weights and KV "
        "fitting), then whether 10,000 tokens/s per user is met and by which cheapest design. "
        + "; ".join(
            f"{name}: {sum(best[(r[0], name)] >= TARGET for r in rows)} of {len(rows)} cases"
            for name in SCENARIOS
        )
        + " reach 10,000.",
    )
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.8))
    labels = [f"{m}, {c // 1024}K" for m, c in CASES]
    width = 0.8 / len(SCENARIOS)
    for i, name in enumerate(SCENARIOS):
        xs = np.arange(len(labels)) + i * width
        ax.bar(xs, [best[(lab, name)] for lab in labels], width, label=name)
    ax.axhline(TARGET, color="black", linestyle="--", linewidth=1, label="10,000 tokens/s")
    ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels, rotation=20, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("highest tokens/s per user")
    ax.set_title("What 10,000 tokens/s per user would take (xPU presets, one user)")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(figure("ten_thousand_utps"), dpi=110)


if __name__ == "__main__":
    main()

"""Memory technologies per dollar and per watt (LIMINAL finding 9, "DRAM-based designs have a
fundamental system-efficiency advantage in throughput per cost or per watt"): the paper's
question — Llama3-405B, 128K context, 32 users — answered per memory technology with
`compare --by memory` over the xPU presets, minimizing capex and then power, at three
tokens/s-per-user targets. Each cell is an optimal design (one solve per technology).

Run:  python examples/memory_technologies.py   (docs/figures/memory_technologies.{png,md})
"""

from __future__ import annotations

from pathlib import Path

from _figures import figure, table

from designer import compare, load_problem
from designer.studies.plots import _pyplot

PROBLEM = Path(__file__).resolve().parent.parent / "problems"
QUESTION = PROBLEM / "llama3-405b-1000utps-128k-32users-capex.toml"
TARGETS = [250, 500, 1000]


def main() -> None:
    base = load_problem(QUESTION)
    per_usd: dict[str, list[float | None]] = {}
    per_w: dict[str, list[float | None]] = {}
    rows = []
    for target in TARGETS:
        cells = {}
        for objective in ("capex", "power"):
            changes = {"sla.tokens_per_s_per_user": target, "objective.minimize": objective}
            for r in compare(base.with_changes(changes), by="memory").rows:
                cells[(r["memory"], objective)] = r
        for memory in sorted({m for m, _ in cells}):
            cheap, frugal = cells[(memory, "capex")], cells[(memory, "power")]
            ok = cheap["status"] == "optimal"
            m_usd = cheap["record"]["metrics"] if ok else None
            m_w = frugal["record"]["metrics"] if frugal["status"] == "optimal" else None
            tps_usd = m_usd["system_tokens_per_s"] / m_usd["capex_usd"] * 1e6 if m_usd else None
            tps_w = m_w["system_tokens_per_s"] / m_w["power_w"] * 1e3 if m_w else None
            per_usd.setdefault(memory, []).append(tps_usd)
            per_w.setdefault(memory, []).append(tps_w)
            rows.append(
                [
                    target,
                    memory,
                    f"${m_usd['capex_usd'] / 1e6:,.2f} M" if m_usd else "infeasible",
                    f"{tps_usd:,.0f}" if tps_usd else "-",
                    f"{m_w['power_w'] / 1e3:,.1f} kW" if m_w else "infeasible",
                    f"{tps_w:,.1f}" if tps_w else "-",
                    _design(cheap) if ok else _why(cheap),
                ]
            )
    table(
        "memory_technologies",
        "Llama3-405B, 128K context, 32 users: the optimum per memory technology",
        [
            "tokens/s per user",
            "memory",
            "min capex",
            "system tokens/s per $1M",
            "min power",
            "system tokens/s per kW",
            "capex-optimal design",
        ],
        rows,
        "Throughput per dollar and per watt come from the capex- and the power-optimal design "
        "respectively (xPU presets, parametric price and power from die area and memory "
        "technology). Infeasible: the technology cannot reach the rate for 32 users in the "
        "space.",
    )
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, data, label in (
        (axes[0], per_usd, "system tokens/s per $1M capex"),
        (axes[1], per_w, "system tokens/s per kW"),
    ):
        width = 0.8 / max(len(data), 1)
        for i, (memory, values) in enumerate(sorted(data.items())):
            xs = [j + i * width for j in range(len(TARGETS))]
            ax.bar(xs, [v or 0 for v in values], width, label=memory)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(TARGETS))], [str(t) for t in TARGETS])
        ax.set_xlabel("tokens/s per user target")
        ax.set_ylabel(label)
        ax.set_yscale("log")
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Llama3-405B, 128K, 32 users: memory technologies per dollar and per watt")
    fig.tight_layout()
    fig.savefig(figure("memory_technologies"), dpi=110)


def _why(row: dict) -> str:
    best = (row["record"].get("best_achievable") or {}).get("max_tokens_per_s_per_user")
    return f"at most {best:,.0f} tokens/s per user" if best else row["reason"]


def _design(row: dict) -> str:
    d = row["design"]
    return f"{d['chip']} TP{d['tp']}×PP{d['pp']}, batch {d['batch']}, {d['chips']} chips"


if __name__ == "__main__":
    main()

"""What-if studies that reproduce LIMINAL's findings on Llama3-405B (arXiv 2507.14397).

1. Bandwidth: scaling xPU-HBM3's memory bandwidth 1…16× at TP128 (128K context, one user)
   raises tokens/s per user far less than proportionally, because synchronization takes over
   (findings 5 and 6; "8× bandwidth buys only 1.1–4.5× UTPS").
2. Sync latency: at 10× HBM3 bandwidth, cutting the per-collective latency across servers
   from 5 µs to 0.25 µs (finding 6: below ~2.5 µs gives large gains).
3. Memory technology: the cheapest system per xPU preset serving 32 users at 128K context as
   the tokens/s-per-user target rises (one persistent MILP per technology, re-solved).

Run:  python examples/paper_whatifs.py [--plot examples/paper_whatifs.png]
(--plot needs matplotlib: pip install matplotlib)
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from designer.catalog import Catalog
from designer.errors import InfeasibleError
from designer.evaluate import evaluate
from designer.problem import load_problem
from designer.solve import Resolver

MODEL, CONTEXT = "llama3.1-405b", 131072
HBM3_BW_TIB = 4.0


def bandwidth_study(cat: Catalog) -> list[tuple[float, float]]:
    rows = []
    for scale in (1, 2, 4, 8, 16):
        bw = {"chips.xpu-hbm3.memory_bandwidth": f"{HBM3_BW_TIB * scale} TiB/s"}
        r = evaluate(MODEL, "xpu-hbm3", tp=128, context_tokens=CONTEXT, overrides=bw, catalog=cat)
        rows.append((scale, r["metrics"]["tokens_per_s_per_user"]))
    return rows


def sync_study(cat: Catalog) -> list[tuple[float, float]]:
    rows = []
    for us in (5.0, 2.5, 1.0, 0.5, 0.25):
        ov = {
            "chips.xpu-hbm3.memory_bandwidth": f"{HBM3_BW_TIB * 10} TiB/s",
            "interconnects.paper.inter_domain_latency": f"{us} us",
        }
        r = evaluate(MODEL, "xpu-hbm3", tp=128, context_tokens=CONTEXT, overrides=ov, catalog=cat)
        rows.append((us, r["metrics"]["tokens_per_s_per_user"]))
    return rows


def technology_study(targets: list[float]) -> dict[str, list[float | None]]:
    base = load_problem("problems/llama3-405b-1000utps-128k-32users-capex.toml")
    out: dict[str, list[float | None]] = {}
    for chip in ("xpu-hbm3", "xpu-hbm4", "xpu-3d-dram"):
        r = Resolver(base.with_changes({"space.chips": [chip]}))
        costs: list[float | None] = []
        for target in targets:
            try:
                costs.append(r.solve({"sla.tokens_per_s_per_user": target}).objective)
            except InfeasibleError:
                costs.append(None)
        out[chip] = costs
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plot", metavar="PNG", help="write a PNG with the three studies")
    args = ap.parse_args()
    console = Console()
    cat = Catalog.load()

    bw = bandwidth_study(cat)
    t = Table(title="1. Llama3-405B, xPU-HBM3 TP128, 128K context: bandwidth scaling")
    for col in ("bandwidth ×", "tokens/s/user", "gain vs 1×"):
        t.add_column(col, justify="right")
    for scale, utps in bw:
        t.add_row(f"{scale}", f"{utps:,.0f}", f"{utps / bw[0][1]:.2f}×")
    console.print(t)

    sy = sync_study(cat)
    t = Table(title="2. same, at 10× HBM3 bandwidth: per-collective latency across servers")
    for col in ("latency µs", "tokens/s/user"):
        t.add_column(col, justify="right")
    for us, utps in sy:
        t.add_row(f"{us}", f"{utps:,.0f}")
    console.print(t)

    targets = [250.0, 500.0, 750.0, 1000.0, 1250.0, 1500.0]
    tech = technology_study(targets)
    t = Table(title="3. cheapest system for 32 users at 128K context, by memory technology")
    t.add_column("tokens/s/user", justify="right")
    for chip in tech:
        t.add_column(f"{chip} capex", justify="right")
    for i, target in enumerate(targets):
        t.add_row(
            f"{target:,.0f}",
            *[f"${v / 1e6:,.2f}M" if v else "infeasible" for v in (tech[c][i] for c in tech)],
        )
    console.print(t)

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
        ax[0].plot([s for s, _ in bw], [u for _, u in bw], "o-")
        ax[0].set(
            xscale="log",
            xlabel="memory bandwidth (× HBM3)",
            ylabel="tokens/s per user",
            title="bandwidth scaling, TP128",
        )
        ax[1].plot([s for s, _ in sy], [u for _, u in sy], "o-")
        ax[1].set(
            xscale="log",
            xlabel="collective latency across servers (µs)",
            ylabel="tokens/s per user",
            title="sync latency at 10× bandwidth",
        )
        ax[1].set_xticks([s for s, _ in sy], [f"{s:g}" for s, _ in sy])
        ax[1].minorticks_off()
        for chip, costs in tech.items():
            pts = [(x, c / 1e6) for x, c in zip(targets, costs, strict=True) if c]
            ax[2].plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=chip)
        ax[2].set(
            xlabel="tokens/s per user",
            ylabel="capex (M$)",
            yscale="log",
            title="cheapest system, 32 users, 128K",
        )
        ax[2].legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        console.print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()

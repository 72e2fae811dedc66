"""Bandwidth scaling and its diminishing returns (LIMINAL findings 5-6): Llama3-405B, 128K
context, one user on 128 xPU-HBM3 chips (TP128), memory bandwidth scaled 1…16× with the
relative what-if `chips.xpu-hbm3.memory_bandwidth=xF`. Memory time falls as 1/F, the
synchronization time (126 layers × 2 collectives × 2.25 µs across servers) does not, so
tokens/s per user saturates once sync dominates; the paper: "8× bandwidth buys only
1.1–4.5× UTPS".

Run:  python examples/bandwidth_scaling.py   (docs/figures/bandwidth_scaling.{png,md})
"""

from __future__ import annotations

from _figures import figure, table

from designer import evaluate
from designer.model.catalog import Catalog
from designer.studies.plots import step_breakdown

MODEL, CHIP, CONTEXT, TP = "llama3.1-405b", "xpu-hbm3", 131072, 128
FACTORS = [1, 2, 4, 8, 16]


def main() -> None:
    cat = Catalog.load()
    rows = []
    for f in FACTORS:
        rec = evaluate(
            MODEL,
            CHIP,
            tp=TP,
            context_tokens=CONTEXT,
            overrides={f"chips.{CHIP}.memory_bandwidth": f"x{f}"},
            catalog=cat,
        )
        rows.append({"bandwidth": f"{f}× HBM3", "factor": f, "record": rec})
    step_breakdown(
        rows,
        figure("bandwidth_scaling"),
        by="bandwidth",
        title="Llama3-405B, 128 xPU-HBM3, 128K: step time vs bandwidth",
    )
    base = rows[0]["record"]["metrics"]["tokens_per_s_per_user"]
    at8 = next(r for r in rows if r["factor"] == 8)
    gain8 = at8["record"]["metrics"]["tokens_per_s_per_user"] / base
    table(
        "bandwidth_scaling",
        "Bandwidth scaling, Llama3-405B on 128 xPU-HBM3, 128K context, one user",
        ["bandwidth", "tokens/s per user", "gain", "memory ms", "sync ms", "bottleneck"],
        [
            [
                r["bandwidth"],
                f"{r['record']['metrics']['tokens_per_s_per_user']:,.0f}",
                f"{r['record']['metrics']['tokens_per_s_per_user'] / base:.2f}×",
                f"{1e3 * r['record']['metrics']['memory_time_s']:.3f}",
                f"{1e3 * r['record']['metrics']['sync_time_s']:.3f}",
                r["record"]["bottleneck"],
            ]
            for r in rows
        ],
        f"8× the bandwidth buys {gain8:.2f}× the tokens/s per user here, inside the paper's "
        "1.1–4.5×: past 2× HBM3 the synchronization (0.567 ms) is most of the step.",
    )


if __name__ == "__main__":
    main()

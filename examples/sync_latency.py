"""The synchronization-latency sweep (LIMINAL finding 6, and the abstract's "about 1 µs"):
Llama3-405B, 128K context, one user on 128 xPU chips, tokens/s per user over memory
bandwidth (1…16× HBM3) × per-collective latency across servers (5…0.1 µs), with the what-ifs
`chips.xpu-hbm3.memory_bandwidth=xF` and `interconnects.paper.inter_domain_latency=T`.
At about 10× HBM3 bandwidth, cutting the latency below 2.5 µs gives the large gains.

Run:  python examples/sync_latency.py   (docs/figures/sync_latency.{png,md})
"""

from __future__ import annotations

import pandas as pd
from _figures import figure, table

from designer import evaluate
from designer.model.catalog import Catalog
from designer.studies.plots import heatmap

MODEL, CHIP, CONTEXT, TP = "llama3.1-405b", "xpu-hbm3", 131072, 128
FACTORS = [1, 2, 4, 8, 10, 16]
LATENCIES_US = [5.0, 2.5, 1.0, 0.5, 0.25, 0.1]


def main() -> None:
    cat = Catalog.load()
    rows = []
    for f in FACTORS:
        for us in LATENCIES_US:
            changes = {
                f"chips.{CHIP}.memory_bandwidth": f"x{f}",
                "interconnects.paper.inter_domain_latency": f"{us} us",
            }
            rec = evaluate(
                MODEL, CHIP, tp=TP, context_tokens=CONTEXT, overrides=changes, catalog=cat
            )
            rows.append(
                {
                    "bandwidth × HBM3": f,
                    "latency across servers (µs)": us,
                    "tokens/s per user": rec["metrics"]["tokens_per_s_per_user"],
                    "sync share": rec["metrics"]["sync_time_s"] / rec["metrics"]["step_time_s"],
                }
            )
    frame = pd.DataFrame(rows)
    heatmap(
        frame,
        "latency across servers (µs)",
        "bandwidth × HBM3",
        "tokens/s per user",
        figure("sync_latency"),
        title="Llama3-405B, TP128, 128K: tokens/s per user",
        fmt="{:.0f}",
    )
    at10 = frame[frame["bandwidth × HBM3"] == 10]
    first = at10["tokens/s per user"].iloc[0]
    table(
        "sync_latency",
        "Sync latency at 10× HBM3 bandwidth, Llama3-405B on 128 chips, 128K, one user",
        ["latency across servers", "tokens/s per user", "gain vs 5 µs", "sync share of step"],
        [
            [
                f"{r['latency across servers (µs)']} µs",
                f"{r['tokens/s per user']:,.0f}",
                f"{r['tokens/s per user'] / first:.2f}×",
                f"{100 * r['sync share']:.0f}%",
            ]
            for _, r in at10.iterrows()
        ],
        "With ten times HBM3's bandwidth the step is mostly synchronization: going from 5 µs "
        "to 2.5 µs and below is where tokens/s per user moves, as the paper finds. The "
        "heat map shows the whole bandwidth × latency grid.",
    )


if __name__ == "__main__":
    main()

"""Memory needed per model and context (LIMINAL finding 1): weights plus every user's KV cache,
FP8 weights and KV, in GiB as the paper counts. The paper states 629 GB to serve DeepSeek-V3
to one user at 128K, 762 GB–1.4 TB for 32 users at 128K, and 881 GB for Llama3-405B at 64K.

Run:  python examples/memory_footprint.py      (writes docs/figures/memory_footprint.{png,md})
"""

from __future__ import annotations

from _figures import figure, table

from designer.model.catalog import Catalog
from designer.model.workload import Workload
from designer.studies.plots import _pyplot

MODELS = ["llama3.1-70b", "llama3.1-405b", "deepseek-v3"]
CONTEXTS = [1024, 4096, 16384, 32768, 65536, 131072]
GiB = 2**30


def footprint(cat: Catalog, model: str, context: int, users: int) -> float:
    """Bytes held: all weights plus `users` KV caches of `context` tokens."""
    wl = Workload(cat.model(model), context, "fp8", "fp8")
    return wl.weight_bytes + users * wl.kv_bytes_per_user


def main() -> None:
    cat = Catalog.load()
    rows = []
    for model in MODELS:
        for context in (65536, 131072):
            rows.append(
                [
                    model,
                    f"{context // 1024}K",
                    f"{footprint(cat, model, context, 0) / GiB:,.1f}",
                    f"{footprint(cat, model, context, 1) / GiB:,.1f}",
                    f"{footprint(cat, model, context, 32) / GiB:,.1f}",
                ]
            )
    table(
        "memory_footprint",
        "Memory needed (GiB): weights + KV cache, FP8",
        ["model", "context", "weights", "1 user", "32 users"],
        rows,
        "The paper's 629 GB (DeepSeek-V3, 1 user, 128K), 762 GB and 1.4 TB (DeepSeek-V3 and "
        "Llama3-405B, 32 users, 128K) and 881 GB (Llama3-405B, 32 users, 64K) are these "
        "numbers in GiB, within 0.1% (the parameters here are counted from the architecture: "
        "Llama3-405B's weights come to 378.0 GiB, 0.8 GiB more than the paper's 377.2).",
    )
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for model in MODELS:
        for users, style in ((1, "-"), (32, "--")):
            ys = [footprint(cat, model, c, users) / GiB for c in CONTEXTS]
            ax.plot(CONTEXTS, ys, style, marker="o", label=f"{model}, {users} user(s)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("context tokens per user")
    ax.set_ylabel("memory needed (GiB)")
    ax.set_title("Weights + KV cache (FP8)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(figure("memory_footprint"), dpi=110)


if __name__ == "__main__":
    main()

"""Evaluations per second of the vectorized numpy forward model (`designer.model.perf`).

For each model (a dense one and a MoE one) the benchmark draws `--points` random designs
(chip, tp, pp, batch) over every catalog chip × the default TP (1…1024) and PP (1…64) powers of
two × batch 1…256, gathers the chip properties with `ChipArrays.take`, and evaluates all of them
with one `perf.evaluate_arrays` call. Each of `--repeats` timed runs (after one untimed warm-up)
repeats the gather and the evaluation; the medians are reported.

    python benchmarks/bench_perf.py [--points 1000000] [--repeats 7] [--models ...]
        [--assumptions paper|deployment]

Writes benchmarks/results/perf.json.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from _common import environment, fmt_rate, median, timed, write_json
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from designer.model import perf
from designer.model.assumptions import Assumptions
from designer.model.catalog import Catalog
from designer.model.workload import Efficiency, Workload
from designer.optimize.problem import DEFAULT_MAX_BATCH, DEFAULT_PP, DEFAULT_TP

DEFAULT_MODELS = ("llama3.1-70b", "deepseek-v3")


def design_points(n_chips: int, n: int, seed: int) -> dict[str, np.ndarray]:
    """`n` random (chip index, tp, pp, batch) designs over the default space."""
    rng = np.random.default_rng(seed)
    return {
        "chip": rng.integers(0, n_chips, n),
        "tp": rng.choice(np.array(DEFAULT_TP, dtype=np.int64), n),
        "pp": rng.choice(np.array(DEFAULT_PP, dtype=np.int64), n),
        "batch": rng.integers(1, DEFAULT_MAX_BATCH + 1, n),
    }


def bench_model(catalog: Catalog, model_id: str, args, progress: Progress) -> dict:
    wl = Workload(
        catalog.model(model_id),
        args.context,
        args.dtype,
        args.dtype,
        2,
        Efficiency(),
        assumptions=Assumptions.preset(args.assumptions),
    )
    chip_ids = catalog.ids("chips")
    arrays = perf.ChipArrays.build(catalog, chip_ids, wl.compute_dtype)
    pts = design_points(len(chip_ids), args.points, args.seed)

    def gather():
        return arrays.take(pts["chip"])

    hw = gather()

    def evaluate():
        return perf.evaluate_arrays(wl, hw, pts["tp"], pts["pp"], pts["batch"])

    out = evaluate()  # warm-up, and a sanity check of the output
    step = out["step_time_s"]
    ok = bool(np.all(np.isfinite(step)) and np.all(step > 0) and step.shape == (args.points,))
    gather_s, eval_s = [], []
    task = progress.add_task(f"{model_id}", total=args.repeats)
    for _ in range(args.repeats):
        g, hw = timed(gather)
        e, _ = timed(evaluate)
        gather_s.append(g)
        eval_s.append(e)
        progress.advance(task)
    med_e, med_g = median(eval_s), median(gather_s)
    return {
        "model": model_id,
        "moe": bool(wl.model.is_moe),
        "context_tokens": args.context,
        "dtype": args.dtype,
        "assumptions": args.assumptions,
        "chips": len(chip_ids),
        "points": args.points,
        "repeats": args.repeats,
        "evaluate_seconds": eval_s,
        "gather_seconds": gather_s,
        "median_evaluate_seconds": med_e,
        "median_gather_seconds": med_g,
        "evaluations_per_second": args.points / med_e,
        "evaluations_per_second_with_gather": args.points / (med_e + med_g),
        "output_sane": ok,
        "fits_fraction": float(np.mean(out["fits"])),
        "bottlenecks": {
            str(k): int(v)
            for k, v in zip(*np.unique(out["bottleneck"], return_counts=True), strict=True)
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000, help="designs per call")
    ap.add_argument("--repeats", type=int, default=7, help="timed runs (after one warm-up)")
    ap.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    ap.add_argument("--context", type=int, default=8192, help="context tokens")
    ap.add_argument("--dtype", default="fp8", help="weight, KV and compute dtype")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--assumptions", choices=["paper", "deployment"], default="paper", help="assumption set"
    )
    ap.add_argument("--output", default="perf.json", help="file name under benchmarks/results")
    args = ap.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 160)
    env = environment()
    console.print(
        f"cpu_count={env['cpu_count']} nproc={env['nproc']} python={env['python']} "
        f"numpy={env['numpy']} OPENBLAS_CORETYPE set={env['OPENBLAS_CORETYPE_set']}"
    )
    catalog = Catalog.load()
    results = []
    with Progress(console=console, transient=True) as progress:
        for model_id in args.models:
            results.append(bench_model(catalog, model_id, args, progress))

    table = Table(
        title=f"perf.evaluate_arrays, {args.points:,} designs per call, median of {args.repeats}"
    )
    for col in (
        "model",
        "kind",
        "evaluate s",
        "evals/s",
        "gather s",
        "evals/s incl. gather",
        "sane",
    ):
        table.add_column(col, justify="left" if col in ("model", "kind") else "right")
    for r in results:
        table.add_row(
            r["model"],
            "MoE" if r["moe"] else "dense",
            f"{r['median_evaluate_seconds']:.4f}",
            fmt_rate(r["evaluations_per_second"]),
            f"{r['median_gather_seconds']:.4f}",
            fmt_rate(r["evaluations_per_second_with_gather"]),
            "yes" if r["output_sane"] else "[bold red]NO[/]",
        )
    console.print(table)
    path = write_json(
        args.output,
        {"benchmark": "perf", "environment": env, "settings": vars(args), "results": results},
    )
    console.print(f"wrote {path}")
    if not all(r["output_sane"] for r in results):
        console.print("[bold red]non-finite or non-positive step times in the output[/]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

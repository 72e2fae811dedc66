"""The serving model's TTFT under load against published loaded TTFTs (a check; nothing fitted).

InferenceMAX's runs keep `concurrency` clients in flight, each sending its next request when the
last one ends: a closed loop, which aggregated serving's Little's-law rate (`serving.replica`,
`requests_per_s=None`: the batch's users turning over at the TPOT they get) describes. Every
row of catalogs/measurements/inferencemax.csv and held_out/inferencemax_long.csv quotes its
run's mean TTFT. Each row is predicted under the profile `designer validate --profile default`
gives it (`validate.default`), at its sequences in flight, with the chunk budget answers use
(`serving.DEFAULT_CHUNK_TOKENS`), and judged by the loaded TTFT's 80% interval
(`ttft_interval.loaded` at the one-prompt interval's ends).

    python scripts/loaded_ttft_check.py              # both files
    python scripts/loaded_ttft_check.py --csv FILE   # rows whose notes quote "mean TTFT X s"
    python scripts/loaded_ttft_check.py --waves      # and against full waves (below)
    python scripts/loaded_ttft_check.py --csv catalogs/measurements/held_out/inferencex_2026.csv

`--waves` also prints the other extreme of arrivals: every client's prompt arriving at once, each
time (a full wave), its `concurrency` prompts prefilled in chunk steps of the budget beside that
many decoders, each prompt's TTFT the time to its last chunk (`wave_ttft_s`): a diagnostic of
where the benchmarks sit between Poisson arrivals and waves, not a model answers use.

docs/model.md §9 ("The loaded TTFT against published ones") quotes its output.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import re
from collections import defaultdict

import numpy as np

from designer.calibration import measurements, ttft_interval, validate
from designer.model import perf, serving
from designer.model.catalog import Catalog

FILES = ("inferencemax.csv", "held_out/inferencemax_long.csv")
MEAN_TTFT = re.compile(r"mean TTFT ([0-9.]+) s")
# held_out/inferencex_2026.csv: 'Verbatim baseline table line: "| point | … | TTFT ms | TPOT ms |"'
TABLE_LINE = re.compile(r'Verbatim baseline table line: "(\|[^"]*\|)"')


def measured_ttft_s(notes: str) -> float | None:
    """The run's mean TTFT its notes quote, in seconds: InferenceMAX's records ("mean TTFT X
    s") or an InferenceX pull request's baseline table line (its fourth column, "TTFT ms");
    None when they quote neither."""
    m = MEAN_TTFT.search(notes)
    if m:
        return float(m.group(1))
    line = TABLE_LINE.search(notes)
    if line and "TTFT ms" in notes:
        return float(line.group(1).strip("|").split("|")[3].replace(",", "")) / 1000.0
    return None


def shape(input_tokens: int, output_tokens: int) -> str:
    """The run's nominal lengths (1k/1k, 1k/8k, 8k/1k) from the means of its draw."""

    def k(n: int) -> str:
        return f"{round(n / 0.9 / 1024)}k"

    return f"{k(input_tokens)}/{k(output_tokens)}"


def predict(path, catalog: Catalog) -> list[dict]:
    """One record per row quoting a mean TTFT: measured and predicted loaded TTFT (s), the
    interval's ends (None where its slow end fills the queue), the shape and the concurrency."""
    rows = measurements.load(path, catalog)
    with open(path, encoding="utf-8") as f:
        notes = {row["id"]: row.get("notes") or "" for row in csv.DictReader(f)}
    out = []
    for item in measurements.prepare(rows, catalog):
        r = item.row
        measured = measured_ttft_s(notes[r.id])
        if measured is None:
            continue
        prof = validate.default(catalog, r)
        wl = dataclasses.replace(item.request, efficiency=prof.efficiency)

        def served(scale: float = 1.0, r=r, wl=wl, batch=item.in_flight) -> dict:
            return serving.replica(
                wl,
                catalog,
                r.chip,
                tp=r.tp,
                pp=r.pp,
                batch=batch,
                ep=r.ep,
                attention=r.attention,
                requests_per_s=None,
                service_scale=scale,
            )

        wave = wave_ttft_s(wl, catalog, r, item.in_flight)
        answer = ttft_interval.answer_for(catalog, prof, r.engine, r.chip, wl, r.tp, r.pp)
        e = ttft_interval.ends(answer)
        iv = ttft_interval.loaded(served(e.low), served(e.high), e)
        out.append(
            {
                "id": r.id,
                "measured_s": measured,
                "predicted_s": float(served()["ttft_s"]),
                "wave_s": wave,
                "low_s": iv["ttft_low_s"],
                "high_s": iv["ttft_high_s"],
                "shape": shape(r.input_tokens, r.output_tokens),
                "concurrency": r.batch,
                "platform": r.platform,
            }
        )
    return out


def wave_ttft_s(wl, catalog: Catalog, r, batch: int) -> float:
    """Mean TTFT of `batch` prompts arriving at once beside `batch` decoders: chunk steps of the
    default budget (`serving.mixed_step`) until every prompt is in, each prompt's TTFT the
    time to the step that completes it."""
    hw = perf.ChipArrays.build(catalog, [r.chip], wl.compute_dtype).take(0)
    m = perf.evaluate_arrays(wl, hw, r.tp, r.pp, batch, ep=r.ep, attention=r.attention)
    chunk, total = serving.DEFAULT_CHUNK_TOKENS, batch * wl.prompt_tokens
    done, clock, finished = 0, 0.0, []
    while done < total:
        q = min(chunk, total - done)
        clock += float(serving.mixed_step(wl, hw, r.tp, r.pp, batch, m, q, chunk))
        done += q
        finished += [clock] * (done // wl.prompt_tokens - len(finished))
    return float(np.mean(finished))


def summary(recs: list[dict]) -> dict[str, float]:
    """MAPE, median and mean signed error (of the prediction against the measurement, %), the
    share inside the interval and its median half-width (% of the prediction)."""
    p = np.array([x["predicted_s"] for x in recs])
    m = np.array([x["measured_s"] for x in recs])
    signed = p / m - 1.0
    lo = np.array([x["low_s"] if x["low_s"] is not None else np.nan for x in recs])
    hi = np.array([x["high_s"] if x["high_s"] is not None else np.inf for x in recs])
    inside = (m >= lo) & (m <= hi)
    return {
        "rows": len(recs),
        "mape": float(np.mean(np.abs(signed)) * 100),
        "median": float(np.median(np.abs(signed)) * 100),
        "signed": float(np.mean(signed) * 100),
        "inside": float(np.mean(inside) * 100),
        "median_half_width": float(np.median((hi - lo) / 2.0 / p) * 100),
    }


def line(label: str, s: dict[str, float]) -> str:
    return (
        f"{label}: {s['rows']} rows, MAPE {s['mape']:.1f}% (median {s['median']:.1f}%, signed "
        f"{s['signed']:+.1f}%), {s['inside']:.1f}% inside at ±{s['median_half_width']:.1f}%"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", action="append", help="a measurements CSV (default: both files)")
    ap.add_argument("--waves", action="store_true", help="also against full waves of prompts")
    args = ap.parse_args(argv)
    catalog = Catalog.load()
    paths = args.csv or [str(measurements.bundled_path(f)) for f in FILES]
    every = []
    for path in paths:
        recs = predict(path, catalog)
        every += recs
        print(line(path.rsplit("measurements/", 1)[-1], summary(recs)))
        groups: dict[str, list[dict]] = defaultdict(list)
        for x in recs:
            groups[f"  {x['shape']}"].append(x)
            band = "c<=16" if x["concurrency"] <= 16 else "c>16"
            groups[f"  {x['shape']} {band}"].append(x)
        for key in sorted(groups):
            print(line(key, summary(groups[key])))
    if len(paths) > 1:
        print(line("all", summary(every)))
    by_c: dict[int, list[float]] = defaultdict(list)
    for x in every:
        by_c[x["concurrency"]].append(x["measured_s"] / x["predicted_s"])
    ratios = ", ".join(f"c{c} {np.median(v):.1f}x ({len(v)})" for c, v in sorted(by_c.items()))
    print(f"median measured / predicted by concurrency: {ratios}")
    if args.waves:
        by_w: dict[int, list[float]] = defaultdict(list)
        for x in every:
            by_w[x["concurrency"]].append(x["measured_s"] / x["wave_s"])
        waves = ", ".join(f"c{c} {np.median(v):.2f}x" for c, v in sorted(by_w.items()))
        print(f"median measured / a full wave's TTFT by concurrency: {waves}")


if __name__ == "__main__":
    main()

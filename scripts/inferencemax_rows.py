"""Write catalogs/measurements/inferencemax.csv from InferenceMAX's run artifacts.

Reads the `agg_bmk.json` artifacts of InferenceMAX's nightly runs as copied to
https://github.com/gminneci/mantile/tree/72ff84ebfd56ee0b15bd17d7d49a70fbb4e50256/reconcile/sources/inferencemax/raw
(a checkout of that commit: `git clone https://github.com/gminneci/mantile`, then
`git -C mantile checkout 72ff84e`) and applies the selection of catalogs/measurements/README.md
("InferenceMAX rows"): single node, not disaggregated, no speculative decoding, the listed
hardware and engines, the listed input/output lengths and concurrencies, and per configuration
the copy's latest run.

Rows already in the CSV keep their ids and text (the script checks that it writes each of them
as it is); new configurations are appended with the next ids. `--check` only compares.

    python scripts/inferencemax_rows.py ../mantile            # rewrite the CSV
    python scripts/inferencemax_rows.py ../mantile --check    # exit 1 if it would change
    python scripts/inferencemax_rows.py ../mantile --lengths 1024/8192 8192/1024 --new-only \\
        --out catalogs/measurements/held_out/inferencemax_long.csv   # the rows the rule keeps out
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from pathlib import Path

CSV = Path(__file__).resolve().parents[1] / "catalogs" / "measurements" / "inferencemax.csv"
COPY = "https://github.com/gminneci/mantile/tree/72ff84ebfd56ee0b15bd17d7d49a70fbb4e50256/reconcile/sources/inferencemax/raw"
RAW = Path("reconcile/sources/inferencemax/raw")
DATES = Path("reconcile/by_model/openai_GPT-OSS-120B/inferencemax.csv")

HARDWARE = {"b200": "b200", "b200-trt": "b200", "h200": "h200", "h100": "h100-sxm"}
HARDWARE |= {"mi300x": "mi300x", "mi325x": "mi325x", "mi355x": "mi355x"}
ENGINES = {"vllm": "vllm", "sglang": "sglang", "trt": "tensorrt-llm"}
LENGTHS = ((1024, 1024),)  # the other two pairs fail the length rule (README), see --lengths
CONCURRENCY = (4, 8, 16, 32, 64, 128)
RANGE_RATIO = 0.8  # the workflow's --random-range-ratio: lengths drawn in [0.8 L, L]

# The KV-cache dtype each launch script sets (https://github.com/SemiAnalysisAI/InferenceX,
# benchmarks/*.sh at 2ee1e0018 and before), by (hardware, framework, model, precision).
KV = {
    ("b200", "sglang", "deepseek-ai/DeepSeek-R1-0528", "fp8"): (
        "fp8",
        "benchmarks/dsr1_fp8_b200_docker.sh '--kv-cache-dtype fp8_e4m3'",
    ),
    ("b200", "sglang", "nvidia/DeepSeek-R1-0528-FP4-V2", "fp4"): (
        "fp8",
        "benchmarks/dsr1_fp4_b200_docker.sh '--kv-cache-dtype fp8_e4m3'",
    ),
    ("b200", "vllm", "openai/gpt-oss-120b", "fp4"): (
        "fp8",
        "benchmarks/gptoss_fp4_b200_docker.sh config.yaml 'kv-cache-dtype: fp8' (since 2025-12-05)",
    ),
    ("b200-trt", "trt", "openai/gpt-oss-120b", "fp4"): (
        "fp8",
        "benchmarks/gptoss_fp4_b200_trt_*.sh 'kv_cache_config: dtype: fp8'",
    ),
    ("h100", "vllm", "openai/gpt-oss-120b", "fp4"): (
        "bf16",
        "benchmarks/gptoss_fp4_h100_*.sh set no KV dtype: vLLM's auto keeps gpt-oss's bf16",
    ),
    ("h200", "sglang", "deepseek-ai/DeepSeek-R1-0528", "fp8"): (
        "bf16",
        "benchmarks/dsr1_fp8_h200_slurm.sh sets no KV dtype: "
        "SGLang's auto keeps the bf16 activation dtype",
    ),
    ("h200", "vllm", "openai/gpt-oss-120b", "fp4"): (
        "bf16",
        "benchmarks/gptoss_fp4_h200_slurm.sh sets no KV dtype: vLLM's auto keeps gpt-oss's bf16",
    ),
    ("mi300x", "sglang", "deepseek-ai/DeepSeek-R1-0528", "fp8"): (
        "bf16",
        "benchmarks/dsr1_fp8_mi300x_*.sh set no KV dtype: SGLang's auto keeps bf16",
    ),
    ("mi325x", "sglang", "deepseek-ai/DeepSeek-R1-0528", "fp8"): (
        "bf16",
        "benchmarks/dsr1_fp8_mi325x_*.sh set no KV dtype: SGLang's auto keeps bf16",
    ),
    ("mi355x", "sglang", "amd/DeepSeek-R1-0528-MXFP4-Preview", "fp4"): (
        "fp8",
        "benchmarks/dsr1_fp4_mi355x_*.sh '--kv-cache-dtype fp8_e4m3' (since 2025-12-16/19)",
    ),
    ("mi355x", "sglang", "deepseek-ai/DeepSeek-R1-0528", "fp8"): (
        "bf16",
        "benchmarks/dsr1_fp8_mi355x_*.sh set no KV dtype: SGLang's auto keeps bf16",
    ),
}
COLUMNS = [
    *("id", "source_url", "date", "hardware", "chips", "software", "model", "weight_dtype"),
    *("kv_dtype", "tp", "pp", "ep", "batch", "input_tokens", "output_tokens"),
    *("ms_per_output_token", "measure", "tier", "notes", "chip", "catalog_model", "engine"),
    "attention",
]


def selected(raw: Path, lengths=LENGTHS) -> dict[tuple, tuple[int, dict]]:
    """Each configuration's record from the copy's latest run that has it."""
    latest: dict[tuple, tuple[int, dict]] = {}
    for path in sorted(raw.glob("run_*/agg_bmk.json")):
        run = int(path.parent.name.removeprefix("run_"))
        for r in json.loads(path.read_text()):
            if r["is_multinode"] or r["disagg"] or r["spec_decoding"] != "none":
                continue
            if r["hw"] not in HARDWARE or r["framework"] not in ENGINES:
                continue
            if (r["isl"], r["osl"]) not in lengths or r["conc"] not in CONCURRENCY:
                continue
            key = tuple(r[k] for k in ("hw", "framework", "model", "precision", "tp", "ep"))
            key += (dp_attention(r), r["conc"], r["isl"], r["osl"])
            if key not in latest or latest[key][0] < run:
                latest[key] = (run, r)
    return latest


def dp_attention(r: dict) -> bool:
    """The record's data-parallel attention flag (a bool or 'true'/'false' in the artifacts)."""
    return str(r["dp_attention"]).lower() == "true"


def software(image: str) -> str:
    """The engine and build an image names, e.g. 'SGLang 0.5.6 (lmsysorg/sglang:v0.5.6-…)'."""
    name, _, tag = image.replace("#", "/").rpartition(":")
    if name.endswith("sglang"):
        engine, build = "SGLang", tag.removeprefix("v").split("-")[0]
    elif name.endswith("vllm-openai"):
        engine, build = "vLLM", tag.removeprefix("v")
    elif "tensorrt-llm" in name:
        engine, build = "TensorRT-LLM", tag
    else:
        raise ValueError(f"no engine for image {image}")
    return f"{engine} {build} ({image.replace('#', '/')}), InferenceMAX benchmark_serving.py"


def mean_length(length: int) -> int:
    """The mean of lengths drawn uniformly from the integers in [int(0.8 L), L]."""
    return round((int(length * RANGE_RATIO) + length) / 2)


def row(run: int, r: dict, run_dates: dict[int, str]) -> dict[str, str]:
    launch = (r["hw"], r["framework"], r["model"], r["precision"])
    if launch not in KV:
        raise ValueError(f"no KV dtype known for {launch}: read its launch script, add it to KV")
    kv, kv_quote = KV[launch]
    isl, osl = mean_length(r["isl"]), mean_length(r["osl"])
    deepseek = "DeepSeek-R1" in r["model"]
    date = run_dates.get(run)
    lo = lambda n: int(n * RANGE_RATIO)  # noqa: E731
    if r["isl"] == r["osl"]:
        lengths = (
            f"--random-input-len/--random-output-len {r['isl']} with --random-range-ratio 0.8 "
            f"(the workflow default), drawn uniformly in [{lo(r['isl'])}, {r['isl']}] per request "
            "(kimbochen/bench_serving sample_random_requests): input and output taken as the "
            f"mean, {isl}"
        )
    else:
        lengths = (
            f"--random-input-len {r['isl']} --random-output-len {r['osl']} with "
            "--random-range-ratio 0.8 (the workflow default), drawn uniformly in "
            f"[{lo(r['isl'])}, {r['isl']}] and [{lo(r['osl'])}, {r['osl']}] per request "
            "(kimbochen/bench_serving sample_random_requests): input and output taken as the "
            f"means, {isl} and {osl}"
        )
    notes = (
        "InferenceMAX nightly benchmark, GitHub Actions run "
        f"https://github.com/InferenceMAX/InferenceMAX/actions/runs/{run}, artifact agg_bmk.json "
        f"as copied to reconcile/sources/inferencemax/raw/run_{run}/agg_bmk.json at 72ff84e; "
        f"record hw={r['hw']} framework={r['framework']} model={r['model']} "
        f"precision={r['precision']} tp={r['tp']} ep={r['ep']} "
        f"dp_attention={str(dp_attention(r)).lower()} conc={r['conc']} isl={r['isl']} "
        f"osl={r['osl']} image={r['image']}; itl = mean_tpot {r['mean_tpot']:.6f} s (median "
        f"{r['median_tpot']:.6f} s, mean TTFT {r['mean_ttft']:.4f} s): bench_serving's TPOT, "
        "(request latency - TTFT) / (output - 1), "
        f"--max-concurrency {r['conc']} --request-rate inf --ignore-eos, num-prompts 10 x "
        f"concurrency; lengths: {lengths}; KV {kv}: {kv_quote}; "
        + (
            f"run date {date} (the copy's inferencemax.csv)"
            if date
            else "run date not in the copy (run ids of 2025-12-17 … 2026-01-14 bracket it)"
        )
        + "; ms/token derived here; added 2026-12-06 under the extended rule"
        + (
            "; DeepSeek-R1-0528 has DeepSeek-V3's architecture, no MTP (spec_decoding none)"
            if deepseek
            else ""
        )
    )
    return {
        "source_url": COPY,
        "date": date or "2025-12/2026-01",
        "hardware": r["hw"],
        "chips": str(r["tp"]),
        "software": software(r["image"]),
        "model": r["model"],
        "weight_dtype": r["precision"],
        "kv_dtype": kv,
        "tp": str(r["tp"]),
        "pp": "1",
        "ep": str(r["ep"]),
        "batch": str(r["conc"]),
        "input_tokens": str(isl),
        "output_tokens": str(osl),
        "ms_per_output_token": str(round(r["mean_tpot"] * 1000, 3)),
        "measure": "itl",
        "tier": "A-",
        "notes": notes,
        "chip": HARDWARE[r["hw"]],
        "catalog_model": "deepseek-v3" if deepseek else "gpt-oss-120b",
        "engine": ENGINES[r["framework"]],
        "attention": "dp" if dp_attention(r) else "",
    }


def config(values: dict[str, str]) -> tuple:
    """The configuration a row measures, read from its notes."""
    m = re.search(
        r"record hw=(\S+) framework=(\S+) model=(\S+) precision=(\S+) tp=(\d+) ep=(\d+) "
        r"dp_attention=(\S+) conc=(\d+) isl=(\d+) osl=(\d+) ",
        values["notes"],
    )
    if m is None:
        raise ValueError(f"{values['id']}: notes name no InferenceMAX record")
    hw, fw, model, precision, tp, ep, dp, conc, isl, osl = m.groups()
    return (hw, fw, model, precision, int(tp), int(ep), dp == "true", int(conc), int(isl), int(osl))


def build(mantile: Path, lengths=LENGTHS, new_only: bool = False) -> tuple[str, list[str]]:
    """The CSV text (the shipped rows, then the new configurations with the next ids; only the
    new ones when `new_only`), and the problems found with the shipped rows."""
    with (mantile / DATES).open(encoding="utf-8") as f:
        run_dates = {int(d["run_id"]): d["benchmark_date"][:10] for d in csv.DictReader(f)}
    latest = selected(mantile / RAW, lengths)
    with CSV.open(encoding="utf-8", newline="") as f:
        shipped = list(csv.DictReader(f))
    problems, seen = [], set()
    for values in shipped:
        key = config(values)
        seen.add(key)
        if key[8:] not in lengths:
            continue  # not a length this run selects
        if key not in latest:
            problems.append(f"{values['id']}: not in the selection")
        elif {"id": values["id"]} | row(*latest[key], run_dates) != values:
            problems.append(f"{values['id']}: the record gives another row")
    rows = [] if new_only else list(shipped)
    new = (k for k in latest if k not in seen)
    order = sorted(new, key=lambda k: (k[8], k[9], *map(str, k[:7]), k[7]))  # lengths first
    for n, key in enumerate(order, start=len(shipped) + 1):
        rows.append({"id": f"im-{n:02d}"} | row(*latest[key], run_dates))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue(), problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mantile", type=Path, help="a checkout of gminneci/mantile at 72ff84e")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on a change")
    parser.add_argument(
        "--lengths",
        nargs="+",
        default=[f"{i}/{o}" for i, o in LENGTHS],
        help="input/output lengths to select (default 1024/1024; 1024/8192 8192/1024 add the "
        "rows the length rule keeps out, for a check file written with --out)",
    )
    parser.add_argument("--out", type=Path, default=CSV, help="where to write (default: the CSV)")
    parser.add_argument(
        "--new-only", action="store_true", help="write only the rows not in the shipped CSV"
    )
    args = parser.parse_args()
    try:
        lengths = tuple(tuple(int(n) for n in pair.split("/")) for pair in args.lengths)
    except ValueError:
        parser.error(f"--lengths: expected ISL/OSL pairs such as 1024/1024, got {args.lengths}")
    if not (args.mantile / RAW).is_dir() or not (args.mantile / DATES).is_file():
        parser.error(f"{args.mantile}: expected a checkout of gminneci/mantile with {RAW}/")
    if args.new_only and args.out.resolve() == CSV:
        parser.error("--new-only: give --out too (it would replace the shipped CSV)")
    text, problems = build(args.mantile, lengths, args.new_only)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    if args.check:
        same = CSV.read_text(encoding="utf-8") == text
        print(f"{CSV.name} is as the artifacts give it" if same else f"{CSV.name} differs")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10)) - 1} rows to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

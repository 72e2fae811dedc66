"""Side by side with NVIDIA AIConfigurator (issue 19): the same serving questions through both
tools as whole processes — "the most output tokens/s of 8 × H200 for ISL 4000 / OSL 500 under
TTFT 2 s and TPOT 20 ms" — with each tool's aggregated and disaggregated answers
(configuration, users, tokens/s per GPU, TTFT) and wall times.

AIConfigurator is never a dependency of `designer`: `--install` puts the `aiconfigurator`
distribution from PyPI into a throwaway virtual environment (default /tmp/aic-venv), and the
model's Hugging Face config.json is written from designer's catalog (AIConfigurator reads the
architecture from it; no download). `designer`'s side is `designer solve` on a problem with
`[supply] "h200" = 8`, `maximize = "system_tokens_per_s"` and `tokens_per_s_per_user = 50`
(TPOT 20 ms), once per `[serving] mode`.

Run:  python benchmarks/bench_vs_aiconfigurator.py --install [--models llama3.1-70b ...]
Writes benchmarks/results/vs_aiconfigurator.json and .md.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, environment, write_json

from designer.model.catalog import Catalog

QUESTION = {"isl": 4000, "osl": 500, "ttft_ms": 2000, "tpot_ms": 20, "gpus": 8, "chip": "h200"}
AIC_SYSTEM = "h200_sxm"
MODELS = ("llama3.1-70b", "qwen3-235b-a22b")
HF_KEYS = (
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "tie_word_embeddings",
    "max_position_embeddings",
    "moe_intermediate_size",
)


def install(venv: Path) -> Path:
    """A throwaway venv with `aiconfigurator` from PyPI; returns its command."""
    exe = venv / "bin" / "aiconfigurator"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "aiconfigurator"], check=True)
    return exe


def hf_config(model: str, folder: Path) -> Path:
    """config.json for AIConfigurator, from designer's catalog entry (Hugging Face names)."""
    raw = Catalog.load().raw["models"][model]
    cfg = {k: raw[k] for k in HF_KEYS if k in raw}
    if "num_experts" in raw:
        cfg |= {
            "architectures": ["Qwen3MoeForCausalLM"],
            "model_type": "qwen3_moe",
            "num_experts": raw["num_experts"],
            "num_experts_per_tok": raw["num_experts_per_tok"],
            "decoder_sparse_step": 1,
            "norm_topk_prob": True,
        }
    else:
        cfg |= {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
    cfg |= {"torch_dtype": "bfloat16", "hidden_act": "silu", "rms_norm_eps": 1e-5}
    path = folder / model / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(cfg, indent=1))
    return path.parent


ROW = re.compile(r"^\|\s*1\s*\|(.*)\|\s*$")


def parse_aic(text: str) -> dict[str, dict]:
    """The rank-1 rows of AIConfigurator's `agg` and `disagg` top-configuration tables."""
    out: dict[str, dict] = {}
    section = None
    header: list[str] = []
    for line in text.splitlines():
        if "Top Configurations" in line:
            section = line.split()[0]
            header = []
        elif section and line.startswith("| Rank"):
            header = [h.strip() for h in line.strip("|").split("|")]
        elif section and header and ROW.match(line):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            out[section] = dict(zip(header, cells, strict=False))
            section = None
    return out


def run_aic(exe: Path, model_dir: Path, save: Path) -> dict:
    q = QUESTION
    argv = [
        str(exe),
        "cli",
        "default",
        "--model-path",
        str(model_dir),
        "--total-gpus",
        str(q["gpus"]),
        "--system",
        AIC_SYSTEM,
        "--isl",
        str(q["isl"]),
        "--osl",
        str(q["osl"]),
        "--ttft",
        str(q["ttft_ms"]),
        "--tpot",
        str(q["tpot_ms"]),
        "--save-dir",
        str(save),
        "--no-color",
    ]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rows = parse_aic(done.stdout + done.stderr)
    return {"argv": argv[1:], "exit": done.returncode, "wall_s": wall, "best": rows}


def problem_toml(model: str, mode: str) -> str:
    q = QUESTION
    return f"""[workload]
model = "{model}"
prompt_tokens = {q["isl"]}
output_tokens = {q["osl"]}
[sla]
tokens_per_s_per_user = {1000 / q["tpot_ms"]:g}
ttft = "{q["ttft_ms"]} ms"
[serving]
mode = "{mode}"
[objective]
maximize = "system_tokens_per_s"
[space]
chips = ["{q["chip"]}"]
[supply]
"{q["chip"]}" = {q["gpus"]}
"""


def run_designer(model: str, mode: str, folder: Path) -> dict:
    path = folder / f"{model}-{mode}.toml"
    path.write_text(problem_toml(model, mode))
    argv = [str(Path(sys.executable).parent / "designer"), "solve", str(path), "--json"]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        return {"mode": mode, "exit": done.returncode, "wall_s": wall, "error": done.stderr[-300:]}
    rec = json.loads(done.stdout)
    tot = rec["totals"]
    ttfts = [f["ttft_p90_s"] for f in rec["fleet"] if f["ttft_p90_s"] is not None]
    return {
        "mode": mode,
        "exit": 0,
        "wall_s": wall,
        "solve_seconds": rec["solve_seconds"],
        "configuration": " + ".join(
            f"{f['phase']} TP{f['tp']}×PP{f['pp']} batch {f['batch']} ×{f['replicas']}"
            for f in rec["fleet"]
        ),
        "users": tot["users_served"],
        "tokens_per_s_per_gpu": tot["system_tokens_per_s"] / tot["chips"],
        "requests_per_s": tot["requests_per_s"],
        "ttft_p90_s": max(ttfts) if ttfts else None,
        "tpot_s": max(f["tpot_s"] for f in rec["fleet"] if f["tpot_s"] is not None),
    }


def markdown(results: dict) -> str:
    q = QUESTION
    lines = [
        f"# designer vs AIConfigurator: {q['gpus']} × H200, ISL {q['isl']} / OSL {q['osl']}, "
        f"TTFT {q['ttft_ms']} ms, TPOT {q['tpot_ms']} ms",
        "",
        f"Measured {results['environment']['date_utc']} on {results['environment']['nproc']} "
        "cores shared with other jobs (wall times are whole processes).",
        "",
        "| model | tool | mode | configuration | users | tokens/s/GPU | TTFT | wall (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for model, r in results["models"].items():
        for mode, row in r["aiconfigurator"]["best"].items():
            lines.append(
                f"| {model} | AIConfigurator | {mode} | {row.get('parallel', '')} "
                f"{row.get('(p)parallel', '')} {row.get('(d)parallel', '')} bs "
                f"{row.get('bs', row.get('(d)bs', ''))} | {row.get('concurrency', '')} | "
                f"{row.get('tokens/s/gpu', '')} | {row.get('TTFT', '')} ms | "
                f"{r['aiconfigurator']['wall_s']:.1f} |"
            )
        for d in r["designer"]:
            if d["exit"]:
                lines.append(f"| {model} | designer | {d['mode']} | {d['error']} | | | | |")
                continue
            ttft = f"{d['ttft_p90_s'] * 1e3:.0f} ms p90" if d["ttft_p90_s"] else "-"
            lines.append(
                f"| {model} | designer | {d['mode']} | {d['configuration']} | {d['users']} | "
                f"{d['tokens_per_s_per_gpu']:.1f} | {ttft} | {d['wall_s']:.1f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--install", action="store_true", help="put aiconfigurator in a venv")
    ap.add_argument("--venv", default="/tmp/aic-venv", type=Path)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    exe = args.venv / "bin" / "aiconfigurator"
    if args.install:
        exe = install(args.venv)
    if not exe.exists():
        sys.exit(f"no {exe}: run with --install (a throwaway venv, never a dependency)")
    results = {"question": QUESTION, "environment": environment(), "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for model in args.models:
            aic = run_aic(exe, hf_config(model, folder), folder / "aic")
            ours = [run_designer(model, m, folder) for m in ("aggregated", "disaggregated")]
            results["models"][model] = {"aiconfigurator": aic, "designer": ours}
    write_json("vs_aiconfigurator.json", results)
    md = markdown(results)
    (RESULTS / "vs_aiconfigurator.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()

"""Per-chip sustained memory bandwidth from published measurements, held out (issue 20, item 3).

    python scripts/bandwidth_facts.py            # shipped catalog beside the measured one
    python scripts/bandwidth_facts.py --intervals  # also the shipped interval check (slower)
    python scripts/bandwidth_facts.py --catalog-out DIR  # only write DIR/chips.toml
    python scripts/bandwidth_facts.py --read ...   # the read-only figures instead (READ)
    python scripts/bandwidth_facts.py --files      # the never-fitted files, profiles refitted

Each calibrated profile fits one bandwidth share `η_bw` over every chip it covers, so a chip
whose memory reaches a smaller share of its datasheet peak than the others (MI300X) is predicted
too fast by a fit to the others. Here each data chip's `memory_bandwidth` is replaced by a
published microbenchmark figure of that part (`FACTS`: the source's triad where it gives one,
else its read figure; of two sources the one naming the exact variant), and a data chip without
one by its peak times the median measured share of the others (`DEFAULT_SHARE`, an
assumption). The fitted `η_bw` then holds the software's share only. The replaced catalog is
read by `designer calibrate` through `DESIGNER_CATALOG_PATH` (every entry it names replaces the
bundled one), so the held-out figures are the commands' own:

- `designer calibrate catalogs/measurements/decode.csv --cross-validate platform` (`generic`,
  each platform held out), `--cross-validate source`, `--cross-validate platform --within
  engine`;
- with `--intervals`: `designer calibrate catalogs/measurements/decode.csv --intervals`, the
  shipped interval check (the limit's answers here take the measured figures too).

docs/model.md §6 ("Per-chip sustained bandwidth") states the rule this was judged by (round 12:
it passed on the held-out error, but the shipped interval check widens to ±40.03%, over the
issue's ±40%, so it is not shipped). `--files` refits every profile on a scratch copy and
predicts the never-fitted files (catalogs/measurements/held_out/) both ways.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import numpy as np

from designer.model import toml_text, units

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "catalogs" / "measurements" / "decode.csv"

# chip id -> (measured bandwidth, what was measured, source). Every figure is a microbenchmark
# of the part the catalog entry describes, as the source names it.
FACTS: dict[str, tuple[str, str, str]] = {
    "h100-sxm": (
        "2.97 TB/s",
        "BabelStream (CUDA) Triad on 'NVIDIA H100 80GB HBM3' (Azure ND H100 v5)",
        "https://github.com/Azure/AI-benchmarking-guide/blob/"
        "ae0b6a7f47caee92985aafc546faf30e9d4a3ca7/Azure_Results/ND_H100_v5_results.md",
    ),
    "h200": (
        "4.15 TB/s",
        "BabelStream (CUDA) Triad on 'NVIDIA H200 141GB' (Azure ND H200 v5)",
        "https://github.com/Azure/AI-benchmarking-guide/blob/"
        "7f20e5fa3b2f9a46d8404af1f6fb14b049d6d5cc/Azure_Results/ND_H200_v5_results.md",
    ),
    "a100-80gb": (
        "1.70 TB/s",
        "BabelStream (CUDA) Triad on 'NVIDIA A100-SXM4-80GB' (Azure ND A100 v4)",
        "https://github.com/Azure/AI-benchmarking-guide/blob/main/Azure_Results/"
        "ND_A100_v4_results.md (2024-09-25)",
    ),
    "a100-40gb": (
        "1360 GB/s",
        "gpu-stream triad, 1 GiB arrays, A100 40GB (form factor not stated; both have 1.555 TB/s)",
        "https://github.com/te42kyfo/gpu-benches/blob/"
        "1c36d509ee717dca9215c27135fa1e611bb03ed1/gpu-stream/a100_40.txt",
    ),
    "mi300x": (
        "3948.062 GB/s",
        "BabelStream 5.0 (HIP) Triad, AMD's example run on 'AMD Instinct MI300X' (pass floor "
        "3885.301 GB/s)",
        "https://github.com/ROCm/system-acceptance-docs (MI300X acceptance guide, 2025-01)",
    ),
    "b200": (
        "6668.71 GB/s",
        "OpenCL-Benchmark coalesced read, 1 GiB buffer, 'NVIDIA B200'",
        "https://github.com/ProjectPhysX/OpenCL-Benchmark/blob/"
        "c551207fe951e70736d747dac42409776266d621/README.md",
    ),
    "gh200": (
        "3614.60 GB/s",
        "OpenCL-Benchmark coalesced read, 'NVIDIA GH200 480GB' (97280 MB: the 96 GB HBM3 part)",
        "https://github.com/mredenti/PowerCapping (configuration/OpenCL_benchmark.md, 2024-12-20)",
    ),
}


# the read-only figure of the same sources (BabelStream Dot, else the source's read figure), the
# second rule tried (docs/model.md §6): `--read`
READ: dict[str, str] = {
    "h100-sxm": "3.18 TB/s",  # Dot
    "h200": "4.48 TB/s",  # Dot
    "a100-80gb": "1.75 TB/s",  # Dot
    "a100-40gb": "1490 GB/s",  # gpu-stream read
    "mi300x": "3878.410495 GB/s",  # Dot, the same example run
    "b200": "6668.71 GB/s",  # coalesced read (as FACTS)
    "gh200": "3614.60 GB/s",  # coalesced read (as FACTS)
}


def _chips() -> dict:
    return tomllib.loads((ROOT / "catalogs" / "chips.toml").read_text())


def figures(read: bool = False) -> dict[str, str]:
    """The measured figure of each chip of `FACTS`: its triad-or-read figure, or with `read`
    its read-only one (`READ`)."""
    return dict(READ) if read else {c: f[0] for c, f in FACTS.items()}


def shares(read: bool = False) -> dict[str, float]:
    """Measured / datasheet peak of each chip of `FACTS` (`figures`)."""
    chips = _chips()
    return {
        c: units.parse(bw, "bandwidth") / units.parse(chips[c]["memory_bandwidth"], "bandwidth")
        for c, bw in figures(read).items()
    }


DEFAULT_SHARE_NOTE = "assumption: the median measured share of the chips with a figure"


def replaced(data_chips: list[str], read: bool = False) -> dict[str, dict]:
    """The catalog entries of `data_chips` with `memory_bandwidth` replaced: the measured
    figure (`figures`), else the peak times the median measured share (`DEFAULT_SHARE_NOTE`)."""
    chips = _chips()
    measured = figures(read)
    default = float(np.median(list(shares(read).values())))
    out = {}
    for c in data_chips:
        entry = dict(chips[c])
        if c in measured:
            entry["memory_bandwidth"] = measured[c]
        else:
            peak = units.parse(chips[c]["memory_bandwidth"], "bandwidth")
            entry["memory_bandwidth"] = f"{peak * default / 1e9:.1f} GB/s"
        out[c] = entry
    return out


def write_catalog(folder: Path, chips: list[str], read: bool = False) -> None:
    """`folder`/chips.toml with the `replaced` entries of `chips`: a catalog folder for
    `DESIGNER_CATALOG_PATH`, whose entries replace the bundled ones of the same id."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for c, entry in replaced(chips, read).items():
        lines += toml_text.tables(c, entry)
    (folder / "chips.toml").write_text("\n".join(lines) + "\n")


def _data_chips() -> list[str]:
    import csv

    with DATA.open() as f:
        return sorted({r["chip"] for r in csv.DictReader(f)})


def _calibrate(args: list[str], catalog_dir: str | None) -> dict:
    env = dict(os.environ)
    env.pop("DESIGNER_CATALOG_PATH", None)
    if catalog_dir:
        env["DESIGNER_CATALOG_PATH"] = catalog_dir
    run = "from designer.interface.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", run, "calibrate", str(DATA), *args, "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return json.loads(done.stdout)


CHECKS = {
    "generic, each platform held out": ["--cross-validate", "platform"],
    "each publication held out": ["--cross-validate", "source"],
    "each platform held out within its engine": [
        "--cross-validate",
        "platform",
        "--within",
        "engine",
    ],
}


def measure(catalog_dir: str | None, intervals: bool) -> dict[str, float]:
    """The held-out MAPE of each of `CHECKS` (and the interval check's coverage and median
    half-width) under the bundled catalog or the one in `catalog_dir`."""
    out = {name: _calibrate(args, catalog_dir)["mape"] for name, args in CHECKS.items()}
    if intervals:
        with tempfile.TemporaryDirectory() as tmp:
            table = Path(tmp) / "intervals.toml"
            _calibrate(["--intervals", "--out", str(table)], catalog_dir)
            cov = tomllib.loads(table.read_text())["coverage"]["calibrated"]
        out["intervals: inside"] = cov["inside"]
        out["intervals: median half-width"] = cov["median_half_width"]
    return out


FILES = ROOT / "catalogs" / "measurements" / "held_out"


def files_refitted(catalog_dir: Path | None) -> dict[str, dict[str, float]]:
    """The never-fitted files under each chip's default profile with every profile refitted
    (`python scripts/refit_profiles.py`) on the bundled catalog or on `catalog_dir`'s chips.

    The refit runs on a scratch copy of the package and its catalogs, imported ahead of any
    installed `designer` (`PYTHONPATH`; the catalogs sit inside the copied package, so
    `designer.catalogs` resolves to the copy whether the project is installed editable or
    not), so the shipped profiles are never touched and never read."""
    import shutil

    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "designer", work / "designer")
        shutil.copytree(ROOT / "catalogs", work / "designer" / "catalogs")
        (work / "catalogs").symlink_to(work / "designer" / "catalogs")
        (work / "scripts").mkdir()
        shutil.copy(ROOT / "scripts" / "refit_profiles.py", work / "scripts")
        env = dict(os.environ, PYTHONPATH=str(work))
        env.pop("DESIGNER_CATALOG_PATH", None)
        if catalog_dir:
            env["DESIGNER_CATALOG_PATH"] = str(catalog_dir)
        where = "import designer.catalogs as c, sys; print(c.__file__)"
        got = subprocess.run(
            [sys.executable, "-c", where], env=env, cwd=work, capture_output=True, text=True
        )
        if not got.stdout.startswith(str(work)):
            raise SystemExit(f"the scratch copy is not the one imported: {got.stdout.strip()}")
        run = [sys.executable, "scripts/refit_profiles.py"]
        subprocess.run(run, env=env, cwd=work, check=True, capture_output=True)
        cli = "from designer.interface.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
        for f in sorted(FILES.glob("*.csv")):
            args = ["validate", str(f), "--profile", "default", "--json"]
            done = subprocess.run(
                [sys.executable, "-c", cli, *args],
                env=env,
                cwd=work,
                check=True,
                capture_output=True,
                text=True,
            )
            j = json.loads(done.stdout)
            inside = round(j["inside"] * j["points"] / 100)
            out[f.stem] = {"points": j["points"], "mape": j["mape"], "inside": inside}
    return out


def _pooled(files: dict[str, dict[str, float]]) -> str:
    n = sum(f["points"] for f in files.values())
    mape = sum(f["mape"] * f["points"] for f in files.values()) / n
    inside = sum(f["inside"] for f in files.values())
    return f"{mape:5.1f}% MAPE, {inside}/{n} = {inside / n:.1%} inside"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--intervals", action="store_true", help="also the interval check")
    ap.add_argument("--catalog-out", type=Path, help="write DIR/chips.toml and stop")
    ap.add_argument("--read", action="store_true", help="the read-only figures (READ)")
    ap.add_argument(
        "--files", action="store_true", help="the never-fitted files, every profile refitted"
    )
    args = ap.parse_args(argv)
    chips = _data_chips()
    if args.catalog_out:
        write_catalog(args.catalog_out, chips, args.read)
        print(f"wrote {args.catalog_out / 'chips.toml'} ({len(chips)} chips)")
        return 0
    measured = figures(args.read)
    for c, s in sorted(shares(args.read).items()):
        what = "the same source's read-only figure" if args.read else FACTS[c][1]
        print(f"{c:10s} {measured[c]:>16s}  {s:6.1%} of peak  {what}")
    default = float(np.median(list(shares(args.read).values())))
    rest = [c for c in chips if c not in measured]
    print(f"{', '.join(rest)}: {default:.1%} of peak ({DEFAULT_SHARE_NOTE})")
    with tempfile.TemporaryDirectory() as tmp:
        write_catalog(Path(tmp), chips, args.read)
        if args.files:
            before, after = files_refitted(None), files_refitted(Path(tmp))
            print(f"{'never-fitted file':22s} {'datasheet peaks':>22s} {'measured':>22s}")
            for name in before:
                b, a = before[name], after[name]
                print(
                    f"{name:22s} {b['mape']:6.1f}% {b['inside']:4d}/{b['points']:<4d}"
                    f"       {a['mape']:6.1f}% {a['inside']:4d}/{a['points']:<4d}"
                )
            print(f"all: {_pooled(before)}  ->  {_pooled(after)}")
            return 0
        base = measure(None, args.intervals)
        facts = measure(tmp, args.intervals)
    print(f"{'check':44s} {'datasheet peaks':>16s} {'measured':>9s}")
    for name in base:
        print(f"{name:44s} {base[name]:15.2f}% {facts[name]:8.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

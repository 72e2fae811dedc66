"""Cross-validated error of the decode model with and without each group of calibration terms:
the check every term of docs/model.md §6 was kept or held by.

    python scripts/term_ablation.py [DATA.csv] [--variant NAME ...] [--weight-only]
        [--moe-units bytes] [--moe-first] [--max-seqs ENGINE=N]
    python scripts/term_ablation.py [DATA.csv] --compose bandwidth,compute,prefill_compute
    python scripts/term_ablation.py [DATA.csv] --loaded
    python scripts/term_ablation.py [DATA.csv] --engine-loso ENGINE
    python scripts/term_ablation.py [DATA.csv] --mla-residuals

For each variant, the parameters it holds at their prior (`calibrate.HELD`) and the held-out
MAPE of leave-one-platform-out, leave-one-source-out and leave-one-platform-out within engine
(the `designer calibrate DATA --cross-validate …` schemes), over all rows, the MoE rows, the
dense rows and the rows of 256 or more sequences. Never in-sample errors: those are printed
last, for reference only. `--weight-only` predicts every row with bf16 GEMMs for sub-8-bit
weights (no engine's `activation_dtype`), the model before the GEMM precision was wired in.
`--moe-units bytes` charges τ_moe per 10 µs of routed-expert bytes read at peak bandwidth instead
of per MoE layer; the other `--moe-units` (`UNITS`) are the forms tried for the DeepSeek-R1
rows' batch-dependent misses, each with the τ_moe slot as its coefficient (run with a variant
that fits τ_moe, e.g. "(a)+(b)+(c) τ_moe, τ_expert, τ_mla"; τ_moe is also charged once in
the prefill pass at the decode step's count, once per request against O − 1 decode steps);
`--moe-first` reverses `calibrate.CONFOUNDED` (rows that cannot tell τ_moe from τ_mla give the
time to τ_moe, the order before the Mixtral rows); `--max-seqs vllm=256` caps the sequences in
flight of an engine's rows (vLLM's default `max_num_seqs`, 256 in the 0.7 builds of the
DeepSeek-R1 rows), a form tried for the offline rows at 512-1,024 requests.

`--compose FIELDS`: hardware × software composition, held out. Each platform (chip × engine) is
predicted by its engine's fit to the other platforms (as `--within engine`), with the listed
hardware shares replaced by those of a fit to the other platforms of its chip (when they have
at least `--chip-rows` rows); printed beside the plain within-engine error.

`--engine-loso ENGINE`: whether an engine's own fit over its platforms (`generic-ENGINE`) predicts
its rows better than `generic`: each publication (then each platform) with rows of ENGINE held
out, its ENGINE rows predicted by a fit to all other rows and by a fit to the other ENGINE rows.

`--mla-residuals`: the leave-one-source-out errors of the MLA (DeepSeek) rows under the shipped
terms, by engine, measure, attention layout / expert-parallel degree and batch range.

`--loaded`: the held-out signed errors of the `itl` rows under concurrency (batch ≥ 32), by
engine build, under each scheme with the shipped parameters, and which in-flight correction
each build gets (mixed steps or stand-alone prefills, catalogs/engines.toml `mixed_batches`).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from designer.calibration import calibrate, engines, measurements
from designer.model import perf
from designer.model.catalog import Catalog

PER_SEQUENCE = ("per_sequence_step", "attention_kernel")
LAYER_TERMS = ("moe_layer", "mla_layer", "moe_expert")
# variant name → parameters held at their prior
VARIANTS: dict[str, tuple[str, ...]] = {
    "before: seven parameters": PER_SEQUENCE + LAYER_TERMS,
    "shipped: + τ_expert, τ_mla": PER_SEQUENCE + ("moe_layer",),
    "all twelve": (),
    "(a) τ_moe per MoE layer only": PER_SEQUENCE + ("mla_layer", "moe_expert"),
    "(c) τ_mla per MLA layer only": PER_SEQUENCE + ("moe_layer", "moe_expert"),
    "(b) τ_expert per distinct expert only": PER_SEQUENCE + ("moe_layer", "mla_layer"),
    "(a)+(c) τ_moe, τ_mla": PER_SEQUENCE + ("moe_expert",),
    "(a)+(b)+(c) τ_moe, τ_expert, τ_mla": PER_SEQUENCE,
    "physical T_seq (τ_sample + κ_attn, no τ_seq) + τ_expert, τ_mla": (
        "per_sequence",
        "moe_layer",
    ),
}
SCHEMES = (("platform", None), ("source", None), ("platform", "engine"))
LARGE_BATCH = 256


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", default=str(measurements.bundled_path()))
    ap.add_argument("--variant", action="append", choices=list(VARIANTS))
    ap.add_argument("--weight-only", action="store_true")
    ap.add_argument("--rows", help="also list the held-out errors of these row ids (comma list)")
    ap.add_argument("--compose", help="hardware fields taken from the chip's other platforms")
    ap.add_argument("--chip-rows", type=int, default=8)
    ap.add_argument(
        "--moe-units",
        choices=("layers", *UNITS),
        default="layers",
        help="what τ_moe is charged per: MoE layer (shipped), or another count (UNITS), to "
        "try a form of the MoE/MLA time with the τ_moe slot as its coefficient",
    )
    ap.add_argument(
        "--moe-first",
        action="store_true",
        help="rows that cannot tell τ_moe from τ_mla give the time to τ_moe (the order before)",
    )
    ap.add_argument("--loaded", action="store_true", help="signed errors of loaded itl rows")
    ap.add_argument("--max-seqs", help="ENGINE=N: at most N sequences in flight on its rows")
    ap.add_argument("--engine-loso", metavar="ENGINE", help="generic vs the engine's own fit")
    ap.add_argument("--mla-residuals", action="store_true", help="MLA rows' LOSO errors by group")
    args = ap.parse_args(argv)
    if args.weight_only:
        engines.activation = lambda engine: ""
    cat = Catalog.load()
    if args.max_seqs:
        cap_in_flight(*args.max_seqs.split("="))
    rows = calibrate.as_rows(measurements.load(Path(args.data), cat), cat)
    if args.moe_units != "layers":
        units = moe_units(rows, args.moe_units)
        rows = dataclasses.replace(rows, terms=dataclasses.replace(rows.terms, moe_layers=units))
    if args.moe_first:
        calibrate.CONFOUNDED = tuple((b, a) for a, b in calibrate.CONFOUNDED)
    moe = np.array([cat.model(i.row.model).is_moe for i in rows.items])
    large = np.array([i.row.batch >= LARGE_BATCH for i in rows.items])
    print(
        f"{len(rows)} rows ({int(moe.sum())} MoE, {int(large.sum())} with ≥ {LARGE_BATCH} "
        "sequences); held-out MAPE % — all (MoE / dense / large batch)"
    )
    if args.compose:
        return compose(rows, cat, tuple(args.compose.split(",")), args.chip_rows)
    if args.loaded:
        return loaded(rows, cat)
    if args.engine_loso:
        return engine_loso(rows, cat, args.engine_loso)
    if args.mla_residuals:
        return mla_residuals(rows, cat)
    shipped = calibrate.HELD
    try:
        for name in args.variant or list(VARIANTS):
            calibrate.HELD = VARIANTS[name]
            cells = []
            for by, within in SCHEMES:
                cv = calibrate.cross_validate(rows, cat, by, within=within)
                e = np.abs(cv.errors.relative) * 100
                parts = [e[m].mean() if m.any() else float("nan") for m in (moe, ~moe, large)]
                label = f"LO{by[0].upper()}O" + (" within engine" if within else "")
                cells.append(
                    f"{label} {e.mean():.1f} ({parts[0]:.1f} / {parts[1]:.1f} / {parts[2]:.1f})"
                )
                for rid in (args.rows or "").split(","):
                    if rid in cv.errors.ids:
                        k = cv.errors.ids.index(rid)
                        cells.append(f"  {rid}: {cv.errors.relative[k] * 100:+.0f}%")
            fit = calibrate.fit_items(rows, cat)
            print(f"{name}\n    " + "\n    ".join(cells) + f"\n    in-sample {fit.mape:.1f}")
    finally:
        calibrate.HELD = shipped
    return 0


def compose(rows: calibrate.Rows, cat: Catalog, fields: tuple[str, ...], chip_rows: int) -> int:
    """Within-engine leave-one-platform-out, plain and with the chip's hardware `fields`."""
    items = rows.items
    plain = np.empty(len(items))
    composed = np.empty(len(items))
    for name, held in calibrate.group_index(rows, lambda r: r.platform).items():
        chip, engine = items[held[0]].row.chip, items[held[0]].row.engine
        train = [k for k, i in enumerate(items) if i.row.platform != name]
        same_engine = [k for k in train if items[k].row.engine == engine]
        if len(same_engine) <= len(calibrate.PARAMETERS):
            same_engine = train
        software = calibrate.fit_items(rows.take(same_engine), cat).efficiency
        same_chip = [k for k in train if items[k].row.chip == chip]
        eff = software
        if len(same_chip) >= chip_rows:
            hardware = calibrate.fit_items(rows.take(same_chip), cat).efficiency
            eff = dataclasses.replace(software, **{f: getattr(hardware, f) for f in fields})
        terms = rows.take(held).terms
        plain[held], composed[held] = terms.predict(software), terms.predict(eff)
        m = rows.take(held).measured_ms
        a, b = _mape(plain[held], m), _mape(composed[held], m)
        print(
            f"{name:28s} {len(held):4d} rows, {len(same_chip):4d} of its chip elsewhere: "
            f"within engine {a:5.1f}%  composed {b:5.1f}%"
        )
    m = rows.measured_ms
    print(
        f"all: within engine {_mape(plain, m):.1f}%, composed ({', '.join(fields)}) "
        f"{_mape(composed, m):.1f}%"
    )
    return 0


UNITS = {
    "bytes": "10 µs of routed-expert bytes read at peak bandwidth",
    "kv-mla": "µs of KV read at peak bandwidth, MLA models only (κ_attn for MLA)",
    "mla-seq": "MLA layer × sequence on the busiest rank (no context)",
    "moe-seq": "MoE layer × sequence on the busiest rank",
    "pairs": "MoE layer × 100 token-expert pairs the busiest chip computes (GEMM efficiency "
    "rising with tokens per expert: the per-pair part)",
    "tokens": "MoE layer × 10 tokens routed",
}


def moe_units(rows: calibrate.Rows, form: str) -> np.ndarray:
    """Per row, the count τ_moe multiplies under `form` (a key of `UNITS`), at the decode step's
    sequences in flight; 0 for the models the form does not apply to."""
    out = np.zeros(len(rows))
    t = rows.terms
    for k, item in enumerate(rows.items):
        m = item.decode.model
        if not m.is_moe and form != "kv-mla":
            continue
        r = item.row
        tokens = item.in_flight * item.decode.tokens_per_step
        if m.is_moe:
            distinct, pairs = perf.routed_experts_per_chip(item.decode, r.tp, r.ep, tokens)
        if form == "bytes":
            read_s = m.moe_layers * distinct * item.decode.expert_bytes / item.hw["bandwidth"]
            out[k] = float(np.asarray(read_s).ravel()[0]) / 1e-5
        elif form == "kv-mla":
            out[k] = t.step_kv[k] * 1e6 if m.is_mla else 0.0
        elif form == "mla-seq":
            out[k] = t.mla_layers[k] * t.rank_batch[k]
        elif form == "moe-seq":
            out[k] = m.moe_layers * t.rank_batch[k]
        elif form == "pairs":
            out[k] = m.moe_layers * float(np.asarray(pairs).ravel()[0]) / 100
        elif form == "tokens":
            out[k] = m.moe_layers * tokens / 10
    return out


def cap_in_flight(engine: str, n: str) -> None:
    """Rows of `engine` hold at most `n` sequences in flight (`measurements.in_flight`)."""
    plain = measurements.in_flight

    def capped(r, decode, hw):
        return min(plain(r, decode, hw), int(n)) if r.engine == engine else plain(r, decode, hw)

    measurements.in_flight = capped


def mla_residuals(rows: calibrate.Rows, cat: Catalog) -> int:
    """Leave-one-source-out signed and absolute errors of the MLA rows, by engine, measure,
    attention layout / expert-parallel degree and batch range."""
    cv = calibrate.cross_validate(rows, cat, "source")
    groups: dict[tuple[str, ...], list[float]] = {}
    for k, item in enumerate(rows.items):
        r = item.row
        if not cat.model(r.model).is_mla:
            continue
        b = "4-16" if r.batch <= 16 else "32-128" if r.batch <= 128 else "256-3072"
        key = (r.engine, r.measure, f"{r.attention}/ep{r.ep}", b)
        groups.setdefault(key, []).append(cv.errors.relative[k] * 100)
    for key, v in sorted(groups.items()):
        e = np.array(v)
        print(
            f"{' '.join(key):48s} {len(e):3d} rows: mean signed {e.mean():+6.1f}%, "
            f"MAPE {np.abs(e).mean():5.1f}%"
        )
    return 0


def engine_loso(rows: calibrate.Rows, cat: Catalog, engine: str) -> int:
    """Held-out MAPE of `engine`'s rows by publication and by platform: fitted to all other
    rows (what `generic` does) and to the other rows of `engine` (`generic-<engine>`)."""
    items = rows.items
    mine = [k for k, i in enumerate(items) if i.row.engine == engine]
    for by in ("source", "platform"):
        key = calibrate.GROUPINGS[by]
        errs: dict[str, list[float]] = {"generic": [], engine: []}
        for name in sorted({key(items[k].row) for k in mine}):
            held = [k for k in mine if key(items[k].row) == name]
            train = [k for k, i in enumerate(items) if key(i.row) != name]
            same = [k for k in train if items[k].row.engine == engine]
            if len(same) <= len(calibrate.PARAMETERS):
                print(f"  {name}: too few other {engine} rows ({len(same)}) to fit")
                continue
            cells = []
            for label, tr in (("generic", train), (engine, same)):
                fit = calibrate.fit_items(rows.take(tr), cat)
                e = calibrate.errors(rows.take(held), fit.efficiency, cat)
                errs[label] += list(np.abs(e.relative) * 100)
                cells.append(f"{label} {e.mape:5.1f}%")
            print(f"  {name[-60:]:60s} {len(held):4d} rows: " + ", ".join(cells))
        print(
            f"leave-one-{by}-out over {engine}'s rows: "
            + ", ".join(f"{k} fit {np.mean(v):.1f}%" for k, v in errs.items() if v)
        )
    return 0


LOADED_BATCH = 32


def loaded(rows: calibrate.Rows, cat: Catalog) -> int:
    """Held-out mean signed error (%) of the `itl` rows with ≥ LOADED_BATCH requests in flight,
    by engine build, under each cross-validation scheme."""
    items = rows.items
    keep = [
        k for k, i in enumerate(items) if i.row.measure == "itl" and i.row.batch >= LOADED_BATCH
    ]
    groups: dict[str, list[int]] = {}
    for k in keep:
        r = items[k].row
        groups.setdefault(f"{r.engine}: {r.software[:44]} ({r.chip})", []).append(k)
    cvs = [calibrate.cross_validate(rows, cat, by, within=w) for by, w in SCHEMES]
    heads = [f"LO{by[0].upper()}O" + (" in-engine" if w else "") for by, w in SCHEMES]
    print(f"{len(keep)} itl rows with ≥ {LOADED_BATCH} in flight; mean signed error % held out")
    print(f"{'build (chip)':76s} rows form  " + "  ".join(f"{h:>14s}" for h in heads))
    for name, ks in sorted(groups.items()):
        form = "mixed" if items[ks[0]].row.mixed else "alone"
        cells = []
        for cv in cvs:
            rel = np.array([cv.errors.relative[cv.errors.ids.index(items[k].row.id)] for k in ks])
            cells.append(f"{rel.mean() * 100:+14.1f}")
        print(f"{name[:76]:76s} {len(ks):4d} {form:5s} " + "  ".join(cells))
    for head, cv in zip(heads, cvs, strict=True):
        rel = np.array([cv.errors.relative[cv.errors.ids.index(items[k].row.id)] for k in keep])
        print(f"{head}: MAPE {np.abs(rel).mean() * 100:.1f}%, mean signed {rel.mean() * 100:+.1f}%")
    return 0


def _mape(predicted: np.ndarray, measured: np.ndarray) -> float:
    return float(np.mean(np.abs(predicted / measured - 1.0)) * 100)


if __name__ == "__main__":
    raise SystemExit(main())

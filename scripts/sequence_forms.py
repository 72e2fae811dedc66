"""How the per-sequence time should scale: the tests behind `perf.sequence_scale` (with the
model) and `perf.sequence_batch` (with the batch).

Each form sets how `τ_seq` (per layer and sequence) is charged for a row, then every fit is
redone on decode.csv and held out three ways, with the interval coverage answers would get
(docs/model.md §6, "The per-sequence time scales with the model's width" and "… grows
sub-linearly with the batch"). With the model (at the shipped batch exponent):

- `layer`: 1 for every model (the form before round 9);
- `width`: the model's width over 8,192 (shipped);
- `flops`: each layer's matmul FLOPs per token over Llama 3.1 70B's.

With the batch (at the shipped `width` form), g(B) = 64 · (B/64)^α for the α the name gives:
`batch-1` (linear, before round 10), `batch-0.9` (shipped), `batch-0.8`.

The rule, stated before each run: a form replaces the shipped one if `generic`'s
leave-one-platform-out error is not worse by more than 0.5 points (round 10: nor its
leave-one-source-out error) and the leave-one-source-out intervals stay at 75% or more inside
with a median half-width of ±40% or less; of two such forms, the lower leave-one-platform-out
error.

    python scripts/sequence_forms.py                   # all six forms
    python scripts/sequence_forms.py --form width --form batch-1
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator

from designer.calibration import intervals, measurements
from designer.calibration.calibrate import as_rows, cross_validate
from designer.model import perf
from designer.model.catalog import Catalog

BATCH_EXPONENTS = {"batch-1": 1.0, "batch-0.9": 0.9, "batch-0.8": 0.8}


def _matmul_params_per_layer(model) -> float:
    """Weights a token multiplies per layer: its active parameters less the LM head's."""
    return (model.active_params() - model.vocab_size * model.hidden_size) / model.num_hidden_layers


def forms(catalog: Catalog) -> dict[str, Callable]:
    """Form name → the factor on `τ_seq` for a model."""
    reference = _matmul_params_per_layer(catalog.model("llama3.1-70b"))
    return {
        "layer": lambda model: 1.0,
        "width": lambda model: model.hidden_size / perf.SEQUENCE_REFERENCE_WIDTH,
        "flops": lambda model: _matmul_params_per_layer(model) / reference,
    }


@contextlib.contextmanager
def scaled(scale: Callable, exponent: float | None = None) -> Iterator[None]:
    """`perf.sequence_scale` replaced by `scale` and, when given, `perf.SEQUENCE_BATCH_EXPONENT`
    by `exponent` (every prediction and fit reads them there)."""
    shipped = perf.sequence_scale, perf.SEQUENCE_BATCH_EXPONENT
    perf.sequence_scale = scale
    perf.SEQUENCE_BATCH_EXPONENT = shipped[1] if exponent is None else exponent
    try:
        yield
    finally:
        perf.sequence_scale, perf.SEQUENCE_BATCH_EXPONENT = shipped


def measure(catalog: Catalog, scale: Callable, exponent: float | None = None) -> dict[str, float]:
    """Held-out errors (percent) and interval coverage of decode.csv under one form: the nested
    coverage these forms were decided by in rounds 9 and 10 (every MoE row widened once by
    1.5, no other row: `intervals.coverage(..., moe_widen=1)`; since round 11 the shipped check
    widens each row per dimension, `interval_fit.fit`)."""
    rows = measurements.load(measurements.bundled_path(), catalog)
    with scaled(scale, exponent):
        out = {
            f"{by}_mape": cross_validate(rows, catalog, by).errors.mape
            for by in ("platform", "source")
        }
        out["within_engine_mape"] = cross_validate(
            rows, catalog, "platform", within="engine"
        ).errors.mape
        res = intervals.held_out(as_rows(rows, catalog), catalog)
        cov = intervals.coverage(res, moe_widen=1).summary()
    out["inside"], out["half_width"] = cov["inside"], cov["median_half_width"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = ("layer", "width", "flops", *BATCH_EXPONENTS)
    ap.add_argument("--form", choices=names, action="append")
    args = ap.parse_args(argv)
    catalog = Catalog.load()
    table = forms(catalog)
    print(
        f"{'form':9s} {'LOPO':>7s} {'LOSO':>7s} {'within':>7s} {'inside':>8s} {'half-width':>11s}"
    )
    for name in args.form or [*table, *BATCH_EXPONENTS]:
        scale = table.get(name, table["width"])
        m = measure(catalog, scale, BATCH_EXPONENTS.get(name))
        print(
            f"{name:9s} {m['platform_mape']:6.1f}% {m['source_mape']:6.1f}% "
            f"{m['within_engine_mape']:6.1f}% {m['inside']:7.1f}% {m['half_width']:9.1f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

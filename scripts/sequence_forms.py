"""How the per-sequence time should scale with the model: the test behind `perf.sequence_scale`.

Each form sets what `τ_seq` (per layer and sequence) is multiplied by for a row's model, then
every fit is redone on decode.csv and held out three ways, with the interval coverage answers
would get (docs/model.md §6, "The per-sequence time scales with the model's width"):

- `layer`: 1 for every model (the form before round 9);
- `width`: the model's width over 8,192 (shipped);
- `flops`: each layer's matmul FLOPs per token over Llama 3.1 70B's.

The rule, stated before the run: a form replaces `layer` if `generic`'s leave-one-platform-out
error is not worse by more than 0.5 points and the leave-one-source-out intervals stay at 75%
or more inside with a median half-width of ±40% or less; of two such forms, the lower error.

    python scripts/sequence_forms.py             # all three forms
    python scripts/sequence_forms.py --form width
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator

from designer.calibration import intervals, measurements
from designer.calibration.calibrate import cross_validate
from designer.model import perf
from designer.model.catalog import Catalog


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
def scaled(scale: Callable) -> Iterator[None]:
    """`perf.sequence_scale` replaced by `scale` (every prediction and fit reads it there)."""
    shipped = perf.sequence_scale
    perf.sequence_scale = scale
    try:
        yield
    finally:
        perf.sequence_scale = shipped


def measure(catalog: Catalog, scale: Callable) -> dict[str, float]:
    """Held-out errors (percent) and interval coverage of decode.csv under one form: the
    coverage of the table `designer calibrate DATA --intervals` fits (`intervals.fit`)."""
    rows = measurements.load(measurements.bundled_path(), catalog)
    with scaled(scale):
        out = {
            f"{by}_mape": cross_validate(rows, catalog, by).errors.mape
            for by in ("platform", "source")
        }
        out["within_engine_mape"] = cross_validate(
            rows, catalog, "platform", within="engine"
        ).errors.mape
        cov = intervals.fit(rows, catalog)[1].summary()
    out["inside"], out["half_width"] = cov["inside"], cov["median_half_width"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--form", choices=("layer", "width", "flops"), action="append")
    args = ap.parse_args(argv)
    catalog = Catalog.load()
    table = forms(catalog)
    print(
        f"{'form':8s} {'LOPO':>7s} {'LOSO':>7s} {'within':>7s} {'inside':>8s} {'half-width':>11s}"
    )
    for name in args.form or list(table):
        m = measure(catalog, table[name])
        print(
            f"{name:8s} {m['platform_mape']:6.1f}% {m['source_mape']:6.1f}% "
            f"{m['within_engine_mape']:6.1f}% {m['inside']:7.1f}% {m['half_width']:9.1f}%"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

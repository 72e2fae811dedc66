"""Shared helpers of the optimizer's tests."""

from __future__ import annotations

import numpy as np


def candidate_of(g, cols, k: int) -> int:
    """The grid candidate (`columns.Grid`) column k of `cols` was built from."""
    return int(
        np.flatnonzero(
            (g.chip == cols.chip[k])
            & (g.t == cols.t[k])
            & (g.p == cols.p[k])
            & (g.ep == cols.ep[k])
            & (g.attention == cols.attention[k])
        )[0]
    )


def evaluate_row(row: dict, model: str, prompt_tokens: int, output_tokens: int) -> dict:
    """`evaluate`'s metrics for a serving answer's fleet row: its design at the requests/s it
    serves, in its phase (the re-check's numbers, by the command a user would run)."""
    from designer.calibration.evaluate import evaluate

    return evaluate(
        model,
        row["chip"],
        tp=row["tp"],
        pp=row["pp"],
        batch=row["batch"],
        replicas=row["replicas"],
        assumptions="deployment",
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        requests_per_s=row["requests_per_s"],
        phase=row["phase"],
        ep=row["ep"],
        attention=row["attention"],
    )["metrics"]

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

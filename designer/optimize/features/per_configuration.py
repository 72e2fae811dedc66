"""The per-configuration requirements, in the order of their residuals in the re-check (the
registry `columns`, `recheck` and `explain` iterate; the faces each module owns are listed in
`designer.optimize.features`). A module of its own so that `columns` reads it without the
fleet features, which import `data` and so `columns`."""

from __future__ import annotations

from designer.optimize.features import kv_transfer, max_batch, memory, rate, slots, ttft

REQUIREMENTS = (rate, ttft, kv_transfer, memory, slots, max_batch)

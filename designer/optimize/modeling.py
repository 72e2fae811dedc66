"""Pyomo's modeling layer (`pyo`), loaded lean: the master problem needs `pyomo.core` (models,
sets, variables, constraints, expressions, objectives) and the standard-form compiler of
`designer.optimize.solver`, not `pyomo.environ`, which also loads every solver interface, writer and
modeling extension (0.25 s more).

Pyomo's dependency registry imports scipy.stats, scipy.integrate and scipy.spatial (0.7 s)
the first time anything imports scipy; the compiler uses scipy.sparse only. The registry's
scipy hook is set, before anything resolves it, to import scipy.sparse alone — the one change
this module makes to Pyomo, and only while scipy is not loaded yet (if it is, Pyomo has run
its hook already and there is nothing left to save). `tests/test_startup.py` checks that
`designer solve` loads neither scipy.stats nor `pyomo.environ`.
"""

from __future__ import annotations

import sys

from pyomo.common import dependencies as _dependencies


def _finalize_scipy_sparse(module, available: bool) -> None:
    if available:
        import scipy.sparse  # noqa: F401  (what the standard-form compiler uses)


def _lean_scipy_hook() -> None:
    indicator = getattr(_dependencies, "scipy_available", None)
    if (
        "scipy" not in sys.modules
        and isinstance(indicator, _dependencies.DeferredImportIndicator)
        and getattr(indicator, "_module", "") is None
        and hasattr(indicator, "_callback")
    ):
        indicator._callback = _finalize_scipy_sparse


_lean_scipy_hook()


def load_compiler() -> None:
    """Import now what the first solve would (scipy.sparse, through Pyomo's deferred import:
    0.1 s): a process about to fork solver workers calls it, so that each worker does not."""
    bool(_dependencies.scipy_available)


from pyomo import core as pyo  # noqa: E402  (after the hook is set)

__all__ = ["pyo"]

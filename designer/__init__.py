"""designer: cost- or power-minimal LLM inference hardware, by optimization.

The performance model is the analytical decode model of arXiv 2507.14397 (LIMINAL); the
optimizer encodes it as a Pyomo MILP solved with HiGHS.

The package is laid out by stage; each stage imports only the stages before it
(`tests/test_layers.py`):

    designer/model/        the forward model and the data it reads (units, catalogs, perf, …)
    designer/calibration/  measurements, fitted profiles, intervals, `evaluate` with a profile
    designer/optimize/     the problem, the MILP and its driver (`solve`), synthesis
    designer/studies/      many solves: compare, sweep, Pareto frontiers, plots
    designer/interface/    the command line and the browser explorer

The public face is this module: `evaluate`, `load_problem`, `solve`, `compare`, `sweep`,
`pareto`, `calibrate` (fit a profile to measurements and cross-validate it:
`designer.calibration.calibrate.make_profile`) and `validate`. Each is imported on first use,
so that `import designer` (and `designer --version`) loads no numerics.

    from designer import evaluate, load_problem, solve
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_PUBLIC = {
    "evaluate": ("designer.calibration.evaluate", "evaluate"),
    "load_problem": ("designer.optimize.problem", "load_problem"),
    "solve": ("designer.optimize.solve", "solve"),
    "compare": ("designer.studies.compare", "compare"),
    "sweep": ("designer.studies.sweep", "sweep"),
    "pareto": ("designer.studies.pareto", "pareto"),
    "calibrate": ("designer.calibration.calibrate", "make_profile"),
    "validate": ("designer.calibration.validate", "validate"),
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'designer' has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})

"""designer: cost- or power-minimal LLM inference hardware, by optimization.

The performance model is the analytical decode model of arXiv 2507.14397 (LIMINAL); the
optimizer encodes it as a Pyomo MILP solved with HiGHS.
"""

__version__ = "0.1.0"

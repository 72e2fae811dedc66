"""Studies built from many solves: compare a space member by member, sweep what-ifs over a
grid (locally or on a Dask cluster), trace exact Pareto frontiers, and plot them. It may
import `designer.model`, `designer.calibration`, `designer.optimize` and itself, never
`designer.interface`.

    from designer import compare, load_problem, pareto, sweep

    table = compare(load_problem("problems/quickstart.toml"), by="chip")
    frame = sweep("study.toml", out="results.csv")          # a pandas DataFrame
    front = pareto(load_problem("problems/quickstart.toml"), y="capex", points=12)
"""

from designer.studies.compare import Comparison, compare
from designer.studies.pareto import Frontier, pareto
from designer.studies.sweep import Study, sweep

__all__ = ["Comparison", "Frontier", "Study", "compare", "pareto", "sweep"]

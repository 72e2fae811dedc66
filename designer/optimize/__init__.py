"""The optimizer: a problem (`problem`, `provenance`) answered by a MILP in two stages.
`columns` turns every (class, chip, partition) into what one replica can do (numpy, once,
immutable); the master MILP (`build` over `features`, solved by `solver`) chooses replicas,
servers and configurations under the requirements that couple them; `solve` drives it and
re-checks the optimum with the forward model (`recheck`), adds `sensitivity`, and on
infeasibility asks `explain` (handed `solve`, not importing it); `synthesis` opens the chip as a
design space and `synthesize` solves it. It may import `designer.model`,
`designer.calibration` and itself, nothing higher.
"""

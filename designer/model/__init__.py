"""The forward model and the data it reads — the lowest stage. Units and files (`units`,
`files`, `outputs`), the project's errors (`errors`), the catalogs of models, chips and costs
(`catalog`, `architecture`, `chipdesign`, `cost`), and the analytical decode and prefill model of
arXiv 2507.14397 with its deployment terms (`workload`, `assumptions`, `experts`, `partition`,
`perf`, `prefill`, `serving`). It may import only itself (and `designer.__version__`); every
other stage imports it.
"""

"""The interface — the highest stage: the command line (`cli`), its tables and messages
(`report`, `plausible`), and the browser explorer (`explorer` computes, `web` draws). It may
import every stage below (`designer.model`, `designer.calibration`, `designer.optimize`,
`designer.studies`); nothing imports it but `designer`'s entry point.
"""

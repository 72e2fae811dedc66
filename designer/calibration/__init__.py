"""Calibration: the forward model held against published measurements. The measurements
(`measurements`), the fitted serving-stack profiles and engines the model applies (`profiles`,
`engines`), their fitting and cross-validation (`calibrate`, `floor`, `validate`), prediction
intervals from held-out errors (`intervals`), and the evaluation of one design with a profile
and its interval (`evaluate`). It may import `designer.model` and itself, nothing higher.
"""

"""The master problem: the features of `features.FEATURES`, declared in order on one model."""

from __future__ import annotations

from designer.optimize.data import FleetData
from designer.optimize.features import FEATURES
from designer.optimize.modeling import pyo


def build(data: FleetData) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name="designer-fleet")
    for feature in FEATURES:
        if feature.applies(data):
            feature.declare(m, data)
    return m


def export(m: pyo.ConcreteModel, data: FleetData) -> dict:
    out: dict = {}
    for feature in FEATURES:
        if feature.applies(data) and hasattr(feature, "export"):
            feature.export(m, data, out)
    return out

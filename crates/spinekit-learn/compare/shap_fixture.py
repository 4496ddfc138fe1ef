"""Computes the `shap` package's TreeSHAP values for the fixture ensemble written by
`cargo run -p spinekit-learn --example treeshap_fixture`, via shap's dict model format, and writes
tests/fixtures/treeshap_expected.json (shap values, expected value, model margins).

Run: python3 crates/spinekit-learn/compare/shap_fixture.py
"""
import json
import os

import numpy as np
import shap

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "tests", "fixtures")

model = json.load(open(os.path.join(FIX, "treeshap_model.json")))
rows = np.array(json.load(open(os.path.join(FIX, "treeshap_rows.json"))), dtype=np.float64)
assert len(model["trees"]) == 1, "binary fixture: one margin"

trees = []
for t in model["trees"][0]:
    nodes = t["nodes"]
    leaf = [n["feature"] is None for n in nodes]
    left = np.array([-1 if l else n["left"] for n, l in zip(nodes, leaf)])
    right = np.array([-1 if l else n["right"] for n, l in zip(nodes, leaf)])
    trees.append({
        "children_left": left,
        "children_right": right,
        "children_default": left.copy(),
        "features": np.array([-2 if l else n["feature"] for n, l in zip(nodes, leaf)]),
        "thresholds": np.array([n["threshold"] for n in nodes], dtype=np.float64),
        "values": np.array([[n["value"]] for n in nodes], dtype=np.float64),
        "node_sample_weight": np.array([n["cover"] for n in nodes], dtype=np.float64),
    })
ens = {"trees": trees, "base_offset": model["base_margin"][0], "tree_output": "raw_value",
       "input_dtype": np.float64, "internal_dtype": np.float64}
ex = shap.TreeExplainer(ens, feature_perturbation="tree_path_dependent")
sv = ex.shap_values(rows)
ev = float(np.ravel(ex.expected_value)[0])
margin = ex.model.predict(rows)
out = {"shap_version": shap.__version__, "expected_value": ev, "shap_values": sv.tolist(),
       "margins": np.ravel(margin).tolist()}
json.dump(out, open(os.path.join(FIX, "treeshap_expected.json"), "w"), indent=1)
print("wrote", len(rows), "rows; shap", shap.__version__, "expected value", ev,
      "max additivity error", float(np.max(np.abs(sv.sum(1) + ev - np.ravel(margin)))))

"""Writes the clustering fixture and scikit-learn's answers on it (tests/fixtures/cluster_*.{csv,json}).

Synthetic data (no patients): three Gaussian groups in 3 numeric columns (one value missing) plus a 3-level
category. scikit-learn 1.9 side: ColumnTransformer(SimpleImputer(median)+StandardScaler on numbers,
SimpleImputer(most_frequent)+OneHotEncoder on the category) = spinekit's cluster_inputs; then
AgglomerativeClustering(linkage="ward") labels and silhouette_score for k = 2..5, and KMeans(algorithm="lloyd",
init=<first k standardised rows>, n_init=1, tol=0) labels / inertia / centers (deterministic).

python3 crates/spinekit-learn/compare/cluster_fixture.py crates/spinekit-learn/tests/fixtures
"""
import json
import sys

import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import silhouette_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

out = sys.argv[1]
rng = np.random.default_rng(7)
means = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [1.0, 5.0, 3.0]])
rows = []
for g, n in enumerate([14, 11, 9]):
    pts = means[g] + rng.normal(scale=[1.0, 0.8, 1.2], size=(n, 3))
    for p in pts:
        cat = ["a", "b", "c"][g] if rng.random() < 0.8 else ["a", "b", "c"][rng.integers(3)]
        rows.append([round(float(v), 3) for v in p] + [cat])
order = rng.permutation(len(rows))
rows = [rows[i] for i in order]
rows[5][1] = None  # one missing value
with open(f"{out}/cluster_data.csv", "w") as f:
    f.write("x1,x2,x3,group\n")
    for r in rows:
        f.write(",".join("" if v is None else str(v) for v in r) + "\n")

num = np.array([[np.nan if v is None else v for v in r[:3]] for r in rows], dtype=float)
cat = np.array([[r[3]] for r in rows], dtype=object)
import pandas as pd  # noqa: E402

df = pd.DataFrame({"x1": num[:, 0], "x2": num[:, 1], "x3": num[:, 2], "group": cat[:, 0]})
ct = ColumnTransformer([
    ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), ["x1", "x2", "x3"]),
    ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(sparse_output=False)), ["group"]),
])
X = ct.fit_transform(df)
expected = {"inputs": X.tolist(), "ward": {}, "kmeans": {}}
for k in range(2, 6):
    lab = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(X)
    expected["ward"][str(k)] = {"labels": lab.tolist(), "silhouette": float(silhouette_score(X, lab))}
    km = KMeans(n_clusters=k, init=X[:k], n_init=1, algorithm="lloyd", tol=0.0, max_iter=300).fit(X)
    expected["kmeans"][str(k)] = {
        "labels": km.labels_.tolist(),
        "inertia": float(km.inertia_),
        "centers": km.cluster_centers_.tolist(),
        "silhouette": float(silhouette_score(X, km.labels_)),
    }
with open(f"{out}/cluster_expected.json", "w") as f:
    json.dump(expected, f, indent=1)
print("written", X.shape)

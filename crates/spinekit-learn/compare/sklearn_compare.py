"""Runs the same outer folds as spinekit-learn through scikit-learn and prints accuracy / AUC / time ratios.

1. RAYON_NUM_THREADS=1 cargo run --release -p spinekit-learn --example compare_folds -- OUT
   (writes OUT/folds.json: fold assignment, our out-of-fold results and timings; one thread for a fair timing)
2. python3 crates/spinekit-learn/compare/sklearn_compare.py OUT/folds.json

scikit-learn side, per outer fold: Pipeline(SimpleImputer(median), StandardScaler, model) tuned by
GridSearchCV(StratifiedKFold(5, shuffle, seed 42), neg_log_loss, n_jobs=1) over the grid equivalent to ours:
LogisticRegression C = 1/(l2·n_train) for l2 in our grid; GradientBoostingClassifier max_depth {1,2,3} x
n_estimators {25,50,100,200,300}, learning_rate 0.1. Single-fit times use our chosen setting on all rows.
Both sides also choose, in the same inner CV, whether heavy-tailed columns (|skewness| > 1.5 on the training
rows) are squashed as asinh((x - median) / MAD) before scaling (HeavyTail below mirrors spinekit's
Preprocessor::fit_with), so scikit-learn sees exactly the same candidate features.
"""
import csv
import json
import sys
import time

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.base import BaseEstimator, TransformerMixin

L2_GRID = [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
HEAVY_TAIL_SKEWNESS = 1.5


class HeavyTail(BaseEstimator, TransformerMixin):
    """asinh((x - median) / MAD) on columns whose training |skewness| exceeds 1.5 (when on)."""

    def __init__(self, on=False):
        self.on = on

    def fit(self, X, y=None):
        self.params_ = []
        if self.on:
            for j in range(X.shape[1]):
                v = X[:, j][~np.isnan(X[:, j])]
                med = np.median(v)
                m2 = np.mean((v - v.mean()) ** 2)
                m3 = np.mean((v - v.mean()) ** 3)
                if len(v) >= 3 and m2 > 1e-300 and abs(m3 / m2 ** 1.5) > HEAVY_TAIL_SKEWNESS:
                    mad = np.median(np.abs(v - med))
                    self.params_.append((j, med, mad if mad > 1e-12 else np.sqrt(m2)))
        return self

    def transform(self, X):
        X = np.array(X, dtype=float, copy=True)
        for j, med, s in self.params_:
            X[:, j] = np.arcsinh((X[:, j] - med) / s)
        return X


def load(task):
    path, cols, target = task["file"], task["columns"], task["target"]
    with open(path) as f:
        if path.endswith(".dat"):
            rows = [line.split() for line in f if line.strip()]
        else:
            r = list(csv.reader(f))
            cols, rows = r[0], r[1:]
    ti = cols.index(target)
    X = np.array([[float(v) for j, v in enumerate(r) if j != ti] for r in rows])
    classes = task["classes"]
    y = np.array([classes.index(r[ti]) for r in rows])
    return X, y


def auc(y, p, k, pos):
    if k == 2:
        return roc_auc_score(y == pos, p[:, pos])
    return roc_auc_score(y, p, multi_class="ovr", average="macro")


def nested(X, y, folds, kind):
    n_folds = max(folds) + 1
    folds = np.array(folds)
    proba = np.zeros((len(y), len(set(y))))
    t0 = time.perf_counter()
    for f in range(n_folds):
        tr, te = folds != f, folds == f
        inner = StratifiedKFold(n_splits=min(5, np.bincount(y[tr]).min()), shuffle=True, random_state=42)
        if kind == "logistic":
            ntr = tr.sum()
            grid = {"logisticregression__C": [1.0 / (l2 * ntr) for l2 in L2_GRID],
                    "heavytail__on": [False, True]}
            est = make_pipeline(SimpleImputer(strategy="median"), HeavyTail(), StandardScaler(),
                                LogisticRegression(max_iter=1000))
        else:
            grid = {"gradientboostingclassifier__max_depth": [1, 2, 3],
                    "gradientboostingclassifier__n_estimators": [25, 50, 100, 200, 300],
                    "heavytail__on": [False, True]}
            est = make_pipeline(SimpleImputer(strategy="median"), HeavyTail(), StandardScaler(),
                                GradientBoostingClassifier(learning_rate=0.1, random_state=0))
        gs = GridSearchCV(est, grid, cv=inner, scoring="neg_log_loss", n_jobs=1).fit(X[tr], y[tr])
        proba[te] = gs.predict_proba(X[te])
    return proba, time.perf_counter() - t0


def single_fit_seconds(X, y, kind, spec, reps=5):
    if kind == "logistic":
        est = LogisticRegression(C=1.0 / (spec["l2"] * len(y)), max_iter=1000)
    else:
        est = GradientBoostingClassifier(learning_rate=spec["learning_rate"], max_depth=spec["max_depth"],
                                         n_estimators=spec["n_rounds"], random_state=0)
    Xs = StandardScaler().fit_transform(X)
    best = []
    for _ in range(reps):
        t0 = time.perf_counter()
        est.fit(Xs, y)
        best.append(time.perf_counter() - t0)
    return float(np.median(best))


def main():
    doc = json.load(open(sys.argv[1]))
    print(f"ours: {doc['threads']} thread(s); scikit-learn: n_jobs=1")
    hdr = f"{'task':14} {'model':9} {'acc ours':>9} {'acc skl':>8} {'bAcc ours':>9} {'bAcc skl':>8} " \
          f"{'AUC ours':>9} {'AUC skl':>8} {'nestedCV s ours':>15} {'skl':>7} {'ratio':>6} " \
          f"{'1 fit ms ours':>13} {'skl':>7} {'ratio':>6}"
    print(hdr)
    for task in doc["tasks"]:
        X, y = load(task)
        k = len(task["classes"])
        pos = task["classes"].index(task["positive"])
        for kind, key in [("logistic", "logistic"), ("boosted", "boosted")]:
            ours = task["results"][key]
            m = ours["metrics"]
            proba, secs = nested(X, y, task["folds"], kind)
            pred = proba.argmax(1)
            spec = ours["single_fit_spec"]
            one = single_fit_seconds(X, y, kind, spec)
            print(f"{task['name']:14} {kind:9} {m['accuracy']['value']:9.4f} {accuracy_score(y, pred):8.4f} "
                  f"{m['balanced_accuracy']['value']:9.4f} {balanced_accuracy_score(y, pred):8.4f} "
                  f"{m['auc']['value']:9.4f} {auc(y, proba, k, pos):8.4f} "
                  f"{ours['nested_cv_seconds']:15.3f} {secs:7.2f} {secs / ours['nested_cv_seconds']:6.1f} "
                  f"{ours['single_fit_seconds'] * 1e3:13.2f} {one * 1e3:7.2f} {one / ours['single_fit_seconds']:6.1f}",
                  flush=True)


if __name__ == "__main__":
    main()

"""spinekit-learn vs scikit-learn on exactly the same outer folds, in one run.

    python3 crates/spinekit-learn/compare/sklearn_compare.py [OUT_DIR]

(from the workspace root; needs scikit-learn and numpy, and ../shared/data or $SPINEKIT_SHARED_DATA.)

1. Runs `cargo run --release -p spinekit-learn --example compare_folds -- OUT_DIR vertebral_3C,vertebral_2C
   logistic,boosted,ensemble` with RAYON_NUM_THREADS=1. That writes OUT_DIR/folds.json: the 10-fold stratified
   outer folds (seed 2024), our out-of-fold probabilities and metrics with CIs, and our timings:
   nested-CV wall time and `train` time (= `fit_tuned` on all rows: inner-CV tuning + final fit, the work of
   `spinekit learn train`).
2. Runs scikit-learn on the same outer folds, one thread (n_jobs=1), each model with its own inner-CV search:
   GridSearchCV(StratifiedKFold(5, shuffle, seed 42), neg_log_loss) on the outer training rows only.
   - LogisticRegression (lbfgs, multinomial): Pipeline(SimpleImputer(median), HeavyTail, StandardScaler, LR),
     C = 1/(l2·n_train) for l2 in our grid, HeavyTail on/off (mirrors our inner-CV-chosen asinh squashing).
   - GradientBoostingClassifier(learning_rate 0.1): max_depth {1,2,3} x n_estimators {25,50,100,200,300} x
     min_samples_leaf {1,10} (30 settings, like our 30: depth x rounds x min child weight {0.5, 3}).
   Timing: the nested CV (10 outer GridSearchCV fits) and the "train" work (one GridSearchCV(refit).fit on all
   rows), both measured in this run; ratio = scikit-learn seconds / ours.
"""
import csv
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
L2_GRID = [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]  # train.rs default_grid(Logistic, L2)
HEAVY_TAIL_SKEWNESS = 1.5  # prep.rs HEAVY_TAIL_SKEWNESS


class HeavyTail(BaseEstimator, TransformerMixin):
    """asinh((x - median) / MAD) on columns whose training |skewness| exceeds 1.5 (when on); prep.rs fit_with."""

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
    y = np.array([task["classes"].index(r[ti]) for r in rows])
    return X, y


def wilson(k, n, z=1.959964):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def auc(y, p, k, pos):
    if k == 2:
        return roc_auc_score(y == pos, p[:, pos])
    return roc_auc_score(y, p, multi_class="ovr", average="macro")


def search(kind, y_train):
    inner = StratifiedKFold(n_splits=min(5, np.bincount(y_train).min()), shuffle=True, random_state=42)
    if kind == "logistic":
        grid = {"logisticregression__C": [1.0 / (l2 * len(y_train)) for l2 in L2_GRID],
                "heavytail__on": [False, True]}
        est = make_pipeline(SimpleImputer(strategy="median"), HeavyTail(), StandardScaler(),
                            LogisticRegression(max_iter=1000))
    else:
        grid = {"gradientboostingclassifier__max_depth": [1, 2, 3],
                "gradientboostingclassifier__n_estimators": [25, 50, 100, 200, 300],
                "gradientboostingclassifier__min_samples_leaf": [1, 10]}
        est = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                            GradientBoostingClassifier(learning_rate=0.1, random_state=0))
    return GridSearchCV(est, grid, cv=inner, scoring="neg_log_loss", n_jobs=1)


def nested(X, y, folds, kind):
    folds = np.array(folds)
    proba = np.zeros((len(y), len(set(y))))
    t0 = time.perf_counter()
    for f in range(folds.max() + 1):
        tr, te = folds != f, folds == f
        proba[te] = search(kind, y[tr]).fit(X[tr], y[tr]).predict_proba(X[te])
    return proba, time.perf_counter() - t0


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(WORKSPACE, "target", "learn-compare"))
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    env.setdefault("SPINEKIT_SHARED_DATA", os.path.normpath(os.path.join(WORKSPACE, "..", "shared", "data")))
    print("ours: cargo run --release -p spinekit-learn --example compare_folds (1 thread) ...", flush=True)
    subprocess.run(["cargo", "run", "--release", "-q", "-p", "spinekit-learn", "--example", "compare_folds", "--",
                    out, "vertebral_3C,vertebral_2C", "logistic,boosted,ensemble"],
                   cwd=WORKSPACE, env=env, check=True)
    doc = json.load(open(os.path.join(out, "folds.json")))
    print(f"\nours: {doc['threads']} thread; scikit-learn: n_jobs=1; same outer folds (10-fold stratified, seed 2024)")
    print(f"{'task':13} {'model':9} {'side':5} {'accuracy [95% CI]':26} {'bal.acc':>7} {'AUC [95% CI]':28} "
          f"{'nestedCV s':>10} {'train s':>8}")
    ratios = []
    for task in doc["tasks"]:
        X, y = load(task)
        k, n = len(task["classes"]), len(y)
        pos = task["classes"].index(task["positive"])
        for kind in ["logistic", "boosted", "ensemble"]:
            ours = task["results"][kind]
            m = ours["metrics"]
            a, b, u = m["accuracy"], m["balanced_accuracy"], m["auc"]
            print(f"{task['name']:13} {kind:9} {'ours':5} {a['value']:.4f} [{a['ci_lower']:.4f}, {a['ci_upper']:.4f}]"
                  f"   {b['value']:7.4f} {u['value']:.4f} [{u['ci_lower']:.4f}, {u['ci_upper']:.4f}] {u['ci_method']:8}"
                  f" {ours['nested_cv_seconds']:10.2f} {ours['train_seconds']:8.3f}", flush=True)
            if kind == "ensemble":
                continue  # scikit-learn side: LogisticRegression and GradientBoostingClassifier only
            proba, secs = nested(X, y, task["folds"], kind)
            t0 = time.perf_counter()
            search(kind, y).fit(X, y)
            train = time.perf_counter() - t0
            pred = proba.argmax(1)
            hits = int((pred == y).sum())
            lo, hi = wilson(hits, n)
            print(f"{'':13} {'':9} {'skl':5} {hits / n:.4f} [{lo:.4f}, {hi:.4f}]   "
                  f"{balanced_accuracy_score(y, pred):7.4f} {auc(y, proba, k, pos):.4f} {'':28}"
                  f"{secs:10.2f} {train:8.3f}   time ratio skl/ours: nested CV "
                  f"{secs / ours['nested_cv_seconds']:.1f}x, train {train / ours['train_seconds']:.1f}x", flush=True)
            ratios.append((task["name"], kind, secs / ours["nested_cv_seconds"], train / ours["train_seconds"]))
    print("\ntraining-time ratio scikit-learn / spinekit (same grid size, same folds, one thread each):")
    for name, kind, r_cv, r_train in ratios:
        print(f"  {name:13} {kind:9} nested CV {r_cv:6.1f}x   train {r_train:6.1f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Reference values for spinekit-validate, computed with independent implementations.

Writes fixtures.json (the inputs, defined below: seeded numpy draws plus literal arrays) and expected.json (what
scikit-learn, scipy, medpy and pingouin say). The Rust tests read both and must agree to 1e-6.
Run: python3 reference.py  (needs: numpy scipy scikit-learn medpy pingouin pandas). Outputs are deterministic.

Array convention in fixtures.json: 3D label maps are flat lists with i fastest (spinekit's memory order); numpy
sees them as shape (nk, nj, ni), so spacing is reversed for medpy.
"""
import json
import warnings
import os

import numpy as np
import pandas as pd
import pingouin
import scipy.ndimage as ndi
import scipy.stats as st
from medpy.metric import binary as mb
from sklearn.metrics import cohen_kappa_score, mean_absolute_error, roc_auc_score

warnings.filterwarnings("ignore", category=RuntimeWarning)  # pingouin.anova: empty interaction cell with one rating per cell
HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240601)


def rot(ax, ay, az):
    """Rotation matrix; its columns are the voxel axis directions in LPS."""
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def blob_map(dims, centres, radii, spacing):
    """Label map (k, j, i) of ellipsoid blobs in mm; later labels overwrite earlier ones."""
    nk, nj, ni = dims[2], dims[1], dims[0]
    k, j, i = np.meshgrid(np.arange(nk), np.arange(nj), np.arange(ni), indexing="ij")
    out = np.zeros((nk, nj, ni), dtype=np.uint16)
    for lab, (c, r) in enumerate(zip(centres, radii), start=1):
        d = ((i - c[0]) * spacing[0]) ** 2 + ((j - c[1]) * spacing[1]) ** 2 + ((k - c[2]) * spacing[2]) ** 2
        out[d <= r * r] = lab
    return out


# ---------------------------------------------------------------- segmentation fixtures
seg_cases = []
for case in range(3):
    dims = [int(x) for x in rng.integers([14, 12, 7], [20, 17, 11])]
    spacing = [float(x) for x in np.round(rng.uniform([0.4, 0.4, 1.5], [1.0, 1.0, 3.0]), 3)]
    direction = rot(*rng.uniform(-0.6, 0.6, 3))
    origin = [float(x) for x in np.round(rng.uniform(-100, 100, 3), 2)]
    centres = [rng.uniform([2, 2, 1], [dims[0] - 2, dims[1] - 2, dims[2] - 1]) for _ in range(3)]
    radii = [float(rng.uniform(2.5, 5.0)) for _ in range(3)]
    ref = blob_map(dims, centres, radii, spacing)
    # Prediction: shifted/resized blobs plus voxel noise; label 3 pushed to the image border in one case.
    pc = [c + rng.uniform(-1.5, 1.5, 3) for c in centres]
    if case == 1:
        pc[2] = np.array([0.0, pc[2][1], pc[2][2]])
    pr = [r * float(rng.uniform(0.8, 1.2)) for r in radii]
    pred = blob_map(dims, pc, pr, spacing)
    flip = rng.random(pred.shape) < 0.03
    pred[flip] = rng.integers(0, 4, flip.sum())
    if case == 2:
        pred[pred == 2] = 0  # a missing label: surface distances undefined
        pred[0, 0, 0] = 5  # a label only in the prediction
    seg_cases.append(
        dict(
            name=f"blobs{case}",
            dims=dims,
            spacing_mm=spacing,
            direction=[[float(v) for v in direction[:, a]] for a in range(3)],
            origin_mm=origin,
            pred=[int(v) for v in pred.ravel()],
            ref=[int(v) for v in ref.ravel()],
        )
    )


def seg_expected(c):
    dims = c["dims"]
    shape = (dims[2], dims[1], dims[0])
    pred = np.array(c["pred"]).reshape(shape)
    ref = np.array(c["ref"]).reshape(shape)
    sp = tuple(reversed(c["spacing_mm"]))
    m = np.array(c["direction"]).T * np.array(c["spacing_mm"])  # columns: spacing * direction
    out = {}
    for lab in sorted(set(np.unique(pred)) | set(np.unique(ref)) - {0}):
        if lab == 0:
            continue
        p, r = pred == lab, ref == lab
        e = dict(dice=float(mb.dc(p, r)), jaccard=float(mb.jc(p, r)))
        if p.any() and r.any():
            e["hd95_mm"] = float(mb.hd95(p, r, voxelspacing=sp, connectivity=1))
            e["hd_mm"] = float(mb.hd(p, r, voxelspacing=sp, connectivity=1))
            e["assd_mm"] = float(mb.assd(p, r, voxelspacing=sp, connectivity=1))
        if r.any():
            ck, cj, ci = ndi.center_of_mass(r)
            e["ref_centroid_mm"] = [float(v) for v in np.array(c["origin_mm"]) + m @ np.array([ci, cj, ck])]
        out[str(int(lab))] = e
    return out


# ---------------------------------------------------------------- continuous agreement
agree_cases = [
    dict(name="literal", pred=[10.2, 25.1, 33.0, 41.7, 18.4, 55.9, 12.0, 29.3], ref=[11.0, 24.0, 35.5, 40.2, 18.9, 52.3, 13.1, 30.0]),
]
x = rng.normal(30, 12, 40)
agree_cases.append(dict(name="cobb40", pred=[float(v) for v in np.round(x + rng.normal(1.0, 3.0, 40), 3)], ref=[float(v) for v in np.round(x, 3)]))


def ba_expected(pred, ref):
    d = np.array(pred) - np.array(ref)
    n = len(d)
    bias, s = d.mean(), d.std(ddof=1)
    t = st.t.ppf(0.975, n - 1)
    se_b, se_l = s / np.sqrt(n), s * np.sqrt(1 / n + 1.96**2 / (2 * (n - 1)))
    lo, hi = bias - 1.96 * s, bias + 1.96 * s
    return dict(
        bias=[bias, bias - t * se_b, bias + t * se_b],
        sd=s,
        loa_lower=[lo, lo - t * se_l, lo + t * se_l],
        loa_upper=[hi, hi - t * se_l, hi + t * se_l],
    )


def icc_expected(ratings):
    """ICC values from pingouin; pingouin rounds its CI95 to 2 decimals, so the full-precision CIs are recomputed
    here from pingouin's mean squares with the McGraw & Wong (1996) formulas and scipy's F quantiles, and checked
    against pingouin's rounded interval."""
    ratings = np.asarray(ratings, float)
    n, k = ratings.shape
    df = pd.DataFrame(
        dict(subject=np.repeat(np.arange(n), k), rater=np.tile(np.arange(k), n), y=ratings.ravel())
    )
    t = pingouin.intraclass_corr(data=df, targets="subject", raters="rater", ratings="y").set_index("Type")
    aov = pingouin.anova(data=df, dv="y", between=["subject", "rater"], ss_type=2)
    msb, msj, mse = aov.at[0, "MS"], aov.at[1, "MS"], aov.at[2, "MS"]
    icc2, icc3 = float(t.loc["ICC(A,1)", "ICC"]), float(t.loc["ICC(C,1)", "ICC"])
    df1, df2 = n - 1, (n - 1) * (k - 1)
    f3 = msb / mse
    f3l, f3u = f3 / st.f.ppf(0.975, df1, df2), f3 * st.f.ppf(0.975, df2, df1)
    ci3 = [(f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)]
    fj = msj / mse
    a = n * (1 + (k - 1) * icc2) - k * icc2
    v = df2 * (k * icc2 * fj + a) ** 2 / (df1 * k**2 * icc2**2 * fj**2 + a**2)
    f2u, f2l = st.f.ppf(0.975, n - 1, v), st.f.ppf(0.975, v, n - 1)
    c = k * msj + (k * n - k - n) * mse
    ci2 = [n * (msb - f2u * mse) / (f2u * c + n * msb), n * (f2l * msb - mse) / (c + n * f2l * msb)]
    for typ, ci in (("ICC(A,1)", ci2), ("ICC(C,1)", ci3)):
        assert np.allclose(np.round(ci, 2), t.loc[typ, "CI95"], atol=0.0051), (typ, ci, t.loc[typ, "CI95"])
    return dict(icc2_1=[icc2, *map(float, ci2)], icc3_1=[icc3, *map(float, ci3)])


icc_cases = [dict(name=a["name"], ratings=[[p, r] for p, r in zip(a["pred"], a["ref"])]) for a in agree_cases]
# Shrout & Fleiss (1979) Table 2: 6 targets x 4 judges.
icc_cases.append(dict(name="shrout_fleiss", ratings=[[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]))

# ---------------------------------------------------------------- kappa
kappa_cases = [
    dict(name="genant", a=[0, 1, 2, 3, 0, 1, 1, 2, 0, 0, 3, 2, 1, 0, 2], b=[0, 1, 1, 3, 0, 2, 1, 2, 1, 0, 2, 2, 1, 0, 3]),
]
g = rng.integers(0, 5, 60)
kappa_cases.append(dict(name="five60", a=[int(v) for v in g], b=[int(v) for v in np.clip(g + rng.integers(-1, 2, 60), 0, 4)]))

# ---------------------------------------------------------------- ROC / DeLong


def delong(truth, scores):
    """Fast DeLong (Sun & Xu 2014) with scipy's midranks, written independently of the Rust code."""
    truth = np.asarray(truth, bool)
    s = np.asarray(scores, float)
    x, y = s[truth], s[~truth]
    m, n = len(x), len(y)
    tx, ty, tz = st.rankdata(x), st.rankdata(y), st.rankdata(np.concatenate([x, y]))
    auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:m] - tx) / n
    v01 = 1 - (tz[m:] - ty) / m
    var = np.var(v10, ddof=1) / m + np.var(v01, ddof=1) / n
    half = st.norm.ppf(0.975) * np.sqrt(var)
    return auc, var, max(0.0, auc - half), min(1.0, auc + half)


roc_cases = []
for name, npos, nneg, sep, rounding in (("continuous", 30, 45, 1.2, 6), ("ties", 25, 25, 0.8, 0)):
    t = np.r_[np.ones(npos, bool), np.zeros(nneg, bool)]
    sc = np.r_[rng.normal(sep, 1, npos), rng.normal(0, 1, nneg)]
    sc = np.round(sc * (1 if rounding else 2), rounding)
    perm = rng.permutation(len(t))
    roc_cases.append(dict(name=name, truth=[bool(v) for v in t[perm]], scores=[float(v) for v in sc[perm]]))

wilson_cases = [[0, 10], [3, 10], [10, 10], [47, 52], [1, 1], [123, 456]]

binary_cases = [dict(name="screen", truth=[bool(v) for v in rng.random(50) < 0.4])]
binary_cases[0]["pred"] = [bool(t) if rng.random() < 0.8 else (not t) for t in binary_cases[0]["truth"]]

# ---------------------------------------------------------------- SMAPE (AASCE)
a = np.abs(rng.normal(20, 12, (12, 3)))
smape_cases = [dict(name="aasce12", ref=np.round(a, 3).tolist(), pred=np.round(np.abs(a + rng.normal(0, 4, a.shape)), 3).tolist())]
smape_cases[0]["ref"][3] = [0.0, 0.0, 0.0]
smape_cases[0]["pred"][3] = [0.0, 0.0, 0.0]

# ---------------------------------------------------------------- identification (VerSe)
lv = np.arange(1, 11)
refc = np.c_[rng.normal(0, 3, 10), rng.normal(0, 3, 10), -30.0 * lv]
predc = refc + rng.normal(0, 6, (10, 3))
predc[4] = refc[5] + [1.0, 0.0, 0.0]  # level 5 predicted onto level 6: not the closest to level 5
keep = [i for i in range(10) if i != 7]  # level 8 missed
ident_case = dict(
    name="ten_levels",
    ref={str(int(l)): [float(v) for v in c] for l, c in zip(lv, refc)},
    pred={str(int(lv[i])): [float(v) for v in predc[i]] for i in keep} | {"42": [500.0, 0.0, 0.0]},
)


def ident_expected(case, radius=20.0):
    ref = {int(k): np.array(v) for k, v in case["ref"].items()}
    pred = {int(k): np.array(v) for k, v in case["pred"].items()}
    plabels = sorted(pred)
    P = np.array([pred[k] for k in plabels])
    hits, dists = 0, []
    for lab, x in ref.items():
        if lab not in pred:
            continue
        dd = np.linalg.norm(P - x, axis=1)
        d = dd[plabels.index(lab)]
        dists.append(d)
        hits += int(d < radius and dd.min() >= d)
    return dict(rate=hits / len(ref), mean_localisation_mm=float(np.mean(dists)))


# ---------------------------------------------------------------- percentile
pct_case = dict(x=[float(v) for v in rng.normal(0, 1, 17)], q=[0, 2.5, 5, 25, 50, 95, 97.5, 100])

fixtures = dict(
    segmentation=seg_cases,
    agreement=agree_cases,
    icc=icc_cases,
    kappa=kappa_cases,
    roc=roc_cases,
    wilson=wilson_cases,
    binary=binary_cases,
    smape=smape_cases,
    identification=[ident_case],
    percentile=pct_case,
)

expected = dict(
    tools=dict(
        medpy=__import__("medpy").__version__ if hasattr(__import__("medpy"), "__version__") else "installed",
        scipy=__import__("scipy").__version__,
        sklearn=__import__("sklearn").__version__,
        pingouin=pingouin.__version__,
        numpy=np.__version__,
    ),
    segmentation={c["name"]: seg_expected(c) for c in seg_cases},
    agreement={
        c["name"]: dict(mae=float(mean_absolute_error(c["ref"], c["pred"])), bland_altman=ba_expected(c["pred"], c["ref"]))
        for c in agree_cases
    },
    icc={c["name"]: icc_expected(c["ratings"]) for c in icc_cases},
    kappa={
        c["name"]: {w or "unweighted": float(cohen_kappa_score(c["a"], c["b"], weights=w)) for w in (None, "linear", "quadratic")}
        for c in kappa_cases
    },
    roc={c["name"]: dict(zip(("auc", "variance", "ci_lower", "ci_upper"), map(float, delong(c["truth"], c["scores"]))))
         | dict(sklearn_auc=float(roc_auc_score(c["truth"], c["scores"]))) for c in roc_cases},
    wilson=[[float(v) for v in st.binomtest(k, n).proportion_ci(0.95, method="wilson")] for k, n in wilson_cases],
    binary={},
    smape={},
    identification={ident_case["name"]: ident_expected(ident_case)},
    percentile=[float(np.percentile(pct_case["x"], q)) for q in pct_case["q"]],
)
for c in binary_cases:
    t, p = np.array(c["truth"]), np.array(c["pred"])
    tp, fn, tn, fp = int((t & p).sum()), int((t & ~p).sum()), int((~t & ~p).sum()), int((~t & p).sum())
    se = st.binomtest(tp, tp + fn).proportion_ci(0.95, method="wilson")
    sp = st.binomtest(tn, tn + fp).proportion_ci(0.95, method="wilson")
    expected["binary"][c["name"]] = dict(
        sensitivity=[tp / (tp + fn), se.low, se.high], specificity=[tn / (tn + fp), sp.low, sp.high]
    )
for c in smape_cases:
    p, r = np.array(c["pred"]), np.array(c["ref"])
    num, den = np.abs(p - r).sum(1), (p + r).sum(1)
    per = np.where(den == 0, 0.0, 100 * num / np.where(den == 0, 1, den))
    expected["smape"][c["name"]] = float(per.mean())


def dump(obj, name):
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        raise TypeError(type(o))

    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True, default=default)
        f.write("\n")


dump(fixtures, "fixtures.json")
dump(expected, "expected.json")
print("wrote fixtures.json and expected.json")

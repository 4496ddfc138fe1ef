#!/usr/bin/env bash
# Recomputes the reference values with scikit-learn, scipy, medpy and pingouin and fails if fixtures.json or
# expected.json changed: same structure and strings, numbers equal to 1e-9 (relative, or absolute near zero).
# A last-digit difference between numpy builds (summation order) is not a change; the Rust tests compare to 1e-6.
# Needs: pip install numpy scipy scikit-learn medpy pingouin pandas
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
committed="$(mktemp -d)"
cp "$here/fixtures.json" "$here/expected.json" "$committed/"
# The committed files are put back whatever happens (the recomputed ones are only compared).
trap 'cp "$committed/fixtures.json" "$committed/expected.json" "$here/"; rm -rf "$committed"' EXIT
python3 "$here/reference.py"
python3 - "$committed" "$here" <<'PY'
import json, math, sys
old_dir, new_dir = sys.argv[1], sys.argv[2]

def same(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())} differ"]
        return [e for k in a for e in same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} vs {len(b)}"]
        return [e for i, (x, y) in enumerate(zip(a, b)) for e in same(x, y, f"{path}[{i}]")]
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) and not isinstance(b, bool):
        if math.isnan(a) and math.isnan(b):
            return []
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]

errors = []
for name in ("fixtures.json", "expected.json"):
    with open(f"{old_dir}/{name}") as f:
        old = json.load(f)
    with open(f"{new_dir}/{name}") as f:
        new = json.load(f)
    errors += same(old, new, name)
if errors:
    print("reference values changed:", *errors[:20], sep="\n  ")
    sys.exit(1)
print("reference values unchanged (to 1e-9)")
PY

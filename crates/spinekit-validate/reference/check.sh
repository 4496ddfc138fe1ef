#!/usr/bin/env bash
# Recomputes the reference values with scikit-learn, scipy, medpy and pingouin and fails if expected.json changed.
# Needs: pip install numpy scipy scikit-learn medpy pingouin pandas
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 "$here/reference.py"
git -C "$here" diff --exit-code -- fixtures.json expected.json

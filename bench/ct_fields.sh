#!/usr/bin/env bash
# Level naming on generated phantom fields, case by case: the numbering status and how many names are wrong.
# Used to compare two builds of the CT engine (run it with each build's `field` binary) before a change lands.
#
# Usage: bench/ct_fields.sh SUITE [FIELD_BIN]
#   SUITE: matrix   (44 cases: five enumerations, chest/lumbar/cervical fields, grids 1, 2, 3, 0.8x0.8x3 mm; ~4 min)
#          contrast (36 cases: portal-venous/arterial phases, noise 15/30/45 HU, marrow 170/80 HU, 0.8x0.8x1 mm; ~5 min)
#          angio    (12 cases: CT angiograms, aorta 400/500 HU, noise 15/45 HU, 0.8x0.8x1 mm; ~2 min)
#          sweep    (84 cases: seven fields x grids 1, 2, 0.8x0.8x3 mm x noise 15/35 HU x marrow 170/80 HU; ~8 min)
#          slab     (12 cases: 5 mm slices averaged from 1 mm, with fatty marrow, noise or contrast; ~2 min)
#          thick_angio (24 cases: CT angiograms at 2 and 3 mm, aorta 400/450/500 HU, marrow 170/80 HU; ~2 min)
#          oral     (12 cases: positive oral contrast 250/400/1000 HU in the small bowel, 1 and 3 mm; ~2 min)
#   FIELD_BIN: a built `field` example (default: builds this checkout's).
# Prints one line per case (status, wrong names / names found; "error" where the run ended in an error) and a
# total; "confident+wrong" must stay 0.
set -euo pipefail
cd "$(dirname "$0")/.."
suite="${1:?usage: bench/ct_fields.sh matrix|contrast|angio|sweep|slab|thick_angio|oral [FIELD_BIN]}"
bin="${2:-}"
if [ -z "$bin" ]; then
  cargo build --release -q -p spinekit-ct --example field
  bin="${CARGO_TARGET_DIR:-target}/release/examples/field"
fi
[ -x "$bin" ] || { echo "ct_fields: not an executable: $bin" >&2; exit 1; }

total=0 wrong=0 confident_wrong=0 cases=0
# run "ENV=… ENV=…" VARIANT FIRST LAST VOXEL
run() {
  local envs="$1"; shift
  local out status n w
  # A run that ends in an error (no spine found, say) is a case with that status and no names.
  if out=$(env $envs "$bin" "$@" 2>&1); then
    # (A here-string, not a pipe: grep -m1 stops reading early, and with pipefail the writer's SIGPIPE would
    # count as a failure.)
    status=$(grep -m1 -oE '^(Confident|Uncertain|Failed)' <<<"$out" || echo "?")
  else
    status=error
  fi
  n=$(grep -c ' truth ' <<<"$out" || true)
  w=$(grep -c ' WRONG ' <<<"$out" || true)
  printf '%-40s %-28s %-10s %2d/%-2d wrong\n' "$envs" "$*" "$status" "$w" "$n"
  total=$((total + n)); wrong=$((wrong + w)); cases=$((cases + 1))
  if [ "$status" = Confident ] && [ "$w" -gt 0 ]; then confident_wrong=$((confident_wrong + 1)); fi
}

# thoracolumbar "ENV=… ENV=…": the three contrast fields (T10–sacrum, T4–L3, T1–T12) at 0.8 x 0.8 x 1 mm.
thoracolumbar() {
  for f in "T10 sacrum" "T4 L3" "T1 T12"; do
    # shellcheck disable=SC2086
    run "$1" normal $f 0.8,0.8,1
  done
}

case "$suite" in
  matrix)
    for vox in 1 2 3 0.8,0.8,3; do
      for e in normal l6 t13 eleven sacl5; do run "" "$e" T10 sacrum "$vox"; done
      run "" normal T1 T12 "$vox"
      run "" normal T4 L3 "$vox"
      run "" normal L1 sacrum "$vox"
      run "" normal C1 T3 "$vox"
      run "" l6 L1 sacrum "$vox"
      run "" t13 T1 L2 "$vox"
    done
    ;;
  contrast)
    for phase in venous arterial; do
      for noise in 15 30 45; do
        for hu in 170 80; do thoracolumbar "CONTRAST=$phase NOISE=$noise HU=$hu"; done
      done
    done
    ;;
  sweep)
    for vox in 1 2 0.8,0.8,3; do
      for noise in 15 35; do
        for hu in 170 80; do
          for f in "T10 sacrum" "T1 T12" "T4 L3" "L1 sacrum" "C1 T3" "T8 L5" "C3 T6"; do
            # shellcheck disable=SC2086
            run "NOISE=$noise HU=$hu" normal $f "$vox"
          done
        done
      done
    done
    ;;
  angio)
    for aorta in 400 500; do
      for noise in 15 45; do thoracolumbar "CONTRAST=arterial AORTA=$aorta NOISE=$noise"; done
    done
    ;;
  slab)
    for f in "T10 sacrum" "T4 L3" "T1 T12"; do
      for envs in "HU=80" "NOISE=40" "CONTRAST=venous" "CONTRAST=arterial"; do
        # shellcheck disable=SC2086
        run "SLAB=5 $envs" normal $f 1
      done
    done
    ;;
  thick_angio)
    for vox in 2 3; do
      for aorta in 400 450 500; do
        for hu in 170 80; do
          for f in "T10 sacrum" "T4 L3"; do
            # shellcheck disable=SC2086
            run "CONTRAST=arterial AORTA=$aorta HU=$hu" normal $f "$vox"
          done
        done
      done
    done
    ;;
  oral)
    for vox in 1 3; do
      for oral in 250 400 1000; do
        for f in "T10 sacrum" "L1 sacrum"; do
          # shellcheck disable=SC2086
          run "ORAL=$oral" normal $f "$vox"
        done
      done
    done
    ;;
  *) echo "ct_fields: unknown suite $suite" >&2; exit 2 ;;
esac
echo "TOTAL $suite: $cases cases, $wrong of $total names wrong, $confident_wrong confident+wrong"

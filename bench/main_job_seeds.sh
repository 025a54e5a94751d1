#!/usr/bin/env bash
# The main job (`ar1 train` with its defaults) over several seeds and thread counts: one line per
# run with its final stream accuracy and the digest of its final checkpoint's tensors
# (bench/checkpoint_digest.py), then mean and min per thread count, and whether every seed gave
# the same accuracies and checkpoint on every thread count (it must: docs/reproducibility.md).
# With --naive, the first thread count's runs also train the Naive baseline.
#
#   bench/main_job_seeds.sh [--seeds "0 1 2 3 4"] [--threads "1 2"] [--naive] [-- extra ar1 flags]
#
# Run directories go to ${OUT:-runs/seeds}/<flags-hash>/s<seed>-t<threads>; an existing one is
# reused (its eval_results.csv is read again), so an interrupted sweep continues.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ar1="${AR1:-$root/build/tools/ar1}"
seeds="0 1 2 3 4"
threads="1 2"
naive=0
extra=()
while (($#)); do
  case "$1" in
    --seeds) seeds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --naive) naive=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "[main_job_seeds] unknown option $1 (known: --seeds, --threads, --naive, --)" >&2; exit 2 ;;
  esac
done
[[ -x "$ar1" ]] || { echo "[main_job_seeds] $ar1 not found: build first (tools/setup.sh)" >&2; exit 2; }

tag=$(printf '%s ' "${extra[@]}" | sha1sum | cut -c1-8)
out="${OUT:-$root/runs/seeds}/$tag"
mkdir -p "$out"
echo "# ar1 main job, extra flags: ${extra[*]:-(none)}; runs in $out"

# AR1's final stream accuracy, from the log's last line.
final_accuracy() { awk '/^final stream accuracy/ { a = $4 } END { printf "%.1f", 100 * a }' "$1/log.txt"; }
# The baseline's final stream accuracy, from the summary table of the log.
naive_accuracy() { awk '/^exp +AR1 acc +Naive acc/ { on = 1; next } on && NF == 3 { a = $3 } END { printf "%.1f", 100 * a }' "$1/log.txt"; }

first_threads=${threads%% *}
declare -A acc
for t in $threads; do
  for s in $seeds; do
    dir="$out/s$s-t$t"
    flags=(--seed "$s" --threads "$t" "${extra[@]}")
    if ((naive)) && [[ $t == "$first_threads" ]]; then flags+=(--baseline naive); fi
    if [[ ! -f "$dir/done" ]]; then
      rm -rf "$dir"
      mkdir -p "$dir"
      start=$(date +%s)
      "$ar1" train --out "$dir/run" "${flags[@]}" > "$dir/log.txt" 2>&1
      echo $(($(date +%s) - start)) > "$dir/seconds"
      cp "$dir/run/eval_results.csv" "$dir/eval_results.csv"
      touch "$dir/done"
    fi
    acc[$s,$t]=$(final_accuracy "$dir")
    [[ -f "$dir/digest" ]] || "$root/bench/checkpoint_digest.py" "$dir/run/checkpoint.safetensors" > "$dir/digest"
    line="seed $s threads $t: final stream accuracy ${acc[$s,$t]} % ($(cat "$dir/seconds") s), checkpoint $(cut -c1-16 "$dir/digest")"
    if grep -q "Naive acc" "$dir/log.txt"; then line+=", Naive $(naive_accuracy "$dir") %"; fi
    echo "$line"
  done
done

for t in $threads; do
  list=""
  for s in $seeds; do list+="${acc[$s,$t]} "; done
  echo "threads $t: $list| mean $(echo "$list" | awk '{ for (i = 1; i <= NF; ++i) s += $i; printf "%.1f", s / NF }') min $(echo "$list" | awk '{ m = $1; for (i = 2; i <= NF; ++i) if ($i < m) m = $i; print m }')"
done
same=yes
for s in $seeds; do
  for t in $threads; do
    # AR1's rows: the loss and accuracy after every experience, to the last printed digit.
    cmp -s <(cut -d, -f1-4 "$out/s$s-t$first_threads/eval_results.csv") \
      <(cut -d, -f1-4 "$out/s$s-t$t/eval_results.csv") || same=no
    cmp -s "$out/s$s-t$first_threads/digest" "$out/s$s-t$t/digest" || same=no
  done
done
echo "every thread count gave the same accuracies and checkpoint for every seed: $same"

#!/usr/bin/env bash
# Builds ar1 with its CUDA backend on a GPU machine that has the CUDA toolkit, cuDNN, CMake
# and a C++ compiler but none of Debian's -dev packages and no network, runs the CUDA tests
# (the ops, the tensors, AR1 on the GPU against the CPU, graphs against eager, both replay
# placements, deterministic mode, checkpoints across devices) and the kernel tests beside them,
# then the GPU benchmarks (every kernel against the measured GPU roofline; the AR1 workloads
# eager and as CUDA graphs) and the PyTorch comparison on the same GPU (where python3 has
# torch), and prints a one-page summary. Without a GPU it still builds; the CUDA tests report
# Skipped and the benchmarks say there is nothing to measure.
#
# Usage, from the repository's top folder:
#
#   tools/pack_device_deps.sh          # once, on a Debian 12 machine with network
#   tools/device_check.sh [--deps DIR] [--build DIR] [--jobs N] [--budget S] [--no-bench]
#
#   --deps DIR   the folder tools/pack_device_deps.sh made (default .device-deps)
#   --build DIR  build folder (default build-device)
#   --jobs N     parallel build jobs (default: every core)
#   --budget S   seconds the whole check may take (default 450): the PyTorch comparison starts
#                no process past it, and a PyTorch process is ended after 100 s
#   --no-bench   build and test only
#
# cuDNN is taken from the CUDA toolkit's folder when it is there, else from the PyPI package
# nvidia-cudnn-cu13 (or -cu12) of the python3 on PATH, else from $CUDNN_ROOT. Only the GPU's
# own architecture is compiled (nvidia-smi's compute capability; 80 and 90 without a GPU).
# Where $OUT is set (the device tool), the summary and the test log are copied there.
# Exit status: 0 when the build succeeded and no test failed, 1 otherwise, 2 for bad usage.
set -uo pipefail

deps=.device-deps
build=build-device
jobs=$(nproc)
budget=450
bench=1
while (($# > 0)); do
  case "$1" in
    --deps) deps=${2:?--deps needs a folder}; shift 2 ;;
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    --budget) budget=${2:?--budget needs seconds}; shift 2 ;;
    --no-bench) bench=0; shift ;;
    -h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "[device-check] unknown option $1 (known: --deps, --build, --jobs, --budget, --no-bench)" >&2
       exit 2 ;;
  esac
done

start=$(date +%s)
die() { echo "[device-check] error: $*" >&2; exit 1; }
elapsed() { local s=$(($(date +%s) - $1)); printf '%d:%02d' $((s / 60)) $((s % 60)); }

[[ -f CMakeLists.txt && -d kernels/cuda ]] || die "run it from ar1's top folder"
[[ -f "$deps/packages.txt" ]] ||
  die "no dependency folder at $deps: make it with tools/pack_device_deps.sh on a Debian 12 machine"
root=$(cd "$deps/root" && pwd)
libdir=$root/usr/lib/x86_64-linux-gnu

# ---- the toolchain that is there
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[[ -x "$nvcc" ]] || die "no nvcc on PATH or in /usr/local/cuda/bin: install the CUDA toolkit"
cuda_home=$(cd "$(dirname "$nvcc")/.." && pwd)
command -v cmake > /dev/null || die "no cmake on PATH (3.25 or newer)"
cxx=${CXX:-$(command -v g++ || command -v c++ || true)}
[[ -n "$cxx" ]] || die "no C++ compiler (g++) on PATH"

cudnn_root=${CUDNN_ROOT:-}
if [[ -z "$cudnn_root" && -f "$cuda_home/include/cudnn_version.h" ]]; then
  cudnn_root=$cuda_home
fi
if [[ -z "$cudnn_root" ]] && command -v python3 > /dev/null; then
  cudnn_root=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' \
    2> /dev/null || true)
fi
[[ -n "$cudnn_root" && -f "$cudnn_root/include/cudnn_version.h" ]] ||
  die "cuDNN not found (not in $cuda_home, no nvidia-cudnn Python package): set CUDNN_ROOT"
cudnn_version=$(awk '/#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) /{printf "%s%s", sep, $3; sep="."}' \
  "$cudnn_root/include/cudnn_version.h")

gpu=none
arch="80;90"
if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
  gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)
  cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
  [[ -n "$cap" ]] && arch=$cap
fi

# ---- build against the unpacked packages
export CMAKE_PREFIX_PATH="$root/usr:$libdir/cmake${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export CMAKE_INCLUDE_PATH="$root/usr/include"
export CMAKE_LIBRARY_PATH="$libdir"
export LD_LIBRARY_PATH="$libdir:$cudnn_root/lib:$cuda_home/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LIBRARY_PATH="$libdir:$cudnn_root/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
export CUDNN_ROOT="$cudnn_root"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
mkdir -p "$build"
log=$build/device_check.log
: > "$log"

echo "[device-check] configuring in $build (CUDA architectures $arch)"
configure_start=$(date +%s)
if ! cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DAR1_CUDA=ON \
    -DAR1_BUILD_BENCH=$( ((bench)) && echo ON || echo OFF) -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" >> "$log" 2>&1; then
  tail -30 "$log"
  die "cmake failed (log: $log)"
fi
echo "[device-check] building with $jobs jobs"
targets=(ar1 ar1_tests_cuda ar1_tests_kernels ar1_tests_nn)
((bench)) && targets+=(ar1_bench_workloads ar1_bench_cuda_kernels)
if ! cmake --build "$build" -j "$jobs" --target "${targets[@]}" >> "$log" 2>&1; then
  grep -E 'error|Error' "$log" | head -30
  die "build failed (log: $log)"
fi
build_time=$(elapsed "$configure_start")

# ---- tests: the GPU ones, the kernels' CPU checks and the CPU parity fixtures
echo "[device-check] running the CUDA tests"
test_start=$(date +%s)
ctest --test-dir "$build" -R '^(cuda|kernels)\.|parity' --output-on-failure -j 4 \
  > "$build/ctest.log" 2>&1
test_time=$(elapsed "$test_start")
count() { grep -cE "Test +#[0-9]+: .*$1" "$build/ctest.log" || true; }
passed=$(count '\.+ +Passed')
failed=$(grep -cE 'Test +#[0-9]+: .*(\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout|Not Run)' \
  "$build/ctest.log" || true)
skipped=$(count '\*\*\*Skipped')
gpu_passed=$(grep -cE 'Test +#[0-9]+: cuda\..*\.+ +Passed' "$build/ctest.log" || true)

# ---- benchmarks: the GPU's kernels and workloads, then PyTorch on the same GPU
bench_lines=()
if ((bench)) && [[ "$gpu" != none ]]; then
  echo "[device-check] GPU benchmarks"
  bench_start=$(date +%s)
  "$build/bench/ar1_bench_cuda_kernels" --benchmark_min_time=0.05 --benchmark_format=json \
    > "$build/bench_cuda_kernels.json" 2> "$build/bench_cuda_kernels.log" || true
  "$build/bench/ar1_bench_workloads" --benchmark_filter='/cuda' --benchmark_min_time=0.3 \
    --benchmark_format=json > "$build/bench_workloads.json" 2> "$build/bench_workloads.log" || true
  bench_lines+=("$(python3 - "$build" << 'PY' 2>&1
import json, sys
build = sys.argv[1]
out = []
for name in ("bench_cuda_kernels.json", "bench_workloads.json"):
    try:
        data = json.load(open(f"{build}/{name}"))
    except Exception as e:  # noqa: BLE001 (a failed run: say so in the summary)
        out.append(f"   {name}: not read ({e})")
        continue
    ctx = data.get("context", {})
    if "gpu" in ctx and name.startswith("bench_cuda"):
        out.append(f"   gpu roofline   {ctx['gpu']}: fp32 FMA {float(ctx['gpu_fma_peak_gflops']):.0f}"
                   f" GFLOP/s, triad {float(ctx['gpu_triad_gbs']):.0f} GB/s")
    rows = data.get("benchmarks", [])
    if name.startswith("bench_cuda"):
        conv = [b for b in rows if "conv2d" in b["name"] and "pct_fma" in b]
        if conv:
            best = max(conv, key=lambda b: b["pct_fma"])
            worst = min(conv, key=lambda b: b["pct_fma"])
            out.append(f"   kernels        {len(rows)} measured; conv % of FMA peak "
                       f"{worst['pct_fma']:.0f} ({worst['name']}) to {best['pct_fma']:.0f} ({best['name']})")
    else:
        for b in rows:
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
            pct = f", {b['pct_fma']:.0f}% FMA" if "pct_fma" in b else ""
            out.append(f"   {b['name'].replace('/real_time', '').replace('/iterations:1', ''):<58} "
                       f"{b['real_time'] * scale:9.2f} ms{pct}")
print("\n".join(out))
PY
)")
  bench_time=$(elapsed "$bench_start")
  if python3 -c 'import torch; assert torch.cuda.is_available()' 2> /dev/null; then
    echo "[device-check] PyTorch on the same GPU"
    deadline=$((start + budget))
    for tf32 in off on; do
      configs=()
      [[ $tf32 == on ]] && configs=(--configs eager_brn_cl,eager_bn_cl,compiled_brn_cl,graphs_brn_cl)
      python3 bench/compare_pytorch.py --device cuda --bench "$build/bench/ar1_bench_workloads" \
        --python python3 --repeats 1 --iterations 20 --timeout 100 --deadline "$deadline" \
        --tf32 "$tf32" "${configs[@]}" > "$build/compare_pytorch_tf32_$tf32.txt" \
        2> "$build/compare_pytorch_tf32_$tf32.json" || true
    done
  else
    echo "no torch with CUDA in python3: no PyTorch comparison" > "$build/compare_pytorch_tf32_off.txt"
  fi
fi

summary=$build/device_check_summary.txt
{
  echo "== ar1 device check: $(git log -1 --format='%h %s' 2> /dev/null | cut -c1-70)"
  echo "   gpu            $gpu"
  echo "   cuda           $("$nvcc" --version | grep -o 'release [0-9.]*' | head -1), $cuda_home"
  echo "   cudnn          $cudnn_version, $cudnn_root"
  echo "   compiler       $("$cxx" --version | head -1)"
  echo "   cmake          $(cmake --version | head -1)"
  echo "   cpu            $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
  echo "   build          $build_time (configure + build, $jobs jobs, architectures $arch)"
  echo "   tests          $test_time: $passed passed ($gpu_passed of them on the GPU), $failed failed, $skipped skipped"
  if ((failed > 0)); then
    echo "   failed:"
    grep -E 'Test +#[0-9]+: .*(\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout|Not Run)' \
      "$build/ctest.log" | sed 's/^.*Test *#[0-9]*: /     /; s/ \.\.\.*.*//'
  fi
  [[ "$gpu" == none ]] && echo "   (no GPU here: the cuda.* tests were Skipped, not run; no benchmark ran)"
  if ((${#bench_lines[@]} > 0)); then
    echo "   benchmarks     $bench_time"
    printf '%s\n' "${bench_lines[@]}"
    for f in "$build"/compare_pytorch_tf32_*.txt; do
      [[ -f "$f" ]] && sed 's/^/   /' "$f"
    done
  fi
  echo "   total          $(elapsed "$start")"
  if ((failed == 0)); then echo "   RESULT: OK"; else echo "   RESULT: FAILED"; fi
} | tee "$summary"
if [[ -n "${OUT:-}" && -d "${OUT:-}" ]]; then
  cp "$summary" "$build/ctest.log" "$OUT/" 2> /dev/null || true
  cp "$build"/bench_*.json "$build"/compare_pytorch_* "$OUT/" 2> /dev/null || true
fi
((failed == 0))

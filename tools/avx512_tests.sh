#!/usr/bin/env bash
# The portable kernels compiled for AVX-512 (-DAR1_CPU_ISA=x86-64-v4), on a machine that has it
# (the README's test command runs this after the sanitizers): the kernels' tests and the golden
# run (cli.cli golden ...) check the AVX-512 micro-kernels against the same committed hashes
# that the normal build checks with AVX2 and tools/aarch64_tests.sh with NEON
# (docs/reproducibility.md). The light configuration (no oneDNN, no CUDA, no benchmarks), and
# only the targets those tests need. On a machine without AVX-512 there is nothing to add: the
# normal build has run the AVX2 kernels, and this says so and exits 0.
#
#   tools/avx512_tests.sh          configure, build (-j2) and test build-avx512
#   JOBS=4 tools/avx512_tests.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${JOBS:-2}"
dir="$root/build-avx512"

for flag in avx512f avx512bw avx512vl avx512dq avx512cd; do
  if ! grep -qw "$flag" /proc/cpuinfo; then
    echo "[avx512] this CPU has no ${flag}: nothing to run (the normal build tested the AVX2 kernels)"
    exit 0
  fi
done
echo "[avx512] -DAR1_CPU_ISA=x86-64-v4 -DAR1_ONEDNN=OFF: the kernels' tests and the golden run"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DAR1_CPU_ISA=x86-64-v4 -DAR1_ONEDNN=OFF \
  -DAR1_CUDA=OFF -DAR1_BUILD_BENCH=OFF -DAR1_PACKAGE=OFF -DAR1_PYTHON_TESTS=OFF \
  -DAR1_WERROR=ON >/dev/null
cmake --build "$dir" -j "$jobs" --target ar1 ar1_tests_kernels ar1_tests_cli
ctest --test-dir "$dir" --output-on-failure -j "$jobs" -R '^kernels\.|^cli\.cli golden'

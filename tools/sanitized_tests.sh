#!/usr/bin/env bash
# The test suite again under sanitizers, after the normal one (the README's test command runs
# it; docs/testing.md says what each part covers):
#
#   build-asan  clang, AddressSanitizer + UndefinedBehaviorSanitizer (+ leak detection) and
#               libFuzzer's coverage: every test of every area but the learning check and the
#               long-stream memory test (below), the SIGKILL trials, and each fuzz target
#               replaying its corpus, then fuzzing for AR1_FUZZ_SECONDS (10 here, which keeps
#               CI within its budget; run longer by hand).
#   build-tsan  clang, ThreadSanitizer: every test but the SIGKILL trials, the learning check
#               and the long-stream memory test (the loader's workers, OpenMP kernels on 1 to
#               3 threads, whole `ar1 train` runs).
#
# Needs clang-14, libclang-rt-14-dev and libomp-14-dev (tools/setup.sh --tests installs them).
#
#   tools/sanitized_tests.sh            configure, build (-j2) and test both
#   tools/sanitized_tests.sh asan       one of them (asan or tsan)
#   JOBS=4 AR1_FUZZ_SECONDS=60 tools/sanitized_tests.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${JOBS:-2}"
configs=("$@")
((${#configs[@]})) || configs=(asan tsan)

# Line tables are all a sanitizer report needs (file:line); full debug info only slows the
# build.
debug_flags="-O2 -gline-tables-only -DNDEBUG"

# configure_and_build <dir> <cmake options>...
configure_and_build() {
  local dir="$root/$1"
  shift
  cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$debug_flags" \
    -DAR1_CUDA=OFF -DAR1_BUILD_BENCH=OFF -DAR1_PACKAGE=OFF -DAR1_PYTHON_TESTS=OFF \
    -DAR1_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

# The learning check (minutes of training, no code of its own) runs in the normal and light
# builds; under a sanitizer it would only repeat the shorter training tests, several times
# slower.
learning="strategy.learning"
# The one-node Slurm test (label slurm) runs in the normal build: it tests how the sweep meets
# Slurm, which a sanitizer would only slow down. The long-stream memory test (label long)
# measures the process's RSS, which a sanitizer's allocator and quarantine change.
not_here="slurm|long"

for w in "${configs[@]}"; do
  case "$w" in
    asan)
      echo "[sanitized] AddressSanitizer + UBSan, and the fuzz targets"
      configure_and_build build-asan -DAR1_SANITIZE=address,undefined -DAR1_FUZZ=ON \
        -DAR1_FUZZ_SECONDS="${AR1_FUZZ_SECONDS:-10}"
      ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs" -E "$learning" -LE "$not_here"
      ;;
    tsan)
      echo "[sanitized] ThreadSanitizer"
      configure_and_build build-tsan -DAR1_SANITIZE=thread
      # OpenMP's runtime is not instrumented: Archer (libomp's TSan tool) tells TSan about its
      # barriers and locks, and races inside uninstrumented libraries (libomp, oneDNN) are
      # theirs to find, not ours. A race in our code still stops the test (halt_on_error).
      archer=/usr/lib/llvm-14/lib/libarcher.so
      [[ -f $archer ]] || { echo "[sanitized] $archer missing: apt-get install libomp-14-dev" >&2; exit 1; }
      OMP_TOOL_LIBRARIES="$archer" \
      TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1" \
        ctest --test-dir "$root/build-tsan" --output-on-failure -j "$jobs" -E "sigkill|$learning" \
        -LE "$not_here"
      ;;
    *) echo "[sanitized] unknown configuration $w (known: asan, tsan)" >&2; exit 2 ;;
  esac
done

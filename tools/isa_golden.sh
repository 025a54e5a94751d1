#!/usr/bin/env bash
# The golden run (tests/cli/golden_test.cpp) in builds of the portable kernels for several
# instruction sets (-DAR1_CPU_ISA): each must give the committed hashes. A build for an
# instruction set this CPU lacks reports Skipped (its binaries refuse to start, exit status 77).
#
#   tools/isa_golden.sh                         x86-64 (scalar), x86-64-v3, x86-64-v4
#   tools/isa_golden.sh x86-64-v4               one of them
#
# Light configurations (no oneDNN, CUDA, benchmarks or package), in build-isa-<isa>/; about
# 8 minutes a build on 2 cores, so it is not part of the README's test command.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${JOBS:-2}"
isas=("$@")
((${#isas[@]})) || isas=(x86-64 x86-64-v3 x86-64-v4)

status=0
for isa in "${isas[@]}"; do
  dir="$root/build-isa-$isa"
  echo "[isa_golden] $isa: building $dir"
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DAR1_ONEDNN=OFF -DAR1_CUDA=OFF \
    -DAR1_BUILD_BENCH=OFF -DAR1_PYTHON_TESTS=OFF -DAR1_PACKAGE=OFF -DAR1_CPU_ISA="$isa" >/dev/null
  cmake --build "$dir" -j "$jobs" --target ar1 ar1_tests_cli >/dev/null
  set +e
  (cd "$dir/tests/cli" && ./ar1_tests_cli -tc="*golden*" >"$dir/golden.log" 2>&1)
  rc=$?
  set -e
  # 77: this CPU lacks the instruction set, or the test's data is missing: the log says which.
  case $rc in
    0) echo "[isa_golden] $isa: the golden hashes; $("$dir/tools/ar1" info | grep '^cpu')" ;;
    77) why="$(grep -m1 -E 'ar1: this build|SKIPPED' "$dir/golden.log")"
        echo "[isa_golden] $isa: Skipped: $why" ;;
    *) echo "[isa_golden] $isa: FAILED (rc $rc), see $dir/golden.log"; status=1 ;;
  esac
done
exit $status

#!/usr/bin/env bash
# The dependency-light build, after the others (the README's test command runs it): oneDNN
# off (-DAR1_ONEDNN=OFF: the portable kernels only), CUDA and the benchmarks
# off, the package on. The whole suite runs in it but two long tests (below),
# api.installed_package_examples included, which there also checks that a program linked with
# libar1.a needs nothing at run time but the C++ and OpenMP runtimes and libc. The Python
# wheel (label python) is tested here: it is built in this configuration, so its parity case
# compares it with this build's CLI. The one-node Slurm test (label slurm) is the normal
# build's: it tests the sweep against Slurm, not the kernels.
#
#   tools/light_build_tests.sh          configure, build (-j2) and test build-light
#   JOBS=4 tools/light_build_tests.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${JOBS:-2}"
dir="$root/build-light"

# The kernels for the widest instruction set this CPU runs: on an AVX-512 machine this build's
# golden run (cli.cli golden ...) then checks the AVX-512 micro-kernels against the hashes the
# normal build checks with AVX2 (docs/reproducibility.md).
isa_flags=(-UAR1_CPU_ISA)  # the build's default
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
   grep -qw avx512vl /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo; then
  isa_flags=(-DAR1_CPU_ISA=x86-64-v4)
fi
echo "[light] -DAR1_ONEDNN=OFF: the portable kernels only (${isa_flags[*]})"
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DAR1_ONEDNN=OFF -DAR1_CUDA=OFF \
  -DAR1_BUILD_BENCH=OFF -DAR1_PYTHON_TESTS=ON -DAR1_WERROR=ON "${isa_flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
if ldd "$dir/tools/ar1" | grep -i dnnl; then
  echo "[light] $dir/tools/ar1 links oneDNN" >&2
  exit 1
fi
# Two long tests whose subject is not the kernels run in the normal build only: the SIGKILL
# trials (resuming) and the learning check, whose training the light kernels also pass through
# strategy.parity (a whole AR1 run against PyTorch) and python.parity_cli_short_run.
ctest --test-dir "$dir" --output-on-failure -j "$jobs" -LE slurm -E 'sigkill|strategy.learning'

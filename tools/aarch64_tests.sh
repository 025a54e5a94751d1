#!/usr/bin/env bash
# ARM64, cross-built and tested under emulation (the README's "ARM64" section): installs what is
# missing (Debian's cross compiler, qemu-user and the arm64 -dev packages, by multiarch), builds
# the light configuration (the portable kernels only: no oneDNN, no CUDA) for aarch64 with
# tools/cmake/aarch64-linux-gnu.cmake, and runs its tests under qemu-aarch64. The .ci/run test
# command ends with it.
#
#   tools/aarch64_tests.sh            install, configure, build (-j2) and test build-aarch64
#   JOBS=4 tools/aarch64_tests.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${JOBS:-2}"
dir="$root/build-aarch64"

packages=(
  cmake make doctest-dev nlohmann-json3-dev dataset-fashion-mnist  # as for the x86-64 build
  crossbuild-essential-arm64  # g++-aarch64-linux-gnu (GCC 12) and arm64 libc
  qemu-user                   # qemu-aarch64: runs the tests, the examples and the CLI
  zlib1g-dev:arm64 libpng-dev:arm64 libjpeg-dev:arm64  # the codecs, merged into libar1.a
  libstdc++6:arm64 libgomp1:arm64  # what the programs load at run time, where qemu finds it
)
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "[aarch64] adding the arm64 architecture to dpkg (multiarch)"
  "${sudo_cmd[@]}" dpkg --add-architecture arm64
  update=1
fi
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "[aarch64] installing: ${missing[*]}"
  update=1
fi
if ((update)); then "${sudo_cmd[@]}" apt-get update -qq; fi
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

echo "[aarch64] cross build: $(aarch64-linux-gnu-g++ --version | head -1), $(qemu-aarch64 --version | head -1)"
cmake -S "$root" -B "$dir" --toolchain "$root/tools/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DAR1_ONEDNN=OFF -DAR1_CUDA=OFF -DAR1_BUILD_BENCH=OFF \
  -DAR1_PYTHON_TESTS=OFF -DAR1_WERROR=ON >/dev/null
cmake --build "$dir" -j "$jobs"
# Under qemu the tests run about 20 times slower than natively. Every area runs, the golden run
# (the same committed hashes as x86-64) and the installed package's examples included, but:
#  - as in the sanitizer builds, the learning check (minutes of training; the golden run and
#    strategy.parity train here) and the Slurm and Chromium tests (labels slurm, browser:
#    they test the tools around ar1, not ar1 on ARM64);
#  - the SIGKILL trials (5 runs killed and resumed: a minute natively, some 20 here; the case
#    "sigint and sigterm ... --resume finishes it bit-identical" stops and resumes a run here),
#    the CLI's thread-count case (the golden run is checked on 1 and 3 threads) and its resume
#    case (the SIGINT case resumes too), each 2-3 minutes here;
#  - the long-stream memory test (label long): 10 s an experience here, 0.08 natively. Run it
#    by hand: AR1_LONG_STREAM_EXPERIENCES=60 ctest --test-dir build-aarch64 -L long
#    (10 minutes; docs/arm64.md has its curve).
# The cases of `ar1 sweep` report Skipped: it starts `ar1` itself, which qemu-user cannot.
ctest --test-dir "$dir" --output-on-failure -j "$jobs" -LE 'slurm|browser|long' \
  -E 'strategy.learning|sigkill|on 1 2 and 3 threads|resume after an interruption'

"$root/tools/package_sizes.sh" "$dir"

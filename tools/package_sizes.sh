#!/usr/bin/env bash
# Stripped sizes of what an embedder ships (the README's "ARM64" section): libar1.a,
# libar1.so, and examples/camera_sessions.c linked with libar1.a (the C and OpenMP runtimes
# and libc shared, as examples/CMakeLists.txt builds it) and fully static (-static: nothing at
# run time). Installs BUILD_DIR into a scratch prefix and builds the example against it with
# the build's own compilers (a cross build's: aarch64-linux-gnu-gcc and -strip).
#
#   tools/package_sizes.sh build-light
#   tools/package_sizes.sh build-aarch64
set -euo pipefail

build="$(cd "$1" && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ar1_sizes.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The build's strip, and the C compiler of the same target: a cross build's carry its prefix
# (/usr/bin/aarch64-linux-gnu-strip: aarch64-linux-gnu-gcc).
strip="$(sed -n 's/^CMAKE_STRIP:[A-Z]*=//p' "$build/CMakeCache.txt")"
target_prefix="$(basename "$strip")"
target_prefix="${target_prefix%strip}"
cc="${target_prefix}gcc"
[[ -n $target_prefix ]] || cc=cc

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
lib="$tmp/prefix/lib"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/examples/camera_sessions.c"
# libar1.a holds C++ and OpenMP code: the C example links their runtimes as a C++ program does.
"$cc" -std=c99 -O2 "$src" -I"$tmp/prefix/include" "$lib/libar1.a" -lstdc++ -lgomp -lpthread -lm \
  -o "$tmp/camera_sessions"
static_note=""
if ! "$cc" -std=c99 -O2 -static "$src" -I"$tmp/prefix/include" "$lib/libar1.a" -lstdc++ -lgomp \
     -lpthread -lm -o "$tmp/camera_sessions_static" 2>"$tmp/static.err"; then
  static_note="(-static did not link: $(head -1 "$tmp/static.err"))"
fi

size_of() {  # a stripped copy's size in bytes
  "$strip" --strip-unneeded -o "$tmp/stripped" "$1" && stat -c %s "$tmp/stripped"
}
kb() { awk -v b="$1" 'BEGIN { printf "%.0f KB", b / 1000 }'; }
echo "stripped sizes ($("$cc" -dumpmachine), $(basename "$build")):"
for f in "$lib/libar1.a" "$(readlink -f "$lib/libar1.so")" "$tmp/camera_sessions" \
         "$tmp/camera_sessions_static"; do
  [[ -f $f ]] || { echo "  $(basename "$f"): $static_note"; continue; }
  bytes="$(size_of "$f")"
  echo "  $(basename "$f"): $bytes bytes ($(kb "$bytes"))"
done

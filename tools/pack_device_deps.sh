#!/usr/bin/env bash
# Packs the Debian -dev packages that building ar1 needs into a folder, for a GPU machine that
# has the CUDA toolkit, cuDNN, CMake and a C++ compiler but neither these packages nor a
# network (tools/device_check.sh builds there from the folder).
#
# Usage (on a Debian 12 machine whose apt mirror is reachable; no root needed):
#
#   tools/pack_device_deps.sh [DIR]     # default .device-deps (git-ignored)
#
# It downloads the .deb files with `apt-get download` (the packages tools/setup.sh installs,
# and the runtime libraries they link to) and unpacks each with `dpkg -x` into DIR/root, then
# deletes the .deb files, documentation and static libraries, and writes DIR/packages.txt (name
# and version of each). About 11 MB of downloads, 54 MB unpacked. Google Benchmark is left out: the device check builds no benchmarks.
set -euo pipefail

dir=${1:-.device-deps}
case "$dir" in -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; esac

packages=(
  libeigen3-dev                                    # the GEMM benchmark's yardstick
  libdnnl-dev libdnnl2                             # oneDNN: convolutions
  ocl-icd-opencl-dev ocl-icd-libopencl1            # oneDNN's CMake config asks for OpenCL
  opencl-headers opencl-c-headers opencl-clhpp-headers
  doctest-dev                                      # tests
  libbenchmark-dev libbenchmark1debian             # Google Benchmark: the GPU benchmarks
  zlib1g-dev                                       # gzip'd IDX files
  libpng-dev libpng16-16 libjpeg-dev libjpeg62-turbo-dev libjpeg62-turbo  # image decoding
  nlohmann-json3-dev                               # JSON
  libgomp1 libstdc++6 libgcc-s1                    # what libdnnl2 was built against (gcc 12)
)

command -v apt-get > /dev/null && command -v dpkg > /dev/null ||
  { echo "[pack] needs apt-get and dpkg (a Debian 12 machine)" >&2; exit 1; }
rm -rf "$dir.partial"
mkdir -p "$dir.partial/debs" "$dir.partial/root"
(cd "$dir.partial/debs" && apt-get download -q "${packages[@]}") ||
  { echo "[pack] apt-get download failed: is the apt mirror reachable (apt-get update)?" >&2
    rm -rf "$dir.partial"; exit 1; }
for deb in "$dir.partial"/debs/*.deb; do
  dpkg -x "$deb" "$dir.partial/root"
  dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb" >> "$dir.partial/packages.txt"
done
rm -rf "$dir.partial/debs"
# Only what a build reads: no documentation, no static libraries (the folder travels to the GPU
# machine with the working tree, 64 MiB at most; libdnnl alone is 40 MB unpacked).
rm -rf "$dir.partial/root/usr/share/doc" "$dir.partial/root/usr/share/man" \
  "$dir.partial/root/usr/share/lintian"
# (benchmark_main.a stays: 2 KB, and Google Benchmark's CMake config refers to it.)
find "$dir.partial/root" -name '*.a' ! -name 'libbenchmark_main.a' -delete
# Complete before the folder gets its final name: a half-made folder is never mistaken for one.
rm -rf "$dir"
mv "$dir.partial" "$dir"
echo "[pack] $(wc -l < "$dir/packages.txt") packages unpacked into $dir/root ($(du -sh "$dir" | cut -f1))"

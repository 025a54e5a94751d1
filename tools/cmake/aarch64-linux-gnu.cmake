# Cross-building ar1 for ARM64 Linux on an x86-64 Debian 12 machine (tools/aarch64_tests.sh):
#
#   cmake -S . -B build-aarch64 --toolchain tools/cmake/aarch64-linux-gnu.cmake -DAR1_ONEDNN=OFF
#
# The compilers are Debian's crossbuild-essential-arm64 (g++-aarch64-linux-gnu, GCC 12); the
# libraries are the arm64 packages of Debian's multiarch (zlib1g-dev:arm64, libpng-dev:arm64,
# libjpeg-dev:arm64, libstdc++6:arm64, libgomp1:arm64), found under /usr/lib/aarch64-linux-gnu;
# header-only packages (nlohmann-json, doctest) are the host's. Programs built here run under
# qemu-user (qemu-aarch64), which CMake puts in front of every test and try_run, and which
# the tests that start `ar1` themselves put in front of it (AR1_TEST_EMULATOR).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Multiarch: find_library and find_package look in /usr/lib/aarch64-linux-gnu, never in the
# host's /usr/lib/x86_64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)

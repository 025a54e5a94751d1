#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "kernels/device.h"

int main(int argc, char** argv) {
  if (ar1::kernels::cuda_device_count() == 0) {
    std::puts("no CUDA device found: CUDA tests skipped");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}

// One thread count for oneDNN (OpenMP runtime: it honours omp_set_num_threads) and our own
// OpenMP loops. The setting lives in OpenMP's nthreads-var, so there is no extra state
// here. Like omp_set_num_threads itself, it applies to parallel regions
// started from the calling thread (the thread that runs training).
#include "kernels/threading.h"

#include <omp.h>

namespace ar1::kernels {

void set_num_threads(int n) {
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace ar1::kernels

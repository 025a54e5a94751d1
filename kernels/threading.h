#pragma once
// One thread count for every CPU kernel: oneDNN (OpenMP runtime) and our own loops.
namespace ar1::kernels {

// n <= 0 means all cores (the default).
void set_num_threads(int n);
int num_threads();

}  // namespace ar1::kernels

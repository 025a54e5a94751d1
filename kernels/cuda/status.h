#pragma once
// Turning CUDA, cuBLAS and cuDNN status codes into ar1::Error: every message names the call
// and, where there is one, the fix.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

namespace ar1::kernels::cuda {

void check(cudaError_t err, const char* what);
void check(cublasStatus_t status, const char* what);
void check(cudnnStatus_t status, const char* what);
// After a kernel launch: a bad configuration or an earlier asynchronous fault.
void check_launch(const char* op);

}  // namespace ar1::kernels::cuda

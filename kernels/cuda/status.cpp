#include "kernels/cuda/status.h"

#include "core/error.h"

namespace ar1::kernels::cuda {

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  AR1_FAIL("[cuda] ", what, " failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err),
           ")");
}

void check(cublasStatus_t status, const char* what) {
  AR1_CHECK(status == CUBLAS_STATUS_SUCCESS, "[cuda] cuBLAS ", what, " failed: ",
            cublasGetStatusName(status), " (", cublasGetStatusString(status), ")");
}

void check(cudnnStatus_t status, const char* what) {
  AR1_CHECK(status == CUDNN_STATUS_SUCCESS, "[cuda] cuDNN ", what, " failed: ",
            cudnnGetErrorString(status));
}

void check_launch(const char* op) {
  const cudaError_t err = cudaGetLastError();
  AR1_CHECK(err == cudaSuccess, "[", op, "] CUDA kernel launch failed: ", cudaGetErrorName(err),
            " (", cudaGetErrorString(err), ")");
}

}  // namespace ar1::kernels::cuda

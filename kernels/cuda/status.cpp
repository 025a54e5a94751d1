#include "kernels/cuda/status.h"

#include "core/error.h"
#include "kernels/device_runtime.h"

#include <string>

namespace ar1::kernels::cuda {

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  switch (err) {  // something a graph cannot hold was queued while capturing
    case cudaErrorStreamCaptureUnsupported:
    case cudaErrorStreamCaptureInvalidated:
    case cudaErrorStreamCaptureImplicit:
    case cudaErrorCapturedEvent:
    case cudaErrorStreamCaptureWrongThread:
      throw GraphCaptureUnsupported(std::string("[cuda] ") + what + " cannot be captured: " +
                                    cudaGetErrorName(err));
    default: break;
  }
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

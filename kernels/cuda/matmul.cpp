// Row-major matrix products on cuBLAS (column-major): C = op(A) op(B) is computed as
// C^T = op(B)^T op(A)^T, which reads the row-major buffers as they are. fp32 throughout
// (CUBLAS_PEDANTIC_MATH unless AR1_CUDA_TF32=1, set on the context's handle).
#include "core/error.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/status.h"
#include "kernels/matmul.h"

namespace ar1::kernels::cuda {

void matmul(Device device, float* c, const float* a, const float* b, const MatmulDesc& d) {
  if (d.m == 0 || d.n == 0) return;
  Context& ctx = Context::get(device);
  const int64_t limit = (int64_t{1} << 31) - 1;
  AR1_CHECK(d.m <= limit && d.n <= limit && d.k <= limit, "[matmul] ", d.m, "x", d.k, "x", d.n,
            " exceeds cuBLAS's int range");
  const int m = static_cast<int>(d.m), n = static_cast<int>(d.n), k = static_cast<int>(d.k);
  const float one = 1.f, zero = 0.f;
  // Column-major views: B (row-major [k, n], or [n, k] when trans_b) is B^T with ld n (or k).
  const cublasOperation_t op_b = d.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = d.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int ldb = d.trans_b ? k : n;
  const int lda = d.trans_a ? m : k;
  if (k == 0) {  // an empty sum: C = 0 (cuBLAS leaves C untouched with k = 0 and beta = 0)
    check(cudaMemsetAsync(c, 0, static_cast<size_t>(d.m * d.n) * sizeof(float), ctx.stream()),
          "cudaMemsetAsync");
    return;
  }
  check(cublasSgemm(ctx.cublas(), op_b, op_a, n, m, k, &one, b, ldb, a, lda, &zero, c, n),
        "cublasSgemm");
}

}  // namespace ar1::kernels::cuda

#pragma once
// What this machine allows, measured rather than looked up: the fp32 FMA peak (and the bf16
// dot-product peak where the CPU has AVX512_BF16) and the streaming memory bandwidth, each on
// `threads` OpenMP threads. roofline_bench.cpp prints them; the other benchmarks measure them
// once at start-up to report every kernel and workload as a fraction of them.
//
// Zen 4 runs 512-bit FMAs at half the rate of Zen 5, and cloud VMs differ, so never hard-code
// a peak: call these.
#include <cstddef>
#include <cstdint>
#include <string>

namespace ar1::bench {

// Widest FMA the CPU runs, chosen at run time: "avx512f", "avx2" or "scalar".
std::string fma_isa();
bool has_avx512_bf16();

// Runs `iters` rounds of the FMA loop on every one of `threads` threads; returns the number of
// floating-point operations done (an FMA counts 2). The result does not depend on timing.
double fma_loop(int threads, int64_t iters);
// The same with vdpbf16ps (each lane: two bf16 products added to an f32 accumulator, 4 flops);
// returns 0 and does nothing when the CPU lacks AVX512_BF16.
double bf16_loop(int threads, int64_t iters);
// The same with AMX tiles (tdpbf16ps, 16 x 16 x 32 per instruction), where the CPU has AMX-BF16
// and the kernel grants the tile state (Intel Xeon from Sapphire Rapids); 0 otherwise.
bool has_amx_bf16();
double amx_bf16_loop(int threads, int64_t iters);

// Streaming kernels over `bytes_per_array`-byte f32 arrays, split statically across
// `threads` threads (each thread touches its own part first, so pages sit near it):
//   copy:  a[i] = b[i]              (2 arrays move)
//   triad: a[i] = b[i] + s * c[i]   (3 arrays move)
// Returns the bytes that moved at least once per call (writes counted once, not the
// read-for-ownership the hardware may add).
class StreamArrays {
 public:
  StreamArrays(size_t bytes_per_array, int threads);
  ~StreamArrays();
  StreamArrays(const StreamArrays&) = delete;
  StreamArrays& operator=(const StreamArrays&) = delete;
  double copy();
  double triad();

 private:
  size_t n_;
  int threads_;
  float *a_, *b_, *c_;
};

// Quick measurements for start-up (about `seconds` each): GFLOP/s and GB/s. The FMA peak of
// several threads is the larger of their measured rate and `threads` times one thread's.
double measure_fma_gflops(int threads, double seconds);
double measure_triad_gbs(int threads, double seconds);

}  // namespace ar1::bench

// oneDNN's convolution primitives alone (nhwc, f32 or bf16 inputs with f32 outputs), on
// MobileNetV1's pointwise and depthwise shapes at batch 128: fwd, backward-data and
// backward-weights, best of 5 calls, and the implementation oneDNN chose. It compiles against
// the 2.x and the 3.x API, to compare Debian's oneDNN 2.6 with another build on one machine
// (bench/RESULTS.md, "CPU performance round 2"). Not part of the CMake build:
//
//   g++ -O2 -std=c++17 bench/onednn_primitives.cpp -o /tmp/dnnl26 -ldnnl
//   pip download --no-deps onednn-cpu-gomp==2023.2.0 onednn-devel-cpu-gomp==2023.2.0  # unzip both
//   g++ -O2 -std=c++17 bench/onednn_primitives.cpp -I<devel>/data/include -o /tmp/dnnl32
//       -L<lib>/data/lib -l:libdnnl.so.3 -Wl,-rpath,<lib>/data/lib   (one command)
//   OMP_NUM_THREADS=2 /tmp/dnnl26 [bf16]; OMP_NUM_THREADS=2 /tmp/dnnl32 [bf16]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <dnnl.hpp>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct Shape {
  int n, c, hw, o, k, stride, groups;
  const char* name;
};

const Shape kShapes[] = {
    {128, 32, 64, 64, 1, 1, 1, "pw c32to64_hw64"},     {128, 64, 32, 128, 1, 1, 1, "pw c64to128_hw32"},
    {128, 128, 32, 128, 1, 1, 1, "pw c128to128_hw32"}, {128, 128, 16, 256, 1, 1, 1, "pw c128to256_hw16"},
    {128, 256, 16, 256, 1, 1, 1, "pw c256to256_hw16"}, {128, 256, 8, 512, 1, 1, 1, "pw c256to512_hw8"},
    {128, 512, 8, 512, 1, 1, 1, "pw c512to512_hw8"},   {128, 512, 4, 1024, 1, 1, 1, "pw c512to1024_hw4"},
    {128, 1024, 4, 1024, 1, 1, 1, "pw c1024to1024_hw4"}, {128, 32, 64, 32, 3, 1, 32, "dw c32_hw64"},
    {128, 64, 64, 64, 3, 2, 64, "dw s2 c64_hw64"},     {128, 128, 32, 128, 3, 1, 128, "dw c128_hw32"},
    {128, 512, 8, 512, 3, 1, 512, "dw c512_hw8"}};

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const dt in = argc > 1 && std::string(argv[1]) == "bf16" ? dt::bf16 : dt::f32;
  engine eng(engine::kind::cpu, 0);
  stream st(eng);
  for (const Shape& s : kShapes) {
    const int oh = (s.hw + 2 * (s.k / 2) - s.k) / s.stride + 1;
    const memory::dims xd{s.n, s.c, s.hw, s.hw}, yd{s.n, s.o, oh, oh};
    const memory::dims wd = s.groups == 1 ? memory::dims{s.o, s.c, s.k, s.k}
                                          : memory::dims{s.groups, 1, 1, s.k, s.k};
    const memory::dims strides{s.stride, s.stride}, pad{s.k / 2, s.k / 2};
    const memory::desc x_in(xd, in, tag::nhwc), y_in(yd, in, tag::nhwc);
    const memory::desc x_out(xd, dt::f32, tag::nhwc), y_out(yd, dt::f32, tag::nhwc);
    const memory::desc w_in(wd, in, tag::any), w_out(wd, dt::f32, tag::any);
    const auto direct = algorithm::convolution_direct;
#if DNNL_VERSION_MAJOR >= 3
    convolution_forward::primitive_desc fwd(eng, prop_kind::forward_training, direct, x_in, w_in,
                                            y_out, strides, pad, pad);
    convolution_backward_data::primitive_desc data(eng, direct, x_out, w_in, y_in, strides, pad,
                                                   pad, fwd);
    convolution_backward_weights::primitive_desc weights(eng, direct, x_in, w_out, y_in, strides,
                                                         pad, pad, fwd);
#else
    convolution_forward::primitive_desc fwd(
        {prop_kind::forward_training, direct, x_in, w_in, y_out, strides, pad, pad}, eng);
    convolution_backward_data::primitive_desc data(
        {direct, x_out, w_in, y_in, strides, pad, pad}, eng, fwd);
    convolution_backward_weights::primitive_desc weights(
        {direct, x_in, w_out, y_in, strides, pad, pad}, eng, fwd);
#endif
    memory x(x_in, eng), y(y_out, eng), w(fwd.weights_desc(), eng), dy(y_in, eng),
        dx(x_out, eng), dw(weights.diff_weights_desc(), eng), w_data(data.weights_desc(), eng);
    for (memory* m : {&x, &y, &w, &dy, &dx, &dw, &w_data}) {
      char* p = static_cast<char*>(m->get_data_handle());
      std::fill(p, p + m->get_desc().get_size(), 0);
    }
    const convolution_forward f(fwd);
    const convolution_backward_data bd(data);
    const convolution_backward_weights bw(weights);
    const auto best_ms = [&](auto&& call) {
      call();  // warm-up
      st.wait();
      double best = 1e9;
      for (int r = 0; r < 5; ++r) {
        const double t0 = seconds();
        call();
        st.wait();
        best = std::min(best, seconds() - t0);
      }
      return best * 1e3;
    };
    const double t_fwd = best_ms(
        [&] { f.execute(st, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}}); });
    const double t_data = best_ms([&] {
      bd.execute(st, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, w_data}, {DNNL_ARG_DIFF_SRC, dx}});
    });
    const double t_weights = best_ms([&] {
      bw.execute(st, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_WEIGHTS, dw}});
    });
    std::printf("%-20s fwd %7.2f  bwd_d %7.2f  bwd_w %7.2f ms   [%s | %s | %s]\n", s.name, t_fwd,
                t_data, t_weights, fwd.impl_info_str(), data.impl_info_str(),
                weights.impl_info_str());
  }
}

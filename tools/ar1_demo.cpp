// ar1_demo: trains a tiny convolutional network on Fashion-MNIST through the engine (tensors,
// autograd, oneDNN and portable kernels) and prints its test accuracy. It stood in for the main
// job until the `ar1` command line existed.
//
//   ar1_demo [--data-root DIR] [--train-images N] [--epochs E] [--seed S] [--threads T]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/grad_mode.h"
#include "core/rng.h"
#include "data/idx_reader.h"
#include "kernels/threading.h"
#include "nn/functional.h"

namespace {

using namespace ar1;

struct Options {
  std::string data_root = "/usr/share/datasets/fashion-mnist";
  int64_t train_images = 30000;
  int epochs = 3;
  uint64_t seed = 0;
  int threads = 0;
  int64_t batch = 64;
  float lr = 0.05f;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    AR1_CHECK(i + 1 < argc, "[ar1_demo] ", flag, " needs a value");
    const std::string value = argv[++i];
    if (flag == "--data-root") o.data_root = value;
    else if (flag == "--train-images") o.train_images = std::stoll(value);
    else if (flag == "--epochs") o.epochs = std::stoi(value);
    else if (flag == "--seed") o.seed = std::stoull(value);
    else if (flag == "--threads") o.threads = std::stoi(value);
    else AR1_FAIL("[ar1_demo] unknown option ", flag, "; known: --data-root --train-images "
                  "--epochs --seed --threads");
  }
  return o;
}

// Images [first, first + n) of `ds` as f32 [n, 1, 28, 28] in [0, 1], and their labels.
std::pair<Tensor, Tensor> batch_of(const data::InMemoryDataset& ds, const std::vector<int64_t>& idx,
                                   int64_t first, int64_t n) {
  const int64_t hw = ds.height() * ds.width();
  Tensor x = Tensor::empty({n, 1, ds.height(), ds.width()});
  Tensor y = Tensor::empty({n}, DType::i64);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = idx[static_cast<size_t>(first + i)];
    const uint8_t* p = ds.pixels(k);
    for (int64_t j = 0; j < hw; ++j) x.data<float>()[i * hw + j] = p[j] / 255.f;
    y.data<int64_t>()[i] = ds.target(k);
  }
  return {x, y};
}

struct Net {
  Tensor w1, w2, w3;  // conv 1->16 s2, conv 16->32 s2, linear 32->10
  std::vector<Tensor*> params() { return {&w1, &w2, &w3}; }
  Tensor forward(const Tensor& x) {
    Tensor h = nn::relu(nn::conv2d(x, w1, {2, 1, 1}));
    h = nn::relu(nn::conv2d(h, w2, {2, 1, 1}));
    return nn::linear(nn::global_avg_pool2d(h).flatten(), w3);
  }
};

int run(const Options& o) {
  kernels::set_num_threads(o.threads);
  const auto train = data::load_mnist_folder(o.data_root, data::Split::train);
  const auto test = data::load_mnist_folder(o.data_root, data::Split::test);
  Generator gen(o.seed);
  Net net;
  net.w1 = kaiming_normal({16, 1, 3, 3}, gen, FanMode::fan_out, std::sqrt(2.0));
  net.w2 = kaiming_normal({32, 16, 3, 3}, gen, FanMode::fan_out, std::sqrt(2.0));
  net.w3 = kaiming_uniform({10, 32}, gen, FanMode::fan_in, std::sqrt(1.0 / 3.0));
  for (Tensor* p : net.params()) p->set_requires_grad(true);
  std::vector<Tensor> velocity;
  for (Tensor* p : net.params()) velocity.push_back(Tensor::zeros(p->shape()));

  const int64_t n_train = std::min<int64_t>(o.train_images, train->size());
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    std::vector<int64_t> order = randperm(train->size(), gen);
    double loss_sum = 0;
    int64_t steps = 0;
    for (int64_t first = 0; first + o.batch <= n_train; first += o.batch, ++steps) {
      auto [x, y] = batch_of(*train, order, first, o.batch);
      Tensor loss = nn::cross_entropy(net.forward(x), y);
      loss_sum += loss.item();
      loss.backward();
      // SGD with momentum 0.9 (PyTorch's convention: v = 0.9 v + g; w -= lr v).
      auto params = net.params();
      for (size_t k = 0; k < params.size(); ++k) {
        float* w = params[k]->data<float>();
        float* v = velocity[k].data<float>();
        const float* g = params[k]->grad().data<float>();
        for (int64_t j = 0; j < params[k]->numel(); ++j) {
          v[j] = 0.9f * v[j] + g[j];
          w[j] -= o.lr * v[j];
        }
        params[k]->zero_grad();
      }
    }
    std::printf("epoch %d  train loss %.4f\n", epoch + 1, loss_sum / std::max<int64_t>(steps, 1));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  NoGradGuard no_grad;
  std::vector<int64_t> all(static_cast<size_t>(test->size()));
  for (int64_t i = 0; i < test->size(); ++i) all[static_cast<size_t>(i)] = i;
  int64_t correct = 0;
  for (int64_t first = 0; first < test->size(); first += 500) {
    const int64_t n = std::min<int64_t>(500, test->size() - first);
    auto [x, y] = batch_of(*test, all, first, n);
    const Tensor logits = net.forward(x);
    for (int64_t i = 0; i < n; ++i) {
      const float* row = logits.data<float>() + i * 10;
      const int64_t pred = std::max_element(row, row + 10) - row;
      correct += pred == y.data<int64_t>()[i];
    }
  }
  std::printf("trained on %lld images for %d epochs in %.1f s (%d threads)\n",
              static_cast<long long>(n_train), o.epochs, seconds, kernels::num_threads());
  std::printf("test accuracy: %.2f%% (%lld / %lld)\n", 100.0 * correct / test->size(),
              static_cast<long long>(correct), static_cast<long long>(test->size()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}

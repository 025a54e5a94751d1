// A device's lifetime in miniature, through the C API: one strategy learns a long stream of
// tiny experiences (20 synthetic 32 x 32 images each, classes coming round again), as a camera
// product would for months, and the process's resident memory must stay flat once the replay
// memory is full: after experience 50 it may never exceed its size there by 2 MiB.
//
//   ar1_long_stream EXPERIENCES [CURVE_TSV]
//
// AR1_LONG_STREAM_EXPERIENCES in the environment replaces EXPERIENCES (the suite runs a short
// stream; `AR1_LONG_STREAM_EXPERIENCES=2000 ctest -L long` a long one). After each experience
// it also predicts four new frames, as a camera would between learning sessions.
//
// Prints the RSS every 50 experiences (and writes every experience's to CURVE_TSV). Exit status
// 0 when flat (and the strategy still learns), 1 when it grew or stopped learning, 2 on bad
// arguments or an API error.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "ar1/ar1.h"
#include "tests/api/synthetic_objects.h"

namespace {

// The resident set now (not the peak): /proc/self/statm's second field, in pages.
double rss_mib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

constexpr int64_t kSide = 32;
constexpr int64_t kImagesPerExperience = 20;
constexpr int kSettleExperiences = 50;  // the replay memory (rm_sz 500) is full after 25
constexpr double kAllowedGrowthMiB = 2.0;
// 10 classes (chance 0.1); the portable kernels reach 0.80 after 60 experiences, 0.75 after
// 2000.
constexpr double kLeastAccuracy = 0.5;

// The classes of experience e: two of ten, moving on by one each time (NIC-like: new
// instances of classes seen before).
std::vector<int32_t> classes_of(int64_t e) {
  return {static_cast<int32_t>(e % 10), static_cast<int32_t>((e + 3) % 10)};
}

}  // namespace

int main(int argc, char** argv) {
  const char* const from_env = std::getenv("AR1_LONG_STREAM_EXPERIENCES");
  const char* const count = from_env != nullptr && *from_env != '\0' ? from_env
                            : argc > 1                                 ? argv[1]
                                                                       : "";
  const int64_t experiences = std::atoll(count);
  if (experiences <= kSettleExperiences) {
    std::fprintf(stderr,
                 "usage: %s EXPERIENCES [CURVE_TSV], EXPERIENCES (or "
                 "AR1_LONG_STREAM_EXPERIENCES) above %d, not '%s'\n",
                 argv[0], kSettleExperiences, count);
    return 2;
  }
  const char* const config =
      R"({"num_classes": 10, "image_size": 32, "rm_sz": 500,
          "train_epochs": 1, "first_epochs": 2, "replay_wrap": true, "seed": 0,
          "cpu_kernels": "portable"})";
  ar1_strategy* s = nullptr;
  if (ar1_create(config, &s) != AR1_OK) {
    std::fprintf(stderr, "ar1_create: %s\n", ar1_last_error());
    return 2;
  }
  std::vector<double> rss;
  for (int64_t e = 0; e < experiences; ++e) {
    const ar1::testing::ObjectBatch b = ar1::testing::synthetic_objects(
        classes_of(e), kImagesPerExperience / 2, static_cast<uint32_t>(e), kSide);
    const ar1_images images{b.pixels.data(), AR1_U8_HWC, b.count, kSide, kSide, 3};
    if (ar1_train(s, &images, b.labels.data()) != AR1_OK) {
      std::fprintf(stderr, "ar1_train, experience %lld: %s\n", static_cast<long long>(e),
                   ar1_last_error());
      ar1_destroy(s);
      return 2;
    }
    const ar1::testing::ObjectBatch frames = ar1::testing::synthetic_objects(
        {static_cast<int32_t>(e % 10)}, 4, static_cast<uint32_t>(e) + (1u << 16), kSide);
    const ar1_images frame_images{frames.pixels.data(), AR1_U8_HWC, frames.count, kSide, kSide, 3};
    std::vector<float> logits(static_cast<size_t>(frames.count * 10));
    if (ar1_predict_logits(s, &frame_images, logits.data()) != AR1_OK) {
      std::fprintf(stderr, "ar1_predict_logits, experience %lld: %s\n",
                   static_cast<long long>(e), ar1_last_error());
      ar1_destroy(s);
      return 2;
    }
    rss.push_back(rss_mib());
    if (e % 50 == 0 || e + 1 == experiences) {
      std::printf("experience %lld: RSS %.2f MiB\n", static_cast<long long>(e), rss.back());
      std::fflush(stdout);
    }
  }
  // What the stream learnt, so that a flat curve is not one of a strategy that stopped working.
  const ar1::testing::ObjectBatch test = ar1::testing::synthetic_objects(
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 4, 1u << 20, kSide);
  const ar1_images test_images{test.pixels.data(), AR1_U8_HWC, test.count, kSide, kSide, 3};
  double accuracy = -1;
  if (ar1_evaluate(s, &test_images, test.labels.data(), &accuracy, nullptr) != AR1_OK) {
    std::fprintf(stderr, "ar1_evaluate: %s\n", ar1_last_error());
    ar1_destroy(s);
    return 2;
  }
  ar1_destroy(s);
  std::printf("test accuracy after %lld experiences: %.4f (10 classes)\n",
              static_cast<long long>(experiences), accuracy);
  if (argc > 2) {
    std::ofstream curve(argv[2]);
    curve << "experience\trss_mib\n";
    for (size_t e = 0; e < rss.size(); ++e) curve << e << '\t' << rss[e] << '\n';
  }
  const double settled = rss[kSettleExperiences];
  const auto top = std::max_element(rss.begin() + kSettleExperiences, rss.end());
  std::printf("RSS at experience %d: %.2f MiB; most after it: %.2f MiB (experience %lld)\n",
              kSettleExperiences, settled, *top,
              static_cast<long long>(top - rss.begin()));
  if (accuracy < kLeastAccuracy) {
    std::printf("FAILED: the stream's test accuracy is %.4f, below %.2f\n", accuracy,
                kLeastAccuracy);
    return 1;
  }
  if (*top - settled > kAllowedGrowthMiB) {
    std::printf("FAILED: the RSS grew by %.2f MiB after experience %d (allowed %.1f)\n",
                *top - settled, kSettleExperiences, kAllowedGrowthMiB);
    return 1;
  }
  return 0;
}

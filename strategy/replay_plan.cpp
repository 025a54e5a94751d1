#include "strategy/replay_plan.h"

#include <algorithm>

#include "core/error.h"

namespace ar1::strategy {

ReplayPlan plan_replay(int64_t new_images, int64_t rm_sz, int64_t train_mb_size,
                       bool first_experience) {
  AR1_CHECK(new_images > 0, "[ar1] an experience with no training images; check the scenario");
  AR1_CHECK(train_mb_size > 0 && rm_sz >= 0, "[ar1] train_mb_size must be > 0 and rm_sz >= 0, "
            "got ", train_mb_size, " and ", rm_sz);
  ReplayPlan plan;
  if (first_experience) {
    plan.new_per_batch = train_mb_size;
  } else {
    const int64_t divisor = (new_images + rm_sz) / train_mb_size;
    plan.new_per_batch = divisor == 0 ? new_images : std::max<int64_t>(new_images / divisor, 1);
    plan.replay_per_batch = std::max<int64_t>(train_mb_size - plan.new_per_batch, 0);
  }
  plan.iterations = (new_images + plan.new_per_batch - 1) / plan.new_per_batch;
  return plan;
}

std::pair<int64_t, int64_t> replay_rows(const ReplayPlan& plan, int64_t it, int64_t memory_size) {
  const int64_t begin = std::min(it * plan.replay_per_batch, memory_size);
  const int64_t end = std::min((it + 1) * plan.replay_per_batch, memory_size);
  return {begin, end};
}

std::vector<std::pair<int64_t, int64_t>> replay_rows_wrapped(const ReplayPlan& plan, int64_t it,
                                                             int64_t memory_size) {
  const int64_t count = std::min(plan.replay_per_batch, memory_size);
  if (count == 0) return {};
  const int64_t begin = it * plan.replay_per_batch % memory_size;
  const int64_t end = begin + count;
  if (end <= memory_size) return {{begin, end}};
  return {{begin, memory_size}, {0, end - memory_size}};
}

}  // namespace ar1::strategy

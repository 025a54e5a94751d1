#include <doctest/doctest.h>

#include "core/error.h"
#include "strategy/replay_plan.h"

using namespace ar1::strategy;

TEST_CASE("replay plan: the first experience takes whole minibatches of new images") {
  const ReplayPlan p = plan_replay(300, 1500, 128, true);
  CHECK(p.new_per_batch == 128);
  CHECK(p.replay_per_batch == 0);
  CHECK(p.iterations == 3);  // 128 + 128 + 44
}

TEST_CASE("replay plan: a NICv2-391 style experience splits 21 new and 107 replayed") {
  // N = 300, rm_sz = 1500, mb = 128: (300 + 1500) // 128 = 14, cur = 300 // 14 = 21.
  const ReplayPlan p = plan_replay(300, 1500, 128, false);
  CHECK(p.new_per_batch == 21);
  CHECK(p.replay_per_batch == 107);
  CHECK(p.iterations == 15);  // ceil(300 / 21)
  CHECK(replay_rows(p, 0, 1500) == std::pair<int64_t, int64_t>{0, 107});
  CHECK(replay_rows(p, 14, 1500) == std::pair<int64_t, int64_t>{1498, 1500});  // clipped
}

TEST_CASE("replay plan: edge cases of the formula") {
  // Tiny experience: (5 + 100) // 128 = 0 -> cur = N, the rest of the batch is replay.
  ReplayPlan p = plan_replay(5, 100, 128, false);
  CHECK(p.new_per_batch == 5);
  CHECK(p.replay_per_batch == 123);
  CHECK(p.iterations == 1);
  CHECK(replay_rows(p, 0, 100) == std::pair<int64_t, int64_t>{0, 100});  // only 100 stored
  // rm_sz smaller than the minibatch.
  p = plan_replay(1000, 50, 128, false);  // 1050 // 128 = 8, cur = 125, rep = 3
  CHECK(p.new_per_batch == 125);
  CHECK(p.replay_per_batch == 3);
  CHECK(p.iterations == 8);
  CHECK(replay_rows(p, 7, 20) == std::pair<int64_t, int64_t>{20, 20});  // past the end: none
  // N // divisor == 0 is raised to at least 1: N = 1 with rm_sz = 128 * 4.
  p = plan_replay(1, 512, 128, false);
  CHECK(p.new_per_batch == 1);
  CHECK(p.replay_per_batch == 127);
  // A big experience: cur can exceed the minibatch; replay is then none.
  p = plan_replay(10000, 0, 128, false);
  CHECK(p.new_per_batch == 128);
  CHECK(p.replay_per_batch == 0);
  CHECK_THROWS_AS(plan_replay(0, 10, 128, false), ar1::Error);
}

TEST_CASE("replay plan: wrapped rows continue from the start of the memory") {
  // A Fashion-MNIST NIC-201 experience: N = 80, rm_sz = 1500: cur = 80 // 12 = 6, rep = 122,
  // 14 iterations. Unwrapped, iteration 13 replays nothing and trains on 2 images alone.
  const ReplayPlan p = plan_replay(80, 1500, 128, false);
  CHECK(p.new_per_batch == 6);
  CHECK(p.replay_per_batch == 122);
  CHECK(p.iterations == 14);
  CHECK(replay_rows(p, 13, 1500) == std::pair<int64_t, int64_t>{1500, 1500});
  using Ranges = std::vector<std::pair<int64_t, int64_t>>;
  CHECK(replay_rows_wrapped(p, 0, 1500) == Ranges{{0, 122}});
  CHECK(replay_rows_wrapped(p, 12, 1500) == Ranges{{1464, 1500}, {0, 86}});  // straddles the end
  CHECK(replay_rows_wrapped(p, 13, 1500) == Ranges{{86, 208}});
  // A memory smaller than rep: every row once, starting where the previous batch stopped.
  CHECK(replay_rows_wrapped(p, 1, 100) == Ranges{{22, 100}, {0, 22}});
  CHECK(replay_rows_wrapped(p, 1, 0).empty());
  CHECK(replay_rows_wrapped(plan_replay(300, 1500, 128, true), 2, 1500).empty());  // rep = 0
}

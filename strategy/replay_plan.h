#pragma once
// How AR1 splits each minibatch between new images and replayed latents (SPEC.md section 3,
// "Minibatches"). For experience e > 0 with N new images:
//   cur = N // ((N + rm_sz) // train_mb_size)   (N when the divisor is 0; at least 1)
//   rep = train_mb_size - cur
// Iteration `it` takes new images [it*cur, (it+1)*cur) and memory rows [it*rep, (it+1)*rep),
// fewer or none past the end of either. With AR1Options::replay_wrap the memory rows are
// taken modulo the memory's size instead, so the last minibatch, whose new images may be as
// few as one or two, still holds rep replayed latents.
#include <cstdint>
#include <utility>
#include <vector>

namespace ar1::strategy {

struct ReplayPlan {
  int64_t new_per_batch = 0;     // cur
  int64_t replay_per_batch = 0;  // rep (0 for the first experience)
  int64_t iterations = 0;        // ceil(N / cur): the last batch of new images may be short
};

// first_experience: every minibatch holds train_mb_size new images and no replay.
ReplayPlan plan_replay(int64_t new_images, int64_t rm_sz, int64_t train_mb_size,
                       bool first_experience);

// Memory rows [begin, end) that iteration `it` replays, clipped to the memory's size.
std::pair<int64_t, int64_t> replay_rows(const ReplayPlan& plan, int64_t it, int64_t memory_size);

// Memory rows of iteration `it` with wrapping: rows [it*rep, (it+1)*rep) modulo memory_size,
// as one or two [begin, end) ranges in order; at most memory_size rows in all (no row twice
// in one minibatch); none for an empty memory.
std::vector<std::pair<int64_t, int64_t>> replay_rows_wrapped(const ReplayPlan& plan, int64_t it,
                                                             int64_t memory_size);

}  // namespace ar1::strategy

#pragma once
// SIGINT and SIGTERM during `ar1 train`: the first asks the run to end after the current
// training iteration (the experience under way is dropped; the checkpoint of the last finished
// one and the outputs are kept and written); a second SIGINT ends the process at once with
// status 130. The exit status of a run ended this way is 128 + the signal (130, 143).
#include <memory>

#include "strategy/plugin.h"

namespace ar1::cli {

class InterruptWatch {
 public:
  // Installs the handlers; the destructor restores the previous ones.
  InterruptWatch();
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

  // The signal that asked the run to end, or 0.
  static int requested();
  // Ends a strategy's training after the iteration in which a signal arrived.
  static std::shared_ptr<strategy::Plugin> plugin();
};

}  // namespace ar1::cli

#include "tools/commands/interrupts.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include "strategy/template.h"

namespace ar1::cli {

namespace {

std::atomic<int> signal_seen{0};
struct sigaction previous_int{}, previous_term{};

extern "C" void on_signal(int sig) {
  // Only async-signal-safe work here: a store, and _exit for the second SIGINT.
  if (signal_seen.load() != 0 && sig == SIGINT) _exit(130);
  signal_seen.store(sig);
  static const char note[] =
      "\n[ar1] stopping after this iteration (again: stop now); the last finished experience's "
      "checkpoint is kept\n";
  const ssize_t ignored = write(STDERR_FILENO, note, sizeof note - 1);
  (void)ignored;
}

struct StopOnSignal final : strategy::Plugin {
  bool graph_safe() const override { return true; }  // acts after the iteration only
  void after_training_iteration(strategy::SupervisedTemplate& s) override {
    if (signal_seen.load() != 0) s.stop_training();
  }
};

}  // namespace

InterruptWatch::InterruptWatch() {
  signal_seen.store(0);
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // reads and writes in flight carry on
  sigaction(SIGINT, &sa, &previous_int);
  sigaction(SIGTERM, &sa, &previous_term);
}

InterruptWatch::~InterruptWatch() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

int InterruptWatch::requested() { return signal_seen.load(); }

std::shared_ptr<strategy::Plugin> InterruptWatch::plugin() {
  return std::make_shared<StopOnSignal>();
}

}  // namespace ar1::cli

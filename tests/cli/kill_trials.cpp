// SIGKILL at random moments, then --resume: every trial must end bit-identical to an
// uninterrupted run. Either it resumes from the last complete checkpoint, or, when the kill
// came before the first one was complete, --resume says so and a fresh start does it. No trial
// may leave a checkpoint that loads but is wrong. (Issue: "no lost work".)
//
//   ar1_cli_kill_trials BINARY WORKDIR DATA_ROOT [TRIALS]    (TRIALS: default 5, CTest's
//   cli.sigkill_resume_trials; AR1_KILL_TRIALS overrides, e.g. 20 with `ctest -L kill`)
// Exits 0 when every trial passed, 1 otherwise, 77 when the dataset is missing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/cli/run_comparison.h"

namespace fs = std::filesystem;

namespace {

std::string g_binary;

// Runs `binary args` to completion; returns its exit status and output.
int run(const std::string& args, std::string* output = nullptr) {
  const std::string cmd = g_binary + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  std::string out;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int raw = pclose(p);
  if (output != nullptr) *output = out;
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

// Starts `binary args` with its output discarded, and SIGKILLs it after `delay` (or lets it
// end first). Returns true when the kill landed on a running process.
bool run_and_kill(const std::string& args, std::chrono::milliseconds delay) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = "exec " + g_binary + " " + args + " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto end = std::chrono::steady_clock::now() + delay;
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (waitpid(pid, &status, WNOHANG) == pid) return false;  // finished before the kill
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return true;
}

// Empty when the two runs' checkpoints hold the same tensors bit for bit and the same metrics.
std::string differences(const fs::path& a, const fs::path& b) {
  const std::vector<std::string> tensors = ar1::testing::checkpoint_differences(a, b);
  if (!tensors.empty()) return "tensor " + tensors.front() + " differs";
  if (ar1::testing::deterministic_metrics(a / "metrics.jsonl") !=
      ar1::testing::deterministic_metrics(b / "metrics.jsonl")) {
    return "metrics differ";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s BINARY WORKDIR DATA_ROOT [TRIALS]\n", argv[0]);
    return 2;
  }
  g_binary = argv[1];
  const fs::path work = argv[2];
  // The tests' Fashion-MNIST: $AR1_FASHION_MNIST_DIR when set (tests/support/fashion_mnist.h).
  const char* data_env = std::getenv("AR1_FASHION_MNIST_DIR");
  const std::string data = data_env != nullptr && *data_env != '\0' ? data_env : argv[3];
  int trials = argc > 4 ? std::atoi(argv[4]) : 5;
  if (const char* env = std::getenv("AR1_KILL_TRIALS")) trials = std::atoi(env);
  if (!fs::exists(fs::path(data) / "train-images-idx3-ubyte") &&
      !fs::exists(fs::path(data) / "train-images-idx3-ubyte.gz")) {
    std::printf("no Fashion-MNIST at %s: skipped\n", data.c_str());
    return 77;
  }
  // About 4 s of work in 5 experiences, so that kills land everywhere: in training, in
  // evaluation and while files are written.
  const std::string run_args =
      " --data-root " + data +
      " --scenario nc --n-experiences 5 --train-per-class 100 --test-per-class 20 --image-size 16"
      " --first-epochs 1 --train-epochs 2 --rm-sz 60 --train-mb-size 16 --workers 1 --threads 1";
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path whole = work / "whole";
  const auto t0 = std::chrono::steady_clock::now();
  if (run("train --out " + whole.string() + run_args) != 0) {
    std::printf("FAIL: the uninterrupted run failed\n");
    return 1;
  }
  const auto full_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - t0).count();
  int failed = 0, resumed = 0, fresh = 0;
  uint64_t lcg = 12345;
  for (int t = 0; t < trials; ++t) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    const auto delay = std::chrono::milliseconds(50 + static_cast<int64_t>((lcg >> 33) % static_cast<uint64_t>(full_ms)));
    const fs::path dir = work / ("trial" + std::to_string(t));
    const bool killed = run_and_kill("train --out " + dir.string() + run_args, delay);
    const bool has_checkpoint = fs::exists(dir / "checkpoint.safetensors");
    std::string out, how;
    int status;
    if (has_checkpoint) {
      status = run("train --resume " + dir.string(), &out);
      how = "resumed";
      ++resumed;
    } else {
      status = run("train --resume " + dir.string(), &out);
      if (fs::exists(dir / "config.json") &&
          (status != 2 || out.find("has no checkpoint yet") == std::string::npos)) {
        std::printf("trial %d: FAIL: --resume without a checkpoint said: %s\n", t, out.c_str());
        ++failed;
        continue;
      }
      status = run("train --out " + dir.string() + run_args, &out);
      how = "started fresh";
      ++fresh;
    }
    std::string diff = status == 0 ? differences(whole, dir) : "exit status " + std::to_string(status);
    std::printf("trial %d: killed at %lld ms%s, %s: %s\n", t, static_cast<long long>(delay.count()),
                killed ? "" : " (it had finished)", how.c_str(), diff.empty() ? "identical" : diff.c_str());
    if (!diff.empty()) {
      std::printf("%s\n", out.c_str());
      ++failed;
    }
  }
  std::printf("%d trials: %d resumed, %d started fresh, %d failed (uninterrupted run %lld ms)\n",
              trials, resumed, fresh, failed, static_cast<long long>(full_ms));
  fs::remove_all(work);
  return failed == 0 ? 0 : 1;
}

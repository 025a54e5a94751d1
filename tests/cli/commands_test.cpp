// The `ar1` binary end to end: a reduced default run and its run directory, resume after an
// interruption (bit-identical to an uninterrupted run), and every error case of the CLI issue
// (one line, exit status 2, nothing half-written).
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kernels/device.h"
#include "kernels/precision.h"
#include "tests/cli/ar1_process.h"
#include "tests/cli/run_comparison.h"
#include "tests/support/fashion_mnist.h"
#include "tests/support/skip_test.h"

namespace fs = std::filesystem;
using ar1::testing::deterministic_metrics;
using namespace ar1::testing;  // run, read, contains, fresh_dir (ar1_process.h)

namespace {

// A few seconds of training: 5 class-incremental experiences of 2 classes, 30 images per
// class, 16 x 16 inputs.
const std::string kSmall =
    " --scenario nc --n-experiences 5 --train-per-class 30 --test-per-class 10 --image-size 16"
    " --first-epochs 2 --train-epochs 1 --rm-sz 40 --train-mb-size 16 --workers 1";

// kSmall on the tests' Fashion-MNIST; skips the test case when it is not installed.
std::string small_fashion_run() {
  return kSmall + " --data-root " + ar1::testing::fashion_mnist_or_skip().string();
}

// Every tensor of the two checkpoints is bit-identical (tests/cli/run_comparison.h).
void check_same_checkpoints(const fs::path& run_a, const fs::path& run_b) {
  for (const std::string& d : ar1::testing::checkpoint_differences(run_a, run_b)) {
    CHECK_MESSAGE(false, d);
  }
}

// A run stopped during experience 1: experience 0's checkpoint is whole (no temporary file
// beside it) and `--resume` continues from it at experience 1.
void check_resumable_at_experience_1(const fs::path& dir) {
  REQUIRE(fs::exists(dir / "checkpoint.safetensors"));
  for (const auto& e : fs::directory_iterator(dir)) {
    CHECK_MESSAGE(!contains(e.path().filename().string(), ".tmp"), e.path().string());
  }
  const Result resumed = run("train --resume " + dir.string() + " --stop-after 2");
  INFO(resumed.output);
  CHECK(resumed.status == 0);
  CHECK(contains(resumed.output, "resuming " + dir.string() + " at experience 1"));
}

}  // namespace

TEST_CASE("cli train writes a complete run directory on a reduced default run") {
  const std::string small = small_fashion_run();
  const fs::path out = fresh_dir("train");
  const Result r = run("train --out " + out.string() + small);
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(contains(r.output, "final stream accuracy"));
  for (const char* f : {"config.json", "checkpoint.safetensors", "metrics.jsonl",
                        "training_results.csv", "eval_results.csv", "report.html"}) {
    CHECK_MESSAGE(fs::exists(out / f), f);
  }
  for (const auto& e : fs::directory_iterator(out)) {
    // Nothing half-written: no temporary ".<name>.tmp.<pid>.<n>" file is left.
    CHECK_MESSAGE(e.path().filename().string().find(".tmp") == std::string::npos, e.path());
  }
  const std::string config = read(out / "config.json");
  CHECK(contains(config, "\"inc_lr\""));
  CHECK(contains(config, "\"n_experiences\": 5"));
  const std::string report = read(out / "report.html");
  CHECK(contains(report, "<svg"));
  CHECK(contains(report, "AR1"));
  CHECK_FALSE(contains(report, "http://"));
  CHECK(contains(read(out / "training_results.csv"), "training_exp,epoch,accuracy,loss,seconds\n0,0,"));
  CHECK(contains(read(out / "eval_results.csv"), "eval_exp,training_exp,accuracy,loss,forgetting\n"));
  // `ar1 eval` on the checkpoint gives the run's last stream accuracy.
  const Result e = run("eval --checkpoint " + (out / "checkpoint.safetensors").string());
  INFO(e.output);
  CHECK(e.status == 0);
  CHECK(contains(e.output, "test stream accuracy"));
  fs::remove_all(out);
}

TEST_CASE("cli resume after an interruption ends bit-identical to an uninterrupted run") {
  const std::string small = small_fashion_run();
  const fs::path whole = fresh_dir("whole"), split = fresh_dir("split");
  REQUIRE(run("train --out " + whole.string() + small).status == 0);
  const Result first = run("train --out " + split.string() + small + " --stop-after 2");
  INFO(first.output);
  REQUIRE(first.status == 0);
  CHECK(contains(first.output, "stopping after experience 1"));
  // Another thread count on resume: the results do not depend on it.
  const Result second = run("train --resume " + split.string() + " --workers 0 --threads 1");
  INFO(second.output);
  REQUIRE(second.status == 0);
  CHECK(contains(second.output, "resuming"));

  check_same_checkpoints(whole, split);
  CHECK(deterministic_metrics(whole / "metrics.jsonl") == deterministic_metrics(split / "metrics.jsonl"));
  fs::remove_all(whole);
  fs::remove_all(split);
}

TEST_CASE("cli train gives bit-identical weights memory and metrics on 1 2 and 3 threads") {
  // Batches of 24 over 16 x 16 images: the first layers' backward-weights run in several
  // blocks, the pointwise ones as blocked sgemms (kernels/cpu/fixed_blocks.h).
  std::string args = small_fashion_run();
  const std::string batch = " --train-mb-size 16";
  REQUIRE(args.find(batch) != std::string::npos);
  args.replace(args.find(batch), batch.size(), " --train-mb-size 24");
  const fs::path one = fresh_dir("threads1");
  REQUIRE(run("train --threads 1 --out " + one.string() + args).status == 0);
  for (const char* threads : {"2", "3"}) {
    CAPTURE(threads);
    const fs::path many = fresh_dir(std::string("threads") + threads);
    const Result r = run(std::string("train --threads ") + threads + " --out " + many.string() + args);
    INFO(r.output);
    REQUIRE(r.status == 0);
    check_same_checkpoints(one, many);
    CHECK(deterministic_metrics(one / "metrics.jsonl") == deterministic_metrics(many / "metrics.jsonl"));
    fs::remove_all(many);
  }
  fs::remove_all(one);
}

TEST_CASE("cli errors are one line with exit status 2") {
  struct Case {
    std::string args, expect;
  };
  const fs::path missing = fresh_dir("missing");
  const Case cases[] = {
      {"train --inc-lrr 0.1", "did you mean --inc-lr?"},
      {"train --device gpu", "--device must be one of cpu, cuda"},
      {"train --data-root " + missing.string(), "not found at"},
      {"train --dataset core50 --scenario nicv2_391 --data-root " + missing.string(),
       "core50_128x128/s1/o1"},
      {"train --dataset cifar10 --scenario nicv2_391", "needs --dataset core50"},
      {"frobnicate", "unknown command"},
      {"eval", "needs --checkpoint"},
      {"eval --checkpoint " + missing.string(), "does not exist"},
      {"train --resume " + missing.string(), "not a run directory"},
      {"train --cpu-kernels fast", "--cpu-kernels must be one of portable, onednn"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const Result r = run(c.args);
    CHECK(r.status == 2);
    CHECK_MESSAGE(contains(r.output, c.expect), r.output);
    CHECK(contains(r.output, "error: ["));
  }
  CHECK_FALSE(fs::exists(missing));
}

TEST_CASE("cli --cpu-kernels onednn in a build without oneDNN names the fix") {
  if (ar1::kernels::built_with_onednn()) {
    ar1::testing::skip_test("this build has oneDNN: --cpu-kernels onednn is its default");
  }
  const fs::path out = fresh_dir("no_onednn");
  const Result r = run("train --cpu-kernels onednn --out " + out.string());
  CHECK(r.status == 2);
  CHECK_MESSAGE(contains(r.output, "use --cpu-kernels portable"), r.output);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("cli refuses an unknown config key and a cuda device without a GPU") {
  const fs::path dir = fresh_dir("config");
  fs::create_directories(dir);
  std::ofstream(dir / "bad.json") << "{\"rm_sz\": 10, \"inc_lrr\": 0.1}";
  const Result r = run("train --config " + (dir / "bad.json").string());
  CHECK(r.status == 2);
  CHECK_MESSAGE(contains(r.output, "did you mean"), r.output);
  if (ar1::kernels::cuda_device_count() == 0) {
    const Result cuda = run("train --device cuda --out " + (dir / "run").string());
    CHECK(cuda.status == 2);
    CHECK_MESSAGE(contains(cuda.output, "--device cpu"), cuda.output);
    CHECK_FALSE(fs::exists(dir / "run"));
  }
  // A GPU index beyond those present, on any machine with fewer than 8 GPUs.
  if (ar1::kernels::cuda_device_count() < 8) {
    const Result seventh = run("train --device cuda:7 --out " + (dir / "run").string());
    CHECK(seventh.status == 2);
    CHECK_MESSAGE(contains(seventh.output, "cuda:7"), seventh.output);
    CHECK_FALSE(fs::exists(dir / "run"));
  }
  const Result malformed = run("train --device cuda:x --out " + (dir / "run").string());
  CHECK(malformed.status == 2);
  CHECK_MESSAGE(contains(malformed.output, "must be one of"), malformed.output);
  fs::remove_all(dir);
}

TEST_CASE("cli refuses weights that do not fit the model") {
  const fs::path dir = fresh_dir("weights");
  fs::create_directories(dir);
  ar1::save_safetensors(dir / "w.safetensors",
                        {{"output.weight", ar1::Tensor::zeros({3, 7})},
                         {"lat_features.0.conv.weight", ar1::Tensor::zeros({1, 1, 1, 1})}});
  const Result r = run("train --weights " + (dir / "w.safetensors").string() + kSmall +
                       " --out " + (dir / "run").string());
  CHECK(r.status == 2);
  CHECK_MESSAGE(contains(r.output, "do not fit"), r.output);
  CHECK_MESSAGE(contains(r.output, "output.weight"), r.output);
  CHECK_FALSE(fs::exists(dir / "run" / "checkpoint.safetensors"));
  fs::remove_all(dir);
}

TEST_CASE("cli refuses a truncated or corrupted checkpoint and an occupied run directory") {
  const std::string small = small_fashion_run();
  const fs::path out = fresh_dir("corrupt");
  REQUIRE(run("train --out " + out.string() + small + " --stop-after 1").status == 0);
  const Result again = run("train --out " + out.string() + small);
  CHECK(again.status == 2);
  CHECK(contains(again.output, "already holds a run"));

  const fs::path ckpt = out / "checkpoint.safetensors";
  const std::string bytes = read(ckpt);
  // Corrupted: one byte of tensor data flipped (the checksum catches it).
  std::string flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x5a;
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << flipped;
  Result r = run("train --resume " + out.string());
  CHECK(r.status == 2);
  CHECK_MESSAGE(contains(r.output, "corrupted"), r.output);
  // Truncated: the last half is gone.
  std::ofstream(ckpt, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  r = run("train --resume " + out.string());
  CHECK(r.status == 2);
  CHECK_MESSAGE(contains(r.output, "truncated or corrupted"), r.output);
  fs::remove_all(out);
}

TEST_CASE("cli a nan in training stops the run with exit status 3 and keeps the last checkpoint") {
  const std::string small = small_fashion_run();
  const fs::path out = fresh_dir("nonfinite_stop");
  // Iteration 12 of the run falls in experience 1 (experience 0: 2 epochs of 4 iterations).
  const Result r = run_with_env("AR1_TEST_NONFINITE_AT=12", "train --out " + out.string() + small);
  INFO(r.output);
  CHECK(r.status == 3);
  CHECK(contains(r.output, "error: [nonfinite] a NaN or infinity in gradient of "));
  CHECK(contains(r.output, "at experience 1, epoch 0, iteration"));
  CHECK(contains(r.output, "--on-nonfinite skip"));
  check_resumable_at_experience_1(out);
  fs::remove_all(out);
}

TEST_CASE("cli --on-nonfinite skip drops the bad minibatch, counts it and finishes the run") {
  const std::string small = small_fashion_run();
  const fs::path out = fresh_dir("nonfinite_skip");
  const Result r = run_with_env("AR1_TEST_NONFINITE_AT=12",
                                "train --on-nonfinite skip --out " + out.string() + small);
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string metrics = read(out / "metrics.jsonl");
  // The metric line of `name` (metrics.jsonl: one JSON object per line, keys sorted).
  auto line_of = [&](const std::string& name) {
    std::istringstream in(metrics);
    std::string line;
    while (std::getline(in, line)) {
      if (contains(line, "\"name\":\"" + name + "\"")) return line;
    }
    return std::string();
  };
  const std::string skipped = "NonFiniteSkipped_Exp/train_phase/train_stream/Task000/Exp00";
  CHECK(contains(line_of(skipped + "0"), "\"value\":0.0"));
  CHECK(contains(line_of(skipped + "1"), "\"value\":1.0"));
  CHECK(contains(line_of(skipped + "2"), "\"value\":0.0"));
  CHECK_FALSE(contains(metrics, "NaN"));
  CHECK_FALSE(contains(metrics, "nan"));
  fs::remove_all(out);
}

namespace {

// A signal to send once the output holds `when` (and every earlier trigger has fired).
struct SignalTrigger {
  std::string when;
  int sig = 0;
};

// Runs `ar1 <args>` with its output on a pipe, sends each trigger's signal in turn, and returns
// what it printed and its exit status.
Result run_and_signal(const std::string& args, const std::vector<SignalTrigger>& triggers) {
  int out[2];
  REQUIRE(pipe(out) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    close(out[0]);
    const std::string cmd = std::string(AR1_BINARY) + " " + args;
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  Result r;
  size_t sent = 0;
  std::array<char, 4096> buf{};
  ssize_t n;
  while ((n = ::read(out[0], buf.data(), buf.size())) > 0) {
    r.output.append(buf.data(), static_cast<size_t>(n));
    while (sent < triggers.size() && r.output.find(triggers[sent].when) != std::string::npos) {
      kill(pid, triggers[sent].sig);
      ++sent;
    }
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  for (size_t i = sent; i < triggers.size(); ++i) {
    CHECK_MESSAGE(false, "signal " << triggers[i].sig << " was never sent: no line with "
                                   << triggers[i].when);
  }
  return r;
}

Result run_and_signal(const std::string& args, const std::string& when, int sig) {
  return run_and_signal(args, {SignalTrigger{when, sig}});
}

}  // namespace

TEST_CASE("cli sigint and sigterm end a run cleanly, and --resume finishes it bit-identical") {
  const std::string small = small_fashion_run();
  const fs::path whole = fresh_dir("signal_whole"), cut = fresh_dir("signal_cut");
  REQUIRE(run("train --out " + whole.string() + small).status == 0);
  for (const int sig : {SIGINT, SIGTERM}) {
    CAPTURE(sig);
    fs::remove_all(cut);
    const Result r = run_and_signal("train --out " + cut.string() + small, "== experience 1", sig);
    INFO(r.output);
    CHECK(r.status == 128 + sig);
    CHECK(contains(r.output, "stopped by signal " + std::to_string(sig)));
    // The last finished experience's checkpoint and the outputs are there, no temporary file.
    CHECK(fs::exists(cut / "checkpoint.safetensors"));
    CHECK(fs::exists(cut / "report.html"));
    for (const auto& e : fs::directory_iterator(cut)) {
      CHECK_MESSAGE(!contains(e.path().filename().string(), ".tmp"), e.path().string());
    }
    const Result resumed = run("train --resume " + cut.string());
    INFO(resumed.output);
    REQUIRE(resumed.status == 0);
    CHECK(contains(resumed.output, "resuming " + cut.string() + " at experience "));
    check_same_checkpoints(whole, cut);
    CHECK(deterministic_metrics(whole / "metrics.jsonl") ==
          deterministic_metrics(cut / "metrics.jsonl"));
  }
  fs::remove_all(whole);
  fs::remove_all(cut);
}

TEST_CASE("cli a second sigint stops the run at once and leaves no half-written file") {
  const std::string small = small_fashion_run();
  const fs::path cut = fresh_dir("signal_twice");
  // The second SIGINT follows the first as soon as the run says it will stop.
  const Result r = run_and_signal(
      "train --out " + cut.string() + small,
      {{"== experience 1", SIGINT}, {"stopping after this iteration", SIGINT}});
  INFO(r.output);
  CHECK(r.status == 128 + SIGINT);
  CHECK_FALSE(contains(r.output, "stopped by signal"));  // no clean stop: it did not wait
  check_resumable_at_experience_1(cut);
  fs::remove_all(cut);
}

TEST_CASE("cli --precision bf16 trains with the same bits on 1 and 2 threads and not those of f32") {
  if (!ar1::kernels::bf16_convolutions_supported()) {
    const Result r = run("train --precision bf16 --out " + fresh_dir("bf16_refused").string());
    CHECK(r.status == 2);
    CHECK_MESSAGE(contains(r.output, "AVX-512"), r.output);
    ar1::testing::skip_test("this CPU has no bf16 convolutions (needs AVX-512)");
  }
  // 32 x 32 inputs in batches of 24: the first layer and the pointwise convolutions at 16 x 16
  // (6144 rows) compute in bf16 (kernels/cpu/conv2d.cpp, effective()).
  std::string args = small_fashion_run();
  for (const auto& [from, to] : {std::pair{std::string(" --train-mb-size 16"), std::string(" --train-mb-size 24")},
                                 std::pair{std::string(" --image-size 16"), std::string(" --image-size 32")}}) {
    REQUIRE(args.find(from) != std::string::npos);
    args.replace(args.find(from), from.size(), to);
  }
  const fs::path one = fresh_dir("bf16_t1"), two = fresh_dir("bf16_t2"), f32 = fresh_dir("f32_t1");
  const Result r1 = run("train --precision bf16 --threads 1 --out " + one.string() + args);
  INFO(r1.output);
  REQUIRE(r1.status == 0);
  REQUIRE(run("train --precision bf16 --threads 2 --out " + two.string() + args).status == 0);
  REQUIRE(run("train --threads 1 --out " + f32.string() + args).status == 0);
  check_same_checkpoints(one, two);
  CHECK_FALSE(ar1::testing::checkpoint_differences(one, f32).empty());
  CHECK(contains(read(one / "config.json"), "\"precision\": \"bf16\""));
  // bf16 convolutions have CPU kernels only.
  const Result cuda = run("train --precision bf16 --device cuda --out " + (one / "cuda").string());
  CHECK(cuda.status == 2);
  CHECK_MESSAGE(contains(cuda.output, "runs on the CPU only"), cuda.output);
  for (const fs::path& d : {one, two, f32}) fs::remove_all(d);
}

TEST_CASE("cli a full disk stops the run with a clear error and keeps the previous checkpoint") {
  const std::string small = small_fashion_run();
  // A 10 MiB tmpfs, mounted in a user and mount namespace of its own (no root needed, nothing
  // outside the namespace sees it): experience 0's 6.7 MB checkpoint fits, experience 1's
  // temporary copy beside it does not.
  const fs::path mnt = fresh_dir("full_disk_mnt"), kept = fresh_dir("full_disk_kept");
  fs::create_directories(mnt);
  const std::string mount =
      "unshare --user --map-root-user --mount sh -c 'mount -t tmpfs -o size=10m tmpfs " +
      mnt.string() + " && ";
  const Result probe = run_shell(mount + "true'");
  if (probe.status != 0) {
    fs::remove_all(mnt);
    ar1::testing::skip_test("cannot mount a tmpfs in a user namespace here (unshare --user "
                            "--mount): " + probe.output);
  }
  // Inside the namespace: train onto the full disk, then copy what is left out of the tmpfs.
  const fs::path run_dir = mnt / "run";
  const Result r = run_shell(mount + AR1_BINARY + " train --out " + run_dir.string() + small +
                             "; status=$?; cp -a " + run_dir.string() + " " + kept.string() +
                             "; exit $status'");
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "== experience 1"));
  const fs::path checkpoint = run_dir / "checkpoint.safetensors";
  CHECK(contains(r.output, "error: [safetensors] saving " + checkpoint.string()));
  CHECK(contains(r.output, "No space left on device; check free disk space"));
  CHECK(contains(r.output, "was left as it was"));
  check_resumable_at_experience_1(kept);
  fs::remove_all(mnt);
  fs::remove_all(kept);
}

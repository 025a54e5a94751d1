// ar1: the command line. `ar1 train` (the main job by default), `ar1 eval`, `ar1 info`,
// `ar1 sweep`, `ar1 compare`.
// Every error is one line on stderr and exit status 2 (3 for a numerical fault that stopped
// training: strategy/nonfinite_guard.h); nothing half-written is left behind.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "strategy/nonfinite_guard.h"
#include "tools/commands/commands.h"

namespace {

void usage(std::FILE* to) {
  std::fputs(
      "usage: ar1 <command> [options]\n"
      "  train   train AR1 on a continual-learning scenario (no options: the Fashion-MNIST "
      "main job)\n"
      "  eval    evaluate a checkpoint on its test stream\n"
      "  info    version, build options, backends and devices (--json: as in manifest.json)\n"
      "  sweep   a grid of train runs over seeds and options, here or as a Slurm job array\n"
      "  compare runs side by side: mean +- std over seeds, and a page with every curve\n"
      "`ar1 <command> --help` lists a command's options.\n",
      to);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "train") return ar1::cli::train_command(args);
    if (command == "eval") return ar1::cli::eval_command(args);
    if (command == "info") return ar1::cli::info_command(args);
    if (command == "sweep") return ar1::cli::sweep_command(args);
    if (command == "compare") return ar1::cli::compare_command(args);
    if (command == "-h" || command == "--help" || command == "help") {
      usage(stdout);
      return 0;
    }
    std::fprintf(stderr, "error: [ar1] unknown command '%s'\n", command.c_str());
    usage(stderr);
    return 2;
  } catch (const ar1::strategy::NonFiniteError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 3;
  } catch (const ar1::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: [ar1] %s\n", e.what());
    return 2;
  }
}

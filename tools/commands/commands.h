#pragma once
// The `ar1` subcommands. Each takes the arguments after its name and returns the process exit
// status; errors are thrown as ar1::Error and turned into one line and status 2 by main.
#include <string>
#include <vector>

namespace ar1::cli {

int train_command(const std::vector<std::string>& args);
int eval_command(const std::vector<std::string>& args);
int info_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
int compare_command(const std::vector<std::string>& args);

}  // namespace ar1::cli

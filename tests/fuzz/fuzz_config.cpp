// JSON run configs (--config FILE, config.json of a run directory), against `ar1 train`'s
// option table.
#include <string_view>

#include "tests/fuzz/fuzz_input.h"
#include "tools/cli/ar1_options.h"
#include "tools/cli/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ar1::cli::OptionTable table = ar1::cli::train_options();
  ar1::cli::ResolvedOptions options(table);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ar1::fuzz::expect_success_or_error([&] { ar1::cli::apply_config_text(options, text, "fuzz"); });
  return 0;
}

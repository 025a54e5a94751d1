#pragma once
// The option table of `ar1 train`: every argument of Avalanche's AR1 constructor under its
// own name with dashes, the SPEC 3b/3c extensions, and the run settings. Defaults are
// SPEC section 3's (which are Avalanche's, except freeze_below_layer; see SPEC 3 step 2).
#include "run/options.h"

namespace ar1::run {

OptionTable train_options();

}  // namespace ar1::run

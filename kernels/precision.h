#pragma once
// The precision convolutions compute in. f32 (the default) everywhere; bf16 rounds a
// convolution's inputs (activations or gradients, and weights) to bfloat16 and accumulates in
// f32, with f32 outputs: the tensors between ops, the master weights and SGD stay f32
// (`ar1 train --precision bf16`). CPU only, where oneDNN has bf16 kernels (AVX-512; native
// dot products with AVX512_BF16 or AMX).
//
// Like the thread count, one setting for the process; a convolution records it in its
// ConvDesc when described, so a plan built for one precision is never reused for the other.
#include <string>
#include <string_view>

namespace ar1::kernels {

enum class Precision { f32, bf16 };

// Throws naming the reason (no AVX-512 here) when bf16 cannot run on this CPU.
void set_conv_precision(Precision p);
Precision conv_precision();

// Whether this CPU can run bf16 convolutions; `why_not` says why when it cannot.
bool bf16_convolutions_supported(std::string* why_not = nullptr);

// "f32" / "bf16", and back (throws on anything else, listing the choices).
std::string_view precision_name(Precision p);
Precision parse_precision(std::string_view name);

}  // namespace ar1::kernels

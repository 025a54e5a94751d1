#pragma once
// Element types: f32 is the compute type; i64 holds labels; u8, f16 and bf16 are storage types
// (replay memory, checkpoints) converted to f32 before compute.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ar1 {

enum class DType : uint8_t { f32, i64, u8, f16, bf16 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: return 4;
    case DType::i64: return 8;
    case DType::u8: return 1;
    case DType::f16: return 2;
    case DType::bf16: return 2;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
  }
  return "?";
}

// The DType of a C++ element type, for Tensor::data<T>().
template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };

}  // namespace ar1

// Configure-time probe (tests/CMakeLists.txt): exit status 0 where this machine runs the
// AVX-512 subset that -march=x86-64-v4 compiles for.
int main() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
             ? 0
             : 1;
}

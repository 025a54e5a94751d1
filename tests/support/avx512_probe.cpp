// Configure-time probe (tests/CMakeLists.txt): exit status 0 where this machine runs what
// -march=x86-64-v4 compiles for (the same test as kernels/cpu/cpu_isa_check.cpp).
int main() { return __builtin_cpu_supports("x86-64-v4") ? 0 : 1; }

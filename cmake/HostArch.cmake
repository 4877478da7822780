# LOWBIT_HOST_ARCH: the instruction set of the compiler's own numeric code
# (GPTQ, smoothing and rotation in lib/Quantization, written with Eigen). It
# does not touch the artifacts, whose target is chosen per compile
# (--target=...).
#
#   auto    (default) x86-64-v3 (AVX2, FMA) when the build machine runs it,
#           else the compiler's default;
#   generic the compiler's default (SSE2 on x86-64): binaries that run on
#           any x86-64;
#   <level> any -march value, e.g. x86-64-v4.
#
# Eigen picks its kernels at compile time, so without this the Hessian
# products run on SSE2: smoothing SmolLM2 took 39 s instead of 19. auto stops
# at x86-64-v3, not the build machine's best: AVX-512 gained another 10%
# only, and a v3 build runs on every machine of the project's kinds (the AMD
# ones have no AVX-512), so a build folder or ccache objects can move between
# them.
set(LOWBIT_HOST_ARCH "auto" CACHE STRING
    "-march of lib/Quantization's numeric code: auto, generic or a -march value")

set(LOWBIT_HOST_ARCH_FLAGS "")
if(LOWBIT_HOST_ARCH STREQUAL "auto")
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64)$")
    include(CheckCXXSourceRuns)
    set(CMAKE_REQUIRED_FLAGS "-march=x86-64-v3")
    check_cxx_source_runs([=[
      int main() {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                       __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c")
                   ? 0 : 1;
      }]=] LOWBIT_HOST_RUNS_X86_64_V3)
    unset(CMAKE_REQUIRED_FLAGS)
    if(LOWBIT_HOST_RUNS_X86_64_V3)
      set(LOWBIT_HOST_ARCH_FLAGS "-march=x86-64-v3")
    endif()
  endif()
elseif(NOT LOWBIT_HOST_ARCH STREQUAL "generic")
  set(LOWBIT_HOST_ARCH_FLAGS "-march=${LOWBIT_HOST_ARCH}")
endif()
message(STATUS "Lowbit numeric host code: ${LOWBIT_HOST_ARCH} -> "
               "'${LOWBIT_HOST_ARCH_FLAGS}'")

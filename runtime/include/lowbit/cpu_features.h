/*===- cpu_features.h - CPU features by LLVM's names ---------------*- C -*-===*
 *
 * The instruction-set features an artifact may be compiled for, by the
 * names LLVM's target features use, and their detection on the running CPU.
 * quant-compile records every feature of this table that the target machine
 * it generated code for has enabled (not a hand-picked list: whatever LLVM
 * may have used); the runtime refuses a model on a CPU that lacks any of
 * them, or that names one this table does not know.
 *
 * x86: CPUID bits and the OS's XSAVE state (XCR0), as LLVM's
 * sys::getHostCPUFeatures reads them; unittests/Target/CPUFeaturesTest.cpp
 * checks that every feature LLVM can detect is in the table and that the two
 * agree on the machine that runs it. AArch64: the kernel's hardware
 * capabilities (AT_HWCAP, AT_HWCAP2), which user-mode emulators also set.
 *
 * Header-only C99 shared by the compiler and the runtime (see artifact.h).
 *
 *===----------------------------------------------------------------------===*/

#ifndef LOWBIT_CPU_FEATURES_H
#define LOWBIT_CPU_FEATURES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** What the OS must save on a context switch for a feature to be usable. */
enum {
  LOWBIT_CPU_STATE_NONE = 0,
  LOWBIT_CPU_STATE_AVX = 1,    /* XCR0 bits 1-2, and CPUID.1:ECX.AVX */
  LOWBIT_CPU_STATE_AVX512 = 2, /* the AVX state and XCR0 bits 5-7 */
  LOWBIT_CPU_STATE_AMX = 3,    /* XCR0 bits 17-18 */
  LOWBIT_CPU_STATE_APX = 4     /* XCR0 bit 19 */
};

/** One x86 feature: CPUID leaf/subleaf, register (0 EAX .. 3 EDX) and bit.
 * Leaf 0x24 entries compare the AVX10 version (EBX[7:0]) with `bit`. */
typedef struct {
  const char *name;
  uint32_t leaf, subleaf;
  uint8_t reg, bit, state;
} lowbit_x86_feature;

static const lowbit_x86_feature lowbit_x86_features[] = {
    {"cx8", 1, 0, 3, 8, 0},
    {"cmov", 1, 0, 3, 15, 0},
    {"mmx", 1, 0, 3, 23, 0},
    {"fxsr", 1, 0, 3, 24, 0},
    {"sse", 1, 0, 3, 25, 0},
    {"sse2", 1, 0, 3, 26, 0},
    {"sse3", 1, 0, 2, 0, 0},
    {"pclmul", 1, 0, 2, 1, 0},
    {"ssse3", 1, 0, 2, 9, 0},
    {"fma", 1, 0, 2, 12, LOWBIT_CPU_STATE_AVX},
    {"cx16", 1, 0, 2, 13, 0},
    {"sse4.1", 1, 0, 2, 19, 0},
    {"sse4.2", 1, 0, 2, 20, 0},
    {"crc32", 1, 0, 2, 20, 0}, /* part of SSE4.2 */
    {"movbe", 1, 0, 2, 22, 0},
    {"popcnt", 1, 0, 2, 23, 0},
    {"aes", 1, 0, 2, 25, 0},
    {"xsave", 1, 0, 2, 26, LOWBIT_CPU_STATE_AVX},
    {"avx", 1, 0, 2, 28, LOWBIT_CPU_STATE_AVX},
    {"f16c", 1, 0, 2, 29, LOWBIT_CPU_STATE_AVX},
    {"rdrnd", 1, 0, 2, 30, 0},
    {"sahf", 0x80000001u, 0, 2, 0, 0},
    {"lzcnt", 0x80000001u, 0, 2, 5, 0},
    {"sse4a", 0x80000001u, 0, 2, 6, 0},
    {"prfchw", 0x80000001u, 0, 2, 8, 0},
    {"xop", 0x80000001u, 0, 2, 11, LOWBIT_CPU_STATE_AVX},
    {"lwp", 0x80000001u, 0, 2, 15, 0},
    {"fma4", 0x80000001u, 0, 2, 16, LOWBIT_CPU_STATE_AVX},
    {"tbm", 0x80000001u, 0, 2, 21, 0},
    {"mwaitx", 0x80000001u, 0, 2, 29, 0},
    {"64bit", 0x80000001u, 0, 3, 29, 0},
    {"clzero", 0x80000008u, 0, 1, 0, 0},
    {"rdpru", 0x80000008u, 0, 1, 4, 0},
    {"wbnoinvd", 0x80000008u, 0, 1, 9, 0},
    {"fsgsbase", 7, 0, 1, 0, 0},
    {"sgx", 7, 0, 1, 2, 0},
    {"bmi", 7, 0, 1, 3, 0},
    {"avx2", 7, 0, 1, 5, LOWBIT_CPU_STATE_AVX},
    {"bmi2", 7, 0, 1, 8, 0},
    {"invpcid", 7, 0, 1, 10, 0},
    {"rtm", 7, 0, 1, 11, 0},
    {"avx512f", 7, 0, 1, 16, LOWBIT_CPU_STATE_AVX512},
    {"avx512dq", 7, 0, 1, 17, LOWBIT_CPU_STATE_AVX512},
    {"rdseed", 7, 0, 1, 18, 0},
    {"adx", 7, 0, 1, 19, 0},
    {"avx512ifma", 7, 0, 1, 21, LOWBIT_CPU_STATE_AVX512},
    {"clflushopt", 7, 0, 1, 23, 0},
    {"clwb", 7, 0, 1, 24, 0},
    {"avx512cd", 7, 0, 1, 28, LOWBIT_CPU_STATE_AVX512},
    {"sha", 7, 0, 1, 29, 0},
    {"avx512bw", 7, 0, 1, 30, LOWBIT_CPU_STATE_AVX512},
    {"avx512vl", 7, 0, 1, 31, LOWBIT_CPU_STATE_AVX512},
    {"avx512vbmi", 7, 0, 2, 1, LOWBIT_CPU_STATE_AVX512},
    {"pku", 7, 0, 2, 4, 0},
    {"waitpkg", 7, 0, 2, 5, 0},
    {"avx512vbmi2", 7, 0, 2, 6, LOWBIT_CPU_STATE_AVX512},
    {"shstk", 7, 0, 2, 7, 0},
    {"gfni", 7, 0, 2, 8, 0},
    {"vaes", 7, 0, 2, 9, LOWBIT_CPU_STATE_AVX},
    {"vpclmulqdq", 7, 0, 2, 10, LOWBIT_CPU_STATE_AVX},
    {"avx512vnni", 7, 0, 2, 11, LOWBIT_CPU_STATE_AVX512},
    {"avx512bitalg", 7, 0, 2, 12, LOWBIT_CPU_STATE_AVX512},
    {"avx512vpopcntdq", 7, 0, 2, 14, LOWBIT_CPU_STATE_AVX512},
    {"rdpid", 7, 0, 2, 22, 0},
    {"kl", 7, 0, 2, 23, 0},
    {"cldemote", 7, 0, 2, 25, 0},
    {"movdiri", 7, 0, 2, 27, 0},
    {"movdir64b", 7, 0, 2, 28, 0},
    {"enqcmd", 7, 0, 2, 29, 0},
    {"uintr", 7, 0, 3, 5, 0},
    {"avx512vp2intersect", 7, 0, 3, 8, LOWBIT_CPU_STATE_AVX512},
    {"serialize", 7, 0, 3, 14, 0},
    {"tsxldtrk", 7, 0, 3, 16, 0},
    {"pconfig", 7, 0, 3, 18, 0},
    {"amx-bf16", 7, 0, 3, 22, LOWBIT_CPU_STATE_AMX},
    {"avx512fp16", 7, 0, 3, 23, LOWBIT_CPU_STATE_AVX512},
    {"amx-tile", 7, 0, 3, 24, LOWBIT_CPU_STATE_AMX},
    {"amx-int8", 7, 0, 3, 25, LOWBIT_CPU_STATE_AMX},
    {"sha512", 7, 1, 0, 0, 0},
    {"sm3", 7, 1, 0, 1, 0},
    {"sm4", 7, 1, 0, 2, 0},
    {"raoint", 7, 1, 0, 3, 0},
    {"avxvnni", 7, 1, 0, 4, LOWBIT_CPU_STATE_AVX},
    {"avx512bf16", 7, 1, 0, 5, LOWBIT_CPU_STATE_AVX512},
    {"cmpccxadd", 7, 1, 0, 7, 0},
    {"amx-fp16", 7, 1, 0, 21, LOWBIT_CPU_STATE_AMX},
    {"hreset", 7, 1, 0, 22, 0},
    {"avxifma", 7, 1, 0, 23, LOWBIT_CPU_STATE_AVX},
    {"movrs", 7, 1, 0, 31, 0},
    {"avxvnniint8", 7, 1, 3, 4, LOWBIT_CPU_STATE_AVX},
    {"avxneconvert", 7, 1, 3, 5, LOWBIT_CPU_STATE_AVX},
    {"amx-complex", 7, 1, 3, 8, LOWBIT_CPU_STATE_AMX},
    {"avxvnniint16", 7, 1, 3, 10, LOWBIT_CPU_STATE_AVX},
    {"prefetchi", 7, 1, 3, 14, 0},
    {"usermsr", 7, 1, 3, 15, 0},
    /* APX: one CPUID bit for all of its parts. */
    {"egpr", 7, 1, 3, 21, LOWBIT_CPU_STATE_APX},
    {"push2pop2", 7, 1, 3, 21, LOWBIT_CPU_STATE_APX},
    {"ppx", 7, 1, 3, 21, LOWBIT_CPU_STATE_APX},
    {"ndd", 7, 1, 3, 21, LOWBIT_CPU_STATE_APX},
    {"ccmp", 7, 1, 3, 21, LOWBIT_CPU_STATE_APX},
    {"nf", 7, 1, 3, 21, LOWBIT_CPU_STATE_APX},
    {"cf", 7, 1, 3, 21, LOWBIT_CPU_STATE_APX},
    {"zu", 7, 1, 3, 21, LOWBIT_CPU_STATE_APX},
    {"xsaveopt", 0xd, 1, 0, 0, LOWBIT_CPU_STATE_AVX},
    {"xsavec", 0xd, 1, 0, 1, LOWBIT_CPU_STATE_AVX},
    {"xsaves", 0xd, 1, 0, 3, LOWBIT_CPU_STATE_AVX},
    {"ptwrite", 0x14, 0, 1, 4, 0},
    {"widekl", 0x19, 0, 1, 2, 0},
    {"amx-fp8", 0x1e, 1, 0, 4, LOWBIT_CPU_STATE_AMX},
    {"amx-tf32", 0x1e, 1, 0, 6, LOWBIT_CPU_STATE_AMX},
    {"amx-avx512", 0x1e, 1, 0, 7, LOWBIT_CPU_STATE_AMX},
    {"amx-movrs", 0x1e, 1, 0, 8, LOWBIT_CPU_STATE_AMX},
    /* AVX10: CPUID.(7,1):EDX[19] and the version in CPUID.24h:EBX[7:0]. */
    {"avx10.1", 0x24, 0, 1, 1, LOWBIT_CPU_STATE_AVX512},
    {"avx10.2", 0x24, 0, 1, 2, LOWBIT_CPU_STATE_AVX512},
};
#define LOWBIT_NUM_X86_FEATURES                                                \
  (sizeof(lowbit_x86_features) / sizeof(lowbit_x86_features[0]))

/** The AArch64 features, by LLVM's names, with their HWCAP bits (`hwcap2`:
 * the bit is in AT_HWCAP2). Advanced SIMD and FP are part of every ARMv8-A
 * core that Linux runs (emulators do not always list them). */
typedef struct {
  const char *name;
  uint8_t hwcap2, bit;
} lowbit_aarch64_feature;

static const lowbit_aarch64_feature lowbit_aarch64_features[] = {
    {"fp-armv8", 0, 0}, {"neon", 0, 1}, {"aes", 0, 3},       {"sha2", 0, 6},
    {"crc", 0, 7},      {"lse", 0, 8},  {"fullfp16", 0, 10}, {"rdm", 0, 12},
    {"dotprod", 0, 20}, {"sve", 0, 22}, {"sve2", 1, 1},      {"i8mm", 1, 13},
    {"bf16", 1, 14},
};
#define LOWBIT_NUM_AARCH64_FEATURES                                            \
  (sizeof(lowbit_aarch64_features) / sizeof(lowbit_aarch64_features[0]))

#if defined(__x86_64__) || defined(__i386__)
/** CPUID leaf/subleaf into r[4]; zeros for leaves the CPU does not have. */
static inline void lowbit_cpuid(uint32_t leaf, uint32_t subleaf,
                                uint32_t r[4]) {
  unsigned max = __get_cpuid_max(leaf & 0x80000000u, NULL);
  r[0] = r[1] = r[2] = r[3] = 0;
  if (max < leaf)
    return;
  if (leaf == 7 && subleaf > 0) {
    uint32_t l7[4];
    __cpuid_count(7, 0, l7[0], l7[1], l7[2], l7[3]);
    if (l7[0] < subleaf) /* EAX of subleaf 0: the highest subleaf */
      return;
  }
  __cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
}

/** XCR0, or 0 where the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE). */
static inline uint64_t lowbit_xcr0(void) {
  uint32_t r[4], lo, hi;
  lowbit_cpuid(1, 0, r);
  if (!((r[2] >> 27) & 1))
    return 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

static inline int lowbit_x86_state_saved(uint8_t state) {
  uint64_t xcr0 = lowbit_xcr0();
  uint32_t r[4];
  int avx;
  lowbit_cpuid(1, 0, r);
  avx = ((r[2] >> 28) & 1) && (xcr0 & 0x6) == 0x6;
  switch (state) {
  case LOWBIT_CPU_STATE_NONE:
    return 1;
  case LOWBIT_CPU_STATE_AVX:
    return avx;
  case LOWBIT_CPU_STATE_AVX512:
    return avx && (xcr0 & 0xe0) == 0xe0;
  case LOWBIT_CPU_STATE_AMX:
    return (xcr0 & 0x60000) == 0x60000;
  case LOWBIT_CPU_STATE_APX:
    return (xcr0 >> 19) & 1;
  }
  return 0;
}

static inline int lowbit_x86_has(const lowbit_x86_feature *f) {
  uint32_t r[4];
  if (!lowbit_x86_state_saved(f->state))
    return 0;
  if (f->leaf == 0x24) {
    lowbit_cpuid(7, 1, r);
    if (!((r[3] >> 19) & 1))
      return 0;
    lowbit_cpuid(0x24, 0, r);
    return (r[1] & 0xff) >= f->bit;
  }
  lowbit_cpuid(f->leaf, f->subleaf, r);
  return (r[f->reg] >> f->bit) & 1;
}
#endif

/** 1 if the running CPU has the feature LLVM calls `name`, 0 if it lacks
 * it, -1 if the name is not a feature of this table for this architecture
 * (a model compiled by a newer Lowbit, or for another architecture). */
static inline int lowbit_cpu_has_feature(const char *name) {
  size_t i;
  if (!name)
    return -1;
#if defined(__x86_64__) || defined(__i386__)
  for (i = 0; i < LOWBIT_NUM_X86_FEATURES; ++i)
    if (strcmp(lowbit_x86_features[i].name, name) == 0)
      return lowbit_x86_has(&lowbit_x86_features[i]);
#elif defined(__aarch64__) && defined(__linux__)
  for (i = 0; i < LOWBIT_NUM_AARCH64_FEATURES; ++i) {
    const lowbit_aarch64_feature *f = &lowbit_aarch64_features[i];
    if (strcmp(f->name, name) != 0)
      continue;
    if (strcmp(name, "neon") == 0 || strcmp(name, "fp-armv8") == 0)
      return 1;
    return (int)((getauxval(f->hwcap2 ? AT_HWCAP2 : AT_HWCAP) >> f->bit) & 1);
  }
#endif
  (void)i;
  return -1;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LOWBIT_CPU_FEATURES_H */

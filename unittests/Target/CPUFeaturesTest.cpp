//===- CPUFeaturesTest.cpp - cpu_features.h against LLVM ------------------===//
//
// The runtime detects CPU features with its own table (cpu_features.h, no
// LLVM); these tests hold it to LLVM's: every feature LLVM can detect on a
// host is in the table, the two detections agree on the machine that runs
// the test (CI runs on AVX2-only AMD and AVX-512/AMX Intel machines), every
// table name is a feature LLVM defines, and what an artifact records for
// each --target is what LLVM enables for it.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/CPU/ObjectFile.h"
#include "lowbit/cpu_features.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

bool hostIsX86() {
#if defined(__x86_64__)
  return true;
#else
  return false;
#endif
}

SmallVector<std::string> recorded(StringRef triple, StringRef cpu,
                                  StringRef features) {
  TargetSpec spec;
  spec.triple = triple.str();
  spec.cpu = cpu.str();
  spec.features = features.str();
  std::string error;
  FailureOr<SmallVector<std::string>> got = compiledCPUFeatures(spec, error);
  EXPECT_TRUE(succeeded(got)) << error;
  return succeeded(got) ? *got : SmallVector<std::string>{};
}

TEST(CPUFeatures, EveryFeatureLLVMDetectsIsInTheTable) {
  if (!hostIsX86())
    GTEST_SKIP() << "the x86 table is checked on x86 hosts";
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  ASSERT_FALSE(host.empty());
  for (const auto &f : host) {
    std::string name = f.first().str();
    EXPECT_NE(lowbit_cpu_has_feature(name.c_str()), -1)
        << "LLVM detects '" << name
        << "', which cpu_features.h does not know: an artifact compiled "
           "for a CPU with it would be refused everywhere";
  }
}

TEST(CPUFeatures, DetectionAgreesWithLLVMOnThisHost) {
  if (!hostIsX86())
    GTEST_SKIP() << "the x86 table is checked on x86 hosts";
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  std::string ours, theirs;
  for (const auto &f : host) {
    std::string name = f.first().str();
    // LLVM 22 reads the AVX10 version as a boolean (`HasLeaf24 && (EBX &
    // 0xff)`), so it never reports avx10.2; the table compares the version.
    if (name == "avx10.2")
      continue;
    int has = lowbit_cpu_has_feature(name.c_str());
    EXPECT_EQ(has, f.second ? 1 : 0) << name;
    if (has == 1)
      ours += name + " ";
    if (f.second)
      theirs += name + " ";
  }
  RecordProperty("features", ours);
  EXPECT_EQ(ours, theirs);
}

TEST(CPUFeatures, UnknownNamesAreNotGuessed) {
  EXPECT_EQ(lowbit_cpu_has_feature("no-such-feature"), -1);
  EXPECT_EQ(lowbit_cpu_has_feature(""), -1);
  EXPECT_EQ(lowbit_cpu_has_feature(nullptr), -1);
}

/// Every name in the tables is a subtarget feature LLVM defines.
TEST(CPUFeatures, TableNamesAreLLVMFeatures) {
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargetMCs();
  auto check = [](StringRef tripleName, ArrayRef<const char *> names) {
    std::string error;
    llvm::Triple triple(tripleName);
    const llvm::Target *target =
        llvm::TargetRegistry::lookupTarget(triple, error);
    ASSERT_TRUE(target) << error;
    std::unique_ptr<llvm::MCSubtargetInfo> sti(
        target->createMCSubtargetInfo(triple, "generic", ""));
    ASSERT_TRUE(sti);
    for (const char *name : names)
      EXPECT_TRUE(llvm::any_of(sti->getAllProcessorFeatures(),
                               [&](const llvm::SubtargetFeatureKV &kv) {
                                 return StringRef(kv.Key) == name;
                               }))
          << tripleName.str() << ": " << name;
  };
  SmallVector<const char *> x86, arm;
  for (const lowbit_x86_feature &f : lowbit_x86_features)
    x86.push_back(f.name);
  for (const lowbit_aarch64_feature &f : lowbit_aarch64_features)
    arm.push_back(f.name);
  check("x86_64-unknown-linux-gnu", x86);
  check("aarch64-unknown-linux-gnu", arm);
}

TEST(CPUFeatures, RecordedForEachTarget) {
  auto has = [](ArrayRef<std::string> list, StringRef f) {
    return llvm::is_contained(list, f.str());
  };
  SmallVector<std::string> v3 =
      recorded("x86_64-unknown-linux-gnu", "x86-64-v3", "");
  for (StringRef f : {"avx", "avx2", "fma", "f16c", "bmi", "bmi2", "lzcnt",
                      "movbe", "popcnt", "sse4.2", "cx16", "xsave"})
    EXPECT_TRUE(has(v3, f)) << f.str() << " in " << llvm::join(v3, " ");
  EXPECT_FALSE(has(v3, "avx512f"));
  SmallVector<std::string> v4 =
      recorded("x86_64-unknown-linux-gnu", "x86-64-v4", "");
  for (StringRef f :
       {"avx2", "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})
    EXPECT_TRUE(has(v4, f)) << f.str();
  EXPECT_FALSE(has(v4, "avx512vnni"));
  // Explicit features on top of the CPU's, and explicit removals.
  SmallVector<std::string> plus = recorded(
      "x86_64-unknown-linux-gnu", "x86-64-v3", "+avx512vbmi,+gfni,-movbe");
  EXPECT_TRUE(has(plus, "avx512vbmi"));
  EXPECT_TRUE(has(plus, "avx512f")); // implied by avx512vbmi
  EXPECT_TRUE(has(plus, "gfni"));
  EXPECT_FALSE(has(plus, "movbe"));
  SmallVector<std::string> arm =
      recorded("aarch64-unknown-linux-gnu", "generic", "+neon,+dotprod");
  EXPECT_TRUE(has(arm, "neon"));
  EXPECT_TRUE(has(arm, "dotprod"));
  EXPECT_FALSE(has(arm, "sve"));
}

/// An artifact compiled for `host` loads on the host: everything it records
/// is something this CPU has, by LLVM's detection and by the runtime's.
TEST(CPUFeatures, HostArtifactsLoadOnTheirHost) {
  if (!hostIsX86())
    GTEST_SKIP() << "x86 hosts";
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  SmallVector<std::string> signs;
  for (const auto &f : host)
    signs.push_back((f.second ? "+" : "-") + f.first().str());
  SmallVector<std::string> got =
      recorded(llvm::sys::getDefaultTargetTriple(), llvm::sys::getHostCPUName(),
               llvm::join(signs, ","));
  EXPECT_FALSE(got.empty());
  for (const std::string &f : got) {
    EXPECT_TRUE(host.lookup(f)) << f;
    EXPECT_EQ(lowbit_cpu_has_feature(f.c_str()), 1) << f;
  }
}

} // namespace

//===- TargetSpec.cpp - Queries on a resolved --target ---------*- C++ -*-===//
//
// TargetSpec's member queries. They live in LowbitTargetCPU, the lowest
// library that asks them (the linker of ObjectFile.cpp), so that the CPU
// back end does not depend on LowbitTarget above it.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/Targets.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir::lowbit;

bool TargetSpec::needs(StringRef feature) const {
  return llvm::is_contained(required, feature);
}

bool TargetSpec::isAArch64() const {
  return StringRef(triple).starts_with("aarch64");
}

bool TargetSpec::isCross() const {
  return isAArch64() &&
         !StringRef(llvm::sys::getDefaultTargetTriple()).starts_with("aarch64");
}

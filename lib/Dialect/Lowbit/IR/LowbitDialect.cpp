//===- LowbitDialect.cpp - The lowbit dialect -------------------*- C++ -*-===//
//
// Registers the lowbit dialect's attributes, types and operations, and
// verifies the discardable `lowbit.` attributes (LowbitBase.td lists them).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::lowbit;

#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.cpp.inc"
#include "lowbit/Dialect/Lowbit/IR/LowbitEnums.cpp.inc"

void LowbitDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.cpp.inc"
      >();
}

/// lowbit.allocation: on a module, the solve's summary (a dictionary); on
/// a layer, the scheme the quantization passes will use.
static LogicalResult verifyAllocation(Operation *op, StringRef name,
                                      Attribute value) {
  auto dict = dyn_cast<DictionaryAttr>(value);
  if (!dict)
    return op->emitError() << "'" << name << "' must be a dictionary, got "
                           << value;
  if (isa<ModuleOp>(op))
    return success();
  auto bits = dict.getAs<IntegerAttr>("bits");
  auto group = dict.getAs<IntegerAttr>("group");
  if (!bits || bits.getInt() < 2 || bits.getInt() > 8)
    return op->emitError() << "'" << name
                           << "' needs an integer 'bits' in 2..8, got "
                           << value;
  if (!group || group.getInt() < 0)
    return op->emitError() << "'" << name
                           << "' needs a non-negative integer 'group', got "
                           << value;
  if (Attribute fraction = dict.get("outlier_fraction")) {
    auto f = dyn_cast<FloatAttr>(fraction);
    if (!f || f.getValueAsDouble() < 0.0 || f.getValueAsDouble() > 0.25)
      return op->emitError()
             << "'" << name
             << "' has an 'outlier_fraction' outside 0..0.25: " << fraction;
  }
  return success();
}

/// Checks the kind of one discardable `lowbit.` attribute on `op` (or on
/// one of its region arguments or results).
static LogicalResult verifyDiscardableAttr(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().strref();
  Attribute value = attr.getValue();
  auto expect = [&](bool ok, StringRef kind) -> LogicalResult {
    if (ok)
      return success();
    return op->emitError() << "'" << name << "' must be " << kind << ", got "
                           << value;
  };
  using D = LowbitDialect;
  if (name == D::UnsignedAttrHelper::getNameStr())
    return expect(isa<UnitAttr>(value), "a unit attribute");
  if (name == D::LayerAttrHelper::getNameStr() ||
      name == D::MethodAttrHelper::getNameStr() ||
      name == D::CalibrationSiteAttrHelper::getNameStr())
    return expect(isa<StringAttr>(value), "a string");
  if (name == D::WeightErrorAttrHelper::getNameStr() ||
      name == D::OutputErrorAttrHelper::getNameStr() ||
      name == D::PlainOutputErrorAttrHelper::getNameStr() ||
      name == D::TimeMsAttrHelper::getNameStr())
    return expect(isa<FloatAttr>(value), "a float");
  if (name == D::StatsAttrHelper::getNameStr() ||
      name == D::ProbeAttrHelper::getNameStr() ||
      name == D::SensitivityAttrHelper::getNameStr() ||
      name == D::SmoothAttrHelper::getNameStr() ||
      name == D::RotationAttrHelper::getNameStr())
    return expect(isa<DictionaryAttr>(value), "a dictionary");
  if (name == D::ActivationOutliersAttrHelper::getNameStr())
    return expect(isa<IntegerAttr>(value), "an integer");
  if (name == D::AllocationAttrHelper::getNameStr())
    return verifyAllocation(op, name, value);
  if (name == D::WeightsAttrHelper::getNameStr() ||
      name == D::GpuKernelsAttrHelper::getNameStr() ||
      name == D::ArgRolesAttrHelper::getNameStr())
    return expect(isa<ArrayAttr>(value), "an array");
  if (name == D::ReferenceAttrHelper::getNameStr())
    return success();
  return op->emitError() << "unknown attribute '" << name
                         << "' of the lowbit dialect";
}

LogicalResult LowbitDialect::verifyOperationAttribute(Operation *op,
                                                      NamedAttribute attr) {
  return verifyDiscardableAttr(op, attr);
}

LogicalResult LowbitDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                      unsigned,
                                                      NamedAttribute attr) {
  return verifyDiscardableAttr(op, attr);
}

LogicalResult LowbitDialect::verifyRegionResultAttribute(Operation *op,
                                                         unsigned, unsigned,
                                                         NamedAttribute attr) {
  return verifyDiscardableAttr(op, attr);
}

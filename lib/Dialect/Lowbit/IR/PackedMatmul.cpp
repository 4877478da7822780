//===- PackedMatmul.cpp - The packed layout and lowbit.packed_matmul ------===//
//
// Sizes derived from a #lowbit.packed layout, its syntax and verifier, and
// the verifier and memory effects of lowbit.packed_matmul.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <cstdint>
#include <numeric>

using namespace mlir;
using namespace mlir::lowbit;

//===----------------------------------------------------------------------===//
// #lowbit.packed
//===----------------------------------------------------------------------===//

int64_t PackedLayoutAttr::getSuperblockK() const {
  int64_t block = getBlockK();
  return getGroup() ? std::lcm(block, getGroup()) : block;
}

int64_t PackedLayoutAttr::getPaddedK() const {
  int64_t sb = getSuperblockK();
  return (getK() + sb - 1) / sb * sb;
}

int64_t PackedLayoutAttr::getNumGroups() const {
  return getGroup() ? getPaddedK() / getGroup() : 1;
}

int64_t PackedLayoutAttr::getCodeBytes() const {
  return getNumTiles() * getTile() * getPaddedK() * getBits() / 8;
}

int64_t PackedLayoutAttr::getOutlierWords() const {
  return getOutliers() ? getNumTiles() * getTile() + 1 + getOutliers() + 16 : 0;
}

int64_t PackedLayoutAttr::getNumParams() const {
  return getNumTiles() * getNumGroups() * getTile() * getParamsPerGroup();
}

LogicalResult
PackedLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                         unsigned bits, int64_t k, int64_t n, int64_t lanes,
                         int64_t tile, int64_t group, bool isSigned, bool zero,
                         bool int8, bool lut, bool amx, bool gpu, bool mma,
                         DenseF32ArrayAttr values, int64_t outliers) {
  if (bits != 2 && bits != 4 && bits != 8)
    return emitError() << "packed codes of " << bits
                       << " bits (supported: 2, 4, 8)";
  if (k <= 0 || n <= 0)
    return emitError() << "packed weight of " << k << " x " << n
                       << " (K and N must be positive)";
  if (outliers < 0)
    return emitError() << "negative outlier count " << outliers;
  if (outliers && k > 65536)
    return emitError() << "outliers need K of at most 65536 (16-bit row "
                          "indices), got K = "
                       << k;
  // Offsets are 32-bit word indices (N is padded by less than 32 columns).
  if (outliers && n + 32 + 1 + outliers + 16 > INT32_MAX)
    return emitError() << outliers
                       << " outliers do not fit 32-bit outlier offsets";
  if (gpu) {
    if (lanes != 128)
      return emitError() << "'gpu' layouts have 128 lanes (one 16-byte load "
                            "per thread of a warp), got "
                         << lanes;
    if (int8 || lut || amx || values)
      return emitError() << "'gpu' does not combine with 'int8', 'lut', "
                            "'amx' or 'values'";
    if (tile < 1 || tile > 8)
      return emitError() << "'gpu' tile of " << tile
                         << " columns (supported: 1..8)";
    if (k % 4 != 0 || group < 0 || group % 4 != 0)
      return emitError() << "'gpu' needs K and the group size to be "
                            "multiples of 4, got K = "
                         << k << ", group " << group;
    if (mma) {
      if (tile != 8 || bits == 2)
        return emitError() << "'mma' takes tiles of 8 columns and 4 or 8-bit "
                              "fields, got tile "
                           << tile << ", " << bits << " bits";
      if (group % 16 != 0)
        return emitError() << "'mma' needs groups of a multiple of 16 (one "
                              "MMA's k), got group "
                           << group;
    }
    return success();
  }
  if (mma)
    return emitError() << "'mma' needs 'gpu'";
  if (lanes != 4 && lanes != 8 && lanes != 16)
    return emitError() << lanes << " lanes (supported: 4, 8, 16)";
  if (tile < 1 || tile > (lut ? 32 : 16))
    return emitError() << "tile of " << tile << " columns (supported: 1..16)";
  if (group < 0 || group % lanes != 0)
    return emitError() << "group size " << group << " is not a multiple of the "
                       << lanes << " lanes";
  if (int8 && (group <= 0 || group % 64 != 0))
    return emitError() << "int8 activations need groups of a multiple of "
                          "64, got group "
                       << group;
  if (amx) {
    if (!int8 || tile != 16)
      return emitError() << "'amx' needs 'int8' and tiles of 16 columns";
    int64_t blockK = 64 * 8 / bits;
    if (group % blockK != 0)
      return emitError() << "'amx' needs groups of a multiple of " << blockK
                         << " for " << bits << "-bit codes, got group "
                         << group;
  }
  if (lut) {
    if ((bits != 2 && bits != 4) || int8 || values)
      return emitError() << "'lut' takes 2 or 4-bit integer codes without "
                            "'int8'";
    if (tile != 2 * lanes)
      return emitError() << "'lut' tiles are 2 * lanes = " << 2 * lanes
                         << " columns, got " << tile;
    if (group <= 0 || group % 8 != 0 || group > 256)
      return emitError() << "'lut' needs groups of a multiple of 8 up to "
                            "256, got group "
                         << group;
  }
  if (values) {
    if (bits > 4 || values.size() == 0 || values.size() > (1 << bits))
      return emitError() << values.size() << " code values for " << bits
                         << "-bit codes (at most " << (1 << bits)
                         << ", codes of at most 4 bits)";
    if (int8 || isSigned)
      return emitError() << "code values do not combine with "
                         << (int8 ? "'int8'" : "'signed'");
  }
  return success();
}

Attribute PackedLayoutAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  int64_t bits = 0, k = 0, n = 0, lanes = 0, tile = 0, group = 0, outliers = 0;
  auto field = [&](StringRef key, int64_t &value) {
    return failure(parser.parseKeyword(key) || parser.parseEqual() ||
                   parser.parseInteger(value));
  };
  if (parser.parseLess() || failed(field("bits", bits)) ||
      parser.parseComma() || failed(field("k", k)) || parser.parseComma() ||
      failed(field("n", n)) || parser.parseComma() ||
      failed(field("lanes", lanes)) || parser.parseComma() ||
      failed(field("tile", tile)) || parser.parseComma() ||
      failed(field("group", group)))
    return {};
  bool isSigned = false, zero = false, int8 = false, lut = false, amx = false,
       gpu = false, mma = false;
  DenseF32ArrayAttr values;
  while (succeeded(parser.parseOptionalComma())) {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key))
      return {};
    if (key == "signed")
      isSigned = true;
    else if (key == "zero")
      zero = true;
    else if (key == "int8")
      int8 = true;
    else if (key == "lut")
      lut = true;
    else if (key == "amx")
      amx = true;
    else if (key == "gpu")
      gpu = true;
    else if (key == "mma")
      mma = true;
    else if (key == "outliers") {
      if (parser.parseEqual() || parser.parseInteger(outliers))
        return {};
    } else if (key == "values") {
      Attribute attr;
      if (parser.parseEqual() || parser.parseAttribute(attr))
        return {};
      values = dyn_cast<DenseF32ArrayAttr>(attr);
      if (!values) {
        parser.emitError(keyLoc, "values must be an array<f32: ...>");
        return {};
      }
    } else {
      parser.emitError(
          keyLoc,
          "expected 'signed', 'zero', 'int8', 'lut', 'amx', 'gpu', 'mma', "
          "'outliers' or 'values', got '")
          << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<PackedLayoutAttr>(
      loc, parser.getContext(), static_cast<unsigned>(bits), k, n, lanes, tile,
      group, isSigned, zero, int8, lut, amx, gpu, mma, values, outliers);
}

void PackedLayoutAttr::print(AsmPrinter &printer) const {
  printer << "<bits = " << getBits() << ", k = " << getK() << ", n = " << getN()
          << ", lanes = " << getLanes() << ", tile = " << getTile()
          << ", group = " << getGroup();
  if (getSignedCodes())
    printer << ", signed";
  if (getZero())
    printer << ", zero";
  if (getInt8())
    printer << ", int8";
  if (getLut())
    printer << ", lut";
  if (getAmx())
    printer << ", amx";
  if (getGpu())
    printer << ", gpu";
  if (getMma())
    printer << ", mma";
  if (getOutliers())
    printer << ", outliers = " << getOutliers();
  if (getValues()) {
    printer << ", values = ";
    printer.printAttribute(getValues());
  }
  printer << '>';
}

//===----------------------------------------------------------------------===//
// lowbit.packed_matmul
//===----------------------------------------------------------------------===//

LogicalResult PackedMatmulOp::verify() {
  PackedLayoutAttr layout = getLayout();
  auto input = cast<ShapedType>(getInput().getType());
  auto init = cast<ShapedType>(getInit().getType());
  auto codes = cast<ShapedType>(getCodes().getType());
  auto params = cast<ShapedType>(getParams().getType());
  bool tensors = isa<RankedTensorType>(input);
  for (ShapedType t : {init, codes, params})
    if (isa<RankedTensorType>(t) != tensors ||
        !(isa<RankedTensorType>(t) || isa<MemRefType>(t)))
      return emitOpError("operands must be all ranked tensors or all memrefs");
  if (tensors != (getNumResults() == 1))
    return emitOpError(tensors ? "on tensors returns one result"
                               : "on memrefs returns no result");
  if (tensors && getResult()[0].getType() != init)
    return emitOpError("result type ")
           << getResult()[0].getType() << " differs from init type " << init;
  if (input.getRank() != 2 || !input.getElementType().isF32() ||
      !input.hasStaticShape() || input.getDimSize(1) != layout.getK())
    return emitOpError("input must be M x ")
           << layout.getK() << " f32 (static), got " << input;
  if (layout.getAmx() && input.getDimSize(0) > 16)
    return emitOpError("amx layouts take at most 16 rows (one AMX tile), "
                       "got ")
           << input.getDimSize(0);
  if (init.getRank() != 2 || !init.getElementType().isF32() ||
      init.getShape() != ArrayRef<int64_t>{input.getDimSize(0), layout.getN()})
    return emitOpError("init must be ")
           << input.getDimSize(0) << "x" << layout.getN() << " f32, got "
           << init;
  if (codes.getRank() != 1 || !codes.getElementType().isInteger(8) ||
      codes.getDimSize(0) != layout.getCodeBytes())
    return emitOpError("codes must be ")
           << layout.getCodeBytes() << " x i8 for layout " << layout << ", got "
           << codes;
  if (params.getRank() != 1 || !params.getElementType().isF32() ||
      params.getDimSize(0) != layout.getNumParams())
    return emitOpError("params must be ")
           << layout.getNumParams() << " x f32 for layout " << layout
           << ", got " << params;
  Value outliers = getOutliers();
  if (!outliers != !layout.getOutliers())
    return emitOpError(outliers ? "has an outlier array but its layout no "
                                  "outliers"
                                : "layout has outliers but the op no outlier "
                                  "array");
  if (outliers) {
    auto type = cast<ShapedType>(outliers.getType());
    if (isa<RankedTensorType>(type) != tensors ||
        !(isa<RankedTensorType>(type) || isa<MemRefType>(type)))
      return emitOpError("operands must be all ranked tensors or all memrefs");
    if (type.getRank() != 1 || !type.getElementType().isInteger(32) ||
        type.getDimSize(0) != layout.getOutlierWords())
      return emitOpError("outliers must be ")
             << layout.getOutlierWords() << " x i32 for layout " << layout
             << ", got " << type;
  }
  return success();
}

void PackedMatmulOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

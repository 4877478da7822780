//===- LowbitOps.cpp - Operations of the lowbit dialect ---------*- C++ -*-===//
//
// Custom syntax, type inference, folders and verifiers of the lowbit ops.
// Rules that check constant data (outlier coordinates, N:M masks) live in
// PartChecks.cpp.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "PartChecks.h"
#include "lowbit/Support/Hadamard.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::lowbit;

#define GET_OP_CLASSES
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.cpp.inc"

/// Prints `[ "name", ...]` for a diagnostic.
static std::string joinNames(ArrayRef<StringRef> names) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(names, os);
  return s;
}

/// `4096x512` for a shape.
static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, "x");
  return s;
}

/// How the scheme of `type` shapes its scale-like part `name`, for messages:
/// "group size 128 along axis 0 of 4096x512".
static std::string describeScaleRule(QTensorType type, StringRef name) {
  SchemeAttr scheme = type.getScheme();
  std::string s;
  llvm::raw_string_ostream os(s);
  std::string of = " of " + shapeStr(type.getShape());
  if (name == "super_scales") {
    if (scheme.getSuperGroup() == 0)
      os << "one super scale per tensor" << of;
    else
      os << "super-blocks of " << scheme.getSuperGroup() << " groups of "
         << scheme.getGroupSize() << " along axis " << scheme.getAxis() << of;
    return s;
  }
  switch (scheme.getGranularity()) {
  case Granularity::Tensor:
    os << "one scale per tensor" << of;
    break;
  case Granularity::Channel:
    os << "one scale per channel of axis " << scheme.getAxis() << of;
    break;
  case Granularity::Group:
    os << "group size " << scheme.getGroupSize() << " along axis "
       << scheme.getAxis() << of;
    break;
  }
  return s;
}

/// Checks one part against the type the quantized type derives for it, with
/// a message naming the rule that fixes it.
static LogicalResult verifyPart(Operation *op, QTensorType type, StringRef name,
                                Type actual, Type expected) {
  if (actual == expected)
    return success();
  auto a = dyn_cast<RankedTensorType>(actual);
  auto e = cast<RankedTensorType>(expected);
  bool scaleLike =
      name == "scales" || name == "zero_points" || name == "super_scales";
  if (a && scaleLike && a.getShape() != e.getShape())
    return op->emitOpError()
           << name << " shape " << shapeStr(a.getShape()) << " does not match "
           << describeScaleRule(type, name) << " (expected "
           << shapeStr(e.getShape()) << ")";
  if (a && name == "codes" && a.getShape() == e.getShape())
    return op->emitOpError()
           << "codes element type " << a.getElementType() << " does not match "
           << "the " << type.getScheme().getBits() << "-bit scheme (expected "
           << e.getElementType() << ")";
  return op->emitOpError() << name << " has type " << actual
                           << " but the quantized type needs " << expected;
}

/// Checks that `values` are exactly the parts `names` of `type`.
static LogicalResult verifyPartTypes(Operation *op, QTensorType type,
                                     StringRef what, ValueRange values,
                                     ArrayRef<Type> expected,
                                     ArrayRef<StringRef> names) {
  if (values.size() != expected.size())
    return op->emitOpError()
           << "expects " << expected.size() << " " << what << " ("
           << joinNames(names) << ") but got " << values.size();
  for (auto [v, t, name] : llvm::zip_equal(values, expected, names))
    if (failed(verifyPart(op, type, name, v.getType(), t)))
      return failure();
  return success();
}

/// Parses `%a, %b, ... attr-dict : ` common to quantize and pack.
static ParseResult
parseOperandsAndAttrs(OpAsmParser &parser, OperationState &result,
                      SmallVectorImpl<OpAsmParser::UnresolvedOperand> &ops) {
  return failure(parser.parseOperandList(ops) ||
                 parser.parseOptionalAttrDict(result.attributes) ||
                 parser.parseColon());
}

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

ParseResult QuantizeOp::parse(OpAsmParser &parser, OperationState &result) {
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  Type inputType;
  QTensorType resultType;
  SMLoc loc = parser.getCurrentLocation();
  if (parseOperandsAndAttrs(parser, result, operands) ||
      parser.parseType(inputType) || parser.parseArrow() ||
      parser.parseType(resultType))
    return failure();
  SmallVector<Type> types{inputType};
  llvm::append_range(types, resultType.getParamTypes());
  if (operands.size() != types.size())
    return parser.emitError(loc) << "expected " << types.size()
                                 << " operands (input and the scheme's "
                                    "parameters) but got "
                                 << operands.size();
  result.addTypes(resultType);
  return parser.resolveOperands(operands, types, loc, result.operands);
}

void QuantizeOp::print(OpAsmPrinter &p) {
  p << ' ' << getInput();
  if (!getParams().empty())
    p << ", " << getParams();
  p.printOptionalAttrDict((*this)->getAttrs());
  p << " : " << getInput().getType() << " -> " << getType();
}

LogicalResult QuantizeOp::verify() {
  QTensorType type = getType();
  auto inputType = cast<RankedTensorType>(getInput().getType());
  if (inputType.getShape() != type.getShape() ||
      inputType.getElementType() != type.getElementType())
    return emitOpError() << "input type " << inputType
                         << " does not match the logical type of " << type;
  if (type.getOutliers() || type.getSparsity())
    return emitOpError() << "result must be dense (no outliers or sparsity); "
                            "attach them with lowbit.pack";
  SmallVector<StringRef> names = type.getPartNames();
  return verifyPartTypes(*this, type, "parameters", getParams(),
                         type.getParamTypes(),
                         ArrayRef<StringRef>(names).slice(1));
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands, DictionaryAttr,
    OpaqueProperties, RegionRange, SmallVectorImpl<Type> &inferredReturnTypes) {
  auto type = dyn_cast<QTensorType>(operands[0].getType());
  if (!type)
    return failure();
  inferredReturnTypes.push_back(
      RankedTensorType::get(type.getShape(), type.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// PackOp
//===----------------------------------------------------------------------===//

ParseResult PackOp::parse(OpAsmParser &parser, OperationState &result) {
  SmallVector<OpAsmParser::UnresolvedOperand> operands;
  QTensorType resultType;
  SMLoc loc = parser.getCurrentLocation();
  if (parseOperandsAndAttrs(parser, result, operands) ||
      parser.parseType(resultType))
    return failure();
  SmallVector<Type> types = resultType.getPartTypes();
  if (operands.size() != types.size())
    return parser.emitError(loc) << "expected " << types.size() << " parts ("
                                 << joinNames(resultType.getPartNames())
                                 << ") but got " << operands.size();
  result.addTypes(resultType);
  return parser.resolveOperands(operands, types, loc, result.operands);
}

void PackOp::print(OpAsmPrinter &p) {
  p << ' ' << getParts();
  p.printOptionalAttrDict((*this)->getAttrs());
  p << " : " << getType();
}

LogicalResult PackOp::verify() {
  QTensorType type = getType();
  if (failed(verifyPartTypes(*this, type, "parts", getParts(),
                             type.getPartTypes(), type.getPartNames())))
    return failure();
  return verifyConstantParts(*this, type, getParts());
}

OpFoldResult PackOp::fold(FoldAdaptor) {
  // pack(unpack(%q)) -> %q
  auto unpack = getParts().front().getDefiningOp<UnpackOp>();
  if (!unpack || unpack.getInput().getType() != getType() ||
      unpack.getParts() != ValueRange(getParts()))
    return {};
  return unpack.getInput();
}

//===----------------------------------------------------------------------===//
// UnpackOp
//===----------------------------------------------------------------------===//

LogicalResult UnpackOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, ValueRange operands, DictionaryAttr,
    OpaqueProperties, RegionRange, SmallVectorImpl<Type> &inferredReturnTypes) {
  auto type = dyn_cast<QTensorType>(operands[0].getType());
  if (!type)
    return failure();
  llvm::append_range(inferredReturnTypes, type.getPartTypes());
  return success();
}

LogicalResult UnpackOp::fold(FoldAdaptor,
                             SmallVectorImpl<OpFoldResult> &results) {
  // unpack(pack(%parts...)) -> %parts...
  auto pack = getInput().getDefiningOp<PackOp>();
  if (!pack)
    return failure();
  for (Value part : pack.getParts())
    results.push_back(part);
  return success();
}

//===----------------------------------------------------------------------===//
// PackCodesOp / UnpackCodesOp
//===----------------------------------------------------------------------===//

/// Checks a code tensor / byte tensor pair for pack_codes and unpack_codes.
static LogicalResult verifyCodeStorage(Operation *op, RankedTensorType codes,
                                       RankedTensorType bytes) {
  if (!codes.hasStaticShape())
    return op->emitOpError() << "code tensor " << codes << " is not static";
  unsigned bits = codes.getElementTypeBitWidth();
  if (bits < 1 || bits > 8)
    return op->emitOpError() << "code width " << bits << " is outside 1..8";
  int64_t expected = (codes.getNumElements() * bits + 7) / 8;
  if (bytes.getRank() != 1 || bytes.getDimSize(0) != expected)
    return op->emitOpError()
           << "byte tensor " << bytes << " must be tensor<" << expected
           << "xi8> for " << codes.getNumElements() << " codes of " << bits
           << " bits";
  return success();
}

LogicalResult PackCodesOp::verify() {
  return verifyCodeStorage(*this, getCodes().getType(), getBytes().getType());
}

LogicalResult UnpackCodesOp::verify() {
  return verifyCodeStorage(*this, getCodes().getType(), getBytes().getType());
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult FakeQuantOp::verify() {
  if (getBits() < 2 || getBits() > 8)
    return emitOpError() << "bits must be 2 to 8, got " << getBits();
  if (getBlock() <= 0)
    return emitOpError() << "block must be positive, got " << getBlock();
  auto type = cast<RankedTensorType>(getInput().getType());
  if (type.getRank() < 1)
    return emitOpError() << "input must have rank >= 1";
  int64_t k = type.getShape().back();
  if (ShapedType::isDynamic(k))
    return emitOpError() << "the last dimension must be static";
  return success();
}

LogicalResult HadamardOp::verify() {
  auto type = cast<RankedTensorType>(getInput().getType());
  if (type.getRank() < 1 || type.isDynamicDim(type.getRank() - 1))
    return emitOpError() << "the last dimension must be static";
  int64_t n = type.getShape().back();
  if (!buildHadamardFactors(n))
    return emitOpError() << "no Hadamard matrix of order " << n
                         << " is built (orders 2^k m with m = 1 or a Paley "
                            "order)";
  return success();
}

LogicalResult MatmulOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto weightType = cast<QTensorType>(getWeight().getType());
  auto resultType = cast<RankedTensorType>(getResult().getType());
  if (weightType.getRank() != 2)
    return emitOpError() << "weight must have rank 2, got rank "
                         << weightType.getRank();
  if (inputType.getRank() < 2)
    return emitOpError() << "input must have rank >= 2, got rank "
                         << inputType.getRank();
  int64_t k = weightType.getShape()[getTransposeWeight() ? 1 : 0];
  int64_t n = weightType.getShape()[getTransposeWeight() ? 0 : 1];
  int64_t inputK = inputType.getShape().back();
  if (!ShapedType::isDynamic(inputK) && inputK != k)
    return emitOpError() << "input contraction extent " << inputK
                         << " does not match weight extent " << k;
  SmallVector<int64_t> expected(inputType.getShape());
  expected.back() = n;
  if (resultType.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result type " << resultType
                         << " does not match the expected shape "
                         << RankedTensorType::get(expected,
                                                  resultType.getElementType());
  if (inputType.getElementType() != weightType.getElementType() ||
      resultType.getElementType() != weightType.getElementType())
    return emitOpError() << "input, weight and result element types must "
                            "agree, got "
                         << inputType.getElementType() << ", "
                         << weightType.getElementType() << " and "
                         << resultType.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// CalibrateOp
//===----------------------------------------------------------------------===//

int64_t CalibrateOp::getChannelAxis() {
  int64_t rank = getInput().getType().getRank();
  int64_t axis = getAxis();
  return axis < 0 ? axis + rank : axis;
}

LogicalResult CalibrateOp::verify() {
  if (getSite().empty())
    return emitOpError() << "site name must not be empty";
  if (static_cast<uint32_t>(getStats()) == 0)
    return emitOpError() << "must collect at least one statistic";
  auto type = cast<RankedTensorType>(getInput().getType());
  int64_t axis = getChannelAxis();
  if (axis < 0 || axis >= type.getRank())
    return emitOpError() << "channel axis " << getAxis()
                         << " is out of range for rank " << type.getRank();
  if (bitEnumContainsAny(getStats(), CalibStats::Hessian) &&
      type.isDynamicDim(axis))
    return emitOpError() << "hessian needs a static channel extent on axis "
                         << axis;
  return success();
}

//===- LowbitAttrs.cpp - Attributes of the lowbit dialect -------*- C++ -*-===//
//
// Parsing, printing and verification of #lowbit.scheme, #lowbit.outliers and
// #lowbit.sparsity, and the shape rules the scheme implies.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitAttrs.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::lowbit;

#define GET_ATTRDEF_CLASSES
#include "lowbit/Dialect/Lowbit/IR/LowbitAttrs.cpp.inc"

void LowbitDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "lowbit/Dialect/Lowbit/IR/LowbitAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// SchemeAttr
//===----------------------------------------------------------------------===//

/// Bit width of a fixed-width format, 0 for `int` and `lut`.
static unsigned getFixedWidth(CodeFormat format) {
  switch (format) {
  case CodeFormat::E2M1:
  case CodeFormat::NF4:
    return 4;
  case CodeFormat::E3M2:
  case CodeFormat::E2M3:
    return 6;
  case CodeFormat::E4M3:
  case CodeFormat::E5M2:
    return 8;
  case CodeFormat::Int:
  case CodeFormat::LUT:
    return 0;
  }
  return 0;
}

bool SchemeAttr::isFloatFormat() const {
  CodeFormat f = getFormat();
  return f == CodeFormat::E2M1 || f == CodeFormat::E3M2 ||
         f == CodeFormat::E2M3 || f == CodeFormat::E4M3 ||
         f == CodeFormat::E5M2;
}

IntegerType SchemeAttr::getCodeType() const {
  return IntegerType::get(getContext(), getBits());
}

int64_t SchemeAttr::getQMin() const {
  return getSymmetric() ? -(int64_t(1) << (getBits() - 1)) : 0;
}

int64_t SchemeAttr::getQMax() const {
  return getSymmetric() ? (int64_t(1) << (getBits() - 1)) - 1
                        : (int64_t(1) << getBits()) - 1;
}

SmallVector<int64_t> SchemeAttr::getScaleShape(ArrayRef<int64_t> shape) const {
  SmallVector<int64_t> result(shape.size(), 1);
  int64_t axis = getAxis();
  // Unverified combinations (axis out of range) get the per-tensor shape;
  // verifyShape reports them.
  if (getGranularity() != Granularity::Tensor &&
      (axis < 0 || axis >= static_cast<int64_t>(shape.size())))
    return result;
  switch (getGranularity()) {
  case Granularity::Tensor:
    break;
  case Granularity::Channel:
    result[axis] = shape[axis];
    break;
  case Granularity::Group:
    result.assign(shape.begin(), shape.end());
    if (getGroupSize() > 0)
      result[axis] = (shape[axis] + getGroupSize() - 1) / getGroupSize();
    break;
  }
  return result;
}

SmallVector<int64_t>
SchemeAttr::getSuperScaleShape(ArrayRef<int64_t> shape) const {
  int64_t axis = getAxis();
  if (getSuperGroup() <= 0 || getGroupSize() <= 0 || axis < 0 ||
      axis >= static_cast<int64_t>(shape.size()))
    return SmallVector<int64_t>(shape.size(), 1);
  SmallVector<int64_t> result(shape);
  result[axis] = shape[axis] / getGroupSize() / getSuperGroup();
  return result;
}

LogicalResult
SchemeAttr::verifyShape(function_ref<InFlightDiagnostic()> emitError,
                        ArrayRef<int64_t> shape) const {
  if (getGranularity() == Granularity::Tensor)
    return success();
  int64_t rank = shape.size();
  int64_t axis = getAxis();
  if (axis >= rank)
    return emitError() << "scheme axis " << axis << " is out of range for rank "
                       << rank;
  if (getGranularity() != Granularity::Group)
    return success();
  int64_t extent = shape[axis];
  // A shorter last group is allowed, but not under super-blocks.
  if (hasSuperScales() && extent % getGroupSize() != 0)
    return emitError() << "group size " << getGroupSize()
                       << " does not divide extent " << extent << " of axis "
                       << axis << " (required with super scales)";
  // (extent / G) % K rather than extent % (G * K): no overflow.
  if (hasSuperScales() && getSuperGroup() > 0 &&
      (extent / getGroupSize()) % getSuperGroup() != 0)
    return emitError() << "super-blocks of " << getSuperGroup() << " groups of "
                       << getGroupSize() << " do not tile extent " << extent
                       << " of axis " << axis;
  return success();
}

LogicalResult SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 unsigned bits, CodeFormat format,
                                 bool symmetric, Granularity granularity,
                                 int64_t axis, int64_t groupSize,
                                 Type scaleType, Type zeroPointType,
                                 int64_t superGroup, Type superScaleType) {
  if (bits < 1 || bits > 8)
    return emitError() << "bit width " << bits << " is outside 1..8";
  if (unsigned width = getFixedWidth(format); width && width != bits)
    return emitError() << "code format " << stringifyCodeFormat(format)
                       << " has " << width << " bits, not " << bits;
  bool intLike = format == CodeFormat::Int || format == CodeFormat::LUT;
  if (!symmetric && !intLike)
    return emitError() << "asymmetric scheme needs int or lut codes, not "
                       << stringifyCodeFormat(format);
  if (!symmetric && !zeroPointType)
    return emitError() << "asymmetric scheme needs a zero-point type";
  if (symmetric && zeroPointType)
    return emitError() << "symmetric scheme takes no zero-point type";
  if (zeroPointType && !zeroPointType.isIntOrFloat())
    return emitError() << "zero-point type " << zeroPointType
                       << " is not an integer or float type";
  if (granularity != Granularity::Tensor && axis < 0)
    return emitError() << "scheme axis " << axis << " is negative";
  if (granularity == Granularity::Group && groupSize <= 0)
    return emitError() << "group size " << groupSize << " is not positive";
  if (!scaleType)
    return emitError() << "scheme needs a scale type";
  bool hasSuper = static_cast<bool>(superScaleType);
  if (isa<IntegerType>(scaleType) && !hasSuper)
    return emitError() << "integer scale type " << scaleType
                       << " needs a super-block scale";
  if (!isa<FloatType, IntegerType>(scaleType))
    return emitError() << "scale type " << scaleType
                       << " is not a float or integer type";
  if (hasSuper) {
    if (granularity != Granularity::Group)
      return emitError() << "super-block scales need group granularity";
    if (!isa<FloatType>(superScaleType))
      return emitError() << "super-scale type " << superScaleType
                         << " is not a float type";
    if (superGroup < 0)
      return emitError() << "groups per super-block " << superGroup
                         << " is negative";
  } else if (superGroup != 0) {
    return emitError() << "groups per super-block given without a super scale";
  }
  return success();
}

/// Parses `int4`, `lut3`, `e2m1`, `nf4`, ... into a format and bit width.
static ParseResult parseFormatKeyword(AsmParser &parser, CodeFormat &format,
                                      unsigned &bits) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  for (auto [prefix, fmt] : {std::make_pair("int", CodeFormat::Int),
                             std::make_pair("lut", CodeFormat::LUT)}) {
    StringRef rest = keyword;
    if (!rest.consume_front(prefix))
      continue;
    if (rest.getAsInteger(10, bits))
      return parser.emitError(loc, "expected a bit width after '")
             << prefix << "'";
    format = fmt;
    return success();
  }
  std::optional<CodeFormat> fixed = symbolizeCodeFormat(keyword);
  if (!fixed)
    return parser.emitError(loc, "unknown code format '") << keyword << "'";
  format = *fixed;
  bits = getFixedWidth(format);
  return success();
}

Attribute SchemeAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  SMLoc loc = parser.getCurrentLocation();
  CodeFormat format = CodeFormat::Int;
  unsigned bits = 0;
  bool symmetric = true;
  Granularity granularity = Granularity::Tensor;
  int64_t axis = 0, groupSize = 0, superGroup = 0;
  Type scaleType, zeroPointType, superScaleType;
  if (parser.parseLess() || parseFormatKeyword(parser, format, bits) ||
      parser.parseComma())
    return {};
  if (succeeded(parser.parseOptionalKeyword("asym"))) {
    symmetric = false;
    if (parser.parseComma())
      return {};
  } else if (succeeded(parser.parseOptionalKeyword("sym"))) {
    if (parser.parseComma())
      return {};
  }
  // Granularity.
  if (succeeded(parser.parseOptionalKeyword("tensor"))) {
    granularity = Granularity::Tensor;
  } else if (succeeded(parser.parseOptionalKeyword("channel"))) {
    granularity = Granularity::Channel;
    if (parser.parseComma() || parser.parseKeyword("axis") ||
        parser.parseEqual() || parser.parseInteger(axis))
      return {};
  } else if (succeeded(parser.parseOptionalKeyword("group"))) {
    granularity = Granularity::Group;
    if (parser.parseEqual() || parser.parseInteger(groupSize) ||
        parser.parseComma() || parser.parseKeyword("axis") ||
        parser.parseEqual() || parser.parseInteger(axis))
      return {};
  } else {
    parser.emitError(parser.getCurrentLocation(),
                     "expected 'tensor', 'channel' or 'group'");
    return {};
  }
  if (parser.parseComma() || parser.parseKeyword("scale") ||
      parser.parseEqual() || parser.parseType(scaleType))
    return {};
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (key == "zero_point") {
      if (parser.parseType(zeroPointType))
        return {};
    } else if (key == "super") {
      if (failed(parser.parseOptionalKeyword("tensor")) &&
          parser.parseInteger(superGroup))
        return {};
    } else if (key == "super_scale") {
      if (parser.parseType(superScaleType))
        return {};
    } else {
      parser.emitError(parser.getCurrentLocation(), "unknown scheme key '")
          << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<SchemeAttr>(
      loc, ctx, bits, format, symmetric, granularity, axis, groupSize,
      scaleType, zeroPointType, superGroup, superScaleType);
}

void SchemeAttr::print(AsmPrinter &printer) const {
  printer << '<';
  switch (getFormat()) {
  case CodeFormat::Int:
    printer << "int" << getBits();
    break;
  case CodeFormat::LUT:
    printer << "lut" << getBits();
    break;
  default:
    printer << stringifyCodeFormat(getFormat());
  }
  if (!isTableFormat() || getFormat() == CodeFormat::LUT)
    printer << (getSymmetric() ? ", sym" : ", asym");
  switch (getGranularity()) {
  case Granularity::Tensor:
    printer << ", tensor";
    break;
  case Granularity::Channel:
    printer << ", channel, axis = " << getAxis();
    break;
  case Granularity::Group:
    printer << ", group = " << getGroupSize() << ", axis = " << getAxis();
    break;
  }
  printer << ", scale = " << getScaleType();
  if (getZeroPointType())
    printer << ", zero_point = " << getZeroPointType();
  if (hasSuperScales()) {
    printer << ", super = ";
    if (getSuperGroup() == 0)
      printer << "tensor";
    else
      printer << getSuperGroup();
    printer << ", super_scale = " << getSuperScaleType();
  }
  printer << '>';
}

//===----------------------------------------------------------------------===//
// OutliersAttr
//===----------------------------------------------------------------------===//

LogicalResult OutliersAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   OutlierFormat format, int64_t nnz,
                                   Type valueType) {
  if (nnz <= 0)
    return emitError() << "outlier count " << nnz << " is not positive";
  if (!isa<FloatType>(valueType))
    return emitError() << "outlier value type " << valueType
                       << " is not a float type";
  return success();
}

//===----------------------------------------------------------------------===//
// SparsityAttr
//===----------------------------------------------------------------------===//

SmallVector<int64_t> SparsityAttr::getMaskShape(ArrayRef<int64_t> shape) const {
  SmallVector<int64_t> result(shape);
  int64_t axis = getAxis();
  if (getKind() == SparsityKind::Block && getM() > 0 && axis >= 0 &&
      axis < static_cast<int64_t>(shape.size()))
    result[axis] /= getM();
  return result;
}

LogicalResult SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   SparsityKind kind, int64_t n, int64_t m,
                                   int64_t axis) {
  if (axis < 0)
    return emitError() << "sparsity axis " << axis << " is negative";
  if (kind == SparsityKind::NM && (n <= 0 || m <= 0 || n >= m))
    return emitError() << "N:M sparsity " << n << ":" << m
                       << " needs 0 < N < M";
  if (kind == SparsityKind::Block && m <= 0)
    return emitError() << "sparsity block size " << m << " is not positive";
  return success();
}

Attribute SparsityAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  int64_t n = 0, m = 0, axis = 0;
  if (parser.parseLess() || parser.parseKeyword(&keyword))
    return {};
  std::optional<SparsityKind> kind = symbolizeSparsityKind(keyword);
  if (!kind) {
    parser.emitError(loc, "expected 'nm' or 'block'");
    return {};
  }
  if (*kind == SparsityKind::NM) {
    if (parser.parseInteger(n) || parser.parseColon() || parser.parseInteger(m))
      return {};
  } else if (parser.parseInteger(m)) {
    return {};
  }
  if (parser.parseComma() || parser.parseKeyword("axis") ||
      parser.parseEqual() || parser.parseInteger(axis) || parser.parseGreater())
    return {};
  return parser.getChecked<SparsityAttr>(loc, parser.getContext(), *kind, n, m,
                                         axis);
}

void SparsityAttr::print(AsmPrinter &printer) const {
  printer << '<' << stringifySparsityKind(getKind()) << ' ';
  if (getKind() == SparsityKind::NM)
    printer << getN() << ':';
  printer << getM() << ", axis = " << getAxis() << '>';
}

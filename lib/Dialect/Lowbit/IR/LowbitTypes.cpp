//===- LowbitTypes.cpp - Types of the lowbit dialect ------------*- C++ -*-===//
//
// !lowbit.qtensor: parsing, printing, verification and the types of its parts.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitTypes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::lowbit;

#define GET_TYPEDEF_CLASSES
#include "lowbit/Dialect/Lowbit/IR/LowbitTypes.cpp.inc"

void LowbitDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "lowbit/Dialect/Lowbit/IR/LowbitTypes.cpp.inc"
      >();
}

LogicalResult QTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<int64_t> shape, Type elementType,
                                  SchemeAttr scheme, OutliersAttr outliers,
                                  SparsityAttr sparsity) {
  if (shape.empty())
    return emitError() << "quantized tensor needs rank >= 1";
  for (int64_t d : shape)
    if (d <= 0)
      return emitError() << "quantized tensor extents must be static and "
                            "positive, got "
                         << d;
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16())
    return emitError() << "element type " << elementType
                       << " is not f32, f16 or bf16";
  if (!scheme)
    return emitError() << "quantized tensor needs a scheme";
  if (failed(scheme.verifyShape(emitError, shape)))
    return failure();
  if (outliers && outliers.getFormat() == OutlierFormat::CSR &&
      shape.size() != 2)
    return emitError() << "csr outliers need rank 2, got rank " << shape.size();
  if (sparsity) {
    int64_t axis = sparsity.getAxis();
    if (axis >= static_cast<int64_t>(shape.size()))
      return emitError() << "sparsity axis " << axis
                         << " is out of range for rank " << shape.size();
    if (shape[axis] % sparsity.getM() != 0)
      return emitError() << (sparsity.getKind() == SparsityKind::NM
                                 ? "sparsity M "
                                 : "sparsity block ")
                         << sparsity.getM() << " does not divide extent "
                         << shape[axis] << " of axis " << axis;
  }
  return success();
}

Type QTensorType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t> shape;
  Type elementType;
  SchemeAttr scheme;
  OutliersAttr outliers;
  SparsityAttr sparsity;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false) ||
      parser.parseType(elementType) || parser.parseComma() ||
      parser.parseAttribute(scheme))
    return {};
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual())
      return {};
    if (key == "outliers") {
      if (parser.parseAttribute(outliers))
        return {};
    } else if (key == "sparsity") {
      if (parser.parseAttribute(sparsity))
        return {};
    } else {
      parser.emitError(parser.getCurrentLocation(),
                       "unknown quantized tensor key '")
          << key << "'";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<QTensorType>(
      loc, parser.getContext(), shape, elementType, scheme, outliers, sparsity);
}

void QTensorType::print(AsmPrinter &printer) const {
  printer << '<';
  for (int64_t d : getShape())
    printer << d << 'x';
  printer << getElementType() << ", " << getScheme();
  if (getOutliers())
    printer << ", outliers = " << getOutliers();
  if (getSparsity())
    printer << ", sparsity = " << getSparsity();
  printer << '>';
}

int64_t QTensorType::getNumElements() const {
  int64_t n = 1;
  for (int64_t d : getShape())
    n *= d;
  return n;
}

RankedTensorType QTensorType::getCodesType() const {
  return RankedTensorType::get(getShape(), getScheme().getCodeType());
}

RankedTensorType QTensorType::getScalesType() const {
  return RankedTensorType::get(getScheme().getScaleShape(getShape()),
                               getScheme().getScaleType());
}

RankedTensorType QTensorType::getZeroPointsType() const {
  if (getScheme().getSymmetric())
    return {};
  return RankedTensorType::get(getScheme().getScaleShape(getShape()),
                               getScheme().getZeroPointType());
}

RankedTensorType QTensorType::getCodebookType() const {
  if (getScheme().getFormat() != CodeFormat::LUT)
    return {};
  return RankedTensorType::get({int64_t(1) << getScheme().getBits()},
                               getElementType());
}

RankedTensorType QTensorType::getSuperScalesType() const {
  if (!getScheme().hasSuperScales())
    return {};
  return RankedTensorType::get(getScheme().getSuperScaleShape(getShape()),
                               getScheme().getSuperScaleType());
}

RankedTensorType QTensorType::getMaskType() const {
  if (!getSparsity())
    return {};
  return RankedTensorType::get(getSparsity().getMaskShape(getShape()),
                               IntegerType::get(getContext(), 1));
}

SmallVector<Type> QTensorType::getOutlierTypes() const {
  OutliersAttr outliers = getOutliers();
  if (!outliers)
    return {};
  MLIRContext *ctx = getContext();
  Type i32 = IntegerType::get(ctx, 32);
  int64_t nnz = outliers.getNnz();
  auto values = RankedTensorType::get({nnz}, outliers.getValueType());
  if (outliers.getFormat() == OutlierFormat::COO)
    return {RankedTensorType::get({nnz, getRank()}, i32), values};
  return {RankedTensorType::get({getShape()[0] + 1}, i32),
          RankedTensorType::get({nnz}, i32), values};
}

SmallVector<Type> QTensorType::getParamTypes() const {
  SmallVector<Type> types{getScalesType()};
  for (RankedTensorType t :
       {getZeroPointsType(), getCodebookType(), getSuperScalesType()})
    if (t)
      types.push_back(t);
  return types;
}

SmallVector<Type> QTensorType::getPartTypes() const {
  SmallVector<Type> types{getCodesType()};
  llvm::append_range(types, getParamTypes());
  llvm::append_range(types, getOutlierTypes());
  if (RankedTensorType mask = getMaskType())
    types.push_back(mask);
  return types;
}

SmallVector<StringRef> QTensorType::getPartNames() const {
  SmallVector<StringRef> names{"codes", "scales"};
  if (getZeroPointsType())
    names.push_back("zero_points");
  if (getCodebookType())
    names.push_back("codebook");
  if (getSuperScalesType())
    names.push_back("super_scales");
  if (OutliersAttr outliers = getOutliers()) {
    if (outliers.getFormat() == OutlierFormat::COO)
      names.append({"outlier_indices", "outlier_values"});
    else
      names.append({"outlier_row_ptr", "outlier_col_idx", "outlier_values"});
  }
  if (getMaskType())
    names.push_back("mask");
  return names;
}

QTensorType QTensorType::getDense() const {
  return QTensorType::get(getContext(), getShape(), getElementType(),
                          getScheme(), OutliersAttr(), SparsityAttr());
}

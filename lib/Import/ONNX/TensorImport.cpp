//===- TensorImport.cpp - ONNX types and tensors to MLIR --------*- C++ -*-===//
//
// Checks every tensor's data against its shape and type before it becomes
// an attribute; raw bytes move into the resource blob, external data is
// memory-mapped and the mapping owned by the blob.
//
//===----------------------------------------------------------------------===//

#include "TensorImport.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::lowbit;
using llvm::createStringError;
using llvm::inconvertibleErrorCode;

llvm::Expected<Type> mlir::lowbit::getElementType(MLIRContext *ctx,
                                                  int32_t dataType) {
  Builder b(ctx);
  switch (dataType) {
  case 1:
    return b.getF32Type(); // FLOAT
  case 2:
    return IntegerType::get(ctx, 8, IntegerType::Unsigned); // UINT8
  case 3:
    return b.getIntegerType(8); // INT8
  case 4:
    return IntegerType::get(ctx, 16, IntegerType::Unsigned); // UINT16
  case 5:
    return b.getIntegerType(16); // INT16
  case 6:
    return b.getIntegerType(32); // INT32
  case 7:
    return b.getIntegerType(64); // INT64
  case 9:
    return b.getI1Type(); // BOOL
  case 10:
    return b.getF16Type(); // FLOAT16
  case 11:
    return b.getF64Type(); // DOUBLE
  case 12:
    return IntegerType::get(ctx, 32, IntegerType::Unsigned); // UINT32
  case 13:
    return IntegerType::get(ctx, 64, IntegerType::Unsigned); // UINT64
  case 16:
    return b.getBF16Type(); // BFLOAT16
  case 17:
    return b.getType<Float8E4M3FNType>(); // FLOAT8E4M3FN
  case 18:
    return b.getType<Float8E4M3FNUZType>(); // FLOAT8E4M3FNUZ
  case 19:
    return b.getType<Float8E5M2Type>(); // FLOAT8E5M2
  case 20:
    return b.getType<Float8E5M2FNUZType>(); // FLOAT8E5M2FNUZ
  case 21:
    return IntegerType::get(ctx, 4, IntegerType::Unsigned); // UINT4
  case 22:
    return b.getIntegerType(4); // INT4
  case 23:
    return b.getType<Float4E2M1FNType>(); // FLOAT4E2M1
  case 24:
    return b.getType<Float8E8M0FNUType>(); // FLOAT8E8M0
  case 25:
    return IntegerType::get(ctx, 2, IntegerType::Unsigned); // UINT2
  case 26:
    return b.getIntegerType(2); // INT2
  default:
    break;
  }
  const char *names[] = {"UNDEFINED", "", "",          "",          "", "",
                         "",          "", "STRING",    "",          "", "",
                         "",          "", "COMPLEX64", "COMPLEX128"};
  std::string name = dataType >= 0 && dataType < 16 && *names[dataType]
                         ? names[dataType]
                         : "data type " + std::to_string(dataType);
  return createStringError(inconvertibleErrorCode(),
                           "element type " + name + " is not supported");
}

llvm::Expected<Type> mlir::lowbit::getValueType(MLIRContext *ctx,
                                                const ::onnx::TypeProto &type) {
  if (!type.has_tensor_type())
    return createStringError(inconvertibleErrorCode(),
                             "only tensor values are supported (sequence, map "
                             "and optional types are not)");
  const auto &tensor = type.tensor_type();
  llvm::Expected<Type> elem = getElementType(ctx, tensor.elem_type());
  if (!elem)
    return elem.takeError();
  if (!tensor.has_shape())
    return UnrankedTensorType::get(*elem);
  SmallVector<int64_t> shape;
  for (const auto &dim : tensor.shape().dim())
    shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                        ? dim.dim_value()
                        : ShapedType::kDynamic);
  return RankedTensorType::get(shape, *elem);
}

/// Bytes per element in the raw (little-endian) layout; 0 for sub-byte types.
static int64_t getRawElementBytes(Type elem) {
  unsigned bits = elem.getIntOrFloatBitWidth();
  return bits < 8 ? 0 : bits / 8;
}

/// Reads the typed (non-raw) fields of `tensor` into little-endian bytes of
/// `elem`; returns the number of values found.
static int64_t readTypedData(const ::onnx::TensorProto &tensor, Type elem,
                             std::vector<char> &bytes) {
  int64_t n = 0;
  auto append = [&](const void *p, size_t size) {
    const char *c = static_cast<const char *>(p);
    bytes.insert(bytes.end(), c, c + size);
    ++n;
  };
  unsigned bits = elem.getIntOrFloatBitWidth();
  switch (tensor.data_type()) {
  case 1: // FLOAT
    for (float v : tensor.float_data())
      append(&v, 4);
    break;
  case 11: // DOUBLE
    for (double v : tensor.double_data())
      append(&v, 8);
    break;
  case 7: // INT64
    for (int64_t v : tensor.int64_data())
      append(&v, 8);
    break;
  case 12: // UINT32
  case 13: // UINT64
    for (uint64_t v : tensor.uint64_data())
      append(&v, bits / 8);
    break;
  default: // int32_data holds INT32 and every narrower type, one per entry
    for (int32_t v : tensor.int32_data())
      append(&v, std::max(1u, bits / 8));
  }
  return n;
}

/// A blob that owns `storage` (moved in) and exposes its bytes.
static AsmResourceBlob blobOwning(std::string storage, size_t align) {
  auto owned = std::make_unique<std::string>(std::move(storage));
  ArrayRef<char> data(owned->data(), owned->size());
  return AsmResourceBlob(
      data, align,
      [owned = std::move(owned)](void *, size_t, size_t) mutable {
        owned.reset();
      },
      /*dataIsMutable=*/false);
}

/// A blob over a memory-mapped slice; the mapping lives as long as the blob.
static AsmResourceBlob blobMapping(std::unique_ptr<llvm::MemoryBuffer> buffer,
                                   size_t align) {
  ArrayRef<char> data(buffer->getBufferStart(), buffer->getBufferSize());
  return AsmResourceBlob(
      data, align,
      [buffer = std::move(buffer)](void *, size_t, size_t) mutable {
        buffer.reset();
      },
      /*dataIsMutable=*/false);
}

/// Maps the external data of `tensor`, checking path, offset and length.
static llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mapExternalData(const ::onnx::TensorProto &tensor, llvm::StringRef modelDir,
                int64_t needed) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t v;
      if (llvm::StringRef(entry.value()).getAsInteger(10, v) || v < 0)
        return createStringError(inconvertibleErrorCode(),
                                 "external data " + entry.key() + " '" +
                                     entry.value() + "' is not a number");
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty())
    return createStringError(inconvertibleErrorCode(),
                             "external data has no location");
  if (llvm::sys::path::is_absolute(location) ||
      llvm::StringRef(location).contains(".."))
    return createStringError(inconvertibleErrorCode(),
                             "external data location '" + location +
                                 "' must be a relative path inside the "
                                 "model's folder");
  if (length >= 0 && length != needed)
    return createStringError(inconvertibleErrorCode(),
                             "external data length " + std::to_string(length) +
                                 " does not match the " +
                                 std::to_string(needed) +
                                 " bytes its shape and type need");
  llvm::SmallString<256> path(modelDir);
  llvm::sys::path::append(path, location);
  uint64_t fileSize = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(path, fileSize))
    return createStringError(inconvertibleErrorCode(),
                             "cannot open external data file '" +
                                 std::string(path) + "': " + ec.message());
  if (static_cast<uint64_t>(offset) + needed > fileSize)
    return createStringError(inconvertibleErrorCode(),
                             "external data file '" + std::string(path) +
                                 "' is too short: " + std::to_string(needed) +
                                 " bytes at offset " + std::to_string(offset) +
                                 " but the file has " +
                                 std::to_string(fileSize));
  auto buffer = llvm::MemoryBuffer::getFileSlice(path, needed, offset,
                                                 /*IsVolatile=*/false);
  if (!buffer)
    return createStringError(inconvertibleErrorCode(),
                             "cannot read external data file '" +
                                 std::string(path) +
                                 "': " + buffer.getError().message());
  return std::move(*buffer);
}

llvm::Expected<ElementsAttr>
mlir::lowbit::importTensor(MLIRContext *ctx, ::onnx::TensorProto &tensor,
                           llvm::StringRef modelDir, int64_t inlineLimit) {
  llvm::Expected<Type> elemOr = getElementType(ctx, tensor.data_type());
  if (!elemOr)
    return elemOr.takeError();
  Type elem = *elemOr;
  SmallVector<int64_t> shape;
  int64_t numel = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return createStringError(inconvertibleErrorCode(),
                               "negative dimension " + std::to_string(d));
    if (d > 0 && numel > (int64_t(1) << 40) / d)
      return createStringError(inconvertibleErrorCode(), "tensor is too large");
    shape.push_back(d);
    numel *= d;
  }
  auto type = RankedTensorType::get(shape, elem);
  int64_t elemBytes = getRawElementBytes(elem);
  std::string shapeText;
  {
    llvm::raw_string_ostream os(shapeText);
    os << type;
  }
  auto mismatch = [&](int64_t have, StringRef unit, int64_t need) {
    return createStringError(inconvertibleErrorCode(),
                             "has " + std::to_string(have) + " " + unit.str() +
                                 " of data but its type " + shapeText +
                                 " needs " + std::to_string(need));
  };

  // Sub-byte and boolean tensors: small in practice, inline. Sub-byte
  // values are packed low bits first, 8 / bits to a byte.
  if (elemBytes == 0 || elem.isInteger(1)) {
    std::vector<char> bytes;
    unsigned bits = elem.getIntOrFloatBitWidth();
    int64_t perByte = elem.isInteger(1) ? 1 : 8 / bits;
    int64_t need = (numel + perByte - 1) / perByte;
    if (tensor.has_raw_data()) {
      const std::string &raw = tensor.raw_data();
      if (static_cast<int64_t>(raw.size()) != need)
        return mismatch(raw.size(), "bytes", need);
      bytes.assign(raw.begin(), raw.end());
    } else {
      int64_t count = readTypedData(tensor, elem, bytes);
      if (count != need)
        return mismatch(count, "values", need);
    }
    if (elem.isInteger(1)) {
      SmallVector<bool> values;
      for (char c : bytes)
        values.push_back(c != 0);
      return cast<ElementsAttr>(DenseElementsAttr::get(type, values));
    }
    SmallVector<APInt> values;
    for (int64_t i = 0; i < numel; ++i) {
      uint8_t byte = static_cast<uint8_t>(bytes[i / perByte]);
      values.push_back(
          APInt(bits, (byte >> ((i % perByte) * bits)) & ((1u << bits) - 1)));
    }
    if (isa<FloatType>(elem)) {
      SmallVector<APFloat> floats;
      for (const APInt &v : values)
        floats.push_back(APFloat(cast<FloatType>(elem).getFloatSemantics(), v));
      return cast<ElementsAttr>(DenseElementsAttr::get(type, floats));
    }
    return cast<ElementsAttr>(DenseElementsAttr::get(type, values));
  }

  int64_t needBytes = numel * elemBytes;
  if (numel == 0) {
    // Empty tensors: no data to own (and no blob: copying zero bytes from a
    // null pointer is undefined, found by the fuzzer).
    if (tensor.has_raw_data() && !tensor.raw_data().empty())
      return mismatch(tensor.raw_data().size(), "bytes", 0);
    return cast<ElementsAttr>(
        DenseElementsAttr::getFromRawBuffer(type, ArrayRef<char>()));
  }
  AsmResourceBlob blob;
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL) {
    auto buffer = mapExternalData(tensor, modelDir, needBytes);
    if (!buffer)
      return buffer.takeError();
    // A mapping aligned for the element type is used in place; otherwise copy.
    if (reinterpret_cast<uintptr_t>((*buffer)->getBufferStart()) % elemBytes)
      blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
          ArrayRef<char>((*buffer)->getBufferStart(), needBytes), elemBytes);
    else
      blob = blobMapping(std::move(*buffer), elemBytes);
  } else if (tensor.has_raw_data()) {
    if (static_cast<int64_t>(tensor.raw_data().size()) != needBytes)
      return mismatch(tensor.raw_data().size(), "bytes", needBytes);
    std::string raw = std::move(*tensor.mutable_raw_data());
    tensor.clear_raw_data();
    if (reinterpret_cast<uintptr_t>(raw.data()) % elemBytes)
      blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
          ArrayRef<char>(raw.data(), raw.size()), elemBytes);
    else
      blob = blobOwning(std::move(raw), elemBytes);
  } else {
    std::vector<char> bytes;
    int64_t count = readTypedData(tensor, elem, bytes);
    if (count != numel)
      return mismatch(count, "values", numel);
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(bytes.data(), bytes.size()), elemBytes);
  }

  if (numel <= inlineLimit) {
    // Small tensors inline: readable in IR and foldable by patterns.
    bool detectedSplat = false;
    ArrayRef<char> data = blob.getData();
    if (DenseElementsAttr::isValidRawBuffer(type, data, detectedSplat))
      return cast<ElementsAttr>(
          DenseElementsAttr::getFromRawBuffer(type, data));
  }
  std::string name = tensor.name().empty() ? "tensor" : tensor.name();
  return cast<ElementsAttr>(
      DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

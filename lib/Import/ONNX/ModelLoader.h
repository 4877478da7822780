//===- ModelLoader.h - Parsing ModelProto safely ----------------*- C++ -*-===//
//
// The only place that calls protobuf and libonnx code that may throw; it is
// built with exceptions and turns every failure into an error string.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_IMPORT_ONNX_MODELLOADER_H
#define LOWBIT_LIB_IMPORT_ONNX_MODELLOADER_H

#include "ONNXProto.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>

namespace mlir::lowbit {

/// Parses a serialized ModelProto (up to 2 GiB). On failure returns null and
/// sets `error`.
std::unique_ptr<::onnx::ModelProto> parseModelProto(llvm::StringRef bytes,
                                                    std::string &error);

/// Registers the schemas of the onnxruntime contrib ops the converter
/// supports (com.microsoft MatMulNBits), so that shape inference types their
/// outputs; once per process (ContribSchemas.cpp).
void registerContribSchemas();

/// Runs ONNX shape inference on `model`, adding value_info for values it can
/// type. Best effort: on failure leaves the model as it was and sets
/// `warning`.
void inferModelShapes(::onnx::ModelProto &model, std::string &warning);

/// Why `node` of a model importing `opset` of its domain has too few inputs
/// or outputs for the ONNX schema of its op ("" when it has enough, or when
/// the schema is unknown or newer than the ONNX library linked, which might
/// have changed the counts). The conversions index inputs the schema
/// requires (a crash the fuzzer found: an Unsqueeze without inputs).
std::string checkNodeArity(const ::onnx::NodeProto &node,
                           llvm::StringRef domain, int64_t opset);

/// Gives the graph inputs named in `shapes` those static shapes and drops the
/// model's intermediate and output shapes so that shape inference recomputes
/// them. Only dynamic dimensions may be set: returns an error message for a
/// name that is not a tensor graph input, a rank that differs or a static
/// dimension that differs; "" on success.
std::string specializeInputShapes(
    ::onnx::ModelProto &model,
    const llvm::StringMap<llvm::SmallVector<int64_t>> &shapes);

/// Turns the graph inputs named in `values` into initializers holding those
/// values (read as the input's element type: integers, floats or bools).
/// The shape is the input's if it is static, else 1-D of the values' count
/// (rank 0 for a scalar input). Returns an error message for a name that is
/// not a tensor graph input, an element type that is not numeric, a value
/// that does not parse or fit, or a count that does not match; "" on
/// success.
std::string specializeInputValues(
    ::onnx::ModelProto &model,
    const llvm::StringMap<llvm::SmallVector<std::string>> &values);

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_IMPORT_ONNX_MODELLOADER_H

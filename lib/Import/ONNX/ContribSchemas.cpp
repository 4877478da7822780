//===- ContribSchemas.cpp - Schemas of onnxruntime's contrib ops ---------===//
//
// ONNX's shape inference knows only the ops of the ONNX domains; a model
// quantized by onnxruntime's tools has com.microsoft nodes whose outputs it
// leaves untyped, and with them everything downstream. The contrib ops the
// converter supports get a schema here (inputs, attributes, and the type and
// shape inference onnxruntime defines), registered once.
//
//===----------------------------------------------------------------------===//

#include "ModelLoader.h"

#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>

#include <mutex>

namespace {

using ::onnx::AttributeProto;
using ::onnx::OpSchema;

/// MatMulNBits (com.microsoft, 1): Y = A x dequantize(B)^T; Y's shape is A's
/// with the last dimension N, its element type A's.
OpSchema matMulNBitsSchema() {
  OpSchema schema;
  schema.SetName("MatMulNBits")
      .SetDomain("com.microsoft")
      .SinceVersion(1)
      .SetDoc("onnxruntime's blockwise weight-only quantized MatMul")
      .Attr("K", "input features", AttributeProto::INT)
      .Attr("N", "output features", AttributeProto::INT)
      .Attr("bits", "bits per code", AttributeProto::INT,
            static_cast<int64_t>(4))
      .Attr("block_size", "codes per scale along K", AttributeProto::INT)
      .Attr("accuracy_level", "onnxruntime's kernel choice",
            AttributeProto::INT, static_cast<int64_t>(0))
      .Input(0, "A", "activations", "T1")
      .Input(1, "B", "packed codes", "T2")
      .Input(2, "scales", "per block", "T1")
      .Input(3, "zero_points", "per block", "T3", OpSchema::Optional)
      .Input(4, "g_idx", "block of each row of K", "T4", OpSchema::Optional)
      .Input(5, "bias", "per output", "T1", OpSchema::Optional)
      .Output(0, "Y", "result", "T1")
      .TypeConstraint("T1",
                      {"tensor(float)", "tensor(float16)", "tensor(bfloat16)"},
                      "float types")
      .TypeConstraint("T2", {"tensor(uint8)", "tensor(int32)"}, "codes")
      .TypeConstraint("T3",
                      {"tensor(uint8)", "tensor(int32)", "tensor(float)",
                       "tensor(float16)", "tensor(bfloat16)"},
                      "zero points")
      .TypeConstraint("T4", {"tensor(int32)"}, "indices")
      .TypeAndShapeInferenceFunction([](::onnx::InferenceContext &ctx) {
        ::onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        if (!::onnx::hasInputShape(ctx, 0))
          return;
        const AttributeProto *n = ctx.getAttribute("N");
        if (!n || !n->has_i())
          return;
        ::onnx::TensorShapeProto shape = ::onnx::getInputShape(ctx, 0);
        if (shape.dim_size() < 1)
          return;
        shape.mutable_dim(shape.dim_size() - 1)->set_dim_value(n->i());
        ::onnx::updateOutputShape(ctx, 0, shape);
      });
  return schema;
}

} // namespace

void mlir::lowbit::registerContribSchemas() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto &ranges = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance();
    if (!ranges.Map().count("com.microsoft"))
      ranges.AddDomainToVersion("com.microsoft", 1, 1);
    OpSchema schema = matMulNBitsSchema();
    ::onnx::OpSchemaRegistry::OpSchemaRegisterOnce registered(schema);
  });
}

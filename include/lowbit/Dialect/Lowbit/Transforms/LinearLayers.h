//===- LinearLayers.h - Finding the linear layers of a model ----*- C++ -*-===//
//
// A linear layer is a contraction `y[..., m, n] = sum_k x[..., m, k] * W[k, n]`
// (or W[n, k]) with a constant f32 weight and a zero-filled init: what ONNX
// MatMul and Gemm become after convert-onnx-to-core, or a linalg.matmul. The
// quantization and calibration passes share this matcher, the layer names
// (the weight's resource name, e.g. `model.layers.0.mlp.up_proj.weight`) and
// the include/exclude filter.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_LINEARLAYERS_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_LINEARLAYERS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Operation.h"
#include "llvm/Support/Regex.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit {

struct LinearLayer {
  Operation *op = nullptr; // the contraction
  Value input;             // x: ... x M x K
  Value weight;            // the constant W
  ElementsAttr weightAttr; // its value
  bool transposed = false; // W is N x K
  int64_t k = 0, n = 0;
  std::string name;
};

/// True if `v` is a tensor filled with 0.0 by linalg.fill.
bool isZeroFill(Value v);
/// True if `generic` is a linalg.generic whose body is `out + in0 * in1`
/// (in any operand order).
bool isMulAddBody(Operation *generic);

/// The linear layer `op` is, if it is one.
std::optional<LinearLayer> matchLinearLayer(Operation *op);

/// The regular expressions choosing layers by name: a layer is taken when it
/// matches `include` (empty: every layer) and does not match `exclude`.
class LayerFilter {
public:
  /// Layers named like embeddings or output heads are excluded by default.
  static constexpr const char *kDefaultExclude =
      "(^|[._/])(embed|embeddings|embed_tokens|word_embeddings|wte|wpe|lm_head)"
      "([._/]|$)";

  /// Fails with a message naming the bad expression.
  static FailureOr<LayerFilter> create(StringRef include, StringRef exclude,
                                       std::string &error);
  /// As create, with the error emitted on `anchor` as "<pass>: <reason>".
  static FailureOr<LayerFilter> createFor(Operation *anchor, StringRef pass,
                                          StringRef include, StringRef exclude);
  bool accepts(StringRef name) const;

private:
  std::optional<llvm::Regex> include, exclude;
};

/// The linear layers of `module` in program order whose names `filter`
/// accepts and whose K and N are at least `minSize`.
std::vector<LinearLayer> collectLinearLayers(ModuleOp module,
                                             const LayerFilter &filter,
                                             int64_t minSize = 1);

/// The f32 values of a constant weight (inline or dense_resource).
std::optional<std::vector<float>> readWeightF32(ElementsAttr attr);

/// The weight as a K x N row-major matrix (transposing an N x K one).
std::optional<std::vector<float>> readWeightKxN(const LinearLayer &layer);

} // namespace mlir::lowbit

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_LINEARLAYERS_H

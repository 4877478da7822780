//===- ScaleEquivalence.h - Where a per-channel scale folds exactly -*- C++
//-*-//
//
// The equivalence analysis the smoothing passes (AWQ, SmoothQuant) build on,
// and later rotation and outlier passes reuse: for the linear layers reading
// one tensor X (q/k/v, gate/up), the producer of X that can absorb a
// per-input-channel scale s exactly, so that
//
//   X W = (X diag(1/s)) (diag(s) W)   with X diag(1/s) computed by the
//                                     producer itself, at no run-time cost.
//
// Producers recognised structurally on the core IR (what convert-onnx-to-core
// emits; names are used only in messages):
//   - norm: an elementwise linalg.generic whose result is t * g[c] or
//     t * g[c] + b[c], g and b constant vectors on the channel (last) axis,
//     used nowhere else in the body (RMSNorm, LayerNorm: g /= s, b /= s);
//   - linear: a linear layer whose output, with an optional constant bias
//     added, is X itself or one factor of an elementwise product X = a * P
//     (SwiGLU's act(gate) * up: up's columns and bias /= s);
//   - attention: a linear layer (v) whose output reaches X through
//     reshapes, transposes and the batch matmul P @ V that mixes positions,
//     not channels (o_proj's input): v's columns and bias /= s, with the
//     channel permutation the reshapes and transposes make. A broadcast on
//     the way (grouped-query attention repeating kv heads: one v channel
//     feeds several o channels) is refused, as AWQ does.
// Each absorbing value (the norm's or the linear's output, the product) must
// have no reader but the group: a value also read by a residual add (BERT's
// post-LN LayerNorm) is not absorbable. What is not paired gets the reason.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_SCALEEQUIVALENCE_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_SCALEEQUIVALENCE_H

#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// The producer that absorbs 1/s on its output channels.
struct ScaleAbsorber {
  enum class Kind { Norm, Linear };
  Kind kind = Kind::Norm;
  /// Norm: the elementwise generic; Linear: the linear layer's op.
  Operation *op = nullptr;
  /// Norm: the input operand indices (in `op`) of g and of b (-1: none).
  int64_t scaleOperand = -1, biasOperand = -1;
  /// Linear: the layer, and the elementwise add of its constant bias (or
  /// null) with that constant's operand index.
  std::optional<LinearLayer> linear;
  Operation *biasAdd = nullptr;
  int64_t biasAddOperand = -1;
  /// Linear: the elementwise product the layer's output is a factor of (or
  /// null when the group reads the output directly).
  Operation *product = nullptr;
  /// Linear: the layer's output reaches the group through attention.
  bool attention = false;
  /// Linear, through attention: the output column of the layer feeding
  /// each channel of the group's input (a permutation); empty: identity.
  std::vector<int64_t> channelMap;

  /// The absorber's channel (output column, norm entry) of group channel c.
  int64_t channelOf(int64_t c) const {
    return channelMap.empty() ? c : channelMap[c];
  }

  /// A description for messages: "norm 'blk.0.attn_norm.weight'", ...
  std::string describe() const;
};

/// Linear layers reading one tensor, and what can absorb their shared scale.
struct ScaleGroup {
  /// The tensor the layers read (a lowbit.calibrate's result, when
  /// calibrated, else the producer's result).
  Value input;
  int64_t channels = 0;
  std::vector<LinearLayer> layers;
  std::optional<ScaleAbsorber> absorber;
  /// Why no absorber was found (empty when one was).
  std::string reason;
};

/// The groups of the linear layers of `module` that `filter` accepts, in
/// program order (a group's layers in program order too).
std::vector<ScaleGroup> analyzeScaleEquivalence(ModuleOp module,
                                                const LayerFilter &filter);

/// Replaces the f32 values of the arith.constant `constant`: a
/// dense_resource blob in place (its name, and every reader of it, see the
/// new values), an inline constant by a new attribute.
void setConstantValues(arith::ConstantOp constant,
                       llvm::ArrayRef<float> values);

/// Folds per-channel scales into the constants of a module: for a group
/// and s > 0 (one per channel), the absorber's constants are divided by s
/// (norm weight and bias; a linear layer's output columns and bias), the
/// group's weights multiplied by s along K, and the `lowbit.stats` of the
/// group's calibration site rescaled to those of X diag(1/s) (abs_max, min,
/// max, mean / s; H_ij / (s_i s_j)). The float function is unchanged up to
/// rounding. Constants held in dense_resource blobs are rewritten in place
/// (names, hence layer names, stay); a constant read by anything else is
/// refused, as is a module whose blobs cannot be read.
class ScaleRewriter {
public:
  explicit ScaleRewriter(ModuleOp module);
  /// Empty if `apply` would succeed on `group`, else why not.
  std::string check(const ScaleGroup &group) const;
  /// Applies `scale` (group.channels values, finite, > 0); fails with
  /// `error` set, changing nothing, when `check` does.
  LogicalResult apply(const ScaleGroup &group, llvm::ArrayRef<float> scale,
                      std::string &error);
  /// Folds the weight g of the group's norm absorber into the group: its
  /// weights multiplied by g along K, g set to 1 (any sign; zeros too).
  /// Fails, changing nothing, for other absorbers, a norm with a bias, a
  /// calibrated input, or when `check` does.
  LogicalResult foldNorm(const ScaleGroup &group, std::string &error);

private:
  /// Constant ops referencing each dense_resource key.
  llvm::StringMap<unsigned> resourceUses;
};

} // namespace mlir::lowbit

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_SCALEEQUIVALENCE_H

//===- WeightQuantizer.h - Host weight quantization algorithms --*- C++ -*-===//
//
// The numerical core of the quantization passes, free of MLIR: group scale
// fitting (abs-max / min-max, optional MSE-optimal clipping), round to
// nearest, and GPTQ. Weights are K x N row-major (K inputs, N outputs);
// groups of G consecutive weights along K share a scale (and zero point)
// per output, as `#lowbit.scheme<..., group = G, axis = 0>` stores them.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANTIZATION_WEIGHTQUANTIZER_H
#define LOWBIT_QUANTIZATION_WEIGHTQUANTIZER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit::quant {

/// How codes map to values: integers, or 4-bit codes indexing the NF4 or
/// FP4 (e2m1) table (symmetric, value = table[code] * scale).
enum class CodeKind { Int, NF4, FP4 };

/// "int", "nf4" or "fp4"; std::nullopt for anything else.
std::optional<CodeKind> parseCodeKind(llvm::StringRef name);

/// The symmetric integer scale rule. Extreme: the value m of largest
/// magnitude goes to the extra negative code, s = m / -2^(b-1) (steps of
/// |m|/8 at 4 bits and |m|/4 at 3, as llama.cpp's q4_0 and onnxruntime's
/// MatMulNBits); AbsMax: s = max|w| / (2^(b-1) - 1), one code fewer and a
/// code of headroom (steps of |m|/7 and |m|/3).
enum class ScaleRule { Extreme, AbsMax };

/// "extreme" or "absmax"; std::nullopt for anything else.
std::optional<ScaleRule> parseScaleRule(llvm::StringRef name);

struct WeightScheme {
  unsigned bits = 4;
  int64_t group = 128; // weights per scale along K (the last group may be
                       // shorter); 0 = one per output
  bool symmetric = true;
  bool clipSearch = false; // MSE-optimal clipping of each group's range
  /// The symmetric scale rule (ignored when asymmetric).
  ScaleRule scaleRule = ScaleRule::Extreme;
  CodeKind kind = CodeKind::Int;
  /// SpQR-style outliers: this fraction of the weights (those whose removal
  /// shrinks their group's range the most, weighted by the group's input
  /// energy sum H_ii) is kept out of the group fits and stored in f16
  /// beside the codes (0: none).
  double outlierFraction = 0.0;

  /// The values of the codes of a table format (empty for integers).
  llvm::ArrayRef<float> table() const;

  /// The group size for a K-long input dimension.
  int64_t groupFor(int64_t k) const { return group == 0 ? k : group; }
  /// Empty if the scheme can be applied to a K x N weight, else why not.
  std::string check(int64_t k) const;
};

struct QuantizedWeight {
  int64_t k = 0, n = 0, group = 0;
  std::vector<uint8_t> codes;      // K*N, low `bits` bits, row-major K x N
  std::vector<float> scales;       // ceil(K/G) x N
  std::vector<uint8_t> zeroPoints; // ceil(K/G) x N, asymmetric only
  /// Outliers: row-major positions i * N + j (ascending) and what they add
  /// to the dequantized code there (w - dequant(code)).
  std::vector<int64_t> outlierIndex;
  std::vector<float> outlierValue;

  int64_t numGroups() const { return (k + group - 1) / group; }
  /// The float weight the codes (and outliers) stand for (K x N).
  std::vector<float> dequantize(const WeightScheme &scheme) const;
};

/// The outliers of a K x N weight in groups of `group` along K: a mask
/// (K x N, 1 = outlier) of floor(fraction * K * N) weights, chosen greedily:
/// each step takes the largest remaining weight of the group and output
/// where (w_1^2 - w_2^2) * sum of H_ii over the group's rows is largest
/// (w_2 the next largest; `hessian` K x K, empty: the row count), the gain
/// of the smaller grid step for the whole group.
std::vector<uint8_t> selectOutliers(llvm::ArrayRef<float> w, int64_t k,
                                    int64_t n, int64_t group,
                                    llvm::ArrayRef<double> hessian,
                                    double fraction);

/// Round to nearest with per-group scales fitted to the weight (to its
/// non-outliers, with `scheme.outlierFraction`; `hessian`, K x K or empty,
/// weighs the outliers' salience).
QuantizedWeight quantizeRtn(llvm::ArrayRef<float> w, int64_t k, int64_t n,
                            const WeightScheme &scheme,
                            llvm::ArrayRef<double> hessian = {});

struct GptqOptions {
  double damp = 0.1;       // fraction of mean(diag H) added to the diagonal
  int64_t blockSize = 128; // columns per lazy batch update
  bool actOrder = false;   // columns by decreasing diag(H), static groups
};

struct GptqReport {
  double damp = 0.0;      // the damping finally used (fraction)
  int64_t deadInputs = 0; // inputs with H_ii = 0 (weights set to 0)
  int retries = 0;        // extra damping rounds after failed Cholesky
};

/// GPTQ (Frantar et al. 2023): quantizes column by column in `blockSize`
/// batches, spreading each column's rounding error over the columns not yet
/// quantized through the Cholesky factor of the dampened inverse Hessian.
/// `hessian` is K x K (X^T X over calibration rows, any positive factor).
/// Returns std::nullopt with `error` set when the Hessian is not usable.
std::optional<QuantizedWeight>
quantizeGptq(llvm::ArrayRef<float> w, int64_t k, int64_t n,
             llvm::ArrayRef<double> hessian, const WeightScheme &scheme,
             const GptqOptions &options, GptqReport &report,
             std::string &error);

/// ||W - W'||_F / ||W||_F.
double relativeError(llvm::ArrayRef<float> w, llvm::ArrayRef<float> wq);

/// tr((W - W')^T H (W - W')): the squared error of the layer's output per
/// calibration row when H is the mean X^T X (K x K).
double outputErrorEnergy(llvm::ArrayRef<float> w, llvm::ArrayRef<float> wq,
                         int64_t k, int64_t n, llvm::ArrayRef<double> hessian);

/// tr(W^T H W): the energy of the layer's output per calibration row (the
/// denominator of relative output errors).
double outputEnergy(llvm::ArrayRef<float> w, int64_t k, int64_t n,
                    llvm::ArrayRef<double> hessian);

/// The bits `nnz` outliers of a K x N weight with `valueBits`-bit values
/// take in the artifact: packed beside the codes (f16 values, K <= 65536:
/// one 32-bit word each, N + 1 column offsets and 16 words of padding;
/// docs/kernels.md, Outliers), else as the csr arrays (value, i32 column,
/// K + 1 i32 row pointers). 0 when there is none.
double outlierBits(int64_t k, int64_t n, int64_t nnz, int64_t valueBits);

/// The bits a K x N weight quantized with `scheme` takes as stored: codes,
/// f32 scales, u8 zero points (asymmetric), and `outliers` f16 outliers
/// (outlierBits).
double storedBits(int64_t k, int64_t n, const WeightScheme &scheme,
                  int64_t outliers);

/// The relative error of the layer's output on the calibration data,
/// ||X (W - W')||_F / ||X W||_F, from H = X^T X (K x K).
double outputError(llvm::ArrayRef<float> w, llvm::ArrayRef<float> wq, int64_t k,
                   int64_t n, llvm::ArrayRef<double> hessian);

} // namespace mlir::lowbit::quant

#endif // LOWBIT_QUANTIZATION_WEIGHTQUANTIZER_H

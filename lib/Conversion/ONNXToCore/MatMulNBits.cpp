//===- MatMulNBits.cpp - onnxruntime's MatMulNBits to lowbit ----*- C++ -*-===//
//
// com.microsoft MatMulNBits (opset 1 of that domain), what onnxruntime's
// weight-only quantizers (MatMulNBitsQuantizer: RTN, HQQ, GPTQ) write:
//
//   Y = A x dequantize(B)^T (+ bias)
//
//   B            uint8 [N, n_blocks, block_size * bits / 8]: column n of the
//                K x N weight cut into blocks of `block_size` along K, its
//                codes packed least significant bits first;
//   scales       [N * n_blocks] or [N, n_blocks], A's float type;
//   zero_points  optional uint8 [N * ceil(n_blocks * bits / 8)] (or 2-D),
//                packed like B, each column's row padded to a byte;
//                absent: 2^(bits - 1);
//   g_idx        optional (deprecated): refused;
//   bias         optional [N].
//
//   dequantize(q) = (q - zero_point) * scale,   n_blocks = ceil(K / block)
//
// The node becomes lowbit.matmul on a !lowbit.qtensor holding the same codes,
// scales and zero points (K x N, groups of block_size along K): with zero
// points an asymmetric scheme with u8 zero points; without, a symmetric one
// with codes q - 2^(bits - 1), which stand for the same values. Nothing is
// rounded again, so the float function is onnxruntime's reference one; the
// compile pipeline then packs it for the generated kernels like any
// quantized layer. `accuracy_level` (onnxruntime's choice of int8
// activations) is not semantics and is ignored: `--activations=int8` is
// Lowbit's.
//
//===----------------------------------------------------------------------===//

#include "ONNXPattern.h"
#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Support/BitPacking.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APFloat.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// The element bytes of a constant operand (a splat expanded into
/// `storage`), or std::nullopt.
std::optional<ArrayRef<char>> constantBytes(Value v,
                                            SmallVectorImpl<char> &storage) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (AsmResourceBlob *blob = res.getRawHandle().getBlob())
      return blob->getData();
    return std::nullopt;
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  if (!dense.isSplat())
    return dense.getRawData();
  ArrayRef<char> one = dense.getRawData();
  for (int64_t i = 0; i < dense.getNumElements(); ++i)
    storage.append(one.begin(), one.end());
  return ArrayRef<char>(storage);
}

/// Code `i` of a least-significant-bits-first stream of `bits`-bit codes.
uint8_t codeAt(ArrayRef<char> bytes, int64_t i, int64_t bits) {
  int64_t bit = i * bits;
  uint16_t word = static_cast<uint8_t>(bytes[bit / 8]);
  if (bit % 8 + bits > 8)
    word |= static_cast<uint16_t>(static_cast<uint8_t>(bytes[bit / 8 + 1]))
            << 8;
  return static_cast<uint8_t>((word >> (bit % 8)) & ((1u << bits) - 1));
}

/// What the node's operands and attributes are, once checked.
struct NBitsNode {
  Value a, b, scales, zeroPoints, bias;
  RankedTensorType aType;
  int64_t k = 0, n = 0, bits = 0, block = 0, blocks = 0;
};

/// Checks the node; "" or why it cannot be converted.
std::string check(onnx::NodeOp op, NBitsNode &node) {
  auto inputs = op.getInputs();
  auto present = [&](unsigned i) {
    return i < inputs.size() && !isa<NoneType>(inputs[i].getType());
  };
  if (!present(0) || !present(1) || !present(2))
    return "needs A, B and scales";
  if (present(4))
    return "g_idx (a permutation of K) is not supported; quantize without "
           "act-order";
  node.a = inputs[0];
  node.b = inputs[1];
  node.scales = inputs[2];
  node.zeroPoints = present(3) ? inputs[3] : Value();
  node.bias = present(5) ? inputs[5] : Value();
  node.k = getIntAttr(op, "K", 0);
  node.n = getIntAttr(op, "N", 0);
  node.bits = getIntAttr(op, "bits", 4);
  node.block = getIntAttr(op, "block_size", 0);
  if (node.k <= 0 || node.n <= 0)
    return "K and N must be positive";
  if (node.bits != 2 && node.bits != 4 && node.bits != 8)
    return "bits = " + std::to_string(node.bits) + " (2, 4 or 8 supported)";
  if (node.block < 16 || (node.block & (node.block - 1)))
    return "block_size = " + std::to_string(node.block) +
           " is not a power of two >= 16";
  node.blocks = (node.k + node.block - 1) / node.block;
  node.aType = dyn_cast<RankedTensorType>(node.a.getType());
  if (!node.aType || node.aType.getRank() < 2 ||
      !node.aType.getElementType().isF32())
    return "A must be a ranked f32 tensor of rank >= 2";
  if (node.aType.getShape().back() != node.k)
    return "A's last dimension is not K = " + std::to_string(node.k);
  auto bType = dyn_cast<RankedTensorType>(node.b.getType());
  int64_t blob = node.block * node.bits / 8;
  if (!bType ||
      bType.getShape() != ArrayRef<int64_t>{node.n, node.blocks, blob} ||
      bType.getElementType().getIntOrFloatBitWidth() != 8)
    return "B must be uint8 [N, ceil(K / block_size), block_size * bits / 8] "
           "= [" +
           std::to_string(node.n) + ", " + std::to_string(node.blocks) + ", " +
           std::to_string(blob) + "]";
  auto sType = dyn_cast<RankedTensorType>(node.scales.getType());
  if (!sType || sType.getNumElements() != node.n * node.blocks ||
      !(sType.getElementType().isF32() || sType.getElementType().isF16()))
    return "scales must be f32 or f16 with N * ceil(K / block_size) elements";
  if (node.zeroPoints) {
    auto zType = dyn_cast<RankedTensorType>(node.zeroPoints.getType());
    int64_t rowBytes = (node.blocks * node.bits + 7) / 8;
    if (!zType || !zType.getElementType().isInteger(8))
      return "float zero points are not supported (uint8 only)";
    if (zType.getNumElements() != node.n * rowBytes)
      return "zero_points must have N * ceil(n_blocks * bits / 8) = " +
             std::to_string(node.n * rowBytes) + " bytes";
  }
  if (node.bias) {
    auto biasType = dyn_cast<RankedTensorType>(node.bias.getType());
    if (!biasType || biasType.getShape() != ArrayRef<int64_t>{node.n} ||
        !biasType.getElementType().isF32())
      return "bias must be f32 [N]";
  }
  return "";
}

struct MatMulNBitsPattern : ONNXPattern {
  MatMulNBitsPattern(MLIRContext *ctx)
      : ONNXPattern(ctx, "MatMulNBits", 1, 1, "com.microsoft") {}

  LogicalResult rewriteNode(onnx::NodeOp op,
                            PatternRewriter &rewriter) const override {
    NBitsNode node;
    if (std::string why = check(op, node); !why.empty())
      return rewriter.notifyMatchFailure(op, why);
    SmallVector<char> bStore, sStore, zStore;
    std::optional<ArrayRef<char>> codes = constantBytes(node.b, bStore);
    std::optional<ArrayRef<char>> scaleBytes =
        constantBytes(node.scales, sStore);
    std::optional<ArrayRef<char>> zpBytes;
    if (node.zeroPoints)
      zpBytes = constantBytes(node.zeroPoints, zStore);
    if (!codes || !scaleBytes || (node.zeroPoints && !zpBytes))
      return rewriter.notifyMatchFailure(
          op, "B, scales and zero points must be constants");

    const int64_t k = node.k, n = node.n, bits = node.bits,
                  blocks = node.blocks;
    const int64_t blob = node.block * bits / 8;
    bool symmetric = !node.zeroPoints;
    // Codes K x N (row-major), from column n's blocks.
    std::vector<uint8_t> q(k * n);
    uint8_t mid = static_cast<uint8_t>(1u << (bits - 1));
    uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
    for (int64_t col = 0; col < n; ++col)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        ArrayRef<char> bytes = codes->slice((col * blocks + blk) * blob, blob);
        for (int64_t i = 0; i < node.block && blk * node.block + i < k; ++i) {
          uint8_t code = codeAt(bytes, i, bits);
          q[(blk * node.block + i) * n + col] =
              symmetric ? static_cast<uint8_t>(code - mid) & mask : code;
        }
      }
    // Scales and zero points ceil(K / G) x N.
    std::vector<float> scales(blocks * n);
    std::vector<uint8_t> zps(symmetric ? 0 : blocks * n);
    bool half =
        cast<RankedTensorType>(node.scales.getType()).getElementType().isF16();
    int64_t rowBytes = (blocks * bits + 7) / 8;
    for (int64_t col = 0; col < n; ++col)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        int64_t at = col * blocks + blk;
        float s;
        if (half) {
          uint16_t raw;
          std::memcpy(&raw, scaleBytes->data() + 2 * at, 2);
          llvm::APFloat v(llvm::APFloat::IEEEhalf(), llvm::APInt(16, raw));
          s = v.convertToFloat();
        } else {
          std::memcpy(&s, scaleBytes->data() + 4 * at, 4);
        }
        scales[blk * n + col] = s;
        if (!symmetric)
          zps[blk * n + col] =
              codeAt(zpBytes->slice(col * rowBytes, rowBytes), blk, bits);
      }

    MLIRContext *ctx = rewriter.getContext();
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type(), i8 = rewriter.getI8Type();
    SchemeAttr scheme = SchemeAttr::get(ctx, bits, CodeFormat::Int, symmetric,
                                        Granularity::Group, 0, node.block, f32,
                                        symmetric ? Type() : i8, 0, Type());
    auto qType = QTensorType::get(ctx, {k, n}, f32, scheme, OutliersAttr(),
                                  SparsityAttr());
    std::string name =
        op.getNodeName().empty() ? "MatMulNBits" : op.getNodeName().str();
    auto blobConstant = [&](RankedTensorType type, auto data,
                            StringRef suffix) -> Value {
      auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(
          ArrayRef(data.data(), data.size()));
      return arith::ConstantOp::create(
          rewriter, loc,
          DenseResourceElementsAttr::get(type, name + suffix.str(),
                                         std::move(blob)));
    };
    std::vector<uint8_t> packed = packBits(q, bits);
    Value bytes = blobConstant(
        RankedTensorType::get({static_cast<int64_t>(packed.size())}, i8),
        packed, ".codes");
    SmallVector<Value> parts{
        UnpackCodesOp::create(rewriter, loc, qType.getCodesType(), bytes)};
    parts.push_back(blobConstant(qType.getScalesType(), scales, ".scales"));
    if (!symmetric)
      parts.push_back(blobConstant(qType.getZeroPointsType(), zps, ".zp"));
    Value weight = PackOp::create(rewriter, loc, qType, parts);

    SmallVector<int64_t> shape(node.aType.getShape());
    shape.back() = n;
    auto resultType = RankedTensorType::get(shape, f32);
    auto matmul = MatmulOp::create(rewriter, loc, resultType, node.a, weight,
                                   /*transpose_weight=*/false);
    matmul->setAttr(LowbitDialect::LayerAttrHelper::getNameStr(),
                    rewriter.getStringAttr(name));
    matmul->setAttr(LowbitDialect::MethodAttrHelper::getNameStr(),
                    rewriter.getStringAttr("onnx-matmulnbits"));
    Value result = matmul.getResult();
    if (node.bias) {
      FailureOr<Value> added = buildBroadcastGeneric(
          rewriter, loc, resultType, {result, node.bias},
          [](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::AddFOp::create(b, l, args[0], args[1]);
          });
      if (failed(added))
        return rewriter.notifyMatchFailure(op, "bias does not broadcast");
      result = *added;
    }
    Type declared = op->getResult(0).getType();
    if (declared != result.getType())
      result = tensor::CastOp::create(rewriter, loc, declared, result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

std::string mlir::lowbit::explainMatMulNBits(onnx::NodeOp op) {
  NBitsNode node;
  std::string why = check(op, node);
  if (!why.empty())
    return why;
  SmallVector<char> storage;
  if (!constantBytes(node.b, storage) || !constantBytes(node.scales, storage) ||
      (node.zeroPoints && !constantBytes(node.zeroPoints, storage)))
    return "B, scales and zero points must be constants";
  return "";
}

void mlir::lowbit::populateONNXMatMulNBitsPatterns(
    RewritePatternSet &patterns) {
  patterns.add<MatMulNBitsPattern>(patterns.getContext());
}

//===- Pack.cpp - lowbit-pack: weights in the kernels' layouts ---*- C++
//-*-===//
//
// lowbit.matmul on a constant weight -> lowbit.packed_matmul on two
// constants (codes, params) laid out as #lowbit.packed describes. All data
// movement happens here, at compile time.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h"
#include "lowbit/Support/BitPacking.h"
#include "lowbit/Support/CodeTables.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/Support/Debug.h"

#include <cstring>
#include <tuple>

#define DEBUG_TYPE "lowbit-pack"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITPACKPASS
#include "lowbit/Dialect/Lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

/// The constant value behind `v`, if any.
ElementsAttr constantOf(Value v) {
  ElementsAttr attr;
  if (v && matchPattern(v, m_Constant(&attr)))
    return attr;
  return {};
}

/// Raw bytes of an i8 constant (inline or dense_resource).
std::optional<std::vector<uint8_t>> readBytes(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  if (!type.getElementType().isInteger(8))
    return std::nullopt;
  std::vector<uint8_t> out(type.getNumElements());
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != out.size())
      return std::nullopt;
    llvm::copy(blob->getData(), out.begin());
    return out;
  }
  auto dense = dyn_cast<DenseIntElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  size_t i = 0;
  for (const APInt &v : dense.getValues<APInt>())
    out[i++] = static_cast<uint8_t>(v.getZExtValue());
  return out;
}

/// Integer values of a code or zero-point constant, read as the scheme
/// reads them (sign-extended when `isSigned`).
std::optional<std::vector<int32_t>> readInts(ElementsAttr attr, bool isSigned) {
  auto type = cast<ShapedType>(attr.getType());
  unsigned width = type.getElementTypeBitWidth();
  std::vector<int32_t> out;
  out.reserve(type.getNumElements());
  auto push = [&](uint64_t raw) {
    uint64_t mask = width >= 32 ? ~0ull : (1ull << width) - 1;
    raw &= mask;
    int64_t v = static_cast<int64_t>(raw);
    if (isSigned && width < 64 && (raw >> (width - 1)) & 1)
      v -= int64_t(1) << width;
    out.push_back(static_cast<int32_t>(v));
  };
  if (width == 8 && isa<DenseResourceElementsAttr>(attr)) {
    std::optional<std::vector<uint8_t>> bytes = readBytes(attr);
    if (!bytes)
      return std::nullopt;
    for (uint8_t b : *bytes)
      push(b);
    return out;
  }
  auto dense = dyn_cast<DenseIntElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  for (const APInt &v : dense.getValues<APInt>())
    push(v.getZExtValue());
  return out;
}

/// f32 values of a float constant of any float type.
std::optional<std::vector<float>> readFloats(ElementsAttr attr) {
  if (cast<ShapedType>(attr.getType()).getElementType().isF32())
    return readWeightF32(attr);
  // f16, bf16, ...: inline constants, widened.
  auto dense = dyn_cast<DenseFPElementsAttr>(attr);
  if (!dense)
    return std::nullopt;
  std::vector<float> out;
  out.reserve(dense.getNumElements());
  for (APFloat v : dense.getValues<APFloat>()) {
    bool lost;
    v.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &lost);
    out.push_back(v.convertToFloat());
  }
  return out;
}

/// Raw 16 or 32-bit words of an integer or float constant (inline or
/// dense_resource): outlier coordinates (i32) and values (f16).
template <typename T>
std::optional<std::vector<T>> readWords(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  if (type.getElementTypeBitWidth() != 8 * sizeof(T))
    return std::nullopt;
  std::vector<T> out(type.getNumElements());
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != out.size() * sizeof(T))
      return std::nullopt;
    std::memcpy(out.data(), blob->getData().data(), out.size() * sizeof(T));
    return out;
  }
  size_t i = 0;
  if (auto ints = dyn_cast<DenseIntElementsAttr>(attr)) {
    for (const APInt &v : ints.getValues<APInt>())
      out[i++] = static_cast<T>(v.getZExtValue());
    return out;
  }
  if (auto floats = dyn_cast<DenseFPElementsAttr>(attr)) {
    for (const APFloat &v : floats.getValues<APFloat>())
      out[i++] = static_cast<T>(v.bitcastToAPInt().getZExtValue());
    return out;
  }
  return std::nullopt;
}

/// A constant holding `data`, as a named dense_resource blob.
template <typename T>
Value createBlob(OpBuilder &b, Location loc, Type elementType, ArrayRef<T> data,
                 StringRef name) {
  auto type =
      RankedTensorType::get({static_cast<int64_t>(data.size())}, elementType);
  auto blob = HeapAsmResourceBlob::allocateAndCopyInferAlign(data);
  return arith::ConstantOp::create(
      b, loc, DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

/// The weight of one lowbit.matmul, read into K x N order.
struct WeightData {
  int64_t k = 0, n = 0;
  std::vector<int32_t> codes;       // K x N code values
  std::vector<float> scales, zeros; // groups x N (zeros: asymmetric)
  int64_t group = 0;                // 0: one group per column
  std::vector<float> values;        // table formats: value of each code
  /// Outliers (SpQR-style sparse weights added to the codes' values):
  /// column-major, sorted by (n, k); f16 bits.
  struct Outlier {
    int64_t n, k;
    uint16_t bits;
  };
  std::vector<Outlier> outliers;
  std::string name;
};

/// Reads the outlier parts of `pack` (csr over the stored rows or coo, f16
/// values) into `w.outliers` in K x N coordinates; false (and `why`) when
/// they are not readable constants the kernels take.
bool readOutliers(PackOp pack, QTensorType type, bool transposed, WeightData &w,
                  std::string &why) {
  OutliersAttr outliers = type.getOutliers();
  if (!outliers.getValueType().isF16()) {
    why = "outlier values are not f16";
    return false;
  }
  if (w.k > 65536) {
    why = "K is above 65536 (16-bit outlier row indices)";
    return false;
  }
  size_t numOutlierParts = type.getOutlierTypes().size();
  // Outlier parts are the last ones (no mask: refused before).
  auto parts = pack.getParts().take_back(numOutlierParts);
  std::optional<std::vector<uint16_t>> values;
  if (ElementsAttr v = constantOf(parts.back()))
    values = readWords<uint16_t>(v);
  int64_t nnz = outliers.getNnz();
  std::vector<std::pair<int64_t, int64_t>> coords; // stored (row, col)
  if (outliers.getFormat() == OutlierFormat::COO) {
    ElementsAttr idx = constantOf(parts[0]);
    std::optional<std::vector<uint32_t>> raw;
    if (idx)
      raw = readWords<uint32_t>(idx);
    if (raw)
      for (int64_t i = 0; i < nnz; ++i)
        coords.push_back({(*raw)[2 * i], (*raw)[2 * i + 1]});
  } else {
    std::optional<std::vector<uint32_t>> rowPtr, cols;
    if (ElementsAttr r = constantOf(parts[0]))
      rowPtr = readWords<uint32_t>(r);
    if (ElementsAttr c = constantOf(parts[1]))
      cols = readWords<uint32_t>(c);
    if (rowPtr && cols)
      for (int64_t r = 0; r + 1 < static_cast<int64_t>(rowPtr->size()); ++r)
        for (uint32_t i = (*rowPtr)[r];
             i < (*rowPtr)[r + 1] && i < cols->size(); ++i)
          coords.push_back({r, (*cols)[i]});
  }
  if (!values || static_cast<int64_t>(coords.size()) != nnz) {
    why = "outliers are not readable constants";
    return false;
  }
  int64_t rows = type.getShape()[0], cols = type.getShape()[1];
  for (auto [i, rc] : llvm::enumerate(coords)) {
    auto [r, c] = rc;
    // lowbit.pack verifies constant coordinates; checked again since the
    // kernel trusts them.
    if (r < 0 || r >= rows || c < 0 || c >= cols) {
      why = "outlier coordinates outside the weight";
      return false;
    }
    // Finite values only: the kernels widen f16 with integer arithmetic.
    uint16_t bits = (*values)[i];
    if ((bits & 0x7c00) == 0x7c00) {
      why = "an outlier value is not finite";
      return false;
    }
    int64_t k = transposed ? c : r, n = transposed ? r : c;
    w.outliers.push_back({n, k, bits});
  }
  llvm::stable_sort(w.outliers, [](const auto &a, const auto &b) {
    return std::tie(a.n, a.k) < std::tie(b.n, b.k);
  });
  return true;
}

/// Reads the constant weight of `op` when the kernels take its scheme;
/// otherwise says why not in `why` (printed under -debug-only=lowbit-pack).
std::optional<WeightData> readWeight(MatmulOp op, int64_t lanes,
                                     std::string &why) {
  auto type = cast<QTensorType>(op.getWeight().getType());
  SchemeAttr scheme = type.getScheme();
  bool transposed = op.getTransposeWeight();
  if (!op.getInput().getType().getElementType().isF32()) {
    why = "activations are not f32";
    return std::nullopt;
  }
  if (type.getSparsity() || scheme.hasSuperScales()) {
    why = "weight has a sparsity mask or super scales";
    return std::nullopt;
  }
  CodeFormat format = scheme.getFormat();
  if (format != CodeFormat::Int && format != CodeFormat::NF4 &&
      format != CodeFormat::E2M1 &&
      !(format == CodeFormat::LUT && scheme.getBits() <= 4)) {
    why = "codes are not integers, NF4, FP4 or a codebook of <= 4 bits";
    return std::nullopt;
  }
  // Integer codes are read as their scheme's integers, table formats as
  // indices into their values.
  bool isInt = format == CodeFormat::Int;
  bool signedCodes = isInt && scheme.getSymmetric();
  unsigned bits = scheme.getBits();
  int64_t kAxis = transposed ? 1 : 0;
  WeightData w;
  w.k = type.getShape()[kAxis];
  w.n = type.getShape()[1 - kAxis];
  switch (scheme.getGranularity()) {
  case Granularity::Group:
    if (scheme.getAxis() != kAxis || scheme.getGroupSize() % lanes != 0) {
      why = "groups are not along K in multiples of the vector lanes";
      return std::nullopt;
    }
    w.group = scheme.getGroupSize();
    break;
  case Granularity::Channel:
    if (scheme.getAxis() != 1 - kAxis) {
      why = "channels are not along N";
      return std::nullopt;
    }
    break;
  case Granularity::Tensor:
    break;
  }
  auto pack = op.getWeight().getDefiningOp<PackOp>();
  unsigned numParts = (scheme.getSymmetric() ? 2u : 3u) +
                      (format == CodeFormat::LUT ? 1u : 0u) +
                      type.getOutlierTypes().size();
  if (!pack || pack.getParts().size() != numParts) {
    why = "weight is not a lowbit.pack of constants";
    return std::nullopt;
  }
  Value codesValue = pack.getParts()[0];
  std::optional<std::vector<int32_t>> codes;
  if (auto unpack = codesValue.getDefiningOp<UnpackCodesOp>()) {
    if (ElementsAttr bytes = constantOf(unpack.getBytes()))
      if (std::optional<std::vector<uint8_t>> raw = readBytes(bytes)) {
        std::vector<uint8_t> u = unpackBits(*raw, bits, type.getNumElements());
        codes.emplace();
        codes->reserve(u.size());
        for (uint8_t c : u) {
          int32_t v = c;
          if (signedCodes && (c >> (bits - 1)) & 1)
            v -= 1 << bits;
          codes->push_back(v);
        }
      }
    if (auto res = dyn_cast_or_null<DenseResourceElementsAttr>(
            constantOf(unpack.getBytes())))
      w.name = res.getRawHandle().getKey().str();
  } else if (ElementsAttr attr = constantOf(codesValue)) {
    codes = readInts(attr, signedCodes);
  }
  ElementsAttr scalesAttr = constantOf(pack.getParts()[1]);
  std::optional<std::vector<float>> scales;
  if (scalesAttr)
    scales = readFloats(scalesAttr);
  std::optional<std::vector<int32_t>> zeros;
  if (!scheme.getSymmetric())
    if (ElementsAttr z = constantOf(pack.getParts()[2]))
      zeros = readInts(z, /*isSigned=*/false);
  if (format == CodeFormat::NF4) {
    w.values.assign(getNF4Table().begin(), getNF4Table().end());
  } else if (format == CodeFormat::E2M1) {
    SmallVector<float> table = getFloatCodeTable(llvm::APFloat::Float4E2M1FN());
    w.values.assign(table.begin(), table.end());
  } else if (format == CodeFormat::LUT) {
    if (ElementsAttr cb = constantOf(
            pack.getParts()[numParts - 1 - type.getOutlierTypes().size()]))
      if (std::optional<std::vector<float>> v = readFloats(cb))
        w.values = *v;
  }
  if (!codes || !scales || (!scheme.getSymmetric() && !zeros) ||
      (!isInt && w.values.empty())) {
    why = "codes, scales, zero points or codebook are not readable constants";
    return std::nullopt;
  }
  // To K x N, and scales to groups x N.
  int64_t k = w.k, n = w.n;
  w.codes.resize(k * n);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      w.codes[r * n + c] =
          transposed ? (*codes)[c * k + r] : (*codes)[r * n + c];
  int64_t groups = w.group ? (k + w.group - 1) / w.group : 1;
  auto toGroupsByN = [&](auto &src, auto &dst) {
    dst.resize(groups * n);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t c = 0; c < n; ++c) {
        int64_t i;
        if (scheme.getGranularity() == Granularity::Tensor)
          i = 0;
        else if (scheme.getGranularity() == Granularity::Channel)
          i = c;
        else
          i = transposed ? c * groups + g : g * n + c;
        dst[g * n + c] = src[i];
      }
  };
  toGroupsByN(*scales, w.scales);
  if (type.getOutliers() && !readOutliers(pack, type, transposed, w, why))
    return std::nullopt;
  if (zeros) {
    std::vector<float> z(zeros->begin(), zeros->end());
    toGroupsByN(z, w.zeros);
  }
  if (w.name.empty())
    if (auto layer = op->getAttrOfType<StringAttr>(
            LowbitDialect::LayerAttrHelper::getNameStr()))
      w.name = layer.str();
  if (w.name.empty())
    w.name = "packed";
  return w;
}

/// The packed width of b-bit codes: the kernels read 2, 4 or 8-bit fields,
/// so 1-bit codes take 2 bits, 3-bit codes 4 and 5 to 7-bit codes 8 (their
/// values, sign-extended or not, are unchanged).
unsigned storageBits(unsigned bits) {
  return bits <= 2 ? 2 : bits <= 4 ? 4 : 8;
}

/// What every packer derives from the layout; allocates the zeroed
/// `codes` and `params` the layout's sizes ask for.
struct PackCounts {
  int64_t numBlocks, numGroups, perGroup;
  int64_t realGroups; // groups holding weights (the rest is K padding)
  int64_t offset;     // added to signed codes stored unsigned
  uint32_t mask;      // of one stored code
};
PackCounts startPacking(const WeightData &w, PackedLayoutAttr layout,
                        std::vector<uint8_t> &codes,
                        std::vector<float> &params) {
  int64_t bits = layout.getBits(), group = layout.getGroup();
  codes.assign(layout.getCodeBytes(), 0);
  params.assign(layout.getNumParams(), 0.0f);
  return {layout.getPaddedK() / layout.getBlockK(),
          layout.getNumGroups(),
          layout.getParamsPerGroup(),
          group ? (w.k + group - 1) / group : 1,
          layout.getSignedCodes() ? int64_t(1) << (bits - 1) : 0,
          (1u << bits) - 1};
}

/// Lays `w` out as the `int8` layout describes: unsigned codes, byte b of
/// a 64-byte block holds k = b, 64 + b, ... low bits first; parameters
/// (scale, -zero * scale / 16) or, for signed codes (zero 2^(bits-1), which
/// the kernel subtracts in the integer domain), (scale).
void packWeightInt8(const WeightData &w, PackedLayoutAttr layout,
                    std::vector<uint8_t> &codes, std::vector<float> &params) {
  int64_t tile = layout.getTile(), bits = layout.getBits();
  int64_t blockK = layout.getBlockK();
  auto [numBlocks, numGroups, perGroup, realGroups, offset, mask] =
      startPacking(w, layout, codes, params);
  for (int64_t t = 0; t < layout.getNumTiles(); ++t)
    for (int64_t r = 0; r < tile; ++r) {
      int64_t col = t * tile + r;
      if (col >= w.n)
        continue;
      for (int64_t blk = 0; blk < numBlocks; ++blk) {
        uint8_t *dst = codes.data() + ((t * numBlocks + blk) * tile + r) * 64;
        for (int64_t kk = 0; kk < blockK; ++kk) {
          int64_t row = blk * blockK + kk;
          // Padding holds the code of zero so that it adds nothing.
          uint32_t code =
              static_cast<uint32_t>((row < w.k ? w.codes[row * w.n + col] : 0) +
                                    offset) &
              mask;
          if (row >= w.k && !layout.getSignedCodes())
            code = 0;
          dst[kk % 64] |= static_cast<uint8_t>(code << ((kk / 64) * bits));
        }
      }
      // Source groups: the scheme's (w.group), or one per column.
      for (int64_t g = 0; g < std::min(numGroups, realGroups); ++g) {
        int64_t src = w.group ? g : 0;
        float s = w.scales[src * w.n + col];
        float *p = params.data() + ((t * numGroups + g) * tile + r) * perGroup;
        p[0] = s;
        if (perGroup == 2)
          p[1] = -w.zeros[src * w.n + col] * s / 16.0f;
      }
    }
}

/// Lays `w` out as the `amx` layout describes: per tile of 16 columns and
/// block, 16 rows of 64 bytes, byte 4c + i of row r holding the codes of
/// column c at k = 4r + i + 64j (field j, low bits first); parameters
/// [tile][group][scale x 16][128 * sum of stored values x 16][zero x 16].
void packWeightAmx(const WeightData &w, PackedLayoutAttr layout,
                   std::vector<uint8_t> &codes, std::vector<float> &params) {
  int64_t bits = layout.getBits(), blockK = layout.getBlockK();
  int64_t group = layout.getGroup();
  auto [numBlocks, numGroups, perGroup, realGroups, offset, mask] =
      startPacking(w, layout, codes, params);
  // 8-bit codes are stored as signed bytes u - 128.
  int64_t storage = bits == 8 ? 128 : 0;
  for (int64_t t = 0; t < layout.getNumTiles(); ++t)
    for (int64_t c = 0; c < 16; ++c) {
      int64_t col = t * 16 + c;
      if (col >= w.n)
        continue;
      std::vector<int64_t> sums(numGroups, 0);
      for (int64_t k = 0; k < layout.getPaddedK(); ++k) {
        uint32_t u =
            k < w.k
                ? static_cast<uint32_t>(w.codes[k * w.n + col] + offset) & mask
                : 0;
        int64_t blk = k / blockK, j = (k % blockK) / 64, r = (k % 64) / 4;
        uint8_t *row = codes.data() + ((t * numBlocks + blk) * 16 + r) * 64;
        row[4 * c + k % 4] |=
            static_cast<uint8_t>((bits == 8 ? u ^ 0x80 : u) << (j * bits));
        sums[k / group] += static_cast<int64_t>(u) - storage;
      }
      for (int64_t g = 0; g < std::min(numGroups, realGroups); ++g) {
        float *p = params.data() + (t * numGroups + g) * 48;
        float z = layout.getZero() ? w.zeros[g * w.n + col]
                                   : static_cast<float>(offset);
        p[c] = w.scales[(w.group ? g : 0) * w.n + col];
        p[16 + c] = 128.0f * static_cast<float>(sums[g]);
        p[32 + c] = z - static_cast<float>(storage);
      }
    }
}

/// Lays `w` out as the `lut` layout describes: per tile of 2 * lanes
/// columns and block of 8 k, byte 2c + p holds bit plane p of column c's
/// unsigned codes, k = 0..3 in the low nibble and 4..7 in the high one;
/// parameters [tile][group][scales of the columns][zeros of the columns].
void packWeightLut(const WeightData &w, PackedLayoutAttr layout,
                   std::vector<uint8_t> &codes, std::vector<float> &params) {
  int64_t tile = layout.getTile(), blockBytes = layout.getBlockBytes();
  int64_t bits = layout.getBits(), partBytes = 2 * tile;
  auto [numBlocks, numGroups, perGroup, realGroups, offset, mask] =
      startPacking(w, layout, codes, params);
  for (int64_t t = 0; t < layout.getNumTiles(); ++t)
    for (int64_t c = 0; c < tile; ++c) {
      int64_t col = t * tile + c;
      if (col >= w.n)
        continue;
      for (int64_t row = 0; row < w.k; ++row) {
        uint32_t u =
            static_cast<uint32_t>(w.codes[row * w.n + col] + offset) & mask;
        uint8_t *block = codes.data() + (t * numBlocks + row / 8) * blockBytes;
        int64_t bit = (row % 8 / 4) * 4 + row % 4;
        for (int64_t p = 0; p < bits; ++p)
          block[p / 2 * partBytes + 2 * c + p % 2] |=
              static_cast<uint8_t>(((u >> p) & 1) << bit);
      }
      for (int64_t g = 0; g < std::min(numGroups, realGroups); ++g) {
        int64_t src = w.group ? g : 0;
        float *p = params.data() + (t * numGroups + g) * tile * perGroup;
        p[c] = w.scales[src * w.n + col];
        if (perGroup == 2)
          p[tile + c] = w.zeros[src * w.n + col];
      }
    }
}

/// Lays `w` out as the `mma` layout describes: per tile of 8 columns and
/// block, thread l = 4g + t's 16 bytes hold column g's unsigned codes for
/// its B fragments, k = 16s + 2t + 8h (+1) as pair q = 2s + h of the words;
/// parameters as in `gpu`.
void packWeightMma(const WeightData &w, PackedLayoutAttr layout,
                   std::vector<uint8_t> &codes, std::vector<float> &params) {
  int64_t bits = layout.getBits(), blockK = layout.getBlockK();
  auto [numBlocks, numGroups, perGroup, realGroups, offset, mask] =
      startPacking(w, layout, codes, params);
  int64_t pairsPerWord = 16 / bits;
  for (int64_t t = 0; t < layout.getNumTiles(); ++t)
    for (int64_t g = 0; g < 8; ++g) {
      int64_t col = t * 8 + g;
      if (col >= w.n)
        continue;
      for (int64_t kk = 0; kk < w.k; ++kk) {
        uint32_t u =
            static_cast<uint32_t>(w.codes[kk * w.n + col] + offset) & mask;
        int64_t blk = kk / blockK, within = kk % blockK;
        int64_t s = within / 16, r = within % 16;
        int64_t h = r / 8, lane = 4 * g + (r % 8) / 2, hi = r % 2;
        int64_t q = 2 * s + h, word = q / pairsPerWord, p = q % pairsPerWord;
        int64_t bit = word * 32 + 16 * hi + bits * p;
        uint8_t *thread =
            codes.data() + (t * numBlocks + blk) * 512 + 16 * lane;
        // 4 and 8-bit fields never straddle a byte.
        thread[bit / 8] |= static_cast<uint8_t>(u << (bit % 8));
      }
      for (int64_t grp = 0; grp < std::min(numGroups, realGroups); ++grp) {
        float *p = params.data() + ((t * numGroups + grp) * 8 + g) * perGroup;
        p[0] = w.scales[(w.group ? grp : 0) * w.n + col];
        if (perGroup == 2)
          p[1] = w.zeros[(w.group ? grp : 0) * w.n + col];
      }
    }
}

/// The outlier array of `layout` (see `outliers` in #lowbit.packed):
/// column offsets, then `(k << 16) | f16 bits` per outlier by column and
/// k, then 16 zero words.
std::vector<int32_t> packOutliers(const WeightData &w,
                                  PackedLayoutAttr layout) {
  int64_t cols = layout.getNumTiles() * layout.getTile();
  std::vector<int32_t> words(layout.getOutlierWords(), 0);
  int64_t next = cols + 1;
  size_t i = 0;
  for (int64_t c = 0; c <= cols; ++c) {
    words[c] = static_cast<int32_t>(next);
    for (; i < w.outliers.size() && w.outliers[i].n == c; ++i)
      words[next++] = static_cast<int32_t>(
          (static_cast<uint32_t>(w.outliers[i].k) << 16) | w.outliers[i].bits);
  }
  return words;
}

/// Lays `w` out as `layout` describes.
void packWeight(const WeightData &w, PackedLayoutAttr layout,
                std::vector<uint8_t> &codes, std::vector<float> &params) {
  if (layout.getAmx())
    return packWeightAmx(w, layout, codes, params);
  if (layout.getInt8())
    return packWeightInt8(w, layout, codes, params);
  if (layout.getLut())
    return packWeightLut(w, layout, codes, params);
  if (layout.getMma())
    return packWeightMma(w, layout, codes, params);
  int64_t lanes = layout.getLanes(), tile = layout.getTile();
  int64_t bits = layout.getBits(), blockK = layout.getBlockK();
  int64_t blockBytes = layout.getBlockBytes();
  auto [numBlocks, numGroups, perGroup, realGroups, offset, mask] =
      startPacking(w, layout, codes, params);
  (void)offset; // signed codes are stored as they are (masked)
  for (int64_t t = 0; t < layout.getNumTiles(); ++t) {
    for (int64_t r = 0; r < tile; ++r) {
      int64_t col = t * tile + r;
      if (col >= w.n)
        continue;
      for (int64_t blk = 0; blk < numBlocks; ++blk) {
        uint8_t *dst =
            codes.data() + ((t * numBlocks + blk) * tile + r) * blockBytes;
        for (int64_t kk = 0; kk < blockK; ++kk) {
          int64_t row = blk * blockK + kk;
          if (row >= w.k)
            break;
          uint32_t code =
              static_cast<uint32_t>(w.codes[row * w.n + col]) & mask;
          if (bits == 8) {
            dst[kk] = static_cast<uint8_t>(code);
            continue;
          }
          int64_t lane = kk % lanes, step = kk / lanes;
          int64_t bit = lane * 32 + step * bits; // within the block
          dst[bit / 8] |= static_cast<uint8_t>(code << (bit % 8));
        }
      }
      for (int64_t g = 0; g < std::min(numGroups, realGroups); ++g) {
        float *p = params.data() + ((t * numGroups + g) * tile + r) * perGroup;
        p[0] = w.scales[g * w.n + col];
        if (perGroup == 2)
          p[1] = w.zeros[g * w.n + col];
      }
    }
  }
}

/// `x` (rank >= 2) as a matrix: its leading dimensions collapsed into one
/// (unchanged at rank 2); `reassoc` is set for the inverse expansion.
Value collapseLeading(OpBuilder &b, Location loc, Value x,
                      SmallVector<ReassociationIndices> &reassoc) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  reassoc.clear();
  if (rank == 2)
    return x;
  ReassociationIndices lead;
  for (int64_t d = 0; d + 1 < rank; ++d)
    lead.push_back(d);
  reassoc = {lead, {rank - 1}};
  return tensor::CollapseShapeOp::create(b, loc, x, reassoc);
}

/// Row `kk` of `w` dequantized as lowbit.dequantize computes it (f32:
/// (value - zero) * scale, then + the outliers of that row).
std::vector<float> dequantizeRow(const WeightData &w, int64_t kk) {
  std::vector<float> row(w.n);
  int64_t g = w.group ? kk / w.group : 0;
  for (int64_t c = 0; c < w.n; ++c) {
    int32_t code = w.codes[kk * w.n + c];
    float v = w.values.empty() ? static_cast<float>(code) : w.values[code];
    float z = w.zeros.empty() ? 0.0f : w.zeros[g * w.n + c];
    row[c] = (v - z) * w.scales[g * w.n + c];
  }
  for (const WeightData::Outlier &o : w.outliers)
    if (o.k == kk) {
      APFloat h(APFloat::IEEEhalf(), APInt(16, o.bits));
      row[o.n] += h.convertToFloat();
    }
  return row;
}

/// LLM.int8()-style activation outlier channels: the input channels of `op`
/// whose calibrated abs-max exceeds `threshold` are zeroed in its input
/// and multiplied, exact, by the same rows of the dequantized weight in an
/// f32 side matmul added to its result. Returns the channel count (0: no
/// statistics, or none above the threshold: nothing changed).
int64_t splitActivationOutliers(MatmulOp op, const WeightData &w,
                                double threshold) {
  std::vector<float> absMax = getInputStatistic(op.getInput(), "abs_max");
  if (static_cast<int64_t>(absMax.size()) != w.k)
    return 0;
  SmallVector<int64_t> channels =
      selectActivationOutlierChannels(absMax, threshold);
  if (channels.empty())
    return 0;
  OpBuilder b(op);
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Value x = op.getInput();
  RankedTensorType xType = op.getInput().getType();
  int64_t rank = xType.getRank(), count = channels.size();
  Type f32 = b.getF32Type();
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  auto identity = b.getMultiDimIdentityMap(rank);
  SmallVector<utils::IteratorType> parallel(rank,
                                            utils::IteratorType::parallel);

  // x with the channels zeroed (a select: no 0 x Inf).
  // (An i8 mask: the weight outliner keeps no boolean constants.)
  SmallVector<int8_t> keepBytes(w.k, 1);
  for (int64_t c : channels)
    keepBytes[c] = 0;
  Value keep = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({w.k}, b.getI8Type()),
                             ArrayRef<int8_t>(keepBytes)));
  Value zeroByte = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
  auto lastDim = AffineMap::get(rank, 0, b.getAffineDimExpr(rank - 1), ctx);
  Value maskedInit =
      tensor::EmptyOp::create(b, loc, xType.getShape(), f32).getResult();
  Value masked =
      linalg::GenericOp::create(
          b, loc, TypeRange{xType}, ValueRange{x, keep}, ValueRange{maskedInit},
          ArrayRef<AffineMap>{identity, lastDim, identity}, parallel,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value kept = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ne,
                                               args[1], zeroByte);
            linalg::YieldOp::create(nb, l,
                                    ValueRange{arith::SelectOp::create(
                                        nb, l, kept, args[0], zero)});
          })
          .getResult(0);

  // x[..., C]: the channels gathered, M x |C| once flattened.
  SmallVector<int64_t> gatheredShape(xType.getShape());
  gatheredShape.back() = count;
  // (i32: weights are stored with a fixed element size.)
  SmallVector<int32_t> indexValues(channels.begin(), channels.end());
  Value indices = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(RankedTensorType::get({count}, b.getI32Type()),
                             ArrayRef<int32_t>(indexValues)));
  auto gatheredType = RankedTensorType::get(gatheredShape, f32);
  Value gatheredInit =
      tensor::EmptyOp::create(b, loc, gatheredShape, f32).getResult();
  Value gathered =
      linalg::GenericOp::create(
          b, loc, TypeRange{gatheredType}, ValueRange{},
          ValueRange{gatheredInit}, ArrayRef<AffineMap>{identity}, parallel,
          [&](OpBuilder &nb, Location l, ValueRange) {
            SmallVector<Value> at;
            for (int64_t d = 0; d + 1 < rank; ++d)
              at.push_back(linalg::IndexOp::create(nb, l, d));
            Value j = linalg::IndexOp::create(nb, l, rank - 1);
            at.push_back(arith::IndexCastOp::create(
                nb, l, nb.getIndexType(),
                tensor::ExtractOp::create(nb, l, indices, ValueRange{j})));
            linalg::YieldOp::create(
                nb, l, ValueRange{tensor::ExtractOp::create(nb, l, x, at)});
          })
          .getResult(0);

  // The side matmul on the rows C of the dequantized weight.
  std::vector<float> rows;
  rows.reserve(count * w.n);
  for (int64_t c : channels) {
    std::vector<float> row = dequantizeRow(w, c);
    rows.insert(rows.end(), row.begin(), row.end());
  }
  Value weight =
      createBlob<float>(b, loc, f32, rows, w.name + ".activation_outlier_rows");
  weight = tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({count, w.n}, f32), weight,
      SmallVector<ReassociationIndices>{{0, 1}});
  int64_t m = xType.getNumElements() / xType.getShape().back();
  SmallVector<ReassociationIndices> reassoc;
  Value lhs = collapseLeading(b, loc, gathered, reassoc);
  Value sideInit =
      linalg::FillOp::create(b, loc, ValueRange{zero},
                             ValueRange{tensor::EmptyOp::create(
                                 b, loc, ArrayRef<int64_t>{m, w.n}, f32)})
          .getResult(0);
  Value side = linalg::MatmulOp::create(b, loc, ValueRange{lhs, weight},
                                        ValueRange{sideInit})
                   .getResult(0);
  RankedTensorType resultType = op.getResult().getType();
  if (rank != 2)
    side = tensor::ExpandShapeOp::create(b, loc, resultType, side, reassoc);

  op.getInputMutable().assign(masked);
  b.setInsertionPointAfter(op);
  Value sumInit = tensor::EmptyOp::create(b, loc, resultType.getShape(), f32);
  auto sum = linalg::AddOp::create(b, loc, ValueRange{op.getResult(), side},
                                   ValueRange{sumInit});
  op.getResult().replaceAllUsesExcept(sum.getResult(0), sum);
  op->setAttr(LowbitDialect::ActivationOutliersAttrHelper::getNameStr(),
              b.getI64IntegerAttr(count));
  return count;
}

struct PackPass : lowbit::impl::LowbitPackPassBase<PackPass> {
  using Base::Base;

  void runOnOperation() override {
    if (!gpu && lanes != 4 && lanes != 8 && lanes != 16) {
      getOperation().emitError() << "lowbit-pack: lanes must be 4, 8 or 16";
      return signalPassFailure();
    }
    if (lutMaxBits < 0 || lutMaxBits > 4) {
      getOperation().emitError() << "lowbit-pack: lut-max-bits must be 0 to "
                                    "4";
      return signalPassFailure();
    }
    SmallVector<MatmulOp> ops;
    getOperation().walk([&](MatmulOp op) { ops.push_back(op); });
    packedCache.clear();
    for (MatmulOp op : ops)
      rewrite(op);
  }

  /// Puts `lowbit.fake_quant` (8 bits, blocks of `block`) in front of the
  /// matmul, the rounding the int8 kernels apply to their input.
  static void roundActivations(MatmulOp op, int64_t block) {
    OpBuilder b(op);
    Value rounded =
        FakeQuantOp::create(b, op.getLoc(), op.getInput(),
                            b.getI64IntegerAttr(8), b.getI64IntegerAttr(block));
    op.getInputMutable().assign(rounded);
  }

  /// Packed constants of one weight in one layout.
  struct PackedConstants {
    Value codes, params, outliers; // outliers: null without them
  };
  /// Packed constants by source weight and layout.
  DenseMap<std::pair<Value, Attribute>, PackedConstants> packedCache;

  void rewrite(MatmulOp op) {
    RankedTensorType inputType = op.getInput().getType();
    if (!inputType.hasStaticShape())
      return;
    int64_t rows = inputType.getNumElements() / inputType.getShape().back();
    // The GPU has a kernel for prefill (more rows) too. On the CPU, more
    // rows keep the reference lowering; with int8 activations their inputs
    // are rounded as the int8 kernels would round them (below).
    bool prefill = rows > maxRows && !gpu;
    if (prefill && !int8Activations)
      return;
    std::string why;
    // GPU kernels: 16-byte activation loads, one group per 4 k.
    std::optional<WeightData> w = readWeight(op, gpu ? 4 : lanes, why);
    if (w && gpu && (!w->values.empty() || w->k % 4 != 0)) {
      why = "the GPU kernels take integer codes and K a multiple of 4";
      w.reset();
    }
    if (!w) {
      LLVM_DEBUG(llvm::dbgs()
                 << "lowbit-pack: not packed (" << why << "): " << op << "\n");
      return;
    }
    auto scheme = cast<QTensorType>(op.getWeight().getType()).getScheme();
    // int8 activations: per-channel scales repeat over groups of 128, the
    // activations' quantization blocks.
    int64_t group = w->group;
    // Table lookups: integer codes of up to `lut-max-bits` (<= 4) bits in
    // groups of 8k <= 256 (per channel: 128) the vectors' lanes divide.
    bool lut =
        !gpu && w->values.empty() && scheme.getBits() <= lutMaxBits &&
        (group == 0 || (group % 8 == 0 && group % lanes == 0 && group <= 256));
    bool int8 = !gpu && !lut && int8Activations && w->values.empty() &&
                storageBits(scheme.getBits()) <= int8MaxBits &&
                (group == 0 || group % 64 == 0);
    if ((int8 || lut) && group == 0)
      group = 128;
    if (int8 && int8OutlierThreshold > 0)
      splitActivationOutliers(op, *w, int8OutlierThreshold);
    if (prefill) {
      if (int8 && !op.getInput().getDefiningOp<FakeQuantOp>())
        roundActivations(op, group);
      return;
    }
    // AMX tdpbusd for enough rows, when the groups hold whole blocks.
    // (At most 16 rows: one AMX tile of activations.)
    bool amx = int8 && amxMinRows > 0 && rows >= amxMinRows && rows <= 16 &&
               group % (64 * 8 / storageBits(scheme.getBits())) == 0;
    // The GPU's Marlin-style layout (the mma.sync GEMM above 16 rows, the
    // split-K GEMV below), when an MMA's 16 k stay in one group. Decode
    // keeps 2-bit fields in the plain layout (mma stores them in 4 bits).
    bool mma = gpu && group % 16 == 0 &&
               (rows > 16 || storageBits(scheme.getBits()) >= 4);
    // Accumulators per column and row must fit the registers: the int8
    // kernels on AVX2 (16 ymm; one i16 and one i32 vector per column and
    // row) take one column from 2 rows on (measured, 4096 x 4096 in cache:
    // 2 rows 0.288 ms with 1 column, 0.311 with 4; 4 rows 0.523 / 0.581
    // with 2).
    int64_t cols = amx                              ? 16
                   : mma                            ? 8
                   : lut                            ? 2 * lanes
                   : tile                           ? tile
                   : gpu                            ? 1
                   : int8 && lanes == 8 && rows > 1 ? 1
                   : rows <= 2                      ? 4
                                                    : 2;
    DenseF32ArrayAttr values;
    if (!w->values.empty())
      values = DenseF32ArrayAttr::get(op.getContext(), w->values);
    // The MMA kernel decodes 4 and 8-bit fields (2-bit codes take 4).
    unsigned bits = storageBits(scheme.getBits());
    if (mma && bits == 2)
      bits = 4;
    auto layout = PackedLayoutAttr::get(
        op.getContext(), bits, w->k, w->n, gpu ? 128 : lanes,
        lut ? cols : std::min<int64_t>(cols, gpu ? 8 : 16), group,
        scheme.getSymmetric() && !values, !scheme.getSymmetric(), int8, lut,
        amx, gpu, mma, values, static_cast<int64_t>(w->outliers.size()));
    // Matmuls of one weight in one layout (a weight shared by several
    // layers or batch shapes) share its packed constants, created at the
    // start of the function so that they dominate every use.
    auto [cached, fresh] = packedCache.try_emplace({op.getWeight(), layout});
    if (fresh) {
      std::vector<uint8_t> codes;
      std::vector<float> params;
      packWeight(*w, layout, codes, params);
      auto func = op->getParentOfType<FunctionOpInterface>();
      OpBuilder top(op);
      if (func && !func.isExternal())
        top.setInsertionPointToStart(&func.getFunctionBody().front());
      cached->second.codes = createBlob<uint8_t>(
          top, op.getLoc(), top.getI8Type(), codes, w->name + ".packed");
      cached->second.params =
          createBlob<float>(top, op.getLoc(), top.getF32Type(), params,
                            w->name + ".packed_params");
      if (!w->outliers.empty())
        cached->second.outliers = createBlob<int32_t>(
            top, op.getLoc(), top.getI32Type(), packOutliers(*w, layout),
            w->name + ".packed_outliers");
    }
    auto [codesCst, paramsCst, outliersCst] = cached->second;

    OpBuilder b(op);
    Location loc = op.getLoc();
    Value x = op.getInput();
    int64_t rank = inputType.getRank();
    SmallVector<ReassociationIndices> reassoc;
    x = collapseLeading(b, loc, x, reassoc);
    auto initType = RankedTensorType::get({rows, w->n}, b.getF32Type());
    Value init = tensor::EmptyOp::create(b, loc, initType.getShape(),
                                         initType.getElementType());
    auto packed =
        PackedMatmulOp::create(b, loc, TypeRange{initType}, x, codesCst,
                               paramsCst, outliersCst, init, layout);
    for (NamedAttribute attr : op->getDiscardableAttrs())
      packed->setAttr(attr.getName(), attr.getValue());
    Value y = packed.getResult()[0];
    if (rank != 2)
      y = tensor::ExpandShapeOp::create(b, loc, op.getResult().getType(), y,
                                        reassoc);
    op.getResult().replaceAllUsesWith(y);
    op.erase();
  }
};

} // namespace

//===- LowbitToLinalg.h - Reference lowering of lowbit ----------*- C++ -*-===//
//
// Patterns that lower lowbit ops to linalg/arith/math/tensor/scf: the
// reference semantics of the dialect.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_LOWBITTOLINALG_LOWBITTOLINALG_H
#define LOWBIT_CONVERSION_LOWBITTOLINALG_LOWBITTOLINALG_H

namespace mlir {
class RewritePatternSet;

namespace lowbit {

/// quantize, dequantize, matmul and calibrate.
void populateLowbitToLinalgPatterns(RewritePatternSet &patterns);

/// pack_codes and unpack_codes.
void populateLowbitCodeStoragePatterns(RewritePatternSet &patterns);

} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_CONVERSION_LOWBITTOLINALG_LOWBITTOLINALG_H

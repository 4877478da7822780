//===- BufferizableOpInterfaceImpl.h - Bufferizing lowbit ops ---*- C++ -*-===//
//
// One-Shot Bufferize support for the lowbit ops that survive to
// bufferization (lowbit.packed_matmul, in destination style).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define LOWBIT_DIALECT_LOWBIT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace lowbit {
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);
} // namespace lowbit
} // namespace mlir

#endif // LOWBIT_DIALECT_LOWBIT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

//===- LowbitToGPU.cpp - lowbit.packed_matmul to CUDA kernels --*- C++ -*-===//
//
// Implements convert-lowbit-to-gpu: a CUDA kernel (gpu.func) per bufferized
// lowbit.packed_matmul on a `gpu` or `mma` layout, and its launch. The
// kernels themselves are built by the four kernel builders: the decode GEMV
// (GemvKernel.cpp), the split-K GEMV on the mma layout (MmaGemvKernel.cpp),
// the WMMA GEMM (GemmKernel.cpp) and the mma.sync GEMM (MmaKernel.cpp).
//
//===----------------------------------------------------------------------===//

#include "GPUKernels.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_CONVERTLOWBITTOGPUPASS
#include "lowbit/Conversion/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::detail;

namespace {

/// A contiguous (identity-layout) version of `v`: itself, or a copy.
Value contiguous(OpBuilder &b, Location loc, Value v, bool copyIn) {
  auto type = cast<MemRefType>(v.getType());
  if (type.getLayout().isIdentity())
    return v;
  auto plain = MemRefType::get(type.getShape(), type.getElementType());
  Value buffer = memref::AllocOp::create(b, loc, plain);
  if (copyIn)
    memref::CopyOp::create(b, loc, v, buffer);
  return buffer;
}

struct ConvertLowbitToGPUPass
    : lowbit::impl::ConvertLowbitToGPUPassBase<ConvertLowbitToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    generated.clear();
    SmallVector<PackedMatmulOp> ops;
    module.walk([&](PackedMatmulOp op) {
      if (op.getLayout().getGpu())
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    MLIRContext *ctx = &getContext();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(ctx));
    auto kernels = module.lookupSymbol<gpu::GPUModuleOp>("lowbit_kernels");
    if (!kernels) {
      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      kernels = gpu::GPUModuleOp::create(b, module.getLoc(), "lowbit_kernels");
    }
    SymbolTable symbols(kernels);
    for (PackedMatmulOp op : ops) {
      if (op.getNumResults() != 0) {
        op.emitOpError("must be bufferized before kernel generation");
        return signalPassFailure();
      }
      lower(op, kernels, symbols);
    }
  }

  gpu::GPUFuncOp buildKernel(OpBuilder &kb, Location loc,
                             PackedLayoutAttr layout, FunctionType type,
                             const LaunchShape &shape, SymbolTable &symbols) {
    int64_t rows = cast<MemRefType>(type.getInput(0)).getDimSize(0);
    // Named for profiles: gemv_w4_m16_k384_n1536, mma_..., gemm_...
    // (WMMA) (uniqued by the symbol table when two layouts share a shape).
    const char *kind = shape.kind == LaunchShape::Mma    ? "mma"
                       : shape.kind == LaunchShape::Gemm ? "gemm"
                                                         : "gemv";
    std::string name =
        llvm::formatv("{0}_w{1}_m{2}_k{3}_n{4}", kind, layout.getBits(), rows,
                      layout.getK(), layout.getN());
    auto func = gpu::GPUFuncOp::create(kb, loc, name, type);
    symbols.insert(func); // uniques the name
    func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), kb.getUnitAttr());
    func.setKnownBlockSizeAttr(
        kb.getDenseI32ArrayAttr({static_cast<int32_t>(shape.threads), 1, 1}));
    SmallVector<StringRef> roles{"in", "const", "const", "out"};
    if (layout.getOutliers())
      roles.insert(roles.begin() + 3, "const");
    func->setAttr(LowbitDialect::ArgRolesAttrHelper::getNameStr(),
                  kb.getStrArrayAttr(roles));
    // What the runtime's CPU fallback computes instead.
    func->setAttr(LowbitDialect::ReferenceAttrHelper::getNameStr(), layout);
    OpBuilder::InsertionGuard guard(kb);
    kb.setInsertionPointToStart(&func.getBody().front());
    if (shape.kind == LaunchShape::Gemv)
      buildGemvKernel(kb, loc, layout, rows, func);
    else if (shape.kind == LaunchShape::MmaGemv)
      buildMmaGemvKernel(kb, loc, layout, rows, func);
    else if (shape.kind == LaunchShape::Mma)
      buildMmaKernel(kb, loc, layout, rows, func);
    else
      buildGemmKernel(kb, loc, layout, rows, func);
    gpu::ReturnOp::create(kb, loc);
    return func;
  }

  DenseMap<std::pair<Attribute, Type>, gpu::GPUFuncOp> generated;

  void lower(PackedMatmulOp op, gpu::GPUModuleOp kernels,
             SymbolTable &symbols) {
    Location loc = op.getLoc();
    PackedLayoutAttr layout = op.getLayout();
    OpBuilder b(op);
    Value x = contiguous(b, loc, op.getInput(), /*copyIn=*/true);
    Value out = contiguous(b, loc, op.getInit(), /*copyIn=*/false);
    SmallVector<Value> args{x, op.getCodes(), op.getParams()};
    if (Value outliers = op.getOutliers())
      args.push_back(outliers);
    args.push_back(out);
    SmallVector<Type> argTypes;
    for (Value a : args)
      argTypes.push_back(a.getType());

    // The kernel: one per layout and argument types (layers of one shape
    // share it).
    OpBuilder kb = OpBuilder::atBlockEnd(kernels.getBody());
    FunctionType type = kb.getFunctionType(argTypes, {});
    LaunchShape shape =
        launchShape(layout, cast<MemRefType>(x.getType()).getDimSize(0));
    gpu::GPUFuncOp &func = generated[{layout, type}];
    if (!func)
      func = buildKernel(kb, loc, layout, type, shape, symbols);

    // The launch.
    auto cst = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    Value one = cst(1);
    gpu::LaunchFuncOp::create(
        b, loc, func, gpu::KernelDim3{cst(shape.gridX), cst(shape.gridY), one},
        gpu::KernelDim3{cst(shape.threads), one, one},
        /*dynamicSharedMemorySize=*/Value(), args);
    if (out != op.getInit()) {
      memref::CopyOp::create(b, loc, out, op.getInit());
      memref::DeallocOp::create(b, loc, out);
    }
    if (x != op.getInput())
      memref::DeallocOp::create(b, loc, x);
    op.erase();
  }
};

} // namespace

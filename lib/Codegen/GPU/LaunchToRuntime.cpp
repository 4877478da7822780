//===- LaunchToRuntime.cpp - gpu.launch_func to runtime calls -*- C++ -*-===//
//
// lowbit-gpu-launch-to-runtime: each launch becomes a call of the artifact
// runtime's `lowbit_gpu_launch(kernel, args)`, and the launch table (names,
// sizes, argument bytes and roles) a module attribute the artifact writer
// turns into metadata. The runtime, not MLIR's CUDA wrappers, owns the
// driver (loaded with dlopen at run time) and the device copies of weights.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Codegen/GPU/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWBITGPULAUNCHTORUNTIMEPASS
#include "lowbit/Codegen/GPU/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

constexpr StringLiteral kLaunchFn = "lowbit_gpu_launch";

/// The constant value of an index operand of a launch, or failure.
FailureOr<int64_t> constantSize(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantIndexOp>())
    return c.value();
  return failure();
}

struct LaunchToRuntimePass
    : lowbit::impl::LowbitGPULaunchToRuntimePassBase<LaunchToRuntimePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp op) { launches.push_back(op); });
    if (launches.empty())
      return;
    MLIRContext *ctx = &getContext();
    Builder attrs(ctx);
    SmallVector<Attribute> table;
    llvm::StringMap<int64_t> ids;
    auto i64 = IntegerType::get(ctx, 64);
    OpBuilder top = OpBuilder::atBlockBegin(module.getBody());
    if (!module.lookupSymbol<func::FuncOp>(kLaunchFn)) {
      auto decl = func::FuncOp::create(
          top, module.getLoc(), kLaunchFn,
          top.getFunctionType({i64, top.getIndexType()}, {}));
      decl.setPrivate();
    }
    for (gpu::LaunchFuncOp launch : launches) {
      auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          launch, launch.getKernel());
      if (!kernel) {
        launch.emitOpError("launches a kernel that is not a gpu.func here");
        return signalPassFailure();
      }
      std::string name = kernel.getName().str();
      auto roles = kernel->getAttrOfType<ArrayAttr>(
          LowbitDialect::ArgRolesAttrHelper::getNameStr());
      if (!roles || roles.size() != launch.getNumKernelOperands()) {
        launch.emitOpError("kernel '")
            << name << "' has no "
            << LowbitDialect::ArgRolesAttrHelper::getNameStr()
            << " for its arguments";
        return signalPassFailure();
      }
      SmallVector<int64_t> sizes;
      for (Value v : {launch.getGridSizeX(), launch.getGridSizeY(),
                      launch.getGridSizeZ(), launch.getBlockSizeX(),
                      launch.getBlockSizeY(), launch.getBlockSizeZ()}) {
        FailureOr<int64_t> s = constantSize(v);
        if (failed(s)) {
          launch.emitOpError("grid and block sizes must be constants");
          return signalPassFailure();
        }
        sizes.push_back(*s);
      }
      if (launch.getDynamicSharedMemorySize() || launch.getAsyncToken() ||
          !launch.getAsyncDependencies().empty()) {
        launch.emitOpError("dynamic shared memory and async launches are not "
                           "supported by the Lowbit runtime");
        return signalPassFailure();
      }
      // Arguments: contiguous static memrefs, passed as aligned pointers.
      SmallVector<Attribute> argBytes;
      for (Value a : launch.getKernelOperands()) {
        auto type = dyn_cast<MemRefType>(a.getType());
        if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
            !type.getElementType().isIntOrFloat()) {
          launch.emitOpError("kernel arguments must be contiguous, "
                             "statically shaped memrefs, got ")
              << a.getType();
          return signalPassFailure();
        }
        int64_t bytes =
            type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
        argBytes.push_back(attrs.getI64IntegerAttr(bytes));
      }
      auto [it, inserted] = ids.try_emplace(name, (int64_t)table.size());
      if (inserted) {
        SmallVector<NamedAttribute> entry{
            attrs.getNamedAttr("name", attrs.getStringAttr(name)),
            attrs.getNamedAttr("sizes", attrs.getDenseI64ArrayAttr(sizes)),
            attrs.getNamedAttr("arg_bytes", attrs.getArrayAttr(argBytes)),
            attrs.getNamedAttr("arg_roles", roles)};
        if (Attribute ref = kernel->getAttr(
                LowbitDialect::ReferenceAttrHelper::getNameStr()))
          entry.push_back(attrs.getNamedAttr("reference", ref));
        table.push_back(attrs.getDictionaryAttr(entry));
      }

      OpBuilder b(launch);
      Location loc = launch.getLoc();
      int64_t numArgs = launch.getNumKernelOperands();
      Value array = memref::AllocaOp::create(
          b, loc, MemRefType::get({numArgs}, b.getIndexType()));
      for (auto [i, a] : llvm::enumerate(launch.getKernelOperands())) {
        Value ptr = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, a);
        memref::StoreOp::create(
            b, loc, ptr, array,
            ValueRange{arith::ConstantIndexOp::create(b, loc, i)});
      }
      Value arrayPtr =
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, array);
      Value id = arith::ConstantIntOp::create(b, loc, i64, it->second);
      func::CallOp::create(b, loc, kLaunchFn, TypeRange{},
                           ValueRange{id, arrayPtr});
      launch.erase();
    }
    module->setAttr(LowbitDialect::GpuKernelsAttrHelper::getNameStr(),
                    attrs.getArrayAttr(table));
  }
};

} // namespace

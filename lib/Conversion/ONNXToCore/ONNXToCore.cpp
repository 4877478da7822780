//===- ONNXToCore.cpp - The convert-onnx-to-core pass -----------*- C++ -*-===//
//
// Applies every op-family pattern set and reports, in one diagnostic, the
// ONNX nodes no pattern handled.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/ONNXToCore/ONNXToCore.h"
#include "ONNXPattern.h"
#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitDialect.h"
#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_CONVERTONNXTOCOREPASS
#include "lowbit/Conversion/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

void mlir::lowbit::populateONNXToCorePatterns(RewritePatternSet &patterns) {
  populateONNXConstantPatterns(patterns);
  populateONNXElementwisePatterns(patterns);
  populateONNXMatMulPatterns(patterns);
  populateONNXEinsumPatterns(patterns);
  populateONNXShapePatterns(patterns);
  populateONNXGatherPatterns(patterns);
  populateONNXReductionPatterns(patterns);
  populateONNXArgReductionPatterns(patterns);
  populateONNXConcatSplitPatterns(patterns);
  populateONNXGeneratorPatterns(patterns);
  populateONNXSlicePatterns(patterns);
  populateONNXConvolutionPatterns(patterns);
  populateONNXPoolingPatterns(patterns);
  populateONNXLift1DPatterns(patterns);
  populateONNXQuantizationPatterns(patterns);
  populateONNXMatMulNBitsPatterns(patterns);
  populateONNXIntegerConvolutionPatterns(patterns);
  populateONNXResizePatterns(patterns);
  populateONNXTypeRefinementPatterns(patterns);
}

LogicalResult mlir::lowbit::reportUnsupportedONNXNodes(Operation *root) {
  // op type (with domain and opset) -> node names, in order of appearance.
  std::vector<std::pair<std::string, SmallVector<std::string>>> unsupported;
  llvm::StringMap<size_t> index;
  // Integer graph inputs the unsupported nodes read: shape arguments given
  // at run time, which a static compiler needs as constants.
  std::vector<std::string> runTimeArgs;
  int64_t total = 0;
  Location firstLoc = root->getLoc();
  root->walk([&](onnx::NodeOp op) {
    if (!total)
      firstLoc = op.getLoc();
    std::string key =
        (op.getDomain().empty() ? "" : op.getDomain() + ".").str() +
        op.getOpType().str() + " (opset " + std::to_string(op.getOpset());
    if (op.getDomain().empty() && op.getOpset() > kNewestKnownONNXOpset)
      key += ", newer than opset " + std::to_string(kNewestKnownONNXOpset) +
             ", the newest this converter knows";
    key += ")";
    // Ops converted only under conditions say which one failed.
    std::string why;
    if (op.getDomain() == "com.microsoft" && op.getOpType() == "MatMulNBits")
      why = explainMatMulNBits(op);
    std::string name =
        op.getNodeName().empty() ? "<unnamed>" : op.getNodeName().str();
    auto [it, inserted] = index.try_emplace(key, unsupported.size());
    if (inserted)
      unsupported.push_back({key, {}});
    unsupported[it->second].second.push_back(
        why.empty() ? name : name + " (" + why + ")");
    ++total;
    for (Value operand : op->getOperands()) {
      auto arg = dyn_cast<BlockArgument>(operand);
      auto type = dyn_cast<ShapedType>(operand.getType());
      auto func = arg ? dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp())
                      : func::FuncOp();
      if (!func || !type || !type.getElementType().isInteger())
        continue;
      auto argName =
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name");
      std::string name =
          argName ? argName.str() : "#" + std::to_string(arg.getArgNumber());
      if (!llvm::is_contained(runTimeArgs, name))
        runTimeArgs.push_back(name);
    }
  });
  if (!total)
    return success();
  // Reported at the first such node, without dumping the whole module.
  InFlightDiagnostic diag =
      emitError(firstLoc) << total << " ONNX node(s) of " << unsupported.size()
                          << " op type(s) are not supported:";
  for (auto &[key, names] : unsupported) {
    diag << "\n  " << key << " x" << names.size() << ": ";
    for (size_t i = 0; i < names.size() && i < 5; ++i)
      diag << (i ? ", " : "") << names[i];
    if (names.size() > 5)
      diag << ", ... (" << names.size() - 5 << " more)";
  }
  if (!runTimeArgs.empty()) {
    diag << "\n  they read integer graph input(s) ";
    for (auto [i, name] : llvm::enumerate(runTimeArgs))
      diag << (i ? ", " : "") << "'" << name << "'";
    diag << ": shape arguments (starts, axes, shape, k, ...) must be known "
            "at compile time; give them as constants of the model or with "
            "--input-value="
         << runTimeArgs.front() << ":V,V,...";
  }
  return failure();
}

void mlir::lowbit::refineResultTypes(func::FuncOp func) {
  if (func.isExternal())
    return;
  auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
  SmallVector<Type> results(func.getResultTypes());
  bool changed = false;
  for (OpOperand &operand : ret->getOpOperands()) {
    auto castOp = operand.get().getDefiningOp<tensor::CastOp>();
    if (!castOp)
      continue;
    auto from = dyn_cast<RankedTensorType>(castOp.getSource().getType());
    auto to = dyn_cast<TensorType>(castOp.getType());
    if (!from || !to || !from.hasStaticShape() ||
        (to.hasRank() && to.hasStaticShape()))
      continue;
    operand.set(castOp.getSource());
    results[operand.getOperandNumber()] = from;
    changed = true;
    if (castOp->use_empty())
      castOp->erase();
  }
  if (changed)
    func.setFunctionType(
        FunctionType::get(func.getContext(), func.getArgumentTypes(), results));
}

namespace {

struct ConvertONNXToCorePass
    : lowbit::impl::ConvertONNXToCorePassBase<ConvertONNXToCorePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateONNXToCorePatterns(patterns);
    populateONNXFoldingPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) {
      getOperation().emitError()
          << "convert-onnx-to-core: the conversion did not converge";
      return signalPassFailure();
    }
    if (!allowUnsupported && failed(reportUnsupportedONNXNodes(getOperation())))
      return signalPassFailure();
    // Graph outputs the import left dynamic but folding made static.
    getOperation().walk([](func::FuncOp func) { refineResultTypes(func); });
    // Core dialects use signless integers: erase ONNX's ui/si types once no
    // onnx.node needs them.
    if (!allowUnsupported)
      eraseSignedness(getOperation());
  }
};

} // namespace

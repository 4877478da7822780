//===- ObjectFile.cpp - LLVM dialect to a native shared library -*- C++ -*-===//
//
// Translation to LLVM IR, LLVM's -O3 pipeline with the target's CPU and
// features, object emission with a TargetMachine, and the link of model.so
// with the system C compiler.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/CPU/ObjectFile.h"
#include "lowbit/Target/OutputFile.h"
#include "lowbit/cpu_features.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace mlir::lowbit;

LogicalResult
mlir::lowbit::emitObjectFile(ModuleOp module, const TargetSpec &spec,
                             StringRef objectPath, StringRef llPath,
                             function_ref<void(StringRef)> timer) {
  MLIRContext *ctx = module.getContext();
  Location loc = module.getLoc();
  std::string error;
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "lowbit_model");
  if (!llvmModule)
    return emitError(loc) << "translation to LLVM IR failed";
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(llvm::Triple(spec.triple), error);
  if (!target)
    return emitError(loc) << "target " << spec.triple << ": " << error;
  llvm::TargetOptions targetOptions;
  // Multiply-adds fuse into FMAs (as onnxruntime's kernels do).
  targetOptions.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      llvm::Triple(spec.triple), spec.cpu, spec.features, targetOptions,
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return emitError(loc) << "cannot create a target machine for "
                          << spec.triple;
  llvmModule->setTargetTriple(tm->getTargetTriple());
  llvmModule->setDataLayout(tm->createDataLayout());
  for (llvm::Function &f : *llvmModule) {
    if (f.isDeclaration())
      continue;
    f.addFnAttr("target-cpu", spec.cpu);
    if (!spec.features.empty())
      f.addFnAttr("target-features", spec.features);
  }
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PipelineTuningOptions tuning;
    tuning.LoopVectorization = true;
    tuning.SLPVectorization = true;
    llvm::PassBuilder pb(tm.get(), tuning);
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm =
        pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    mpm.run(*llvmModule, mam);
  }
  timer("LLVM -O3");
  if (!llPath.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(llPath, ec);
    if (ec)
      return emitError(loc)
             << "cannot write " << llPath << ": " << ec.message();
    llvmModule->print(os, nullptr);
    if (failed(closeChecked(os, llPath, loc)))
      return failure();
  }
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return emitError(loc)
             << "cannot write " << objectPath << ": " << ec.message();
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, os, nullptr,
                                llvm::CodeGenFileType::ObjectFile))
      return emitError(loc) << "the target cannot emit object files";
    codegen.run(*llvmModule);
    if (failed(closeChecked(os, objectPath, loc)))
      return failure();
  }
  timer("code generation");
  return success();
}

FailureOr<SmallVector<std::string>>
mlir::lowbit::compiledCPUFeatures(const TargetSpec &spec, std::string &error) {
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargetMCs();
  llvm::Triple triple(spec.triple);
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return failure();
  std::unique_ptr<llvm::MCSubtargetInfo> sti(
      target->createMCSubtargetInfo(triple, spec.cpu, spec.features));
  if (!sti) {
    error = "no subtarget information for " + spec.triple;
    return failure();
  }
  SmallVector<const char *> table;
  if (triple.isX86())
    for (const lowbit_x86_feature &f : lowbit_x86_features)
      table.push_back(f.name);
  else if (triple.isAArch64())
    for (const lowbit_aarch64_feature &f : lowbit_aarch64_features)
      table.push_back(f.name);
  SmallVector<std::string> enabled;
  for (const char *name : table) {
    // checkFeatures warns about names the target does not define.
    bool known = llvm::any_of(sti->getAllProcessorFeatures(),
                              [&](const llvm::SubtargetFeatureKV &kv) {
                                return name == StringRef(kv.Key);
                              });
    if (known && sti->checkFeatures(std::string("+") + name))
      enabled.push_back(name);
  }
  return enabled;
}

/// Runs `program` with `args`; an error at `loc` if it fails.
static LogicalResult runCommand(StringRef program, ArrayRef<StringRef> args,
                                Location loc) {
  auto path = llvm::sys::findProgramByName(program);
  if (!path)
    return emitError(loc) << "cannot find '" << program << "' to link model.so";
  SmallVector<StringRef> argv{*path};
  argv.append(args.begin(), args.end());
  std::string message;
  int rc =
      llvm::sys::ExecuteAndWait(*path, argv, std::nullopt, {}, 0, 0, &message);
  if (rc != 0)
    return emitError(loc) << "'" << program << "' failed (exit " << rc << ") "
                          << message;
  return success();
}

LogicalResult mlir::lowbit::linkSharedLibrary(const TargetSpec &spec,
                                              bool threads, StringRef soPath,
                                              StringRef objectPath,
                                              StringRef wrapperPath,
                                              Location loc) {
  StringRef cc = spec.isCross() ? "aarch64-linux-gnu-gcc" : "cc";
  SmallVector<StringRef> linkArgs{"-shared", "-fPIC",    "-O2",       "-o",
                                  soPath,    objectPath, wrapperPath, "-lm"};
  std::string ompDir = LOWBIT_OPENMP_LIBRARY_DIR;
  std::string ompLink = "-L" + ompDir, ompRpath = "-Wl,-rpath," + ompDir;
  if (threads) {
    linkArgs.push_back(ompLink);
    linkArgs.push_back(ompRpath);
    linkArgs.push_back("-lomp");
  }
  return runCommand(cc, linkArgs, loc);
}

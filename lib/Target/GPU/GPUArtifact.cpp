//===- GPUArtifact.cpp - The GPU part of an artifact ------------*- C++ -*-===//
//
// PTX out of the gpu.binary, cubin from ptxas, the launch table as
// metadata lines. The metadata grammar (read by runtime/src/gpu.cpp):
//
//   gpu <chip> <cubin file or -> <ptx file> <kernels>
//   gpu-kernel <id> <name> <grid x y z> <block x y z> <args>
//              (<bytes> <in|const|out>)* [ref packed_matmul <bits> <k> <n>
//              <tile> <group> <signed> <zero> <mma> [<outliers>]]
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/GPU/GPUArtifact.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Target/OutputFile.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::lowbit;

llvm::json::Value GPUFiles::manifest(StringRef chip) const {
  if (numKernels == 0)
    return nullptr;
  return llvm::json::Object{{"chip", chip},
                            {"kernels", (int64_t)numKernels},
                            {"ptx", ptxFile},
                            {"cubin", cubinFile.empty()
                                          ? llvm::json::Value(nullptr)
                                          : llvm::json::Value(cubinFile)},
                            {"driver", "libcuda.so.1, loaded at run time"}};
}

/// The ptxas to run, or "" when there is none.
static std::string findPtxas(StringRef given) {
  SmallVector<std::string> candidates;
  if (!given.empty())
    candidates.push_back(given.str());
  candidates.push_back("/usr/local/cuda/bin/ptxas");
  for (const std::string &c : candidates)
    if (llvm::sys::fs::can_execute(c))
      return c;
  if (auto onPath = llvm::sys::findProgramByName("ptxas"))
    return *onPath;
  return "";
}

/// The metadata line of one launch-table entry.
static FailureOr<std::string> kernelLine(Location loc, int64_t id,
                                         DictionaryAttr entry) {
  auto name = entry.getAs<StringAttr>("name");
  auto sizes = entry.getAs<DenseI64ArrayAttr>("sizes");
  auto bytes = entry.getAs<ArrayAttr>("arg_bytes");
  auto roles = entry.getAs<ArrayAttr>("arg_roles");
  if (!name || !sizes || sizes.size() != 6 || !bytes || !roles ||
      bytes.size() != roles.size())
    return emitError(loc) << "malformed lowbit.gpu_kernels entry " << entry;
  std::string line;
  llvm::raw_string_ostream os(line);
  os << "gpu-kernel " << id << " " << name.getValue();
  for (int64_t s : sizes.asArrayRef())
    os << " " << s;
  os << " " << bytes.size();
  for (auto [b, r] : llvm::zip(bytes, roles))
    os << " " << cast<IntegerAttr>(b).getInt() << " "
       << cast<StringAttr>(r).getValue();
  if (auto ref = entry.getAs<PackedLayoutAttr>("reference"))
    os << " ref packed_matmul " << ref.getBits() << " " << ref.getK() << " "
       << ref.getN() << " " << ref.getTile() << " " << ref.getGroup() << " "
       << (ref.getSignedCodes() ? 1 : 0) << " " << (ref.getZero() ? 1 : 0)
       << " " << (ref.getMma() ? 1 : 0)
       << (ref.getOutliers() ? " " + std::to_string(ref.getOutliers()) : "");
  os << "\n";
  return line;
}

FailureOr<GPUFiles>
mlir::lowbit::writeGPUFiles(ModuleOp module, const GPUArtifactOptions &options,
                            function_ref<std::string(StringRef)> path,
                            raw_ostream &log) {
  StringRef chip = options.chip;
  bool keepIntermediates = options.keepIntermediates;
  GPUFiles files;
  Location loc = module.getLoc();
  auto table = module->getAttrOfType<ArrayAttr>(
      LowbitDialect::GpuKernelsAttrHelper::getNameStr());
  auto binary = module.lookupSymbol<gpu::BinaryOp>("lowbit_kernels");
  module->removeAttr(LowbitDialect::GpuKernelsAttrHelper::getNameStr());
  module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  if (!table || table.empty()) {
    if (binary)
      binary.erase();
    return files;
  }
  if (chip.empty() || !binary)
    return emitError(loc) << "GPU kernels without a compiled gpu.binary "
                             "(target chip '"
                          << chip << "')";
  std::string ptx;
  for (Attribute a : binary.getObjects()) {
    auto object = dyn_cast<gpu::ObjectAttr>(a);
    if (object && object.getFormat() == gpu::CompilationTarget::Assembly)
      ptx = object.getObject().str();
  }
  binary.erase();
  if (ptx.empty())
    return emitError(loc) << "the gpu.binary of the kernels holds no PTX";

  files.ptxFile = "model.ptx";
  std::string ptxPath = path(files.ptxFile);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(ptxPath, ec);
    if (ec)
      return emitError(loc)
             << "cannot write " << ptxPath << ": " << ec.message();
    os << ptx;
    if (failed(closeChecked(os, ptxPath, loc)))
      return failure();
  }
  std::string ptxas = findPtxas(options.ptxas);
  if (ptxas.empty()) {
    log << "  note: no ptxas (give --ptxas, or set LOWBIT_PTXAS or "
           "CUDA_HOME): the artifact carries PTX only, which the driver "
           "compiles at load\n";
  } else {
    std::string cubinPath = path("model.cubin");
    std::string report = path("model.ptxas.txt");
    std::string arch = "-arch=" + chip.str();
    SmallVector<StringRef> argv{ptxas,   arch, "-O3",    "-v",
                                ptxPath, "-o", cubinPath};
    std::optional<StringRef> redirects[] = {std::nullopt, StringRef(report),
                                            StringRef(report)};
    std::string message;
    int rc = llvm::sys::ExecuteAndWait(ptxas, argv, std::nullopt, redirects, 0,
                                       0, &message);
    auto text = llvm::MemoryBuffer::getFile(report);
    if (text)
      files.ptxasReport = (*text)->getBuffer().str();
    if (!keepIntermediates)
      llvm::sys::fs::remove(report);
    if (rc != 0)
      return emitError(loc) << "ptxas (" << ptxas << ") rejected " << ptxPath
                            << " (exit " << rc << ") " << message << "\n"
                            << files.ptxasReport;
    files.cubinFile = "model.cubin";
    // Spills cost local-memory traffic: say so.
    llvm::Regex spills("([1-9][0-9]*) bytes spill stores");
    if (spills.match(files.ptxasReport))
      log << "  note: ptxas reports register spills in the GPU kernels (see "
             "model.ptxas.txt with --keep-intermediates)\n";
  }

  std::string meta;
  llvm::raw_string_ostream m(meta);
  m << "gpu " << chip << " "
    << (files.cubinFile.empty() ? "-" : files.cubinFile) << " " << files.ptxFile
    << " " << table.size() << "\n";
  for (auto [i, a] : llvm::enumerate(table)) {
    auto entry = dyn_cast<DictionaryAttr>(a);
    if (!entry)
      return emitError(loc) << "malformed lowbit.gpu_kernels";
    FailureOr<std::string> line = kernelLine(loc, i, entry);
    if (failed(line))
      return failure();
    m << *line;
  }
  files.metadata = meta;
  files.numKernels = table.size();
  return files;
}

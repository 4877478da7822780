//===- OutputFile.h - Checked writes of artifact files ----------*- C++ -*-===//
//
// Every file quant-compile writes goes through a raw_fd_ostream; a write
// that fails (disk full, file size limit) sets the stream's error and, left
// unchecked, aborts the process in the stream's destructor. closeChecked
// turns it into a diagnostic that names the file.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_OUTPUTFILE_H
#define LOWBIT_TARGET_OUTPUTFILE_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::lowbit {

/// Closes `os` (written to `path`); an error at `loc` naming the file and
/// the reason if any write or the close failed.
inline LogicalResult closeChecked(llvm::raw_fd_ostream &os, StringRef path,
                                  Location loc) {
  os.close();
  if (!os.has_error())
    return success();
  std::error_code ec = os.error();
  os.clear_error();
  return emitError(loc) << "cannot write " << path << ": " << ec.message();
}

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_OUTPUTFILE_H

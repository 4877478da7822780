//===- Npy.cpp - NumPy .npy files -------------------------------*- C++ -*-===//

#include "lowbit/Support/Npy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir::lowbit;

namespace {
const std::map<std::string, std::string> &npyKinds() {
  static const std::map<std::string, std::string> kinds = {
      {"<f4", "f32"}, {"<f8", "f64"}, {"<f2", "f16"}, {"<i8", "i64"},
      {"<i4", "i32"}, {"<i2", "i16"}, {"|i1", "i8"},  {"|u1", "u8"},
      {"<u2", "u16"}, {"<u4", "u32"}, {"<u8", "u64"}, {"|b1", "bool"}};
  return kinds;
}

llvm::Error fail(llvm::StringRef path, const llvm::Twine &why) {
  return llvm::createStringError(std::errc::invalid_argument, "%s",
                                 (path + ": " + why).str().c_str());
}
} // namespace

int64_t NpyArray::numElements() const {
  // A zero dimension first: parseNpy accepts (0, 2^62, 4), whose other
  // dimensions alone overflow (found by the fuzzer).
  if (llvm::is_contained(shape, 0))
    return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t mlir::lowbit::npyDtypeBytes(llvm::StringRef dtype) {
  return llvm::StringSwitch<int64_t>(dtype)
      .Cases({"f64", "i64", "u64"}, 8)
      .Cases({"f32", "i32", "u32"}, 4)
      .Cases({"f16", "bf16", "i16", "u16"}, 2)
      .Cases({"i8", "u8", "bool"}, 1)
      .Default(0);
}

llvm::Expected<NpyArray> mlir::lowbit::readNpy(llvm::StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return fail(path, "cannot read: " + buf.getError().message());
  return parseNpy((*buf)->getBuffer(), path);
}

llvm::Expected<NpyArray> mlir::lowbit::parseNpy(llvm::StringRef b,
                                                llvm::StringRef path) {
  if (b.size() < 10 || !b.starts_with("\x93NUMPY"))
    return fail(path, "not a .npy file");
  int major = static_cast<unsigned char>(b[6]);
  if (major < 1 || major > 3 || (major > 1 && b.size() < 12))
    return fail(path, "unsupported .npy version " + llvm::Twine(major));
  auto byte = [&](size_t i) {
    return static_cast<size_t>(static_cast<unsigned char>(b[i]));
  };
  size_t hlen =
      major == 1 ? (byte(8) | byte(9) << 8)
                 : (byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24);
  size_t begin = major == 1 ? 10 : 12;
  if (hlen > b.size() - begin)
    return fail(path, "truncated header");
  llvm::StringRef header = b.slice(begin, begin + hlen);
  size_t start = begin + hlen;
  auto field = [&](llvm::StringRef key, llvm::StringRef &out) -> bool {
    size_t p = header.find(key);
    if (p == llvm::StringRef::npos)
      return false;
    out = header.drop_front(p + key.size()).ltrim(" :");
    return true;
  };
  llvm::StringRef descr, order, shape;
  if (!field("'descr'", descr) || !field("'fortran_order'", order) ||
      !field("'shape'", shape))
    return fail(path, "header lacks descr, fortran_order or shape");
  descr = descr.drop_front(1).take_until([](char c) { return c == '\''; });
  if (order.starts_with("True"))
    return fail(path, "Fortran-order arrays are not supported");
  auto kind = npyKinds().find(descr.str());
  if (kind == npyKinds().end())
    return fail(path, "unsupported dtype " + descr);
  NpyArray out;
  out.dtype = kind->second;
  shape = shape.drop_front(1).take_until([](char c) { return c == ')'; });
  llvm::SmallVector<llvm::StringRef> dims;
  shape.split(dims, ',', -1, false);
  for (llvm::StringRef d : dims) {
    if (d.trim().empty())
      continue;
    int64_t v;
    if (d.trim().getAsInteger(10, v) || v < 0)
      return fail(path, "bad shape");
    out.shape.push_back(v);
  }
  // The size the shape needs, without overflow: a product larger than the
  // data cannot match it (a zero dimension makes it empty).
  uint64_t have = b.size() - start;
  uint64_t bytes = npyDtypeBytes(out.dtype);
  bool larger = false;
  for (int64_t d : out.shape) {
    if (d == 0)
      bytes = 0, larger = false;
    if (bytes == 0)
      break;
    if (bytes > have / static_cast<uint64_t>(d))
      larger = true;
    else
      bytes *= static_cast<uint64_t>(d);
  }
  if (larger)
    return fail(path, "data has " + llvm::Twine(have) +
                          " bytes, the shape needs more");
  if (have != bytes)
    return fail(path, "data has " + llvm::Twine(have) +
                          " bytes, the shape needs " + llvm::Twine(bytes));
  out.data.assign(b.begin() + start, b.end());
  return out;
}

llvm::Error mlir::lowbit::writeNpy(llvm::StringRef path, const NpyArray &t) {
  std::string descr;
  for (const auto &[d, name] : npyKinds())
    if (name == t.dtype)
      descr = d;
  if (descr.empty())
    return fail(path, "cannot write dtype " + t.dtype);
  std::string shape = "(";
  for (int64_t d : t.shape)
    shape += std::to_string(d) + ",";
  shape += ")";
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64)
    header += ' ';
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return fail(path, "cannot write: " + ec.message());
  os << "\x93NUMPY" << static_cast<char>(1) << static_cast<char>(0)
     << static_cast<char>(header.size() & 0xff)
     << static_cast<char>(header.size() >> 8) << header;
  os.write(t.data.data(), t.data.size());
  return llvm::Error::success();
}

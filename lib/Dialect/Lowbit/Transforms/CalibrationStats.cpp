//===- CalibrationStats.cpp - Statistics of calibration sites ---*- C++ -*-===//

#include "lowbit/Dialect/Lowbit/Transforms/CalibrationStats.h"
#include "lowbit/Dialect/Lowbit/IR/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/Transforms/LinearLayers.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace mlir::lowbit;

static constexpr char kMagic[8] = {'L', 'B', 'C', 'A', 'L', 'I', 'B', '1'};

SiteStats::SiteStats(std::string name, int64_t channels)
    : name(std::move(name)), channels(channels), absMax(channels, 0.0f),
      min(channels, std::numeric_limits<float>::infinity()),
      max(channels, -std::numeric_limits<float>::infinity()),
      sum(channels, 0.0), hessian(channels * channels, 0.0) {}

void SiteStats::accumulate(int64_t runRows, const float *runAbsMax,
                           const float *runMin, const float *runMax,
                           const float *runSum, const float *runHessian) {
  rows += runRows;
  for (int64_t c = 0; c < channels; ++c) {
    absMax[c] = std::max(absMax[c], runAbsMax[c]);
    min[c] = std::min(min[c], runMin[c]);
    max[c] = std::max(max[c], runMax[c]);
    sum[c] += runSum[c];
  }
  for (int64_t i = 0, e = channels * channels; i < e; ++i)
    hessian[i] += runHessian[i];
}

const SiteStats *CalibrationStats::find(StringRef name) const {
  for (const SiteStats &s : sites)
    if (s.name == name)
      return &s;
  return nullptr;
}

llvm::Error CalibrationStats::save(StringRef path) const {
  llvm::json::Array siteArray;
  for (const SiteStats &s : sites)
    siteArray.push_back(llvm::json::Object{
        {"name", s.name}, {"channels", s.channels}, {"rows", s.rows}});
  llvm::json::Object header{{"format", 1},
                            {"model", model},
                            {"samples", samples},
                            {"sites", std::move(siteArray)}};
  std::string json;
  llvm::raw_string_ostream(json) << llvm::json::Value(std::move(header));
  while ((16 + json.size()) % 8)
    json += ' ';
  // Written to a temporary and renamed: no half-written cache.
  std::string tmp = (path + ".tmp").str();
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(tmp, ec);
    if (ec)
      return llvm::createStringError(ec, "%s: cannot write: %s", tmp.c_str(),
                                     ec.message().c_str());
    os.write(kMagic, 8);
    uint64_t len = json.size();
    os.write(reinterpret_cast<const char *>(&len), 8);
    os << json;
    std::vector<float> row;
    for (const SiteStats &s : sites) {
      double rows = std::max<int64_t>(s.rows, 1);
      auto put = [&](const std::vector<float> &v) {
        os.write(reinterpret_cast<const char *>(v.data()), v.size() * 4);
      };
      put(s.absMax);
      put(s.min);
      put(s.max);
      row.resize(s.channels);
      for (int64_t c = 0; c < s.channels; ++c)
        row[c] = static_cast<float>(s.sum[c] / rows);
      put(row);
      for (int64_t i = 0; i < s.channels; ++i) {
        for (int64_t j = 0; j < s.channels; ++j)
          row[j] = static_cast<float>(s.hessian[i * s.channels + j] / rows);
        put(row);
      }
    }
    if (os.has_error())
      return llvm::createStringError(os.error(), "%s: write failed",
                                     tmp.c_str());
  }
  if (std::error_code rc = llvm::sys::fs::rename(tmp, path))
    return llvm::createStringError(rc, "%s: cannot rename to %s", tmp.c_str(),
                                   path.str().c_str());
  return llvm::Error::success();
}

llvm::Expected<CalibrationStats> CalibrationStats::load(StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                         /*RequiresNullTerminator=*/false);
  if (!buf)
    return llvm::createStringError(
        std::errc::invalid_argument, "%s",
        (path + ": cannot read: " + buf.getError().message()).str().c_str());
  return parse((*buf)->getBuffer(), path);
}

llvm::Expected<CalibrationStats> CalibrationStats::parse(StringRef data,
                                                         StringRef path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(std::errc::invalid_argument, "%s",
                                   (path + ": " + why).str().c_str());
  };
  if (data.size() < 16 || std::memcmp(data.data(), kMagic, 8) != 0)
    return fail("not a Lowbit calibration statistics file");
  uint64_t len;
  std::memcpy(&len, data.data() + 8, 8);
  if (len > data.size() - 16)
    return fail("truncated header");
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse(data.substr(16, len));
  if (!json)
    return fail("bad header: " + llvm::toString(json.takeError()));
  const llvm::json::Object *obj = json->getAsObject();
  if (!obj || obj->getInteger("format") != 1)
    return fail("unsupported format (expected format 1)");
  CalibrationStats stats;
  if (std::optional<StringRef> m = obj->getString("model"))
    stats.model = m->str();
  stats.samples = obj->getInteger("samples").value_or(0);
  const llvm::json::Array *siteArray = obj->getArray("sites");
  if (!siteArray)
    return fail("header lacks 'sites'");
  uint64_t offset = 16 + len;
  for (const llvm::json::Value &v : *siteArray) {
    const llvm::json::Object *site = v.getAsObject();
    std::optional<StringRef> name =
        site ? site->getString("name") : std::nullopt;
    std::optional<int64_t> channels =
        site ? site->getInteger("channels") : std::nullopt;
    std::optional<int64_t> rows =
        site ? site->getInteger("rows") : std::nullopt;
    if (!name || !channels || !rows || *channels <= 0 ||
        *channels > (1 << 17) || *rows < 0)
      return fail("malformed site entry");
    uint64_t c = *channels;
    uint64_t need = (4 * c + c * c) * 4;
    // Checked before anything of the site's size is allocated.
    if (offset + need > data.size())
      return fail("truncated: site '" + *name + "' needs " + llvm::Twine(need) +
                  " bytes at offset " + llvm::Twine(offset));
    SiteStats s(name->str(), *channels);
    s.rows = *rows;
    const char *p = data.data() + offset;
    auto take = [&](std::vector<float> &v) {
      std::memcpy(v.data(), p, c * 4);
      p += c * 4;
    };
    take(s.absMax);
    take(s.min);
    take(s.max);
    std::vector<float> mean(c);
    take(mean);
    double r = std::max<int64_t>(s.rows, 1);
    for (uint64_t i = 0; i < c; ++i)
      s.sum[i] = mean[i] * r;
    for (uint64_t i = 0; i < c * c; ++i) {
      float h;
      std::memcpy(&h, p + i * 4, 4);
      if (!std::isfinite(h))
        return fail("site '" + *name + "' has a non-finite Hessian entry");
      s.hessian[i] = h * r;
    }
    offset += need;
    stats.sites.push_back(std::move(s));
  }
  if (offset != data.size())
    return fail("has " + llvm::Twine(data.size() - offset) +
                " bytes after the last site");
  return stats;
}

namespace {
Attribute blobAttr(Builder &b, StringRef name, ArrayRef<int64_t> shape,
                   ArrayRef<float> values) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
}
} // namespace

LogicalResult mlir::lowbit::attachStatistics(ModuleOp module,
                                             const CalibrationStats &stats,
                                             StringRef source) {
  Builder b(module.getContext());
  WalkResult result = module.walk([&](CalibrateOp op) {
    const SiteStats *s = stats.find(op.getSite());
    if (!s) {
      op.emitError() << "calibration site '" << op.getSite() << "' is not in "
                     << source;
      return WalkResult::interrupt();
    }
    auto type = cast<RankedTensorType>(op.getInput().getType());
    int64_t c = type.getDimSize(op.getChannelAxis());
    if (c != s->channels) {
      op.emitError() << "calibration site '" << op.getSite() << "' has " << c
                     << " channels, " << source << " has " << s->channels;
      return WalkResult::interrupt();
    }
    double rows = std::max<int64_t>(s->rows, 1);
    std::vector<float> mean(c), hessian(c * c);
    for (int64_t i = 0; i < c; ++i)
      mean[i] = static_cast<float>(s->sum[i] / rows);
    for (int64_t i = 0; i < c * c; ++i)
      hessian[i] = static_cast<float>(s->hessian[i] / rows);
    std::string prefix = "calib." + s->name + ".";
    NamedAttrList attrs;
    attrs.append("rows", b.getI64IntegerAttr(s->rows));
    attrs.append("samples", b.getI64IntegerAttr(stats.samples));
    attrs.append("abs_max", blobAttr(b, prefix + "abs_max", {c}, s->absMax));
    attrs.append("min", blobAttr(b, prefix + "min", {c}, s->min));
    attrs.append("max", blobAttr(b, prefix + "max", {c}, s->max));
    attrs.append("mean", blobAttr(b, prefix + "mean", {c}, mean));
    attrs.append("hessian", blobAttr(b, prefix + "hessian", {c, c}, hessian));
    op->setAttr(LowbitDialect::StatsAttrHelper::getNameStr(),
                attrs.getDictionary(b.getContext()));
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

std::vector<float> mlir::lowbit::getInputStatistic(Value input,
                                                   StringRef name) {
  auto site = input.getDefiningOp<CalibrateOp>();
  auto stats = site ? site->getAttrOfType<DictionaryAttr>(
                          LowbitDialect::StatsAttrHelper::getNameStr())
                    : DictionaryAttr();
  auto attr = stats ? stats.getAs<ElementsAttr>(name) : ElementsAttr();
  std::optional<std::vector<float>> values =
      attr ? readWeightF32(attr) : std::nullopt;
  return values ? std::move(*values) : std::vector<float>();
}

SmallVector<int64_t>
mlir::lowbit::selectActivationOutlierChannels(ArrayRef<float> absMax,
                                              double threshold) {
  SmallVector<int64_t> channels;
  for (auto [c, m] : llvm::enumerate(absMax))
    if (m > threshold)
      channels.push_back(static_cast<int64_t>(c));
  size_t cap =
      std::max<size_t>(1, static_cast<size_t>(std::floor(
                              kMaxActivationOutlierShare * absMax.size())));
  if (channels.size() > cap) {
    llvm::stable_sort(
        channels, [&](int64_t a, int64_t b) { return absMax[a] > absMax[b]; });
    channels.resize(cap);
    llvm::sort(channels);
  }
  return channels;
}

std::optional<std::vector<double>> mlir::lowbit::getInputHessian(Value input) {
  auto op = input.getDefiningOp<CalibrateOp>();
  if (!op)
    return std::nullopt;
  auto dict = op->getAttrOfType<DictionaryAttr>(
      LowbitDialect::StatsAttrHelper::getNameStr());
  auto attr = dict ? dict.getAs<ElementsAttr>("hessian") : ElementsAttr();
  if (!attr)
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(attr.getType());
  int64_t c =
      cast<RankedTensorType>(input.getType()).getDimSize(op.getChannelAxis());
  if (!type || type.getRank() != 2 || type.getDimSize(0) != c ||
      type.getDimSize(1) != c)
    return std::nullopt;
  std::optional<std::vector<float>> values = readWeightF32(attr);
  if (!values)
    return std::nullopt;
  return std::vector<double>(values->begin(), values->end());
}

//===- quant-run.cpp - Run a Lowbit artifact --------------------*- C++ -*-===//
//
//   quant-run out/ --input input_ids=ids.npy [--expect logits.pb] [--bench 20]
//   quant-run model.onnx --input x=x.pb            (compiled on the fly)
//   quant-run onnx/backend/test/data/node/test_relu (model.onnx +
//                                                    test_data_set_*/)
//
// Inputs are ONNX TensorProto (.pb) or NumPy (.npy) files, matched to the
// model's inputs by name (or in order when given without a name). Outputs
// are written as .npy to --output-dir; --expect compares them with a
// tolerance and reports the largest absolute and relative errors.
//
// The runtime's load options come from the environment (the runtime itself
// reads none): LOWBIT_WEIGHTS=mmap, LOWBIT_CPU_FEATURES="avx2 fma ...",
// LOWBIT_GPU=cpu|cuda, LOWBIT_CUDA_DEVICE=N, LOWBIT_CUDA_DRIVER=path,
// LOWBIT_GPU_TIMING=1, LOWBIT_SKIP_WEIGHTS_HASH=1.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Support/Npy.h"
#include "lowbit/runtime.h"
#include "onnx/onnx_pb.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cl = llvm::cl;
using mlir::lowbit::NpyArray;
namespace lowbit = mlir::lowbit;
using llvm::StringRef;

static cl::OptionCategory runCat("quant-run options");
static cl::opt<std::string> target(cl::Positional, cl::Required,
                                   cl::desc("<artifact dir | model.onnx | "
                                            "ONNX test-case dir>"),
                                   cl::cat(runCat));
static cl::list<std::string>
    inputs("input", cl::desc("[name=]file.pb|file.npy"), cl::cat(runCat));
static cl::list<std::string>
    expects("expect", cl::desc("[name=]file.pb|file.npy"), cl::cat(runCat));
static cl::opt<std::string> outputDir("output-dir",
                                      cl::desc("write outputs as .npy here"),
                                      cl::cat(runCat));
static cl::opt<double> relTol("rtol", cl::init(1e-4),
                              cl::desc("relative tolerance"), cl::cat(runCat));
static cl::opt<double> absTol("atol", cl::init(1e-5),
                              cl::desc("absolute tolerance"), cl::cat(runCat));
static cl::opt<int> bench("bench", cl::init(0),
                          cl::desc("time N runs after one warm-up run"),
                          cl::cat(runCat));
static cl::opt<int> threads("num-threads", cl::init(0),
                            cl::desc("threads (0: all cores)"),
                            cl::cat(runCat));
static cl::opt<std::string>
    compileTarget("target", cl::init("host"),
                  cl::desc("--target for on-the-fly compiles"),
                  cl::cat(runCat));
static cl::list<std::string> inputValues(
    "input-value",
    cl::desc("name:v1,v2,... for on-the-fly compiles: that graph input "
             "becomes a constant (quant-compile --input-value) and is not "
             "fed"),
    cl::cat(runCat));

namespace {

struct Tensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

[[noreturn]] void die(const llvm::Twine &msg) {
  llvm::errs() << "quant-run: error: " << msg << "\n";
  std::exit(1);
}

int64_t bytesOf(StringRef dtype) {
  return lowbit_dtype_bytes(dtype.str().c_str());
}

int64_t numel(const std::vector<int64_t> &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

std::optional<std::string> onnxDtype(int t) {
  switch (t) {
  case onnx::TensorProto::FLOAT:
    return "f32";
  case onnx::TensorProto::DOUBLE:
    return "f64";
  case onnx::TensorProto::FLOAT16:
    return "f16";
  case onnx::TensorProto::BFLOAT16:
    return "bf16";
  case onnx::TensorProto::INT8:
    return "i8";
  case onnx::TensorProto::INT16:
    return "i16";
  case onnx::TensorProto::INT32:
    return "i32";
  case onnx::TensorProto::INT64:
    return "i64";
  case onnx::TensorProto::UINT8:
    return "u8";
  case onnx::TensorProto::UINT16:
    return "u16";
  case onnx::TensorProto::UINT32:
    return "u32";
  case onnx::TensorProto::UINT64:
    return "u64";
  case onnx::TensorProto::BOOL:
    return "bool";
  default:
    return std::nullopt;
  }
}

Tensor readPb(StringRef path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    die(path + ": cannot read: " + buf.getError().message());
  onnx::TensorProto t;
  if (!t.ParseFromArray((*buf)->getBufferStart(), (*buf)->getBufferSize()))
    die(path + ": not an ONNX TensorProto");
  auto dtype = onnxDtype(t.data_type());
  if (!dtype)
    die(path + ": unsupported element type " + llvm::Twine(t.data_type()));
  Tensor out{t.name(), *dtype, {t.dims().begin(), t.dims().end()}, {}};
  size_t bytes = numel(out.shape) * bytesOf(out.dtype);
  if (t.has_raw_data()) {
    if (t.raw_data().size() != bytes)
      die(path + ": raw data has " + llvm::Twine(t.raw_data().size()) +
          " bytes, the shape needs " + llvm::Twine(bytes));
    out.data.assign(t.raw_data().begin(), t.raw_data().end());
    return out;
  }
  out.data.resize(bytes);
  auto fill = [&](auto values, auto cast) {
    if ((size_t)values.size() != (size_t)numel(out.shape))
      die(path + ": " + llvm::Twine(values.size()) +
          " values do not match the shape");
    size_t w = bytesOf(out.dtype);
    for (int i = 0; i < values.size(); ++i) {
      auto v = cast(values.Get(i));
      std::memcpy(out.data.data() + i * w, &v, w);
    }
  };
  if (out.dtype == "f32")
    fill(t.float_data(), [](float v) { return v; });
  else if (out.dtype == "f64")
    fill(t.double_data(), [](double v) { return v; });
  else if (out.dtype == "i64")
    fill(t.int64_data(), [](int64_t v) { return v; });
  else if (out.dtype == "i32")
    fill(t.int32_data(), [](int32_t v) { return v; });
  else if (out.dtype == "i8" || out.dtype == "u8" || out.dtype == "bool")
    fill(t.int32_data(), [](int32_t v) { return (int8_t)v; });
  else if (out.dtype == "i16" || out.dtype == "u16" || out.dtype == "f16" ||
           out.dtype == "bf16")
    fill(t.int32_data(), [](int32_t v) { return (int16_t)v; });
  else
    die(path + ": typed " + out.dtype + " data is not supported; use raw_data");
  return out;
}

/// NumPy .npy (version 1-3, little-endian, C order).
Tensor readNpy(StringRef path) {
  llvm::Expected<NpyArray> array = lowbit::readNpy(path);
  if (!array)
    die(llvm::toString(array.takeError()));
  return Tensor{"", array->dtype, std::move(array->shape),
                std::move(array->data)};
}

void writeNpy(StringRef path, const Tensor &t) {
  if (llvm::Error e =
          lowbit::writeNpy(path, NpyArray{t.dtype, t.shape, t.data}))
    die(llvm::toString(std::move(e)));
}

Tensor readTensor(StringRef path) {
  return path.ends_with(".npy") ? readNpy(path) : readPb(path);
}

/// Splits "name=path" (name optional).
std::pair<std::string, std::string> splitSpec(StringRef spec) {
  auto [name, path] = spec.split('=');
  if (path.empty())
    return {"", name.str()};
  return {name.str(), path.str()};
}

/// Element value as double, for comparisons.
double valueAt(const Tensor &t, int64_t i) {
  const char *p = t.data.data() + i * bytesOf(t.dtype);
  auto get = [&](auto v) {
    std::memcpy(&v, p, sizeof v);
    return (double)v;
  };
  StringRef d = t.dtype;
  if (d == "f32")
    return get(float());
  if (d == "f64")
    return get(double());
  if (d == "i64")
    return get(int64_t());
  if (d == "i32")
    return get(int32_t());
  if (d == "i16")
    return get(int16_t());
  if (d == "i8")
    return get(int8_t());
  if (d == "u8" || d == "bool")
    return get(uint8_t());
  if (d == "u16")
    return get(uint16_t());
  if (d == "u32")
    return get(uint32_t());
  if (d == "u64")
    return get(uint64_t());
  return NAN;
}

/// Compiles `model` with quant-compile (next to this tool) into `dir`.
void compileOnTheFly(StringRef self, StringRef model, StringRef dir,
                     const std::vector<Tensor> &feeds) {
  llvm::SmallString<256> compiler = llvm::sys::path::parent_path(self);
  llvm::sys::path::append(compiler, "quant-compile");
  if (!llvm::sys::fs::exists(compiler)) {
    auto found = llvm::sys::findProgramByName("quant-compile");
    if (!found)
      die("quant-compile not found next to quant-run or on PATH");
    compiler = *found;
  }
  std::vector<std::string> args = {compiler.str().str(), model.str(), "-o",
                                   dir.str(), "--target=" + compileTarget};
  for (const std::string &v : inputValues)
    args.push_back("--input-value=" + v);
  for (const Tensor &t : feeds) {
    if (t.name.empty())
      die("inputs of a model compiled on the fly need names (name=file)");
    std::string dims;
    for (int64_t d : t.shape)
      dims += (dims.empty() ? "" : "x") + std::to_string(d);
    args.push_back("--input-shape=" + t.name + ":" + dims);
  }
  std::vector<StringRef> argv(args.begin(), args.end());
  std::string message;
  if (llvm::sys::ExecuteAndWait(compiler, argv, std::nullopt, {}, 0, 0,
                                &message) != 0)
    die("compiling " + model + " failed " + message);
}

/// Runs `model` on `feeds`; compares with `expected` if any. Returns false
/// if a comparison fails.
bool runOnce(lowbit_model *model, std::vector<Tensor> feeds,
             const std::vector<Tensor> &expected, StringRef label) {
  int nin = lowbit_model_num_inputs(model),
      nout = lowbit_model_num_outputs(model);
  if ((int)feeds.size() != nin)
    die(label + ": the model takes " + llvm::Twine(nin) + " inputs, got " +
        llvm::Twine(feeds.size()));
  std::vector<const void *> in(nin);
  std::vector<bool> used(feeds.size());
  for (int i = 0; i < nin; ++i) {
    const lowbit_tensor_info *info = lowbit_model_input(model, i);
    int pick = -1;
    for (size_t j = 0; j < feeds.size() && pick < 0; ++j)
      if (!used[j] && feeds[j].name == info->name)
        pick = j;
    for (size_t j = 0; j < feeds.size() && pick < 0; ++j)
      if (!used[j] && feeds[j].name.empty())
        pick = j;
    if (pick < 0)
      die(label + ": no input given for '" + info->name + "'");
    used[pick] = true;
    const Tensor &t = feeds[pick];
    std::vector<int64_t> want(info->shape, info->shape + info->rank);
    if (t.shape != want || t.dtype != info->dtype) {
      std::string w, g;
      for (int64_t d : want)
        w += std::to_string(d) + " ";
      for (int64_t d : t.shape)
        g += std::to_string(d) + " ";
      die(label + ": input '" + info->name + "' must be " + info->dtype + " [" +
          w + "], the file has " + t.dtype + " [" + g + "]");
    }
    in[i] = t.data.data();
  }
  std::vector<Tensor> outs(nout);
  std::vector<void *> out(nout);
  for (int i = 0; i < nout; ++i) {
    const lowbit_tensor_info *info = lowbit_model_output(model, i);
    outs[i] = {info->name,
               info->dtype,
               std::vector<int64_t>(info->shape, info->shape + info->rank),
               {}};
    outs[i].data.resize(info->num_elements * info->element_bytes);
    out[i] = outs[i].data.data();
  }
  char err[1024];
  if (lowbit_model_run(model, in.data(), out.data(), threads, err, sizeof err))
    die(label + ": " + err);
  if (bench > 0) {
    std::vector<double> times;
    for (int r = 0; r < bench; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      lowbit_model_run(model, in.data(), out.data(), threads, err, sizeof err);
      times.push_back(std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - t0)
                          .count());
    }
    std::sort(times.begin(), times.end());
    llvm::outs() << llvm::formatv(
        "{0}: {1} runs: median {2:f3} ms, min {3:f3} ms, max {4:f3} ms\n",
        label, bench, times[times.size() / 2], times.front(), times.back());
  }
  if (!outputDir.empty()) {
    llvm::sys::fs::create_directories(outputDir);
    for (const Tensor &t : outs) {
      llvm::SmallString<256> p(outputDir);
      std::string file = t.name;
      std::replace_if(
          file.begin(), file.end(),
          [](char c) { return !isalnum(c) && c != '_' && c != '-'; }, '_');
      llvm::sys::path::append(p, file + ".npy");
      writeNpy(p, t);
    }
  }
  bool ok = true;
  for (size_t e = 0; e < expected.size(); ++e) {
    const Tensor &want = expected[e];
    const Tensor *got = nullptr;
    for (const Tensor &t : outs)
      if (!want.name.empty() && t.name == want.name)
        got = &t;
    if (!got && e < outs.size())
      got = &outs[e];
    if (!got)
      die(label + ": more expected outputs than outputs");
    if (got->shape != want.shape) {
      llvm::outs() << label << ": output '" << got->name
                   << "': shape differs from the expected\n";
      ok = false;
      continue;
    }
    double maxAbs = 0, maxRel = 0;
    int64_t bad = 0, n = numel(want.shape);
    for (int64_t i = 0; i < n; ++i) {
      double a = valueAt(*got, i), b = valueAt(want, i);
      if (std::isnan(a) && std::isnan(b))
        continue;
      double d = std::fabs(a - b);
      maxAbs = std::max(maxAbs, d);
      if (b != 0)
        maxRel = std::max(maxRel, d / std::fabs(b));
      if (!(d <= absTol + relTol * std::fabs(b)))
        ++bad;
    }
    llvm::outs() << llvm::formatv(
        "{0}: output '{1}': max abs error {2:e2}, max rel error {3:e2}, {4} of "
        "{5} outside rtol {6:e1} atol {7:e1}: {8}\n",
        label, got->name, maxAbs, maxRel, bad, n, (double)relTol,
        (double)absTol, bad ? "FAIL" : "ok");
    ok &= bad == 0;
  }
  return ok;
}

} // namespace

/// The runtime's load options from the LOWBIT_* environment variables;
/// dies naming the variable on a bad value.
lowbit_load_options loadOptionsFromEnvironment() {
  lowbit_load_options options;
  lowbit_load_options_init(&options);
  if (const char *w = getenv("LOWBIT_WEIGHTS")) {
    if (StringRef(w) == "mmap")
      options.weights = LOWBIT_WEIGHTS_MMAP;
    else if (*w && StringRef(w) != "huge-pages")
      die(std::string("LOWBIT_WEIGHTS=") + w +
          " (expected mmap or huge-pages)");
  }
  options.cpu_features = getenv("LOWBIT_CPU_FEATURES");
  if (const char *g = getenv("LOWBIT_GPU")) {
    if (StringRef(g) == "cpu")
      options.gpu = LOWBIT_GPU_CPU_REFERENCE;
    else if (*g && StringRef(g) != "cuda")
      die(std::string("LOWBIT_GPU=") + g + " (expected cuda or cpu)");
  }
  if (const char *d = getenv("LOWBIT_CUDA_DEVICE"))
    if (!llvm::to_integer(StringRef(d), options.cuda_device) ||
        options.cuda_device < 0)
      die(std::string("LOWBIT_CUDA_DEVICE=") + d + " (expected 0, 1, ...)");
  options.cuda_driver = getenv("LOWBIT_CUDA_DRIVER");
  if (const char *t = getenv("LOWBIT_GPU_TIMING"))
    options.gpu_timing = StringRef(t) == "1";
  if (const char *h = getenv("LOWBIT_SKIP_WEIGHTS_HASH"))
    options.skip_weights_hash = StringRef(h) == "1";
  return options;
}

int main(int argc, char **argv) {
  // Only quant-run's own options in --help (not every LLVM option linked in).
  cl::HideUnrelatedOptions(runCat);
  cl::ParseCommandLineOptions(argc, argv, "Run a Lowbit artifact\n");
  std::vector<Tensor> feeds, expected;
  for (const std::string &spec : inputs) {
    auto [name, path] = splitSpec(spec);
    Tensor t = readTensor(path);
    if (!name.empty())
      t.name = name;
    feeds.push_back(std::move(t));
  }
  for (const std::string &spec : expects) {
    auto [name, path] = splitSpec(spec);
    Tensor t = readTensor(path);
    if (!name.empty())
      t.name = name;
    expected.push_back(std::move(t));
  }

  // An ONNX backend test case: model.onnx + test_data_set_*/.
  std::string artifact = target;
  llvm::SmallString<256> modelInDir(target);
  llvm::sys::path::append(modelInDir, "model.onnx");
  std::vector<std::pair<std::vector<Tensor>, std::vector<Tensor>>> dataSets;
  bool isCase =
      llvm::sys::fs::is_directory(target) && llvm::sys::fs::exists(modelInDir);
  if (isCase) {
    std::error_code ec;
    std::vector<std::string> dirs;
    for (llvm::sys::fs::directory_iterator it(target, ec), end;
         it != end && !ec; it.increment(ec))
      if (StringRef(llvm::sys::path::filename(it->path()))
              .starts_with("test_data_set_"))
        dirs.push_back(it->path());
    std::sort(dirs.begin(), dirs.end());
    onnx::ModelProto proto;
    {
      auto buf = llvm::MemoryBuffer::getFile(modelInDir);
      if (!buf || !proto.ParseFromArray((*buf)->getBufferStart(),
                                        (*buf)->getBufferSize()))
        die(modelInDir + ": cannot parse");
    }
    for (const std::string &d : dirs) {
      // <prefix>_<i>.pb for the graph's inputs (outputs), named after them.
      auto readAll = [&](StringRef prefix, const auto &infos) {
        std::vector<Tensor> tensors;
        for (int i = 0; i < infos.size(); ++i) {
          llvm::SmallString<256> p(d);
          llvm::sys::path::append(p, prefix + "_" + std::to_string(i) + ".pb");
          if (!llvm::sys::fs::exists(p))
            break;
          Tensor t = readPb(p);
          t.name = infos.Get(i).name();
          tensors.push_back(std::move(t));
        }
        return tensors;
      };
      dataSets.push_back({readAll("input", proto.graph().input()),
                          readAll("output", proto.graph().output())});
    }
    if (dataSets.empty())
      die(target + ": no test_data_set_* directories");
    feeds = dataSets.front().first;
  }
  // Inputs given as --input-value are constants of the compiled model.
  auto dropValued = [](std::vector<Tensor> &tensors) {
    llvm::erase_if(tensors, [](const Tensor &t) {
      return llvm::any_of(inputValues, [&](StringRef v) {
        return v.split(':').first.trim() == t.name;
      });
    });
  };
  dropValued(feeds);
  for (auto &set : dataSets)
    dropValued(set.first);
  llvm::SmallString<256> tmp;
  if (!inputValues.empty() && !isCase && !StringRef(target).ends_with(".onnx"))
    die("--input-value applies to models compiled on the fly (model.onnx "
        "or an ONNX test-case directory), not to an artifact");
  if (isCase || StringRef(target).ends_with(".onnx")) {
    if (llvm::sys::fs::createUniqueDirectory("quant-run", tmp))
      die("cannot create a temporary directory");
    compileOnTheFly(argv[0], isCase ? StringRef(modelInDir) : StringRef(target),
                    tmp, feeds);
    artifact = tmp.str().str();
  }
  lowbit_load_options loadOptions = loadOptionsFromEnvironment();
  lowbit_model *model = nullptr;
  char err[1024];
  if (lowbit_model_load_with_options(artifact.c_str(), &loadOptions, &model,
                                     err, sizeof err))
    die(err);
  bool ok = true;
  if (isCase) {
    for (size_t i = 0; i < dataSets.size(); ++i)
      ok &= runOnce(model, dataSets[i].first, dataSets[i].second,
                    "test_data_set_" + std::to_string(i));
  } else {
    ok = runOnce(model, feeds, expected, llvm::sys::path::filename(target));
  }
  lowbit_model_free(model);
  if (!tmp.empty())
    llvm::sys::fs::remove_directories(tmp);
  return ok ? 0 : 2;
}

//===- ShapeFolding.cpp - Folding shape subgraphs of a ModelProto -*- C++ -*-=//
//
// Exporters compute reshape targets, position ranges and masks at run time
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape). Once the input shapes
// are known (static in the model or given with --input-shape), these small
// integer computations are constants. This file evaluates them on the
// ModelProto, replacing each folded node by an initializer, and alternates
// with ONNX shape inference so that each round sees the static types the
// previous one made possible.
//
// Only small integer tensors are evaluated (at most kMaxElements elements,
// INT32/INT64/BOOL), with the int64 arithmetic ONNX specifies; everything
// else is left to the compiler.
//
//===----------------------------------------------------------------------===//

#include "ShapeFolding.h"
#include "ModelLoader.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <cstring>
#include <optional>

using namespace mlir::lowbit;

namespace {

constexpr int64_t kMaxElements = 1024;

/// A small integer tensor being folded.
struct IntTensor {
  llvm::SmallVector<int64_t> dims;
  std::vector<int64_t> values;
  int32_t dataType = ::onnx::TensorProto::INT64;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : dims)
      n *= d;
    return n;
  }
};

bool isFoldableType(int32_t t) {
  return t == ::onnx::TensorProto::INT64 || t == ::onnx::TensorProto::INT32 ||
         t == ::onnx::TensorProto::BOOL;
}

/// Reads a small, in-file integer initializer.
std::optional<IntTensor> readTensor(const ::onnx::TensorProto &t) {
  if (!isFoldableType(t.data_type()) ||
      t.data_location() == ::onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  IntTensor out;
  out.dataType = t.data_type();
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || (d > 0 && n > kMaxElements / d))
      return std::nullopt;
    n *= d;
    out.dims.push_back(d);
  }
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    size_t width = t.data_type() == ::onnx::TensorProto::INT64   ? 8
                   : t.data_type() == ::onnx::TensorProto::INT32 ? 4
                                                                 : 1;
    if (raw.size() != static_cast<size_t>(n) * width)
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = 0;
      if (width == 8)
        std::memcpy(&v, raw.data() + 8 * i, 8);
      else if (width == 4) {
        int32_t w;
        std::memcpy(&w, raw.data() + 4 * i, 4);
        v = w;
      } else {
        v = raw[i] != 0;
      }
      out.values.push_back(v);
    }
  } else if (t.data_type() == ::onnx::TensorProto::INT64) {
    out.values.assign(t.int64_data().begin(), t.int64_data().end());
  } else {
    out.values.assign(t.int32_data().begin(), t.int32_data().end());
  }
  if (static_cast<int64_t>(out.values.size()) != n)
    return std::nullopt;
  return out;
}

::onnx::TensorProto writeTensor(const IntTensor &t, const std::string &name) {
  ::onnx::TensorProto out;
  out.set_name(name);
  out.set_data_type(t.dataType);
  for (int64_t d : t.dims)
    out.add_dims(d);
  for (int64_t v : t.values) {
    if (t.dataType == ::onnx::TensorProto::INT64)
      out.add_int64_data(v);
    else
      out.add_int32_data(static_cast<int32_t>(v));
  }
  return out;
}

/// Row-major strides of `dims`.
llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> dims) {
  llvm::SmallVector<int64_t> s(dims.size(), 1);
  for (int64_t i = (int64_t)dims.size() - 2; i >= 0; --i)
    s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/// numpy broadcasting of `ops` with the scalar function `fn`.
std::optional<IntTensor>
broadcast(llvm::ArrayRef<const IntTensor *> ops, int32_t resultType,
          llvm::function_ref<int64_t(llvm::ArrayRef<int64_t>)> fn) {
  size_t rank = 0;
  for (const IntTensor *t : ops)
    rank = std::max(rank, t->dims.size());
  IntTensor out;
  out.dataType = resultType;
  out.dims.assign(rank, 1);
  for (const IntTensor *t : ops)
    for (size_t j = 0; j < t->dims.size(); ++j) {
      int64_t &d = out.dims[rank - t->dims.size() + j];
      int64_t in = t->dims[j];
      if (in != 1 && d != 1 && in != d)
        return std::nullopt;
      if (in != 1)
        d = in;
    }
  if (out.numel() > kMaxElements)
    return std::nullopt;
  llvm::SmallVector<int64_t> outStrides = stridesOf(out.dims);
  llvm::SmallVector<int64_t> args(ops.size());
  for (int64_t i = 0, n = out.numel(); i < n; ++i) {
    for (size_t k = 0; k < ops.size(); ++k) {
      const IntTensor *t = ops[k];
      llvm::SmallVector<int64_t> st = stridesOf(t->dims);
      int64_t off = 0;
      for (size_t j = 0; j < t->dims.size(); ++j) {
        size_t d = rank - t->dims.size() + j;
        int64_t idx = (i / outStrides[d]) % out.dims[d];
        off += (t->dims[j] == 1 ? 0 : idx) * st[j];
      }
      args[k] = t->values[off];
    }
    out.values.push_back(fn(args));
  }
  return out;
}

int64_t normAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

class ShapeFolder {
public:
  explicit ShapeFolder(::onnx::ModelProto &model)
      : graph(*model.mutable_graph()) {
    for (const auto &imp : model.opset_import())
      if (imp.domain().empty() || imp.domain() == "ai.onnx")
        opset = imp.version();
  }

  /// One round: folds every node whose inputs are known. Returns the number
  /// of nodes folded.
  int run(llvm::StringSet<> &folded);

private:
  void collect();
  std::optional<IntTensor> evaluate(const ::onnx::NodeProto &node);
  const IntTensor *input(const ::onnx::NodeProto &node, int i) const {
    if (i >= node.input_size() || node.input(i).empty())
      return nullptr;
    auto it = known.find(node.input(i));
    return it == known.end() ? nullptr : &it->second;
  }
  std::optional<int64_t> intAttr(const ::onnx::NodeProto &node,
                                 llvm::StringRef name) const {
    for (const auto &a : node.attribute())
      if (a.name() == name && a.type() == ::onnx::AttributeProto::INT)
        return a.i();
    return std::nullopt;
  }
  std::optional<std::vector<int64_t>> intsAttr(const ::onnx::NodeProto &node,
                                               llvm::StringRef name) const {
    for (const auto &a : node.attribute())
      if (a.name() == name && a.type() == ::onnx::AttributeProto::INTS)
        return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    return std::nullopt;
  }

  ::onnx::GraphProto &graph;
  int64_t opset = 0;
  llvm::StringMap<IntTensor> known; // value -> folded constant
  llvm::StringMap<llvm::SmallVector<int64_t>> staticShapes;
};

void ShapeFolder::collect() {
  known.clear();
  staticShapes.clear();
  for (const auto &t : graph.initializer())
    if (auto v = readTensor(t))
      known[t.name()] = *v;
  auto addShape = [&](const ::onnx::ValueInfoProto &info) {
    if (!info.type().has_tensor_type() ||
        !info.type().tensor_type().has_shape())
      return;
    llvm::SmallVector<int64_t> dims;
    for (const auto &d : info.type().tensor_type().shape().dim()) {
      if (!d.has_dim_value())
        return;
      dims.push_back(d.dim_value());
    }
    staticShapes[info.name()] = dims;
  };
  for (const auto &info : graph.input())
    addShape(info);
  for (const auto &info : graph.value_info())
    addShape(info);
  for (const auto &t : graph.initializer())
    staticShapes[t.name()] =
        llvm::SmallVector<int64_t>(t.dims().begin(), t.dims().end());
}

std::optional<IntTensor> ShapeFolder::evaluate(const ::onnx::NodeProto &node) {
  const std::string &op = node.op_type();
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return std::nullopt;
  if (node.output_size() != 1)
    return std::nullopt;
  if (op == "Constant") {
    for (const auto &a : node.attribute()) {
      if (a.name() == "value" && a.has_t())
        return readTensor(a.t());
      if (a.name() == "value_int")
        return IntTensor{{}, {a.i()}, ::onnx::TensorProto::INT64};
      if (a.name() == "value_ints" && a.ints_size() <= kMaxElements)
        return IntTensor{{a.ints_size()},
                         {a.ints().begin(), a.ints().end()},
                         ::onnx::TensorProto::INT64};
    }
    return std::nullopt;
  }
  if (op == "Shape") {
    auto it = node.input_size() ? staticShapes.find(node.input(0))
                                : staticShapes.end();
    if (it == staticShapes.end())
      return std::nullopt;
    int64_t rank = it->second.size();
    int64_t start = std::clamp(
        normAxis(intAttr(node, "start").value_or(0), rank), (int64_t)0, rank);
    int64_t end = std::clamp(
        normAxis(intAttr(node, "end").value_or(rank), rank), (int64_t)0, rank);
    IntTensor out;
    for (int64_t i = start; i < end; ++i)
      out.values.push_back(it->second[i]);
    out.dims = {(int64_t)out.values.size()};
    return out;
  }
  // Every other op needs all its (present) inputs known.
  for (int i = 0; i < node.input_size(); ++i)
    if (!node.input(i).empty() && !input(node, i))
      return std::nullopt;
  const IntTensor *a = input(node, 0);
  if (!a)
    return std::nullopt;
  if (op == "Identity")
    return *a;
  if (op == "Cast") {
    int64_t to = intAttr(node, "to").value_or(0);
    if (!isFoldableType(to))
      return std::nullopt;
    IntTensor out = *a;
    out.dataType = to;
    for (int64_t &v : out.values)
      v = to == ::onnx::TensorProto::BOOL    ? v != 0
          : to == ::onnx::TensorProto::INT32 ? (int64_t)(int32_t)v
                                             : v;
    return out;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    std::optional<std::vector<int64_t>> axes;
    if (opset >= 13) {
      if (const IntTensor *ax = input(node, 1))
        axes = ax->values;
    } else {
      axes = intsAttr(node, "axes");
    }
    IntTensor out = *a;
    if (op == "Unsqueeze") {
      if (!axes)
        return std::nullopt;
      int64_t rank = a->dims.size() + axes->size();
      llvm::SmallVector<bool> isNew(rank, false);
      for (int64_t ax : *axes) {
        ax = normAxis(ax, rank);
        if (ax < 0 || ax >= rank)
          return std::nullopt;
        isNew[ax] = true;
      }
      out.dims.clear();
      size_t next = 0;
      for (int64_t d = 0; d < rank; ++d)
        out.dims.push_back(isNew[d] ? 1 : a->dims[next++]);
    } else {
      int64_t rank = a->dims.size();
      llvm::SmallVector<bool> drop(rank, false);
      for (int64_t d = 0; d < rank; ++d)
        drop[d] = !axes && a->dims[d] == 1;
      if (axes)
        for (int64_t ax : *axes) {
          ax = normAxis(ax, rank);
          if (ax < 0 || ax >= rank || a->dims[ax] != 1)
            return std::nullopt;
          drop[ax] = true;
        }
      out.dims.clear();
      for (int64_t d = 0; d < rank; ++d)
        if (!drop[d])
          out.dims.push_back(a->dims[d]);
    }
    return out;
  }
  if (op == "Reshape") {
    const IntTensor *shape = input(node, 1);
    if (!shape)
      return std::nullopt;
    IntTensor out = *a;
    out.dims.clear();
    int64_t inferred = -1, product = 1;
    for (size_t i = 0; i < shape->values.size(); ++i) {
      int64_t d = shape->values[i];
      if (d == 0 && !intAttr(node, "allowzero").value_or(0))
        d = i < a->dims.size() ? a->dims[i] : -2;
      if (d == -1) {
        if (inferred >= 0)
          return std::nullopt;
        inferred = i;
      } else if (d < 0) {
        return std::nullopt;
      } else {
        product *= d;
      }
      out.dims.push_back(d);
    }
    if (inferred >= 0) {
      if (product == 0 || a->numel() % product)
        return std::nullopt;
      out.dims[inferred] = a->numel() / product;
    }
    if (out.numel() != a->numel())
      return std::nullopt;
    return out;
  }
  if (op == "Gather") {
    const IntTensor *idx = input(node, 1);
    int64_t rank = a->dims.size();
    int64_t axis = normAxis(intAttr(node, "axis").value_or(0), rank);
    if (!idx || axis < 0 || axis >= rank)
      return std::nullopt;
    IntTensor out;
    out.dataType = a->dataType;
    out.dims.append(a->dims.begin(), a->dims.begin() + axis);
    out.dims.append(idx->dims.begin(), idx->dims.end());
    out.dims.append(a->dims.begin() + axis + 1, a->dims.end());
    if (out.numel() > kMaxElements)
      return std::nullopt;
    int64_t outer = 1, inner = 1, n = a->dims[axis];
    for (int64_t d = 0; d < axis; ++d)
      outer *= a->dims[d];
    for (int64_t d = axis + 1; d < rank; ++d)
      inner *= a->dims[d];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t k : idx->values) {
        if (k < 0)
          k += n;
        if (k < 0 || k >= n)
          return std::nullopt;
        for (int64_t i = 0; i < inner; ++i)
          out.values.push_back(a->values[(o * n + k) * inner + i]);
      }
    return out;
  }
  if (op == "Concat") {
    int64_t rank = a->dims.size();
    int64_t axis = normAxis(intAttr(node, "axis").value_or(0), rank);
    if (axis < 0 || axis >= rank)
      return std::nullopt;
    IntTensor out = *a;
    out.dims[axis] = 0;
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= a->dims[d];
    llvm::SmallVector<const IntTensor *> parts;
    for (int i = 0; i < node.input_size(); ++i) {
      const IntTensor *p = input(node, i);
      if (!p || (int64_t)p->dims.size() != rank)
        return std::nullopt;
      parts.push_back(p);
      out.dims[axis] += p->dims[axis];
    }
    out.values.clear();
    for (int64_t o = 0; o < outer; ++o)
      for (const IntTensor *p : parts) {
        int64_t chunk = p->numel() / std::max<int64_t>(outer, 1);
        out.values.insert(out.values.end(), p->values.begin() + o * chunk,
                          p->values.begin() + (o + 1) * chunk);
      }
    return out;
  }
  if (op == "Slice" && opset >= 10 && a->dims.size() == 1) {
    const IntTensor *starts = input(node, 1), *ends = input(node, 2);
    const IntTensor *axes = input(node, 3), *steps = input(node, 4);
    if (!starts || !ends || starts->values.size() != 1 ||
        ends->values.size() != 1 ||
        (axes && axes->values != std::vector<int64_t>{0} &&
         axes->values != std::vector<int64_t>{-1}))
      return std::nullopt;
    int64_t n = a->dims[0], step = steps ? steps->values.at(0) : 1;
    if (step == 0)
      return std::nullopt;
    auto clampIdx = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0)
        v += n;
      return std::clamp(v, lo, hi);
    };
    int64_t s = step > 0 ? clampIdx(starts->values[0], 0, n)
                         : clampIdx(starts->values[0], -1, n - 1);
    int64_t e = step > 0 ? clampIdx(ends->values[0], 0, n)
                         : clampIdx(ends->values[0], -1, n - 1);
    if (step < 0 && ends->values[0] < -n)
      e = -1;
    IntTensor out;
    out.dataType = a->dataType;
    for (int64_t i = s; step > 0 ? i < e : i > e; i += step)
      out.values.push_back(a->values[i]);
    out.dims = {(int64_t)out.values.size()};
    return out;
  }
  if (op == "Range") {
    const IntTensor *limit = input(node, 1), *delta = input(node, 2);
    if (!limit || !delta || a->values.size() != 1 ||
        limit->values.size() != 1 || delta->values.size() != 1 ||
        delta->values[0] == 0)
      return std::nullopt;
    int64_t start = a->values[0], stop = limit->values[0],
            step = delta->values[0];
    int64_t count = std::max<int64_t>(
        0, (stop - start + step + (step > 0 ? -1 : 1)) / step);
    if (count > kMaxElements)
      return std::nullopt;
    IntTensor out;
    out.dataType = a->dataType;
    for (int64_t i = 0; i < count; ++i)
      out.values.push_back(start + i * step);
    out.dims = {count};
    return out;
  }
  // Elementwise integer arithmetic and comparisons with broadcasting.
  llvm::SmallVector<const IntTensor *> ops;
  for (int i = 0; i < node.input_size(); ++i)
    ops.push_back(input(node, i));
  auto bin = [&](auto fn, int32_t type) -> std::optional<IntTensor> {
    if (ops.size() != 2 || ops[0]->dataType == ::onnx::TensorProto::BOOL)
      return std::nullopt;
    return broadcast(ops, type,
                     [&](llvm::ArrayRef<int64_t> v) { return fn(v[0], v[1]); });
  };
  int32_t t = a->dataType;
  constexpr int32_t kBool = ::onnx::TensorProto::BOOL;
  if (op == "Add")
    return bin([](int64_t x, int64_t y) { return x + y; }, t);
  if (op == "Sub")
    return bin([](int64_t x, int64_t y) { return x - y; }, t);
  if (op == "Mul")
    return bin([](int64_t x, int64_t y) { return x * y; }, t);
  if (op == "Div") {
    if (llvm::is_contained(ops[1]->values, 0))
      return std::nullopt;
    return bin([](int64_t x, int64_t y) { return x / y; }, t);
  }
  if (op == "Max")
    return bin([](int64_t x, int64_t y) { return std::max(x, y); }, t);
  if (op == "Min")
    return bin([](int64_t x, int64_t y) { return std::min(x, y); }, t);
  if (op == "Equal")
    return bin([](int64_t x, int64_t y) -> int64_t { return x == y; }, kBool);
  if (op == "Less")
    return bin([](int64_t x, int64_t y) -> int64_t { return x < y; }, kBool);
  if (op == "Greater")
    return bin([](int64_t x, int64_t y) -> int64_t { return x > y; }, kBool);
  if (op == "Where" && ops.size() == 3 && ops[0]->dataType == kBool)
    return broadcast(ops, ops[1]->dataType, [](llvm::ArrayRef<int64_t> v) {
      return v[0] ? v[1] : v[2];
    });
  if (op == "Not" && t == kBool) {
    IntTensor out = *a;
    for (int64_t &v : out.values)
      v = !v;
    return out;
  }
  return std::nullopt;
}

int ShapeFolder::run(llvm::StringSet<> &foldedNames) {
  collect();
  int folded = 0;
  auto *nodes = graph.mutable_node();
  // Graph outputs must stay produced by a node or be initializers; folding
  // one into an initializer is fine for ONNX, and the importer returns it.
  for (int i = 0; i < nodes->size();) {
    const ::onnx::NodeProto &node = nodes->Get(i);
    std::optional<IntTensor> value = evaluate(node);
    if (!value || value->numel() > kMaxElements) {
      ++i;
      continue;
    }
    const std::string &name = node.output(0);
    *graph.add_initializer() = writeTensor(*value, name);
    known[name] = *value;
    staticShapes[name] = value->dims;
    foldedNames.insert(name);
    nodes->DeleteSubrange(i, 1);
    ++folded;
  }
  return folded;
}

} // namespace

int mlir::lowbit::foldShapeSubgraphs(::onnx::ModelProto &model,
                                     std::string &warning) {
  int total = 0;
  llvm::StringSet<> folded;
  for (int round = 0; round < 16; ++round) {
    int count = ShapeFolder(model).run(folded);
    total += count;
    if (!count)
      break;
    // Refine the types downstream of what was folded: infer afresh, then
    // restore the model's own value_info for what inference cannot type.
    ::onnx::GraphProto *graph = model.mutable_graph();
    google::protobuf::RepeatedPtrField<::onnx::ValueInfoProto> old;
    old.Swap(graph->mutable_value_info());
    inferModelShapes(model, warning);
    llvm::StringSet<> typed;
    for (const auto &info : graph->value_info())
      typed.insert(info.name());
    for (auto &info : old)
      if (!typed.contains(info.name()))
        *graph->add_value_info() = std::move(info);
    if (!warning.empty())
      break;
  }
  if (!total)
    return 0;
  // Drop the intermediate results folding left unused (the model's own
  // initializers stay, used or not).
  ::onnx::GraphProto *graph = model.mutable_graph();
  llvm::StringSet<> used;
  for (const auto &node : graph->node())
    for (const std::string &in : node.input())
      used.insert(in);
  for (const auto &out : graph->output())
    used.insert(out.name());
  auto *inits = graph->mutable_initializer();
  for (int i = inits->size() - 1; i >= 0; --i)
    if (folded.contains(inits->Get(i).name()) &&
        !used.contains(inits->Get(i).name()))
      inits->DeleteSubrange(i, 1);
  return total;
}

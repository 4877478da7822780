//===- ModelLoader.cpp - Parsing ModelProto safely --------------*- C++ -*-===//
//
// Protobuf parsing with a 2 GiB limit and libonnx shape inference, with
// every exception caught here (this file is built with -fexceptions).
//
//===----------------------------------------------------------------------===//

#include "ModelLoader.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <climits>
#include <exception>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

using namespace mlir::lowbit;

/// Some exporters (paddle2onnx) write a dynamic dimension as dim_value -1:
/// it becomes a dimension without value, as the ONNX spec spells dynamic
/// ones, so that shape inference and --input-shape treat it as such.
static void clearNegativeDims(::onnx::GraphProto &graph) {
  auto clear = [](::onnx::ValueInfoProto &info) {
    if (!info.type().has_tensor_type() ||
        !info.type().tensor_type().has_shape())
      return;
    for (auto &dim : *info.mutable_type()
                          ->mutable_tensor_type()
                          ->mutable_shape()
                          ->mutable_dim())
      if (dim.has_dim_value() && dim.dim_value() < 0)
        dim.clear_dim_value();
  };
  for (auto &info : *graph.mutable_input())
    clear(info);
  for (auto &info : *graph.mutable_output())
    clear(info);
  for (auto &info : *graph.mutable_value_info())
    clear(info);
}

std::unique_ptr<::onnx::ModelProto>
mlir::lowbit::parseModelProto(llvm::StringRef bytes, std::string &error) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    error = "file is larger than 2 GiB; models that large keep their weights "
            "in external data files";
    return nullptr;
  }
  try {
    auto model = std::make_unique<::onnx::ModelProto>();
    google::protobuf::io::CodedInputStream stream(
        reinterpret_cast<const uint8_t *>(bytes.data()),
        static_cast<int>(bytes.size()));
    stream.SetTotalBytesLimit(INT_MAX);
    if (!model->ParseFromCodedStream(&stream) ||
        !stream.ConsumedEntireMessage()) {
      error = "not a valid ONNX protobuf (truncated or corrupt)";
      return nullptr;
    }
    if (!model->has_graph()) {
      error = "the model has no graph";
      return nullptr;
    }
    clearNegativeDims(*model->mutable_graph());
    return model;
  } catch (const std::exception &e) {
    error = std::string("protobuf parsing failed: ") + e.what();
  } catch (...) {
    error = "protobuf parsing failed";
  }
  return nullptr;
}

/// Replaces the data of large initializers by nothing (dims and type stay):
/// shape inference needs the data only of small shape tensors, and copying
/// weights would double the importer's memory.
static ::onnx::TensorProto stripData(const ::onnx::TensorProto &tensor) {
  constexpr int64_t kKeepElements = 1024;
  // Counted without overflow (found by the fuzzer): stop once past the limit.
  int64_t numel = 1;
  bool small = true;
  for (int64_t d : tensor.dims()) {
    if (d < 0 || (d > 0 && numel > kKeepElements / d)) {
      small = false;
      break;
    }
    numel *= d;
  }
  bool external = tensor.data_location() == ::onnx::TensorProto::EXTERNAL;
  if (small && !external)
    return tensor;
  ::onnx::TensorProto stripped;
  stripped.set_name(tensor.name());
  stripped.set_data_type(tensor.data_type());
  *stripped.mutable_dims() = tensor.dims();
  return stripped;
}

/// Why a node of `graph` or of its subgraphs fails its schema's own check
/// (empty if none does) (input and output counts, no empty name for a required
/// input, attribute types). ONNX's inference functions assume it: a required
/// input left empty ("") has no type, and some of them dereference it (found by
/// the fuzzer, in libonnx).
static std::string
schemaMismatch(const ::onnx::GraphProto &graph,
               const std::unordered_map<std::string, int> &opsets) {
  for (const ::onnx::NodeProto &node : graph.node()) {
    for (const ::onnx::AttributeProto &attr : node.attribute()) {
      std::string why;
      if (attr.has_g())
        why = schemaMismatch(attr.g(), opsets);
      for (const ::onnx::GraphProto &sub : attr.graphs())
        if (why.empty())
          why = schemaMismatch(sub, opsets);
      if (!why.empty())
        return why;
    }
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto version = opsets.find(domain);
    if (version == opsets.end())
      continue;
    const ::onnx::OpSchema *schema = ::onnx::OpSchemaRegistry::Schema(
        node.op_type(), version->second, domain);
    if (!schema)
      continue;
    try {
      schema->Verify(node);
    } catch (const std::exception &e) {
      return "node '" + node.name() + "' (" + node.op_type() +
             ") does not match its schema: " + e.what();
    } catch (...) {
      return "node '" + node.name() + "' (" + node.op_type() +
             ") does not match its schema";
    }
  }
  return {};
}

void mlir::lowbit::inferModelShapes(::onnx::ModelProto &model,
                                    std::string &warning) {
  registerContribSchemas();
  ::onnx::GraphProto *graph = model.mutable_graph();
  // ONNX's inference functions assume a well-formed graph: with data
  // propagation, a Shape node reading a name nothing defines dereferences a
  // null type inside libonnx (found by the fuzzer). Such graphs skip
  // inference; the importer then names every dangling input. Likewise a
  // graph input without a type or element type (the importer refuses it).
  std::unordered_set<std::string> defined;
  for (const auto &input : graph->input()) {
    const ::onnx::TypeProto &type = input.type();
    if (type.value_case() == ::onnx::TypeProto::VALUE_NOT_SET ||
        (type.has_tensor_type() && !type.tensor_type().elem_type()))
      return;
    defined.insert(input.name());
  }
  for (const auto &tensor : graph->initializer())
    defined.insert(tensor.name());
  for (const auto &node : graph->node())
    defined.insert(node.output().begin(), node.output().end());
  for (const auto &node : graph->node())
    for (const std::string &in : node.input())
      if (!in.empty() && !defined.count(in))
        return;
  std::unordered_map<std::string, int> opsets;
  for (const auto &imp : model.opset_import())
    opsets[imp.domain() == "ai.onnx" ? "" : imp.domain()] =
        static_cast<int>(imp.version());
  warning = schemaMismatch(*graph, opsets);
  if (!warning.empty())
    return;
  google::protobuf::RepeatedPtrField<::onnx::TensorProto> weights;
  weights.Swap(graph->mutable_initializer());
  for (const ::onnx::TensorProto &tensor : weights)
    *graph->add_initializer() = stripData(tensor);
  try {
    ::onnx::ShapeInferenceOptions options(/*check_type_val=*/false,
                                          /*strict_mode_val=*/0,
                                          /*data_prop_val=*/true);
    ::onnx::shape_inference::InferShapes(
        model, ::onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception &e) {
    warning = e.what();
  } catch (...) {
    warning = "ONNX shape inference failed";
  }
  graph->mutable_initializer()->Swap(&weights);
}

/// Drops the intermediate and output shapes of `graph` so that shape
/// inference (with data propagation through Shape/Gather/Concat) recomputes
/// them from inputs that were specialised or made constant.
static void dropInferredShapes(::onnx::GraphProto &graph) {
  graph.clear_value_info();
  for (auto &output : *graph.mutable_output())
    if (output.type().has_tensor_type())
      output.mutable_type()->mutable_tensor_type()->clear_shape();
}

std::string mlir::lowbit::specializeInputShapes(
    ::onnx::ModelProto &model,
    const llvm::StringMap<llvm::SmallVector<int64_t>> &shapes) {
  ::onnx::GraphProto *graph = model.mutable_graph();
  bool changed = false;
  for (const auto &entry : shapes) {
    ::onnx::ValueInfoProto *input = nullptr;
    for (auto &in : *graph->mutable_input())
      if (in.name() == entry.getKey())
        input = &in;
    if (!input || !input->type().has_tensor_type())
      return "--input-shape names '" + entry.getKey().str() +
             "', which is not a graph input";
    // Only dynamic dimensions may be set: a static one that differs is a
    // mistake (the exporter traced the graph for it), not an override.
    if (input->type().tensor_type().has_shape()) {
      const auto &have = input->type().tensor_type().shape();
      auto describe = [&] {
        std::string s = "[";
        for (int i = 0; i < have.dim_size(); ++i)
          s += (i ? ", " : "") + (have.dim(i).has_dim_value()
                                      ? std::to_string(have.dim(i).dim_value())
                                      : "?");
        return s + "]";
      };
      std::string given;
      for (int64_t d : entry.getValue())
        given += (given.empty() ? "" : "x") + std::to_string(d);
      if (have.dim_size() != (int)entry.getValue().size())
        return "--input-shape " + entry.getKey().str() + ":" + given +
               " has rank " + std::to_string(entry.getValue().size()) +
               ", the model's input '" + entry.getKey().str() + "' " +
               describe() + " has rank " + std::to_string(have.dim_size());
      for (int i = 0; i < have.dim_size(); ++i)
        if (have.dim(i).has_dim_value() &&
            have.dim(i).dim_value() != entry.getValue()[i])
          return "--input-shape " + entry.getKey().str() + ":" + given +
                 " conflicts with the model's input '" + entry.getKey().str() +
                 "' " + describe() + ": dimension " + std::to_string(i) +
                 " is static (" + std::to_string(have.dim(i).dim_value()) +
                 "); only dynamic dimensions (?) can be set";
    }
    auto *shape = input->mutable_type()->mutable_tensor_type()->mutable_shape();
    bool same = input->type().tensor_type().has_shape() &&
                shape->dim_size() == (int)entry.getValue().size();
    for (int i = 0; same && i < shape->dim_size(); ++i)
      same = shape->dim(i).has_dim_value() &&
             shape->dim(i).dim_value() == entry.getValue()[i];
    if (same)
      continue;
    changed = true;
    shape->clear_dim();
    for (int64_t d : entry.getValue())
      shape->add_dim()->set_dim_value(d);
  }
  // Shapes the model already has: its value_info stays valid. Otherwise the
  // exporter's were computed for the dynamic inputs.
  if (changed)
    dropInferredShapes(*graph);
  return "";
}

std::string mlir::lowbit::checkNodeArity(const ::onnx::NodeProto &node,
                                         llvm::StringRef domain,
                                         int64_t opset) {
  registerContribSchemas();
  const auto &ranges =
      ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto range = ranges.find(domain.str());
  if (range == ranges.end() || opset > range->second.second)
    return "";
  const ::onnx::OpSchema *schema = ::onnx::OpSchemaRegistry::Schema(
      node.op_type(), static_cast<int>(opset), domain.str());
  if (!schema)
    return "";
  auto count = [](int n, const char *what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  if (node.input_size() < schema->min_input())
    return " has " + count(node.input_size(), "input") + "; opset " +
           std::to_string(opset) + " requires at least " +
           std::to_string(schema->min_input());
  if (node.output_size() < schema->min_output())
    return " has " + count(node.output_size(), "output") + "; opset " +
           std::to_string(opset) + " requires at least " +
           std::to_string(schema->min_output());
  return "";
}

namespace {

/// Appends `text` to `tensor` as its element type; "" or why not.
std::string appendValue(::onnx::TensorProto &tensor, llvm::StringRef text) {
  using TP = ::onnx::TensorProto;
  text = text.trim();
  // Signed types parse as int64_t, unsigned ones as uint64_t; `add` stores.
  auto integer = [&](auto lo, auto hi, auto add) -> std::string {
    decltype(hi) v;
    if (text.getAsInteger(10, v))
      return "'" + text.str() + "' is not " +
             (std::is_signed_v<decltype(v)> ? "an" : "a non-negative") +
             " integer";
    if (v < lo || v > hi)
      return "'" + text.str() + "' is out of range";
    add(v);
    return "";
  };
  auto toInt32 = [&](auto v) { tensor.add_int32_data(int32_t(v)); };
  auto toUInt64 = [&](uint64_t v) { tensor.add_uint64_data(v); };
  switch (tensor.data_type()) {
  case TP::FLOAT:
  case TP::DOUBLE: {
    double v;
    if (text.getAsDouble(v))
      return "'" + text.str() + "' is not a number";
    if (tensor.data_type() == TP::FLOAT)
      tensor.add_float_data(static_cast<float>(v));
    else
      tensor.add_double_data(v);
    return "";
  }
  case TP::BOOL:
    if (text == "true" || text == "1")
      tensor.add_int32_data(1);
    else if (text == "false" || text == "0")
      tensor.add_int32_data(0);
    else
      return "'" + text.str() + "' is not a bool (0, 1, true, false)";
    return "";
  case TP::INT8:
    return integer(int64_t(INT8_MIN), int64_t(INT8_MAX), toInt32);
  case TP::INT16:
    return integer(int64_t(INT16_MIN), int64_t(INT16_MAX), toInt32);
  case TP::INT32:
    return integer(int64_t(INT32_MIN), int64_t(INT32_MAX), toInt32);
  case TP::UINT8:
    return integer(uint64_t(0), uint64_t(UINT8_MAX), toInt32);
  case TP::UINT16:
    return integer(uint64_t(0), uint64_t(UINT16_MAX), toInt32);
  case TP::INT64:
    return integer(int64_t(INT64_MIN), int64_t(INT64_MAX),
                   [&](int64_t v) { tensor.add_int64_data(v); });
  case TP::UINT32:
    return integer(uint64_t(0), uint64_t(UINT32_MAX), toUInt64);
  case TP::UINT64:
    return integer(uint64_t(0), uint64_t(UINT64_MAX), toUInt64);
  default:
    return "its element type (ONNX type " + std::to_string(tensor.data_type()) +
           ") cannot be given as text; give a numeric or bool input";
  }
}

} // namespace

std::string mlir::lowbit::specializeInputValues(
    ::onnx::ModelProto &model,
    const llvm::StringMap<llvm::SmallVector<std::string>> &values) {
  ::onnx::GraphProto *graph = model.mutable_graph();
  bool changed = false;
  for (const auto &entry : values) {
    std::string flag = "--input-value " + entry.getKey().str();
    int index = -1;
    for (int i = 0; i < graph->input_size(); ++i)
      if (graph->input(i).name() == entry.getKey())
        index = i;
    if (index < 0 || !graph->input(index).type().has_tensor_type())
      return "--input-value names '" + entry.getKey().str() +
             "', which is not a tensor graph input";
    const ::onnx::TypeProto::Tensor &type =
        graph->input(index).type().tensor_type();
    const llvm::SmallVector<std::string> &texts = entry.getValue();
    // The shape: the input's when static, else 1-D (or rank 0) of the count.
    std::vector<int64_t> dims;
    if (type.has_shape()) {
      bool isStatic = true;
      int64_t count = 1;
      for (const auto &dim : type.shape().dim()) {
        isStatic &= dim.has_dim_value();
        count *= dim.has_dim_value() ? dim.dim_value() : 1;
        dims.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
      }
      if (!isStatic && type.shape().dim_size() != 1)
        return flag + ": the input has rank " +
               std::to_string(type.shape().dim_size()) +
               " with dynamic dimensions; give its shape with --input-shape";
      if (!isStatic)
        dims = {static_cast<int64_t>(texts.size())};
      else if (count != static_cast<int64_t>(texts.size()))
        return flag + ": " + std::to_string(texts.size()) +
               " value(s) for an input of " + std::to_string(count) +
               " element(s)";
    } else {
      dims = {static_cast<int64_t>(texts.size())};
    }
    ::onnx::TensorProto tensor;
    tensor.set_name(entry.getKey().str());
    tensor.set_data_type(type.elem_type());
    for (int64_t d : dims)
      tensor.add_dims(d);
    for (const std::string &text : texts)
      if (std::string why = appendValue(tensor, text); !why.empty())
        return flag + ": " + why;
    // The input goes; an initializer of the same name (a default) is
    // replaced.
    graph->mutable_input()->DeleteSubrange(index, 1);
    bool replaced = false;
    for (auto &init : *graph->mutable_initializer())
      if (init.name() == entry.getKey()) {
        init = tensor;
        replaced = true;
      }
    if (!replaced)
      *graph->add_initializer() = std::move(tensor);
    changed = true;
  }
  // Shapes computed for the run-time values are stale.
  if (changed)
    dropInferredShapes(*graph);
  return "";
}

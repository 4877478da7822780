//===- GraphImporter.cpp - ONNX graphs to onnx.node ops ---------*- C++ -*-===//
//
// Builds the imported function: graph inputs as arguments, initializers as
// constants, nodes (in dependency order) as onnx.node, outputs returned.
// Structural errors (dangling inputs, cycles, untyped values, bad
// attributes) are collected and reported with the file and node names.
//
//===----------------------------------------------------------------------===//

#include "ModelLoader.h"
#include "TensorImport.h"
#include "lowbit/Dialect/ONNX/IR/ONNXOps.h"
#include "lowbit/Import/ONNX/Importer.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

#include <deque>

using namespace mlir;
using namespace mlir::lowbit;
namespace onnxir = mlir::lowbit::onnx;

namespace {

/// Describes node `n` for diagnostics: "node 'fc1' (Gemm)".
std::string describe(const ::onnx::NodeProto &node, int index) {
  std::string name = node.name().empty() ? "#" + std::to_string(index)
                                         : "'" + node.name() + "'";
  return "node " + name + " (" + node.op_type() + ")";
}

class GraphImporter {
public:
  GraphImporter(MLIRContext *ctx, ::onnx::ModelProto &model,
                StringRef modelPath, const ONNXImportOptions &options)
      : ctx(ctx), model(model), graph(*model.mutable_graph()),
        modelPath(modelPath), options(options),
        fileLoc(FileLineColLoc::get(ctx, modelPath, 0, 0)) {}

  FailureOr<OwningOpRef<ModuleOp>> run();

private:
  InFlightDiagnostic error() { return emitError(fileLoc); }
  LogicalResult collectOpsets();
  LogicalResult collectTypes();
  FailureOr<SmallVector<int>> sortNodes();
  FailureOr<NamedAttribute> importAttribute(const ::onnx::AttributeProto &attr,
                                            const ::onnx::NodeProto &node,
                                            int index);
  Type typeOf(StringRef name) const { return types.lookup(name); }

  MLIRContext *ctx;
  ::onnx::ModelProto &model;
  ::onnx::GraphProto &graph;
  StringRef modelPath;
  const ONNXImportOptions &options;
  Location fileLoc;
  llvm::StringMap<int64_t> opsets; // domain -> version
  llvm::StringMap<Type> types;     // value name -> type
  llvm::StringSet<> initializerNames;
};

LogicalResult GraphImporter::collectOpsets() {
  for (const auto &imp : model.opset_import()) {
    std::string domain = imp.domain() == "ai.onnx" ? "" : imp.domain();
    opsets[domain] = imp.version();
  }
  if (!opsets.count(""))
    return error() << "the model imports no default ONNX opset";
  return success();
}

LogicalResult GraphImporter::collectTypes() {
  auto add = [&](const ::onnx::ValueInfoProto &info,
                 StringRef what) -> LogicalResult {
    if (!info.has_type())
      return success();
    llvm::Expected<Type> type = getValueType(ctx, info.type());
    if (!type)
      return error() << what << " '" << info.name()
                     << "': " << llvm::toString(type.takeError());
    types[info.name()] = *type;
    return success();
  };
  for (const auto &info : graph.value_info())
    if (failed(add(info, "value")))
      return failure();
  for (const auto &info : graph.output())
    if (failed(add(info, "graph output")))
      return failure();
  for (const auto &info : graph.input())
    if (failed(add(info, "graph input")))
      return failure();
  for (const auto &tensor : graph.initializer()) {
    llvm::Expected<Type> elem = getElementType(ctx, tensor.data_type());
    if (!elem)
      return error() << "initializer '" << tensor.name()
                     << "': " << llvm::toString(elem.takeError());
    SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
    if (llvm::any_of(dims, [](int64_t d) { return d < 0; }))
      return error() << "initializer '" << tensor.name()
                     << "' has a negative dimension";
    types[tensor.name()] = RankedTensorType::get(dims, *elem);
    initializerNames.insert(tensor.name());
  }
  // --input-shape overrides.
  for (const auto &entry : options.inputShapes) {
    auto it = types.find(entry.getKey());
    if (it == types.end() || !isa<ShapedType>(it->second))
      return error() << "--input-shape names '" << entry.getKey()
                     << "', which is not a graph input";
    types[entry.getKey()] = RankedTensorType::get(
        entry.getValue(), cast<ShapedType>(it->second).getElementType());
  }
  return success();
}

FailureOr<SmallVector<int>> GraphImporter::sortNodes() {
  int numNodes = graph.node_size();
  llvm::StringMap<int> producer;
  llvm::StringSet<> sources(initializerNames);
  for (const auto &input : graph.input())
    sources.insert(input.name());
  for (int i = 0; i < numNodes; ++i)
    for (const std::string &out : graph.node(i).output()) {
      if (out.empty())
        continue;
      if (sources.contains(out) || !producer.try_emplace(out, i).second)
        return error() << describe(graph.node(i), i) << " writes '" << out
                       << "', which is already defined";
    }
  // Kahn's algorithm; remembers dangling inputs to report them all at once.
  SmallVector<int> indegree(numNodes, 0);
  SmallVector<SmallVector<int>> users(numNodes);
  std::string dangling;
  int numDangling = 0;
  for (int i = 0; i < numNodes; ++i)
    for (const std::string &in : graph.node(i).input()) {
      if (in.empty() || sources.contains(in))
        continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        if (numDangling++ < 10)
          dangling +=
              "\n  " + describe(graph.node(i), i) + " reads '" + in + "'";
        continue;
      }
      ++indegree[i];
      users[it->second].push_back(i);
    }
  if (numDangling)
    return error() << numDangling
                   << " node input(s) that no node, graph input or "
                      "initializer defines:"
                   << dangling;
  std::deque<int> ready;
  for (int i = 0; i < numNodes; ++i)
    if (indegree[i] == 0)
      ready.push_back(i);
  SmallVector<int> order;
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (int u : users[i])
      if (--indegree[u] == 0)
        ready.push_back(u);
  }
  if (static_cast<int>(order.size()) != numNodes) {
    std::string cycle;
    int shown = 0;
    for (int i = 0; i < numNodes && shown < 10; ++i)
      if (indegree[i] > 0) {
        cycle += (shown++ ? ", " : "") + describe(graph.node(i), i);
      }
    return error() << "the graph has a cycle through "
                   << numNodes - order.size() << " node(s): " << cycle;
  }
  for (const auto &out : graph.output())
    if (!sources.contains(out.name()) && !producer.count(out.name()))
      return error() << "graph output '" << out.name()
                     << "' is not produced by any node";
  return order;
}

FailureOr<NamedAttribute>
GraphImporter::importAttribute(const ::onnx::AttributeProto &attr,
                               const ::onnx::NodeProto &node, int index) {
  Builder b(ctx);
  auto fail = [&](const std::string &why) {
    return error() << describe(node, index) << " attribute '" << attr.name()
                   << "': " << why;
  };
  Attribute value;
  switch (attr.type()) {
  case ::onnx::AttributeProto::FLOAT:
    value = b.getF32FloatAttr(attr.f());
    break;
  case ::onnx::AttributeProto::INT:
    value = b.getI64IntegerAttr(attr.i());
    break;
  case ::onnx::AttributeProto::STRING:
    value = b.getStringAttr(attr.s());
    break;
  case ::onnx::AttributeProto::FLOATS:
    value = b.getDenseF32ArrayAttr(
        SmallVector<float>(attr.floats().begin(), attr.floats().end()));
    break;
  case ::onnx::AttributeProto::INTS:
    value = b.getDenseI64ArrayAttr(
        SmallVector<int64_t>(attr.ints().begin(), attr.ints().end()));
    break;
  case ::onnx::AttributeProto::STRINGS: {
    SmallVector<Attribute> strings;
    for (const std::string &s : attr.strings())
      strings.push_back(b.getStringAttr(s));
    value = b.getArrayAttr(strings);
    break;
  }
  case ::onnx::AttributeProto::TENSOR: {
    ::onnx::TensorProto tensor = attr.t();
    if (tensor.name().empty())
      tensor.set_name(node.name() + "." + attr.name());
    llvm::Expected<ElementsAttr> data =
        importTensor(ctx, tensor, llvm::sys::path::parent_path(modelPath),
                     options.inlineElementLimit);
    if (!data)
      return fail(llvm::toString(data.takeError()));
    value = *data;
    break;
  }
  case ::onnx::AttributeProto::GRAPH:
  case ::onnx::AttributeProto::GRAPHS:
    return fail("subgraphs (If, Loop, Scan) are not supported");
  default:
    return fail("attribute kind " + std::to_string(attr.type()) +
                " is not supported");
  }
  return NamedAttribute(b.getStringAttr(attr.name()), value);
}

FailureOr<OwningOpRef<ModuleOp>> GraphImporter::run() {
  if (failed(collectOpsets()) || failed(collectTypes()))
    return failure();
  FailureOr<SmallVector<int>> order = sortNodes();
  if (failed(order))
    return failure();

  // Every node output must be typed (by the model or shape inference).
  std::string untyped;
  int numUntyped = 0;
  for (int i : *order)
    for (const std::string &out : graph.node(i).output())
      if (!out.empty() && !typeOf(out) && numUntyped++ < 10)
        untyped += "\n  '" + out + "' of " + describe(graph.node(i), i);
  if (numUntyped)
    return error() << numUntyped
                   << " value(s) have no type (the model has no value_info "
                      "for them and shape inference could not infer them):"
                   << untyped;

  OpBuilder b(ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  b.setInsertionPointToEnd(module->getBody());
  SmallVector<Type> argTypes, resultTypes;
  SmallVector<const ::onnx::ValueInfoProto *> args;
  for (const auto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    Type type = typeOf(input.name());
    if (!type)
      return error() << "graph input '" << input.name() << "' has no type";
    argTypes.push_back(type);
    args.push_back(&input);
  }
  for (const auto &output : graph.output()) {
    Type type = typeOf(output.name());
    if (!type)
      return error() << "graph output '" << output.name() << "' has no type";
    resultTypes.push_back(type);
  }
  auto func = func::FuncOp::create(b, fileLoc, options.functionName,
                                   b.getFunctionType(argTypes, resultTypes));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  llvm::StringMap<Value> values;
  for (auto [arg, info] : llvm::zip_equal(entry->getArguments(), args)) {
    values[info->name()] = arg;
    func.setArgAttr(arg.getArgNumber(), "onnx.name",
                    b.getStringAttr(info->name()));
  }
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "onnx.name", b.getStringAttr(output.name()));

  StringRef modelDir = llvm::sys::path::parent_path(modelPath);
  for (::onnx::TensorProto &tensor : *graph.mutable_initializer()) {
    llvm::Expected<ElementsAttr> data =
        importTensor(ctx, tensor, modelDir, options.inlineElementLimit);
    if (!data)
      return error() << "initializer '" << tensor.name() << "' "
                     << llvm::toString(data.takeError());
    Location loc = NameLoc::get(b.getStringAttr(tensor.name()), fileLoc);
    values[tensor.name()] = arith::ConstantOp::create(b, loc, *data);
  }

  Value none;
  for (int i : *order) {
    const ::onnx::NodeProto &node = graph.node(i);
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    auto opset = opsets.find(domain);
    if (opset == opsets.end())
      return error() << describe(node, i) << " uses domain '" << domain
                     << "', which the model does not import";
    if (std::string why = checkNodeArity(node, domain, opset->second);
        !why.empty())
      return error() << describe(node, i) << why;
    SmallVector<Value> inputs;
    for (const std::string &in : node.input()) {
      if (in.empty()) {
        if (!none)
          none = onnxir::NoneOp::create(b, fileLoc, b.getNoneType());
        inputs.push_back(none);
        continue;
      }
      inputs.push_back(values.lookup(in));
    }
    SmallVector<NamedAttribute> attrs;
    for (const auto &attr : node.attribute()) {
      FailureOr<NamedAttribute> named = importAttribute(attr, node, i);
      if (failed(named))
        return failure();
      attrs.push_back(*named);
    }
    SmallVector<Type> outTypes;
    for (const std::string &out : node.output())
      outTypes.push_back(out.empty() ? b.getNoneType() : typeOf(out));
    std::string name =
        node.name().empty() ? "#" + std::to_string(i) : node.name();
    Location loc = NameLoc::get(b.getStringAttr(name), fileLoc);
    auto op = onnxir::NodeOp::create(
        b, loc, outTypes, inputs, b.getStringAttr(node.op_type()),
        b.getStringAttr(domain), b.getI64IntegerAttr(opset->second),
        b.getStringAttr(node.name()), b.getDictionaryAttr(attrs));
    for (auto [out, result] : llvm::zip_equal(node.output(), op.getResults()))
      if (!out.empty())
        values[out] = result;
  }
  SmallVector<Value> results;
  for (const auto &output : graph.output())
    results.push_back(values.lookup(output.name()));
  func::ReturnOp::create(b, fileLoc, results);
  if (failed(verify(*module)))
    return failure();
  return module;
}

} // namespace

FailureOr<OwningOpRef<ModuleOp>>
mlir::lowbit::importONNXModel(std::unique_ptr<llvm::MemoryBuffer> buffer,
                              StringRef modelPath, MLIRContext *ctx,
                              const ONNXImportOptions &options) {
  ctx->loadDialect<onnxir::ONNXDialect, func::FuncDialect,
                   arith::ArithDialect>();
  std::string message;
  std::unique_ptr<::onnx::ModelProto> model =
      parseModelProto(buffer->getBuffer(), message);
  buffer.reset(); // the proto owns copies of everything it needs
  if (!model)
    return emitError(FileLineColLoc::get(ctx, modelPath, 0, 0)) << message;
  if (!options.inputShapes.empty()) {
    std::string error = specializeInputShapes(*model, options.inputShapes);
    if (!error.empty())
      return emitError(FileLineColLoc::get(ctx, modelPath, 0, 0)) << error;
  }
  if (!options.inputValues.empty()) {
    std::string error = specializeInputValues(*model, options.inputValues);
    if (!error.empty())
      return emitError(FileLineColLoc::get(ctx, modelPath, 0, 0)) << error;
  }
  if (options.inferShapes) {
    std::string warning;
    inferModelShapes(*model, warning);
    if (!warning.empty())
      emitWarning(FileLineColLoc::get(ctx, modelPath, 0, 0))
          << "ONNX shape inference stopped early: " << warning;
  }
  return GraphImporter(ctx, *model, modelPath, options).run();
}

bool mlir::lowbit::parseInputShape(StringRef spec, ONNXImportOptions &options) {
  auto [name, dims] = spec.rsplit(':');
  if (name.empty() || !spec.contains(':'))
    return false;
  SmallVector<int64_t> shape;
  if (dims.empty()) { // "name:" is a scalar (rank 0)
    options.inputShapes[name] = shape;
    return true;
  }
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  for (StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d < 0)
      return false;
    shape.push_back(d);
  }
  options.inputShapes[name] = shape;
  return true;
}

bool mlir::lowbit::parseInputValue(StringRef spec, ONNXImportOptions &options) {
  auto [name, values] = spec.split(':');
  if (name.empty() || !spec.contains(':'))
    return false;
  SmallVector<std::string> &out = options.inputValues[name];
  out.clear();
  if (values.trim().empty()) // "name:" is an empty tensor
    return true;
  SmallVector<StringRef> parts;
  values.split(parts, ',');
  for (StringRef p : parts) {
    if (p.trim().empty())
      return false;
    out.push_back(p.trim().str());
  }
  return true;
}

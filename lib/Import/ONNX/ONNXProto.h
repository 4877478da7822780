//===- ONNXProto.h - The ONNX protobuf schema -------------------*- C++ -*-===//
//
// Includes the ONNX protobuf classes from Debian's libonnx-dev.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_IMPORT_ONNX_ONNXPROTO_H
#define LOWBIT_LIB_IMPORT_ONNX_ONNXPROTO_H

#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#endif // LOWBIT_LIB_IMPORT_ONNX_ONNXPROTO_H

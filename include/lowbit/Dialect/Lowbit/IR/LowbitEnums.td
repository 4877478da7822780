//===- LowbitEnums.td - Enumerations of the lowbit dialect --*- tablegen -*-===//
//
// Code formats, scale granularities, outlier formats, sparsity kinds and the
// calibration statistics a site can collect.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITENUMS_TD
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITENUMS_TD

include "mlir/IR/EnumAttr.td"
include "lowbit/Dialect/Lowbit/IR/LowbitBase.td"

def Lowbit_CodeFormat : I32EnumAttr<"CodeFormat",
    "how a code's bits map to a number before scaling", [
  I32EnumAttrCase<"Int",  0, "int">,   // two's complement (sym) or unsigned (asym)
  I32EnumAttrCase<"E2M1", 1, "e2m1">,  // FP4, OCP MX f4E2M1FN
  I32EnumAttrCase<"E3M2", 2, "e3m2">,  // FP6, f6E3M2FN
  I32EnumAttrCase<"E2M3", 3, "e2m3">,  // FP6, f6E2M3FN
  I32EnumAttrCase<"E4M3", 4, "e4m3">,  // FP8, f8E4M3FN
  I32EnumAttrCase<"E5M2", 5, "e5m2">,  // FP8, f8E5M2
  I32EnumAttrCase<"NF4",  6, "nf4">,   // QLoRA NormalFloat-4 codebook
  I32EnumAttrCase<"LUT",  7, "lut">    // learned codebook given as an SSA tensor
]> {
  let cppNamespace = "::mlir::lowbit";
  let genSpecializedAttr = 0;
}

def Lowbit_Granularity : I32EnumAttr<"Granularity",
    "which elements share one scale", [
  I32EnumAttrCase<"Tensor",  0, "tensor">,
  I32EnumAttrCase<"Channel", 1, "channel">,
  I32EnumAttrCase<"Group",   2, "group">
]> {
  let cppNamespace = "::mlir::lowbit";
  let genSpecializedAttr = 0;
}

def Lowbit_OutlierFormat : I32EnumAttr<"OutlierFormat",
    "storage of the sparse high-precision outliers", [
  I32EnumAttrCase<"COO", 0, "coo">,
  I32EnumAttrCase<"CSR", 1, "csr">
]> {
  let cppNamespace = "::mlir::lowbit";
  let genSpecializedAttr = 0;
}

def Lowbit_SparsityKind : I32EnumAttr<"SparsityKind",
    "structure of the sparsity mask", [
  I32EnumAttrCase<"NM",    0, "nm">,
  I32EnumAttrCase<"Block", 1, "block">
]> {
  let cppNamespace = "::mlir::lowbit";
  let genSpecializedAttr = 0;
}

def Lowbit_CalibStats : I32BitEnumAttr<"CalibStats",
    "statistics collected at a calibration site", [
  I32BitEnumAttrCaseBit<"AbsMax",  0, "abs_max">,
  I32BitEnumAttrCaseBit<"MinMax",  1, "min_max">,
  I32BitEnumAttrCaseBit<"Mean",    2, "mean">,
  I32BitEnumAttrCaseBit<"Hessian", 3, "hessian">
]> {
  let cppNamespace = "::mlir::lowbit";
  let genSpecializedAttr = 0;
  let separator = ", ";
}

def Lowbit_CalibStatsAttr : EnumAttr<Lowbit_Dialect, Lowbit_CalibStats, "stats"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITENUMS_TD

//===- LowbitTypes.td - Types of the lowbit dialect ---------*- tablegen -*-===//
//
// The quantized tensor type.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_IR_LOWBITTYPES_TD
#define LOWBIT_DIALECT_LOWBIT_IR_LOWBITTYPES_TD

include "mlir/IR/AttrTypeBase.td"
include "lowbit/Dialect/Lowbit/IR/LowbitAttrs.td"

def Lowbit_QTensorType : TypeDef<Lowbit_Dialect, "QTensor"> {
  let mnemonic = "qtensor";
  let summary = "A quantized tensor: codes, scales and their companions";
  let description = [{
    One quantized value with a static logical shape and the float type it
    stands for. The type fixes every part, in this order:

    | part | type | present when |
    | --- | --- | --- |
    | codes | `tensor<shape x i<bits>>` | always |
    | scales | `tensor<scale shape x scale type>` | always |
    | zero_points | `tensor<scale shape x zero-point type>` | asymmetric |
    | codebook | `tensor<2^bits x element type>` | `lut` format |
    | super_scales | `tensor<super shape x super-scale type>` | super level |
    | outlier parts | coo: indices, values; csr: row_ptr, col_idx, values | `outliers = ...` |
    | mask | `tensor<mask shape x i1>` | `sparsity = ...` |

    Verifier rules: the shape is static and non-empty with positive extents;
    the element type is f32, f16 or bf16; the scheme fits the shape (axis in
    range, super-blocks (whose group size must then divide the extent) tile the axis); csr
    outliers need rank 2; the sparsity axis is in range and its block or M
    divides the extent.

    ```mlir
    !lowbit.qtensor<4096x512xf32, #lowbit.scheme<int4, sym, group = 128, axis = 0, scale = f16>>
    !lowbit.qtensor<64x64xf16, #lowbit.scheme<int3, sym, channel, axis = 1, scale = f16>,
                    outliers = #lowbit.outliers<csr, nnz = 40, f16>,
                    sparsity = #lowbit.sparsity<nm 2:4, axis = 0>>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t">:$shape,
    "Type":$elementType,
    "SchemeAttr":$scheme,
    "OutliersAttr":$outliers,
    "SparsityAttr":$sparsity
  );
  let builders = [
    TypeBuilderWithInferredContext<(ins "ArrayRef<int64_t>":$shape,
        "Type":$elementType, "SchemeAttr":$scheme), [{
      return $_get(elementType.getContext(), shape, elementType, scheme,
                   OutliersAttr(), SparsityAttr());
    }]>
  ];
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRank() const { return getShape().size(); }
    int64_t getNumElements() const;
    RankedTensorType getCodesType() const;
    RankedTensorType getScalesType() const;
    /// Null when the part is absent.
    RankedTensorType getZeroPointsType() const;
    RankedTensorType getCodebookType() const;
    RankedTensorType getSuperScalesType() const;
    RankedTensorType getMaskType() const;
    /// Types of the outlier parts (empty without outliers).
    SmallVector<Type> getOutlierTypes() const;
    /// All parts in the canonical order above, and their names.
    SmallVector<Type> getPartTypes() const;
    SmallVector<StringRef> getPartNames() const;
    /// The parts `lowbit.quantize` takes besides its input: scales, zero
    /// points, codebook, super scales (those present).
    SmallVector<Type> getParamTypes() const;
    /// The same type without outliers and sparsity.
    QTensorType getDense() const;
  }];
}

#endif // LOWBIT_DIALECT_LOWBIT_IR_LOWBITTYPES_TD

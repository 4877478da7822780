"""Writing numpy arrays into MLIR text as dense_resource blobs."""

import numpy as np

_TYPES = {np.dtype(np.bool_): "i1", np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
          np.dtype(np.float16): "f16", np.dtype(np.int8): "i8",
          np.dtype(np.int16): "i16", np.dtype(np.int32): "i32",
          np.dtype(np.int64): "i64",
          # Unsigned arrays have the signless types convert-onnx-to-core gives.
          np.dtype(np.uint8): "i8", np.dtype(np.uint16): "i16",
          np.dtype(np.uint32): "i32", np.dtype(np.uint64): "i64"}


# Sub-byte integers (ml_dtypes, as onnx uses them), written inline.
_SUBBYTE = {"int4": "i4", "uint4": "i4", "int2": "i2", "uint2": "i2"}


def elem_type(array: np.ndarray) -> str:
    if array.dtype.name in _SUBBYTE:
        return _SUBBYTE[array.dtype.name]
    if array.dtype not in _TYPES:
        raise ValueError(f"arrays of {array.dtype} cannot be written as MLIR blobs yet")
    return _TYPES[array.dtype]


def tensor_type(array: np.ndarray) -> str:
    if array.dtype.name in _SUBBYTE:
        dims = "x".join(str(d) for d in array.shape)
        return f"tensor<{dims}x{elem_type(array)}>" if dims else f"tensor<{elem_type(array)}>"
    if array.dtype not in _TYPES:
        raise ValueError(f"arrays of {array.dtype} cannot be written as MLIR blobs yet")
    dims = "x".join(str(d) for d in array.shape)
    return f"tensor<{dims}x{_TYPES[array.dtype]}>" if dims else f"tensor<{_TYPES[array.dtype]}>"


class ResourceWriter:
    """Collects named blobs and prints the module's dialect_resources section."""

    def __init__(self):
        self.blobs = {}

    INLINE_LIMIT = 64

    def constant(self, name: str, array: np.ndarray) -> str:
        """Returns the attribute text of a constant holding `array`:
        `dense_resource<name> : tensor<...>` for large arrays, an inline
        `dense<...>` for small ones (and always for booleans)."""
        array = np.require(np.asarray(array), requirements="C")  # keeps 0-d shapes
        if array.dtype == np.bool_:
            items = ", ".join("true" if v else "false" for v in array.reshape(-1))
            body = f"[{items}]" if array.ndim else items
            if array.ndim > 1:  # a flat list is fine only for rank <= 1
                body = np.array2string(array, separator=", ", threshold=10**9).replace(
                    "True", "true").replace("False", "false")
            return f"dense<{body}> : {tensor_type(array)}"
        if array.dtype.name in _SUBBYTE:
            # Written as the two's-complement value of the bit pattern.
            bits = int(elem_type(array)[1:])
            vals = array.astype(np.int64).reshape(-1)
            vals = np.where(vals >= 1 << (bits - 1), vals - (1 << bits), vals)
            body = np.array2string(vals.reshape(array.shape), separator=", ",
                                   threshold=10**9) if array.ndim else str(int(vals[0]))
            return f"dense<{body}> : {tensor_type(array)}"
        if array.size <= self.INLINE_LIMIT:
            # Inline hex: avoids an MLIR 22 crash folding rank-0 dense_resource.
            return f'dense<"0x{array.tobytes().hex().upper()}"> : {tensor_type(array)}'
        if name in self.blobs:
            raise ValueError(f"duplicate blob name {name}")
        self.blobs[name] = array
        return f"dense_resource<{name}> : {tensor_type(array)}"

    def section(self) -> str:
        lines = ["{-#", "  dialect_resources: {", "    builtin: {"]
        items = list(self.blobs.items())
        for i, (name, array) in enumerate(items):
            align = max(array.dtype.itemsize, 4)
            blob = align.to_bytes(4, "little").hex() + array.tobytes().hex()
            comma = "," if i + 1 < len(items) else ""
            lines.append(f'      {name}: "0x{blob}"{comma}')
        lines += ["    }", "  }", "#-}"]
        return "\n".join(lines) + "\n"

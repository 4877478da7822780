"""Writing numpy arrays into MLIR text as dense_resource blobs."""

import numpy as np

_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.int8): "i8", np.dtype(np.int64): "i64",
          np.dtype(np.int32): "i32", np.dtype(np.float16): "f16"}


def tensor_type(array: np.ndarray) -> str:
    dims = "x".join(str(d) for d in array.shape)
    return f"tensor<{dims}x{_TYPES[array.dtype]}>" if dims else f"tensor<{_TYPES[array.dtype]}>"


class ResourceWriter:
    """Collects named blobs and prints the module's dialect_resources section."""

    def __init__(self):
        self.blobs = {}

    def constant(self, name: str, array: np.ndarray) -> str:
        """Returns the attribute text `dense_resource<name> : tensor<...>`."""
        array = np.ascontiguousarray(array)
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

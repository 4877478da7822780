"""Loading and running Lowbit artifacts from Python, over the runtime's C ABI
(runtime/include/lowbit/runtime.h) with ctypes.

    from lowbit.runtime import Model
    m = Model("out/")                 # model.so + weights.bin + manifest.json
    logits, = m.run(input_ids=ids)    # numpy in, numpy out
"""

import ctypes
import os
from pathlib import Path

import numpy as np

from . import tools

_DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64,
           "i8": np.int8, "i16": np.int16, "i32": np.int32, "i64": np.int64,
           "u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "u64": np.uint64,
           "bool": np.bool_}


class _Info(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_char_p),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("element_bytes", ctypes.c_int64), ("num_elements", ctypes.c_int64)]


class LowbitError(RuntimeError):
    """The runtime refused to load or run an artifact."""


_lib = None


def library():
    """The runtime library: $LOWBIT_RUNTIME or <build>/lib/liblowbit_runtime.so."""
    global _lib
    if _lib is None:
        path = os.environ.get("LOWBIT_RUNTIME", str(tools.build_dir() / "lib" / "liblowbit_runtime.so"))
        if not Path(path).exists():
            raise LowbitError(f"{path}: not found; build Lowbit first (scripts/build.sh)")
        lib = ctypes.CDLL(path)
        lib.lowbit_model_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                          ctypes.c_char_p, ctypes.c_size_t]
        lib.lowbit_model_num_inputs.argtypes = [ctypes.c_void_p]
        lib.lowbit_model_num_outputs.argtypes = [ctypes.c_void_p]
        lib.lowbit_model_input.argtypes = [ctypes.c_void_p, ctypes.c_int32]
        lib.lowbit_model_input.restype = ctypes.POINTER(_Info)
        lib.lowbit_model_output.argtypes = [ctypes.c_void_p, ctypes.c_int32]
        lib.lowbit_model_output.restype = ctypes.POINTER(_Info)
        lib.lowbit_model_target.argtypes = [ctypes.c_void_p]
        lib.lowbit_model_target.restype = ctypes.c_char_p
        lib.lowbit_model_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
                                         ctypes.POINTER(ctypes.c_void_p), ctypes.c_int32,
                                         ctypes.c_char_p, ctypes.c_size_t]
        lib.lowbit_model_free.argtypes = [ctypes.c_void_p]
        lib.lowbit_model_gpu_num_kernels.argtypes = [ctypes.c_void_p]
        lib.lowbit_model_gpu_num_kernels.restype = ctypes.c_int32
        lib.lowbit_model_gpu_kernel_stats.argtypes = [
            ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_char_p),
            ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_double)]
        lib.lowbit_model_set_gpu_launcher.argtypes = [ctypes.c_void_p, _LAUNCHER,
                                                      ctypes.c_void_p]
        _lib = lib
    return _lib


class TensorSpec:
    def __init__(self, info: _Info):
        self.name = info.name.decode()
        self.dtype = np.dtype(_DTYPES[info.dtype.decode()])
        self.shape = tuple(info.shape[i] for i in range(info.rank))

    def __repr__(self):
        return f"TensorSpec({self.name!r}, {self.dtype}, {self.shape})"


_LAUNCHER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64,
                             ctypes.POINTER(ctypes.c_uint64))


class Model:
    """A loaded artifact. `threads` <= 0 uses every core."""

    def __init__(self, path, threads: int = 0):
        self._lib = library()
        self.path = Path(path)
        self._handle = ctypes.c_void_p()
        err = ctypes.create_string_buffer(1024)
        if self._lib.lowbit_model_load(str(path).encode(), ctypes.byref(self._handle), err, 1024):
            raise LowbitError(err.value.decode())
        self.threads = threads
        self.inputs = [TensorSpec(self._lib.lowbit_model_input(self._handle, i).contents)
                       for i in range(self._lib.lowbit_model_num_inputs(self._handle))]
        self.outputs = [TensorSpec(self._lib.lowbit_model_output(self._handle, i).contents)
                        for i in range(self._lib.lowbit_model_num_outputs(self._handle))]
        self.target = self._lib.lowbit_model_target(self._handle).decode()

    def run(self, *args, **kwargs):
        """Runs on numpy arrays (positional in input order, or by name);
        returns the outputs as a list of arrays. Shapes and dtypes must
        match the artifact exactly (they are checked)."""
        if args and kwargs:
            raise TypeError("give inputs by position or by name, not both")
        if kwargs:
            missing = [s.name for s in self.inputs if s.name not in kwargs]
            extra = set(kwargs) - {s.name for s in self.inputs}
            if missing or extra:
                raise LowbitError(f"inputs: missing {missing}, unknown {sorted(extra)}")
            args = [kwargs[s.name] for s in self.inputs]
        if len(args) != len(self.inputs):
            raise LowbitError(f"the model takes {len(self.inputs)} inputs, got {len(args)}")
        arrays = []
        for spec, a in zip(self.inputs, args):
            a = np.asarray(a)
            if a.shape != spec.shape or a.dtype != spec.dtype:
                raise LowbitError(f"input '{spec.name}': expected {spec.dtype} {list(spec.shape)}, "
                                  f"got {a.dtype} {list(a.shape)}")
            arrays.append(np.ascontiguousarray(a))
        outs = [np.empty(s.shape, s.dtype) for s in self.outputs]
        ins = (ctypes.c_void_p * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])
        ptrs = (ctypes.c_void_p * max(1, len(outs)))(*[o.ctypes.data for o in outs])
        err = ctypes.create_string_buffer(1024)
        if self._lib.lowbit_model_run(self._handle, ins, ptrs, self.threads, err, 1024):
            if getattr(self, "_launcher_error", None) is not None:
                e, self._launcher_error = self._launcher_error, None
                raise e
            raise LowbitError(err.value.decode())
        return outs

    def gpu_kernel_stats(self) -> dict:
        """CUDA artifacts: {kernel name: (launches, total ms)}; the times
        are measured when loaded with LOWBIT_GPU_TIMING=1 (device time, or
        the CPU fallback's wall time), else 0."""
        stats = {}
        for i in range(self._lib.lowbit_model_gpu_num_kernels(self._handle)):
            name, launches, ms = ctypes.c_char_p(), ctypes.c_int64(), ctypes.c_double()
            self._lib.lowbit_model_gpu_kernel_stats(self._handle, i, ctypes.byref(name),
                                                    ctypes.byref(launches), ctypes.byref(ms))
            stats[name.value.decode()] = (launches.value, ms.value)
        return stats

    def set_gpu_launcher(self, launch):
        """CUDA artifacts: run each kernel launch as `launch(kernel, args)`
        (kernel: its index in the launch table, args: the host addresses of
        its arguments) instead of on the GPU or the CPU fallback; an
        exception fails the run and is raised again by run()."""
        def trampoline(_user, kernel, args):
            try:
                n = self._gpu_arg_counts[kernel]
                launch(kernel, [args[i] for i in range(n)])
                return 0
            except BaseException as e:  # noqa: BLE001 - re-raised by run()
                self._launcher_error = e
                return 1
        if self._lib.lowbit_model_gpu_num_kernels(self._handle) == 0:
            raise LowbitError("not a CUDA artifact: no GPU kernels")
        self._gpu_arg_counts = [len(k["args"]) for k in self.gpu_kernels()]
        self._launcher = _LAUNCHER(trampoline)  # kept alive with the model
        self._launcher_error = None
        self._lib.lowbit_model_set_gpu_launcher(self._handle, self._launcher, None)

    def gpu_kernels(self) -> list:
        """CUDA artifacts: the launch table, from the metadata `gpu-kernel`
        lines: name, grid, block, args [(bytes, role)]."""
        meta = ctypes.CDLL(str(self.path / "model.so"))
        meta.lowbit_metadata.restype = ctypes.c_char_p
        table = []
        for line in meta.lowbit_metadata().decode().splitlines():
            f = line.split()
            if not f or f[0] != "gpu-kernel":
                continue
            nargs = int(f[9])
            table.append({"name": f[2], "grid": tuple(map(int, f[3:6])),
                          "block": tuple(map(int, f[6:9])),
                          "args": [(int(f[10 + 2 * i]), f[11 + 2 * i]) for i in range(nargs)]})
        return table

    def close(self):
        if getattr(self, "_handle", None):
            self._lib.lowbit_model_free(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def compile_onnx(model_path, out_dir, input_shapes=None, target="host", optimize=True,
                 extra_args=()):
    """Runs quant-compile; returns the artifact directory. `extra_args` go to
    quant-compile as they are (e.g. ["--method=gptq", "--calib=dir/"])."""
    cmd = [tools.tool("quant-compile"), str(model_path), "-o", str(out_dir), f"--target={target}"]
    for name, shape in (input_shapes or {}).items():
        cmd.append(f"--input-shape={name}:{'x'.join(str(d) for d in shape)}")
    if not optimize:
        cmd.append("--O0")
    cmd.extend(str(a) for a in extra_args)
    tools.run(cmd)
    return Path(out_dir)

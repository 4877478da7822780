"""Loading and running Lowbit artifacts from Python, over the runtime's C ABI
(runtime/include/lowbit/runtime.h) with ctypes.

    import lowbit
    m = lowbit.load("out/")           # model.so + weights.bin + manifest.json
    logits, = m.run(input_ids=ids)    # numpy in, numpy out

The runtime reads no environment variables; `LoadOptions.from_environment`
maps LOWBIT_WEIGHTS, LOWBIT_CPU_FEATURES, LOWBIT_GPU, LOWBIT_CUDA_DEVICE,
LOWBIT_CUDA_DRIVER, LOWBIT_GPU_TIMING and LOWBIT_SKIP_WEIGHTS_HASH onto the load options, and is what
`Model` uses when given none.
"""

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from . import config


class _LoadOptions(ctypes.Structure):
    """lowbit_load_options."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("weights", ctypes.c_int),
                ("cpu_features", ctypes.c_char_p), ("gpu", ctypes.c_int),
                ("cuda_device", ctypes.c_int32), ("cuda_driver", ctypes.c_char_p),
                ("gpu_timing", ctypes.c_int32), ("skip_weights_hash", ctypes.c_int32)]


class _Info(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_char_p),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("element_bytes", ctypes.c_int64), ("num_elements", ctypes.c_int64)]


class LowbitError(RuntimeError):
    """The runtime refused to load or run an artifact."""


_lib = None
_dtypes = None


def library():
    """The runtime library (config.runtime_library)."""
    global _lib
    if _lib is None:
        path = config.runtime_library()
        if not path.exists():
            raise LowbitError(f"{path}: not found; build Lowbit first (scripts/build.sh)")
        lib = ctypes.CDLL(str(path))
        lib.lowbit_load_options_init.argtypes = [ctypes.POINTER(_LoadOptions)]
        lib.lowbit_model_load_with_options.argtypes = [
            ctypes.c_char_p, ctypes.POINTER(_LoadOptions), ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_char_p, ctypes.c_size_t]
        lib.lowbit_num_dtypes.restype = ctypes.c_int32
        lib.lowbit_dtype_at.argtypes = [ctypes.c_int32, ctypes.POINTER(ctypes.c_char_p),
                                        ctypes.POINTER(ctypes.c_char),
                                        ctypes.POINTER(ctypes.c_int32)]
        lib.lowbit_cpu_has_feature_named.argtypes = [ctypes.c_char_p]
        lib.lowbit_cpu_has_feature_named.restype = ctypes.c_int
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


def dtypes() -> dict:
    """The artifact dtype names (runtime/include/lowbit/artifact.h, read
    through the runtime) with their numpy dtypes; bf16 has none (uint16)."""
    global _dtypes
    if _dtypes is None:
        lib = library()
        kinds = {"f": "float", "i": "int", "u": "uint", "b": "uint"}
        table = {}
        for i in range(lib.lowbit_num_dtypes()):
            name, kind, bits = ctypes.c_char_p(), ctypes.c_char(), ctypes.c_int32()
            lib.lowbit_dtype_at(i, ctypes.byref(name), ctypes.byref(kind), ctypes.byref(bits))
            k = kind.value.decode()
            table[name.value.decode()] = (np.dtype(np.bool_) if k == "?"
                                          else np.dtype(f"{kinds[k]}{bits.value}"))
        _dtypes = table
    return _dtypes


@dataclass
class LoadOptions:
    """lowbit_load_options: where the weights live (`weights`: "huge-pages"
    or "mmap"), a stand-in for the CPU's feature flags, where CUDA kernels
    run (`gpu`: "cuda" or "cpu", their CPU reference), the CUDA device and
    driver, and per-launch timing."""
    weights: str = "huge-pages"
    cpu_features: Optional[str] = None
    gpu: str = "cuda"
    cuda_device: int = 0
    cuda_driver: Optional[str] = None
    gpu_timing: bool = False
    skip_weights_hash: bool = False

    @classmethod
    def from_environment(cls, env=None):
        """The options the LOWBIT_* environment variables say (quant-run reads
        the same ones)."""
        env = os.environ if env is None else env
        o = cls()
        o.weights = env.get("LOWBIT_WEIGHTS") or o.weights
        o.cpu_features = env.get("LOWBIT_CPU_FEATURES")
        o.gpu = env.get("LOWBIT_GPU") or o.gpu
        if env.get("LOWBIT_CUDA_DEVICE"):
            o.cuda_device = int(env["LOWBIT_CUDA_DEVICE"])
        o.cuda_driver = env.get("LOWBIT_CUDA_DRIVER")
        o.gpu_timing = env.get("LOWBIT_GPU_TIMING") == "1"
        o.skip_weights_hash = env.get("LOWBIT_SKIP_WEIGHTS_HASH") == "1"
        return o

    def _struct(self, lib):
        if self.weights not in ("huge-pages", "mmap"):
            raise LowbitError(f"LOWBIT_WEIGHTS={self.weights} (expected mmap or huge-pages)")
        if self.gpu not in ("cuda", "cpu"):
            raise LowbitError(f"LOWBIT_GPU={self.gpu} (expected cuda or cpu)")
        s = _LoadOptions()
        lib.lowbit_load_options_init(ctypes.byref(s))
        s.weights = 1 if self.weights == "mmap" else 0
        s.cpu_features = self.cpu_features.encode() if self.cpu_features else None
        s.gpu = 1 if self.gpu == "cpu" else 0
        s.cuda_device = self.cuda_device
        s.cuda_driver = self.cuda_driver.encode() if self.cuda_driver else None
        s.gpu_timing = int(self.gpu_timing)
        s.skip_weights_hash = int(self.skip_weights_hash)
        return s


class TensorSpec:
    def __init__(self, info: _Info):
        self.name = info.name.decode()
        self.dtype = dtypes()[info.dtype.decode()]
        self.shape = tuple(info.shape[i] for i in range(info.rank))

    def __repr__(self):
        return f"TensorSpec({self.name!r}, {self.dtype}, {self.shape})"


_LAUNCHER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64,
                             ctypes.POINTER(ctypes.c_uint64))


class Model:
    """A loaded artifact. `threads` <= 0 uses every core; `options` default
    to LoadOptions.from_environment()."""

    def __init__(self, path, threads: int = 0, options: Optional[LoadOptions] = None):
        self._lib = library()
        self.path = Path(path)
        self._handle = ctypes.c_void_p()
        err = ctypes.create_string_buffer(1024)
        opts = (options or LoadOptions.from_environment())._struct(self._lib)
        if self._lib.lowbit_model_load_with_options(str(path).encode(), ctypes.byref(opts),
                                                    ctypes.byref(self._handle), err, 1024):
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
        are measured when loaded with gpu_timing (LOWBIT_GPU_TIMING=1; device
        time, or the CPU fallback's wall time), else 0."""
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



def load(path, threads: int = 0, options: Optional[LoadOptions] = None) -> Model:
    """Loads the artifact in `path` (see Model)."""
    return Model(path, threads=threads, options=options)

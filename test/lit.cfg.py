# Lit configuration of Lowbit's FileCheck and execution tests. The GoogleTest
# binaries run through test/Unit, a separate suite in the same lit run.
import os
import subprocess
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "Lowbit"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lowbit_obj_root, "test")
config.excludes = ["Unit", "Inputs", "CMakeLists.txt", "lit.cfg.py"]

llvm_config.use_default_substitutions()
llvm_config.with_environment(
    "PATH", [config.lowbit_tools_dir, config.llvm_tools_dir], append_path=True)

tools = ["quant-opt", "quant-translate", "quant-compile", "quant-run", "mlir-runner",
         "llvm-readelf"]
llvm_config.add_tool_substitutions(
    tools, [config.lowbit_tools_dir, config.llvm_tools_dir])

config.substitutions.append(("%lowbit_src_root", config.lowbit_src_root))
config.substitutions.append(("%lowbit_obj_root", config.lowbit_obj_root))

# Execution tests run the LLVM dialect through mlir-runner with MLIR's runtime
# support libraries (printMemrefF32 and friends).
runner_libs = [
    os.path.join(config.llvm_lib_dir, "libmlir_runner_utils.so"),
    os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils.so"),
]
config.substitutions.append(
    ("%run", "mlir-runner -e main -entry-point-result=void -shared-libs="
     + ",".join(runner_libs)))
if all(os.path.exists(p) for p in runner_libs):
    config.available_features.add("mlir-runner")

# The project's venv Python (scripts/setup.sh) writes test models with the
# onnx package; tests that need it say REQUIRES: onnx.
venv_python = os.path.join(config.lowbit_src_root, ".venv", "bin", "python")
python_command = venv_python
# An ASan build (scripts/sanitize.sh): Python loads the instrumented runtime
# with ctypes, so the ASan runtime must be preloaded; CPython's own memory
# is not the runtime's leak.
if "-fsanitize=address" in getattr(config, "lowbit_cxx_flags", ""):
    libs = [subprocess.run(["g++", "-print-file-name=" + lib],
                           capture_output=True, text=True).stdout.strip()
            for lib in ("libasan.so", "libubsan.so")]
    python_command = ("env LD_PRELOAD=%s ASAN_OPTIONS=allow_user_poisoning=0:"
                      "detect_leaks=0 %s" % (":".join(libs), venv_python))
config.substitutions.append(("%lowbit_python", python_command))
if os.path.exists(venv_python) and subprocess.run(
        [venv_python, "-c", "import onnx"], capture_output=True).returncode == 0:
    config.available_features.add("onnx")

if shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64"):
    config.available_features.add("qemu-aarch64")

# ptxas (CUDA toolkit) turns the GPU kernels' PTX into cubin; without it
# quant-compile writes PTX only and the cubin checks are unsupported.
if (os.environ.get("LOWBIT_PTXAS") or shutil.which("ptxas")
        or os.path.exists("/usr/local/cuda/bin/ptxas")):
    config.available_features.add("ptxas")

# ThreadSanitizer runs of the runtime (test/Runtime) need clang 22 and its
# sanitizer runtimes (clang-22, libclang-rt-22-dev from scripts/setup.sh).
if shutil.which("clang++-22") and shutil.which("clang-22"):
    config.available_features.add("clang-tsan")

# clang-format 22 checks the sources' formatting (test/clang-format.test).
if shutil.which("clang-format-22") or os.path.exists(
        os.path.join(config.llvm_tools_dir, "clang-format")):
    config.available_features.add("clang-format")

"""Compiling models from Python: quant-compile with keyword arguments.

    import lowbit
    art = lowbit.compile("model.onnx", "out/", {"input_ids": (1, 512)},
                         method="gptq", bits=4, group=128, calib="calib/")
    with lowbit.load(art) as m:
        logits, = m.run(input_ids=ids)
"""
from pathlib import Path

from . import tools


def compile(model, out, input_shapes=None, *, target="host", optimize=True, recipe=None,
            method=None, bits=None, group=None, calib=None, calib_cache=None,
            emit="artifact", extra_args=()):
    """Runs quant-compile on `model` (.onnx or core .mlir); returns `out` (the
    artifact directory, or the file of another `emit` phase). `input_shapes`
    maps input names to static shapes; `recipe` is a YAML/JSON file and
    `method`/`bits`/`group` override it; `calib` is a .npy or a directory of
    <input>.npy; `extra_args` go to quant-compile as they are. Raises
    ToolError with quant-compile's messages on failure."""
    cmd = [tools.tool("quant-compile"), str(model), "-o", str(out), f"--target={target}",
           f"--emit={emit}"]
    for name, shape in (input_shapes or {}).items():
        cmd.append(f"--input-shape={name}:{'x'.join(str(d) for d in shape)}")
    if not optimize:
        cmd.append("--O0")
    for flag, value in (("recipe", recipe), ("method", method), ("bits", bits),
                        ("group", group), ("calib", calib), ("calib-cache", calib_cache)):
        if value is not None:
            cmd.append(f"--{flag}={value}")
    cmd.extend(str(a) for a in extra_args)
    tools.run(cmd)
    return Path(out)


def compile_onnx(model_path, out_dir, input_shapes=None, target="host", optimize=True,
                 extra_args=()):
    """`compile` with positional target and optimize, as the tests call it."""
    return compile(model_path, out_dir, input_shapes, target=target, optimize=optimize,
                   extra_args=extra_args)

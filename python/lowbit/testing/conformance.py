"""ONNX backend node tests through Lowbit: which import, which convert to
core dialects, and (with --run) which compute the expected outputs through
the reference lowering.

    python -m lowbit.testing.conformance [--ops Add,MatMul] [--run] [--jobs 2]

The node tests are generated from the `onnx` package (1,884 cases in onnx
1.23: a model plus input/output data each). Cases are grouped by the op type
of their node; "expanded" variants (a function body spelled out in other
ops) count under the op they test. Small int64 inputs (axes, shapes,
starts/ends, ...) become initializers with the test's values, since Lowbit
compiles those operands as constants, as exported models have them.
"""

import argparse
import concurrent.futures as cf
import os
import sys
import tempfile
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

from .. import tools


def collect(ops=None):
    """[(op_type, case)] for the node test cases whose op is in `ops`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import onnx.backend.test.case.node as node
        cases = node.collect_testcases(None)
    out = []
    for case in cases:
        graph = case.model.graph
        op = case.name[len("test_"):]
        # The op under test is the first node's type for single-node models.
        op_type = graph.node[0].op_type if len(graph.node) == 1 else None
        if op_type is None:
            # Expanded / multi-node cases: match the test name to an op.
            op_type = next((o for o in (ops or []) if op.startswith(o.lower())), "(multi-node)")
        if ops is None or op_type in ops:
            out.append((op_type, case))
    return out


def first_error(e: Exception) -> str:
    """The first diagnostic line of a tool failure."""
    lines = str(e).splitlines()
    return next((l.strip() for l in lines if "error:" in l), lines[-1] if lines else "")


# Float operands that are parameters (constants in exported models).
PARAM_INPUTS = {"Resize": (1, 2, 3)}


def constant_int_inputs(case):
    """The case's model with its small integer inputs after the first (axes,
    shapes, starts, ends, steps, ...) turned into initializers holding the
    test data, and the remaining inputs. Lowbit compiles such operands as constants, as exported
    models have them; node tests feed them at run time."""
    import onnx
    from onnx import numpy_helper
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs = [as_array(v) for v in case.data_sets[0][0]]
    keep = []
    graph = model.graph
    for pos, (info, value) in enumerate(zip(list(graph.input), inputs)):
        v = value if isinstance(value, np.ndarray) else None  # sequences stay
        param = pos in PARAM_INPUTS.get(graph.node[0].op_type if len(graph.node) == 1 else "", ())
        if (pos > 0 and v is not None and v.size <= 16
                and (v.dtype in (np.int64, np.int32) or param)):
            graph.initializer.append(numpy_helper.from_array(v, info.name))
            graph.input.remove(info)
        else:
            keep.append((info.name, value))
    return model, keep


def as_array(value):
    """A case's input or output as numpy: some cases store TensorProtos
    (bfloat16, float8, int4 data); numpy scalars become 0-d arrays."""
    from onnx import TensorProto, numpy_helper
    if isinstance(value, TensorProto):
        return numpy_helper.to_array(value)
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value


def run_compiled(path, feeds):
    """Runs model `path` compiled by quant-compile (static shapes from the
    feeds) through the runtime."""
    from ..compiler import compile_onnx
    from ..runtime import Model
    art = Path(path).parent / "artifact"
    compile_onnx(path, art, {n: np.asarray(v).shape for n, v in feeds.items()})
    with Model(art, threads=1) as m:
        return m.run(**{n: np.asarray(v) for n, v in feeds.items()})


def check(case, run: bool, compiled: bool = False):
    """Returns (stage reached, message): 'import', 'convert' or 'run' failed,
    or 'pass'. `compiled` runs the native artifact instead of the reference
    lowering."""
    from ..reference import run_onnx
    model, feeds = constant_int_inputs(case)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.onnx"
        path.write_bytes(model.SerializeToString())
        try:
            ir = tools.run([tools.tool("quant-translate"), "--import-onnx", path])
        except tools.ToolError as e:
            return "import", first_error(e)
        try:
            tools.run([tools.tool("quant-opt"), "-", "--convert-onnx-to-core"], input_text=ir)
        except tools.ToolError as e:
            return "convert", first_error(e)
        if not run:
            return "pass", ""
        expected = [as_array(v) for v in case.data_sets[0][1]]
        try:
            outs = (run_compiled if compiled else run_onnx)(path, dict(feeds))
        except (tools.ToolError, ValueError) as e:
            return "run", first_error(e)
        except Exception as e:  # a harness limit, reported as a failure
            return "run", f"{type(e).__name__}: {e}"
        rtol, atol = max(case.rtol, 1e-5), max(case.atol, 1e-6)
        for o, e in zip(outs, expected):
            if o.shape != e.shape or not np.allclose(o, e, rtol=rtol, atol=atol, equal_nan=True):
                return "mismatch", f"mismatch (max abs err {np.abs(o - e).max() if o.shape == e.shape else 'shape'})"
        return "pass", ""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", help="comma-separated op types (default: all)")
    ap.add_argument("--run", action="store_true", help="also compute and compare outputs")
    ap.add_argument("--compiled", action="store_true",
                    help="with --run: compile with quant-compile and run the artifact "
                         "(default: the reference lowering)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--verbose", action="store_true", help="print every failure")
    args = ap.parse_args(argv)
    ops = set(args.ops.split(",")) if args.ops else None
    results, failures = evaluate(ops, args.run, args.jobs, args.compiled)
    report(results, failures, args.run, args.verbose)
    return 0 if not failures else 1


def evaluate(ops, run, jobs=2, compiled=False):
    """{op: {stage: count}} and [(op, case, stage, message)] for the cases."""
    cases = collect(ops)
    results = defaultdict(lambda: defaultdict(int))
    failures = []
    with cf.ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(check, case, run, compiled): (op, case) for op, case in cases}
        for i, fut in enumerate(cf.as_completed(futures)):
            op, case = futures[fut]
            stage, msg = fut.result()
            results[op][stage] += 1
            if stage != "pass":
                failures.append((op, case.name, stage, msg))
            if sys.stderr.isatty():
                print(f"\r{i + 1}/{len(cases)} cases", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return results, failures


def report(results, failures, run, verbose):
    stages = ["pass", "import", "convert"] + (["run", "mismatch"] if run else [])
    print(f"{'op':<24}{'cases':>6}{'pass':>6}" + "".join(f"{'fail@' + s:>14}" for s in stages[1:]))
    total = defaultdict(int)
    for op in sorted(results):
        r = results[op]
        n = sum(r.values())
        total["cases"] += n
        for s in stages:
            total[s] += r[s]
        print(f"{op:<24}{n:>6}{r['pass']:>6}" + "".join(f"{r[s]:>14}" for s in stages[1:]))
    print(f"{'total':<24}{total['cases']:>6}{total['pass']:>6}" +
          "".join(f"{total[s]:>14}" for s in stages[1:]))
    if verbose:
        for f in sorted(failures):
            print("  ", *f)


if __name__ == "__main__":
    sys.exit(main())

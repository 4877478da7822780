"""The helpers that write MLIR from numpy and read mlir-runner output."""
import numpy as np

from lowbit import tools
from lowbit.mlir_emit import ResourceWriter


def test_resource_blob_round_trips_through_quant_opt_and_the_runner():
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.5
    r = ResourceWriter()
    text = f"""func.func private @printMemrefF32(tensor<*xf32>)
func.func @main() {{
  %a = arith.constant {r.constant("a", a)}
  %u = tensor.cast %a : tensor<3x4xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}}
{r.section()}"""
    printed = tools.parse_printed_memrefs(tools.run_mlir(text))
    assert len(printed) == 1
    np.testing.assert_array_equal(printed[0], a)


def test_tool_errors_carry_the_diagnostic(tmp_path):
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @f(%q: !lowbit.qtensor<8xf32, #lowbit.scheme<int9, sym, tensor, scale = f32>>)\n")
    try:
        tools.quant_opt(bad)
    except tools.ToolError as e:
        assert "bit width 9 is outside 1..8" in str(e)
    else:
        raise AssertionError("quant-opt accepted an invalid scheme")

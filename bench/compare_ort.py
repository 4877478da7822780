"""Numerical agreement of Lowbit's compiled FP32 models with onnxruntime on
real WikiText-2 text.

    .venv/bin/python bench/compare_ort.py [--windows 4] [--sentences 1000]

SmolLM2-135M: consecutive 512-token windows of test.txt (stride 512, the
first token of each window has no context and is not scored): largest
|logit| difference, argmax agreement, perplexity from each engine.
all-MiniLM-L6-v2: sentence embeddings of the first N sentences of valid.txt
in batches of 8 x 128 tokens: smallest cosine similarity and how often the
nearest neighbour (among the N) is the same.
Uses (and if needed builds) the artifacts of bench/speed.py.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from speed import artifact  # noqa: E402
from lowbit import evaluate  # noqa: E402
from lowbit.models import cache_dir  # noqa: E402
from lowbit.runtime import Model  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=4)
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    import onnxruntime as ort
    from lowbit.models.export_minilm import batch, sentences
    from lowbit.models.export_smollm2 import text_ids
    from lowbit.models.minilm import MiniLM

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads

    smol = cache_dir() / "SmolLM2-135M-Instruct" / "model.onnx"
    ids = text_ids(512 * args.windows)
    art = artifact(smol, "smollm2-1x512", {"input_ids": (1, 512)})
    sess = ort.InferenceSession(str(smol), so)
    nll = {"lowbit": [], "ort": []}
    max_err, agree, count = 0.0, 0, 0
    with Model(art, threads=args.threads) as m:
        for w in range(args.windows):
            x = ids[None, w * 512:(w + 1) * 512]
            ours, = m.run(input_ids=x)
            ref, = sess.run(None, {"input_ids": x})
            max_err = max(max_err, float(np.abs(ours - ref).max()))
            agree += int((ours[0].argmax(-1) == ref[0].argmax(-1)).sum())
            count += x.shape[1]
            for name, lg in (("lowbit", ours), ("ort", ref)):
                nll[name].extend(evaluate.token_nll(lg[0], x[0]))
    ppl = {k: float(np.exp(np.mean(v))) for k, v in nll.items()}
    print(f"SmolLM2-135M, {args.windows} x 512 tokens of WikiText-2 test "
          f"({len(nll['ort'])} scored):")
    print(f"  max |logit| difference {max_err:.2e}, argmax agreement "
          f"{agree / count * 100:.2f}% of {count} positions")
    print(f"  perplexity: Lowbit {ppl['lowbit']:.6f}, onnxruntime {ppl['ort']:.6f} "
          f"(relative difference {abs(ppl['lowbit'] - ppl['ort']) / ppl['ort']:.1e})")

    mini = cache_dir() / "all-MiniLM-L6-v2" / "model.onnx"
    shapes = {"input_ids": (8, 128), "attention_mask": (8, 128)}
    art = artifact(mini, "minilm-8x128", shapes)
    sess = ort.InferenceSession(str(mini), so)
    model = MiniLM.load()
    texts = sentences(args.sentences)
    ours_all, ref_all = [], []
    with Model(art, threads=args.threads) as m:
        for i in range(0, len(texts) - len(texts) % 8, 8):
            ids, mask = batch(model, texts[i:i + 8], max_len=128)
            ids = np.pad(ids, ((0, 0), (0, 128 - ids.shape[1])))
            mask = np.pad(mask, ((0, 0), (0, 128 - mask.shape[1])))
            ours_all.append(m.run(input_ids=ids, attention_mask=mask)[1])
            ref_all.append(sess.run(None, {"input_ids": ids, "attention_mask": mask})[1])
    a, b = np.concatenate(ours_all), np.concatenate(ref_all)
    agree = evaluate.embedding_agreement(a, b)
    print(f"all-MiniLM-L6-v2, {len(a)} sentences of WikiText-2 valid:")
    print(f"  embedding cosine similarity: min {agree['cosine_min']:.8f}, mean "
          f"{agree['cosine']:.8f}; nearest neighbour identical for "
          f"{agree['same_neighbour'] * 100:.1f}%")


if __name__ == "__main__":
    main()

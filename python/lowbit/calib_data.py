"""Calibration inputs for quant-compile --calib, from WikiText-2 valid.

    python -m lowbit.calib_data smollm2 -o calib/ [--samples 128 --seq-len 512]
    python -m lowbit.calib_data minilm  -o calib/ [--samples 256 --seq-len 128]

writes one `<input name>.npy` per model input, samples first: SmolLM2 gets
consecutive, non-overlapping windows of `seq-len` tokens (its GGUF
tokenizer); MiniLM gets real sentences, padded to `seq-len` with an
attention mask. Calibration text is the validation split; evaluation uses
test.txt (never calibrate on the text you evaluate on).
"""
import argparse
from pathlib import Path

import numpy as np


def smollm2(samples: int, seq_len: int):
    from .models.export_smollm2 import text_ids
    ids = text_ids(samples * seq_len, split="valid")
    if len(ids) < samples * seq_len:
        raise SystemExit(f"valid.txt has only {len(ids)} tokens, "
                         f"{samples} x {seq_len} asked")
    return {"input_ids": ids.reshape(samples, seq_len)}


def minilm(samples: int, seq_len: int):
    from .models.export_minilm import sentences
    from .models.minilm import MiniLM
    model = MiniLM.load()
    ids = np.zeros((samples, seq_len), np.int64)
    mask = np.zeros((samples, seq_len), np.int64)
    texts = sentences(samples, split="valid")
    for i, t in enumerate(texts):
        e = model.tokenizer.encode(t).ids[:seq_len]
        ids[i, :len(e)] = e
        mask[i, :len(e)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def write(model: str, out: Path, samples: int, seq_len: int) -> Path:
    arrays = {"smollm2": smollm2, "minilm": minilm}[model](samples, seq_len)
    out.mkdir(parents=True, exist_ok=True)
    for name, a in arrays.items():
        np.save(out / f"{name}.npy", a)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=["smollm2", "minilm"])
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--seq-len", type=int, default=None,
                    help="tokens per sample (SmolLM2 512, MiniLM 128)")
    args = ap.parse_args(argv)
    seq = args.seq_len or (512 if args.model == "smollm2" else 128)
    out = write(args.model, args.out, args.samples, seq)
    print(f"{args.samples} samples x {seq} tokens -> {out}")


if __name__ == "__main__":
    main()

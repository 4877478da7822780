"""Why GPTQ generalizes badly on SmolLM2: the experiments behind issue #28.

A numpy model of SmolLM2-135M (the package's GGUF, dequantized; the same
function as the ONNX export) with its 210 linear layers quantized by the
float64 reference GPTQ (python/lowbit/testing/gptq_reference.py) or by RTN,
so that each suspect can be switched on and off in minutes:

- calibration one-shot on the float model, or sequential (GPTQ's reference:
  block by block, the inputs of block i from the already-quantized blocks
  before it, and within a block q/k/v, o, gate/up, down in turn);
- the symmetric scale rule: "absmax" (s = max|w| / (2^(b-1)-1), what
  Lowbit's GPTQ did before issue #28), "extreme" (s = m / -2^(b-1), m the
  weight of largest magnitude: RTN's rule and GPTQ's default since), or
  "range" (s = 2 max|w| / (2^b - 1), the GPTQ reference's quantizer, all
  2^b levels);
- act-order (static groups) or in order; dampening;
- the calibration text: WikiText-2 valid as tokenized, detokenized, or
  detokenized and interleaved window by window with Austen's Persuasion
  ("mixed"; never the evaluation texts).

Perplexity over consecutive 512-token windows of WikiText-2 test (in
domain) and of Jane Austen's Emma (out of domain, never calibrated on).
Also reported: median per-layer weight and output error, and how many
weights error compensation pushed past their static group's range (they
clamp).

    .venv/bin/python bench/accuracy/gptq_study.py --bits 3 --configs rtn,gptq,gptq-seq
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from lowbit.models.smollm2 import SmolLM2  # noqa: E402
from lowbit import texts as T  # noqa: E402
from lowbit.testing import gptq_reference as ref  # noqa: E402

LAYERS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
# Layers that read one input share one Hessian, as Lowbit's calibration sites do.
INPUTS = {"attn_q": "qkv", "attn_k": "qkv", "attn_v": "qkv", "attn_output": "o",
          "ffn_gate": "gu", "ffn_up": "gu", "ffn_down": "down"}
ORDER = [("qkv", ["attn_q", "attn_k", "attn_v"]), ("o", ["attn_output"]),
         ("gu", ["ffn_gate", "ffn_up"]), ("down", ["ffn_down"])]


def texts():
    return {"wiki-valid": T.wikitext("valid"), "wiki-valid-natural": T.wikitext("valid", True),
            "persuasion": T.austen("Persuasion"),
            "wiki-test": T.wikitext("test"), "emma": T.austen("Emma")}


class Model:
    """SmolLM2 in float32 numpy with replaceable linear weights ([in, out]) and
    hooks on the inputs of each group of linear layers."""

    def __init__(self):
        self.m = SmolLM2()
        c = self.c = self.m.config
        self.emb = self.m.w("token_embd.weight")
        self.norm = self.m.w("output_norm.weight")
        self.w = {}
        for l in range(c.layers):
            for name in LAYERS:
                self.w[(l, name)] = np.ascontiguousarray(self.m.w(f"blk.{l}.{name}.weight").T)
        self.float_w = dict(self.w)
        self.cos, self.sin = self.m.rope_tables(4096)
        self.mask = np.triu(np.full((512, 512), -np.inf, np.float32), 1)
        self.norms = {(l, n): self.m.w(f"blk.{l}.{n}.weight")
                      for l in range(c.layers) for n in ("attn_norm", "ffn_norm")}

    def rms(self, x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.c.eps) * g

    def rope(self, t):
        s = t.shape[0]
        cos, sin = self.cos[:s, None, :], self.sin[:s, None, :]
        a, b = t[..., 0::2], t[..., 1::2]
        out = np.empty_like(t)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out

    def block(self, l, x, hook=None, stop=None):
        """Block l on x [S, H]; hook(group, input) sees each group's input;
        returns the output (or None after the `stop` group's input)."""
        c, w, s = self.c, self.w, x.shape[0]
        h = self.rms(x, self.norms[(l, "attn_norm")])
        if hook:
            hook("qkv", h)
        if stop == "qkv":
            return None
        q = self.rope((h @ w[(l, "attn_q")]).reshape(s, c.heads, c.head_dim))
        k = self.rope((h @ w[(l, "attn_k")]).reshape(s, c.kv_heads, c.head_dim))
        v = (h @ w[(l, "attn_v")]).reshape(s, c.kv_heads, c.head_dim)
        rep = c.heads // c.kv_heads
        k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
        q, k, v = q.transpose(1, 0, 2), k.transpose(1, 2, 0), v.transpose(1, 0, 2)
        scores = (q @ k) * np.float32(1 / np.sqrt(c.head_dim))
        scores += self.mask[:s, :s]
        scores -= scores.max(-1, keepdims=True)
        prob = np.exp(scores)
        prob /= prob.sum(-1, keepdims=True)
        att = (prob @ v).transpose(1, 0, 2).reshape(s, c.hidden)
        if hook:
            hook("o", att)
        if stop == "o":
            return None
        x = x + att @ w[(l, "attn_output")]
        h = self.rms(x, self.norms[(l, "ffn_norm")])
        if hook:
            hook("gu", h)
        if stop == "gu":
            return None
        g, u = h @ w[(l, "ffn_gate")], h @ w[(l, "ffn_up")]
        a = g / (1 + np.exp(-g)) * u
        if hook:
            hook("down", a)
        if stop == "down":
            return None
        return x + a @ w[(l, "ffn_down")]

    def logits(self, ids):
        x = self.emb[ids]
        for l in range(self.c.layers):
            x = self.block(l, x)
        return self.rms(x, self.norm) @ self.emb.T

    def perplexity(self, ids, windows):
        from lowbit.evaluate import perplexity
        return perplexity(lambda x: self.logits(x[0])[None], ids, windows)[0]


def hessians_of(model, l, windows, group_names, cap=0.0):
    """X^T X / rows of the inputs of `group_names` in block l over the
    cached block inputs `windows`. With `cap` > 0, a token whose squared
    norm exceeds cap x the geometric mean of the window's squared norms
    counts as if it had that norm (attention-sink tokens with massive
    activations; quant-compile's --hessian-token-cap)."""
    acc = {}
    def hook(group, x):
        if group in group_names:
            x64 = x.astype(np.float64)
            if cap > 0:
                e = np.einsum("ij,ij->i", x64, x64)
                limit = cap * np.exp(np.mean(np.log(np.maximum(e, 1e-300))))
                x64 = x64 * np.sqrt(np.minimum(1.0, limit / np.maximum(e, 1e-300)))[:, None]
            h, n = acc.get(group, (0, 0))
            acc[group] = (h + x64.T @ x64, n + x.shape[0])
    stop = group_names[-1]
    for x in windows:
        model.block(l, x, hook=hook, stop=stop)
    return {g: h / n for g, (h, n) in acc.items()}


def clamped_fraction(w, deq, bits, group, rule):
    """Of the weights GPTQ stored at a clamped code: how many (the compensated
    value left the static group's range)."""
    k, n = w.shape
    q = ref.Quantizer(bits, rule)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    count = 0
    for g0 in range(0, k, group):
        s = q.scale(w[g0:g0 + group].astype(np.float64))
        codes = np.round(deq[g0:g0 + group] / s)
        count += int(np.sum((codes == lo) | (codes == hi)))
    return count / w.size


def quantize(model, cfg, calib, bits, group, log):
    """Quantizes every linear layer of `model` as `cfg` says; returns per-layer
    (weight error, output error, clamped fraction)."""
    model.w = dict(model.float_w)
    stats = []
    windows = [model.emb[ids] for ids in calib]
    method = cfg["method"]
    if cfg.get("calibration") == "two-pass":
        first = quantize(model, dict(cfg, calibration="one-shot"), calib, bits, group, log)
        # Each block's inputs on the first pass's quantized model.
        windows2, xs = [], [model.emb[ids] for ids in calib]
        for l in range(model.c.layers):
            windows2.append(xs)
            xs = [model.block(l, x) for x in xs]
        first_w = dict(model.w)
        model.w = dict(model.float_w)
        del first
    for l in range(model.c.layers):
        if method == "rtn":
            for name in LAYERS:
                model.w[(l, name)] = ref.rtn(model.float_w[(l, name)], bits, group).astype(np.float32)
            windows = [model.block(l, x) for x in windows] if cfg.get("need_windows") else windows
            continue
        if cfg["calibration"] == "two-pass":
            # Hessians from the model quantized by a first, one-shot pass
            # (all blocks quantized, as quant-compile's second calibration
            # run sees them).
            saved = dict(model.w)
            model.w = first_w
            hs = hessians_of(model, l, windows2[l], [g for g, _ in ORDER], cfg.get("cap", 0.0))
            model.w = saved
        elif cfg["calibration"] == "one-shot":
            # Hessians from the float model's activations (all blocks float).
            saved = dict(model.w)
            model.w = dict(model.float_w)
            hs = hessians_of(model, l, windows, [g for g, _ in ORDER], cfg.get("cap", 0.0))
            model.w = saved
        for group_name, names in ORDER:
            if cfg["calibration"] == "sequential":
                h = hessians_of(model, l, windows, [group_name], cfg.get("cap", 0.0))[group_name]
            else:
                h = hs[group_name]
            for name in names:
                w = model.float_w[(l, name)]
                _, _, deq = ref.gptq(w, h, bits, group, act_order=cfg["act_order"],
                                     damp=cfg["damp"], rule=cfg["rule"])
                model.w[(l, name)] = deq.astype(np.float32)
                we, oe = ref.layer_errors(w, deq, h)
                cf = clamped_fraction(w, deq, bits, group, cfg["rule"]) if cfg["act_order"] else 0.0
                stats.append((we, oe, cf))
        # The next block's inputs: one-shot keeps the float model's, sequential
        # takes the quantized block's.
        if cfg["calibration"] == "sequential":
            windows = [model.block(l, x) for x in windows]
        elif cfg["calibration"] == "two-pass":
            pass
        else:
            saved = dict(model.w)
            model.w = dict(model.float_w)
            windows = [model.block(l, x) for x in windows]
            model.w = saved
        log(f"  block {l + 1}/{model.c.layers}")
    return stats


CONFIGS = {
    "float": {"method": "float"},
    "rtn": {"method": "rtn"},
}
# GPTQ variants: gptq[-<rule>][-noact][-seq][-damp<x>]; the rule defaults to
# absmax (the old behaviour), act-order on, one-shot, damp 0.01.
for rule in ("absmax", "extreme", "range"):
    for act in (True, False):
        for cal in ("one-shot", "sequential", "two-pass"):
            for damp in (0.01, 0.05, 0.1, 0.2):
                name = ("gptq" + ("" if rule == "absmax" else f"-{rule}") +
                        ("" if act else "-noact") + {"one-shot": "", "sequential": "-seq", "two-pass": "-2pass"}[cal] +
                        ("" if damp == 0.01 else f"-damp{damp}"))
                CONFIGS[name] = {"method": "gptq", "calibration": cal, "rule": rule,
                                 "act_order": act, "damp": damp}


# Token-capped Hessians: "<config>-cap<c>" (e.g. gptq-extreme-noact-damp0.1-cap10).
for name in list(CONFIGS):
    if name.startswith("gptq"):
        for c in (1, 2, 4, 10, 100):
            CONFIGS[f"{name}-cap{c}"] = dict(CONFIGS[name], cap=float(c))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="float,rtn,gptq")
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--group", type=int, default=128)
    ap.add_argument("--calib-windows", type=int, default=32)
    ap.add_argument("--calib-text", default="wiki-valid",
                    choices=["wiki-valid", "wiki-valid-natural", "persuasion", "mixed"])
    ap.add_argument("--windows", type=int, default=6, help="evaluation windows per text")
    args = ap.parse_args(argv)
    model = Model()
    tok = model.m.tokenizer()
    t = texts()
    ids_of = lambda name, n: np.array(tok.encode(t[name][:n * 512 * 8]).ids[:n * 512], np.int64)
    if args.calib_text == "mixed":
        half = (args.calib_windows + 1) // 2
        a = ids_of("wiki-valid-natural", half).reshape(half, 512)
        b = ids_of("persuasion", args.calib_windows - half).reshape(-1, 512)
        calib_ids = np.stack([w for pair in zip(a, b) for w in pair] + list(a[len(b):]))
    else:
        calib_ids = ids_of(args.calib_text, args.calib_windows).reshape(args.calib_windows, 512)
    evals = {"wiki-test": ids_of("wiki-test", args.windows), "emma": ids_of("emma", args.windows)}
    log = lambda msg: print(msg, file=sys.stderr, flush=True)
    rows = []
    for name in args.configs.split(","):
        cfg = CONFIGS[name]
        t0 = time.time()
        stats = [] if cfg["method"] == "float" else quantize(model, cfg, calib_ids, args.bits,
                                                            args.group, log)
        if cfg["method"] == "float":
            model.w = dict(model.float_w)
        ppl = {k: model.perplexity(v, args.windows) for k, v in evals.items()}
        s = np.array(stats) if stats else np.zeros((1, 3))
        row = (name, ppl["wiki-test"], ppl["emma"], np.median(s[:, 0]), np.median(s[:, 1]),
               np.mean(s[:, 2]), time.time() - t0)
        rows.append(row)
        print(f"{name:22} wiki {row[1]:9.2f}  emma {row[2]:9.2f}  weight err {row[3]:.3f}  "
              f"output err {row[4]:.3f}  clamped {row[5]:.4f}  ({row[6]:.0f} s)", flush=True)
    print(f"\nW{args.bits} g{args.group}, calibration {args.calib_windows} x 512 tokens of "
          f"{args.calib_text}; {args.windows} x 512 tokens per evaluation text")
    print("| config | WikiText-2 test | Emma | median weight err | median output err | clamped |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.2f} | {r[2]:.2f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.4f} |")


if __name__ == "__main__":
    main()

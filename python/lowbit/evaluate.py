"""How Lowbit measures models against their float reference, in one place
(the main job, the benchmarks and the tests use these):

- causal LMs: perplexity over consecutive windows of token ids (stride =
  window, the first token of each window unscored);
- sentence encoders: cosine similarity of embeddings with the reference, and
  how often each sentence keeps its nearest neighbour.
"""
import numpy as np


def log_softmax(logits):
    """log softmax over the last axis, in float64."""
    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def token_nll(logits, ids):
    """Negative log-likelihood of each next token: `logits` [L, V] of one
    window, `ids` [L] its tokens; returns L - 1 values."""
    lp = log_softmax(logits)
    ids = np.asarray(ids)
    return -lp[np.arange(len(ids) - 1), ids[1:]]


def perplexity(run, ids, windows, length=512):
    """Perplexity of `run` (token ids [1, length] -> logits [1, length, V])
    over `windows` consecutive windows of `ids`; returns (perplexity, number
    of tokens scored)."""
    nll = []
    for w in range(windows):
        x = np.asarray(ids[w * length:(w + 1) * length])[None, :]
        nll.extend(token_nll(run(x)[0], x[0]))
    return float(np.exp(np.mean(nll))), len(nll)


def normalize(embeddings):
    e = np.asarray(embeddings, dtype=np.float64)
    return e / np.linalg.norm(e, axis=-1, keepdims=True)


def nearest_neighbours(embeddings):
    """Index of each sentence's nearest other sentence (cosine)."""
    e = normalize(embeddings)
    sim = e @ e.T
    np.fill_diagonal(sim, -2)
    return sim.argmax(1)


def embedding_agreement(embeddings, reference):
    """Cosine similarity of each embedding with its reference (mean, min) and
    the fraction of sentences whose nearest neighbour is the reference's."""
    e, r = normalize(embeddings), normalize(reference)
    cos = (e * r).sum(-1)
    same = (nearest_neighbours(e) == nearest_neighbours(r)).mean()
    return {"cosine": float(cos.mean()), "cosine_min": float(cos.min()),
            "same_neighbour": float(same)}

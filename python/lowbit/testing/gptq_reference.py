"""GPTQ in float64 numpy, written from the paper (Frantar et al., "GPTQ:
Accurate Post-Training Quantization for Generative Pre-trained Transformers",
ICLR 2023, Algorithm 1), independently of lib/Quantization/Gptq.cpp: the
reference the tests hold Lowbit's GPTQ to on real layers with real Hessians.

Column by column without lazy batching (the paper's batching changes the
order of floating-point updates, not the result), in float64, with the
paper's options: act-order (columns by decreasing H_ii, "static" groups whose
parameters come from the unmodified weight) or in order (a group's parameters
fitted on the current, error-compensated weights when its first column comes
up), dampening by a fraction of mean(diag H).

Also the calibration statistics file (.lbcal) reader and the layer errors
quant-compile reports, so that tests compare like with like.
"""
import json
import struct
from dataclasses import dataclass

import numpy as np

MAGIC = b"LBCALIB1"


@dataclass
class Quantizer:
    """Symmetric b-bit integer codes with a scale per group. `rule` is the
    scale rule: "extreme" s = m / -2^(b-1), m the signed weight of largest
    magnitude (it lands on the code -2^(b-1); llama.cpp's q4_0, Lowbit's
    default), "absmax" s = max|w| / (2^(b-1) - 1) (codes -(2^(b-1)-1) ..
    2^(b-1)-1, -2^(b-1) reached only by clamping), or "range" s = 2 max|w| /
    (2^b - 1) (the GPTQ reference's quantizer: 2^b levels, -2^(b-1) ..
    2^(b-1)-1)."""
    bits: int
    rule: str = "absmax"

    def scale(self, w):
        if self.rule == "extreme":
            m = w[np.argmax(np.abs(w), axis=0), np.arange(w.shape[1])]
            s = m / -(2 ** (self.bits - 1))
            return np.where(s == 0, 1.0, s)
        m = np.max(np.abs(w), axis=0)
        if self.rule == "absmax":
            s = m / (2 ** (self.bits - 1) - 1)
        elif self.rule == "range":
            s = 2 * m / (2 ** self.bits - 1)
        else:
            raise ValueError(self.rule)
        return np.where(s == 0, 1.0, s)

    def quantize(self, w, s):
        lo, hi = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        q = np.clip(np.round(w / s), lo, hi)  # numpy rounds half to even
        return q, q * s


def gptq(w, h, bits, group, act_order=True, damp=0.01, rule="absmax"):
    """GPTQ of the K x N weight `w` (float64) with the K x K Hessian `h`;
    returns (codes K x N, scales groups x N, dequantized K x N)."""
    w = np.array(w, dtype=np.float64)
    h = np.array(h, dtype=np.float64)
    h = 0.5 * (h + h.T)
    k, n = w.shape
    quantizer = Quantizer(bits, rule)
    dead = np.diag(h) <= 0
    h[dead, :] = 0
    h[:, dead] = 0
    h[dead, dead] = 1
    w[dead, :] = 0
    group = group or k
    groups = (k + group - 1) // group
    perm = np.argsort(-np.diag(h), kind="stable") if act_order else np.arange(k)
    scales = np.zeros((groups, n))
    fitted = np.zeros(groups, dtype=bool)
    if act_order:
        for g in range(groups):
            scales[g] = quantizer.scale(w[g * group:(g + 1) * group])
        fitted[:] = True
    hp = h[np.ix_(perm, perm)]
    hp = hp + damp * np.mean(np.diag(hp)) * np.eye(k)
    u = np.linalg.cholesky(np.linalg.inv(hp)).T  # upper: inv(hp) = u.T u
    wp = w[perm].copy()  # rows in visiting order
    codes = np.zeros((k, n))
    deq = np.zeros((k, n))
    for i in range(k):
        orig = perm[i]
        g = orig // group
        if not fitted[g]:
            scales[g] = quantizer.scale(wp[i:i + group])
            fitted[g] = True
        q, dq = quantizer.quantize(wp[i], scales[g])
        codes[orig], deq[orig] = q, dq
        err = (wp[i] - dq) / u[i, i]
        wp[i + 1:] -= np.outer(u[i, i + 1:], err)
    return codes, scales, deq


def rtn(w, bits, group):
    """Lowbit's RTN (lib/Quantization/Rtn.cpp, symmetric, the "extreme"
    rule); returns the dequantized K x N weight."""
    w = np.asarray(w, dtype=np.float64)
    q = Quantizer(bits, "extreme")
    out = np.empty_like(w)
    for g0 in range(0, w.shape[0], group or w.shape[0]):
        blk = w[g0:g0 + (group or w.shape[0])]
        out[g0:g0 + len(blk)] = q.quantize(blk, q.scale(blk))[1]
    return out


def layer_errors(w, wq, h):
    """quant-compile's per-layer errors: the relative Frobenius error of the
    weight, and sqrt(tr(D^T H D) / tr(W^T H W)) with D = W - W'."""
    w, wq, h = (np.asarray(a, dtype=np.float64) for a in (w, wq, h))
    d = w - wq
    weight = np.linalg.norm(d) / np.linalg.norm(w)
    output = np.sqrt(np.sum(d * (h @ d)) / np.sum(w * (h @ w)))
    return float(weight), float(output)


def read_statistics(path):
    """A .lbcal file: {"model", "samples", "sites": {name: {"rows",
    "abs_max", "min", "max", "mean", "hessian" (C x C, X^T X / rows)}}}."""
    data = open(path, "rb").read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a Lowbit calibration statistics file")
    (length,) = struct.unpack("<Q", data[8:16])
    header = json.loads(data[16:16 + length])
    offset = 16 + length
    sites = {}
    for site in header["sites"]:
        c = site["channels"]
        def take(count):
            nonlocal offset
            a = np.frombuffer(data, np.float32, count, offset)
            offset += 4 * count
            return a
        entry = {"rows": site["rows"]}
        for name in ("abs_max", "min", "max", "mean"):
            entry[name] = take(c)
        entry["hessian"] = take(c * c).reshape(c, c)
        sites[site["name"]] = entry
    return {"model": header["model"], "samples": header["samples"], "sites": sites}

"""Checks the Hessian of the site reading the model's input `x` in a .lbcal
file against X^T X with each token's weight capped as lowbit-expose-calibration
token-cap defines it (numpy, float64), and that the cap changed it.

    check_token_cap.py stats.lbcal x.npy CAP
"""
import sys

import numpy as np

from lowbit.testing.gptq_reference import read_statistics


def main(stats_path, x_path, cap):
    stats = read_statistics(stats_path)
    x = np.load(x_path).astype(np.float64)
    capped, plain, rows = 0.0, 0.0, 0
    for sample in x:
        e = np.einsum("ij,ij->i", sample, sample)
        g = np.exp(np.mean(np.log(e[e > 0])))
        w = np.where(e > 0, np.minimum(1.0, cap * g / np.where(e > 0, e, 1.0)), 1.0)
        capped = capped + (sample * w[:, None]).T @ sample
        plain = plain + sample.T @ sample
        rows += sample.shape[0]
    capped, plain = capped / rows, plain / rows
    site = stats["sites"]["fc1:in"]
    assert site["rows"] == rows, (site["rows"], rows)
    h = site["hessian"].astype(np.float64)
    err = np.linalg.norm(h - capped) / np.linalg.norm(capped)
    change = np.linalg.norm(plain - capped) / np.linalg.norm(plain)
    assert err < 1e-5, err
    assert change > 0.5, change
    print(f"token cap {cap:g}: hessian matches (relative error {err:.1e}), "
          f"{change:.2f} from plain X^T X")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))

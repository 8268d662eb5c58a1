"""The digits data: scikit-learn ships 1797 labelled 8x8 images (no download).

A fixed shuffle splits them three ways: images to train on, held-out images to calibrate
the quantizers on (never trained on), and held-out images to measure accuracy on.
"""

import torch

TRAIN, CALIBRATION = 1100, 297  # the remaining 400 images are the test set


def load_digits_split(seed: int = 0):
    """{"train": (x, y), "calibration": (x, y), "test": (x, y)}; x is (N, 1, 8, 8) in [0, 1]."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    x, y = x[order], y[order]
    a, b = TRAIN, TRAIN + CALIBRATION
    return {"train": (x[:a], y[:a]), "calibration": (x[a:b], y[a:b]), "test": (x[b:], y[b:])}

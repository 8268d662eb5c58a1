"""Train DigitsNet on the digits training split and write its checkpoint.

    python3 examples/demo/train.py            # writes examples/demo/digits_net.pt

The committed checkpoint was made by this script (seed 0; a few seconds of CPU). The demo
(``run.py``) loads it, or trains on the spot when it is missing.
"""

import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKPOINT = os.path.join(HERE, "digits_net.pt")


def train(model, x, y, epochs=12, lr=3e-3, seed=0):
    """Adam on cross-entropy, batches of 64. Returns the final epoch's mean loss."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    loss_sum = 0.0
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=g)
        loss_sum = 0.0
        for i in range(0, len(y), 64):
            idx = order[i:i + 64]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(idx)
    model.eval()
    return loss_sum / len(y)


def trained_model(seed=0):
    """A freshly trained DigitsNet (deterministic for a given seed and torch version)."""
    sys.path.insert(0, HERE)
    from data import load_digits_split
    from digits_net import DigitsNet

    torch.manual_seed(seed)
    model = DigitsNet()
    x, y = load_digits_split()["train"]
    train(model, x, y, seed=seed)
    return model


def main():
    torch.set_num_threads(1)
    t0 = time.process_time()
    model = trained_model()
    torch.save(model.state_dict(), CHECKPOINT)
    print("trained in %.1f s of CPU; wrote %s (%d bytes)"
          % (time.process_time() - t0, CHECKPOINT, os.path.getsize(CHECKPOINT)))


if __name__ == "__main__":
    main()

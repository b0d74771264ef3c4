"""The README's figure: what CE, LS|SE and SoftLoc learn from the same misaligned labels.

A small 1-D convolutional detector (the tutorial "Your own model with SoftLocLoss") is trained
three times on decaying impulses whose training labels are moved by a rounded normal of
sigma = 2 frames, with each loss (1,500 steps, seed 0), and its output probabilities on one
clean test sequence are drawn with the true event frames.

    python docs/figures/make_outputs_figure.py      # writes docs/figures/outputs.png (~1 min)
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from softloc.losses import LabelSmoothingSELoss, SoftLocLoss  # noqa: E402
from softloc.noise import RoundedNormal, misalign_frames  # noqa: E402

T, SIGMA, STEPS = 200, 2.0, 1500


def impulses(n: int, rng: np.random.Generator):
    y = np.zeros((n, 1, T), dtype=np.float32)
    x = np.zeros_like(y)
    for i in range(n):
        for t in rng.choice(np.arange(20, T - 20), size=rng.integers(1, 5), replace=False):
            y[i, 0, t] = 1
            x[i, 0, t:] += np.exp(-np.arange(T - t) / 6.0) * rng.uniform(0.5, 1.5)
    x += rng.normal(0.0, 0.1, size=x.shape).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


def train(criterion) -> nn.Module:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv1d(1, 16, 9, padding=4), nn.ReLU(),
                          nn.Conv1d(16, 16, 9, padding=4), nn.ReLU(), nn.Conv1d(16, 1, 1))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(STEPS):
        x, y = impulses(16, rng)
        y = misalign_frames(y, RoundedNormal(SIGMA), generator=rng, outside="clip").labels
        loss = criterion(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return model.eval()


def main() -> None:
    losses = {"CE (per-frame cross-entropy)": nn.BCEWithLogitsLoss(),
              "LS|SE (squared error to smoothed labels)": LabelSmoothingSELoss(softness=2.0),
              "SoftLoc (SLL + counting)": SoftLocLoss(softness=2.0, alpha=0.5)}
    x, y = impulses(1, np.random.default_rng(7))
    events = np.flatnonzero(y[0, 0].numpy())
    fig, axes = plt.subplots(len(losses), 1, figsize=(8, 5.2), sharex=True)
    for ax, (name, criterion) in zip(axes, losses.items()):
        model = train(criterion)
        with torch.no_grad():
            p = torch.sigmoid(model(x))[0, 0].numpy()
        ax.plot(p, color="tab:blue", lw=1.5)
        for t in events:
            ax.axvline(t, color="tab:red", lw=1, ls="--")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("p")
        ax.set_title(name, fontsize=10, loc="left")
    axes[-1].set_xlabel("frame (dashed: true events; training labels were off by "
                        f"a rounded normal of sigma = {SIGMA:g} frames)")
    fig.tight_layout()
    out = Path(__file__).with_name("outputs.png")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

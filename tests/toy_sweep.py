"""A tiny sweep experiment for the runner's tests (not part of the package).

``toy_run_one`` returns deterministic scores: a base value per loss and distribution, minus
``slope`` times the noise level, plus ``jitter`` times a standard normal drawn from a NumPy
generator seeded by the run's parameters. Two environment variables change how a run behaves
without changing its result, so tests can slow runs down (``TOY_SWEEP_DELAY_S``, seconds) or
make every run of one loss fail (``TOY_SWEEP_FAIL_LOSS``).
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from softloc.runner import SweepExperiment

BASE = {"ce": 0.6, "sll": 0.7, "softloc": 0.8}
SHIFT = {"normal": 0.0, "uniform": -0.05}


@dataclass(frozen=True)
class ToyConfig:
    slope: float = 0.1
    jitter: float = 0.02

    def to_dict(self) -> dict:
        return asdict(self)


def toy_run_one(params: dict, config: ToyConfig) -> dict:
    delay = float(os.environ.get("TOY_SWEEP_DELAY_S", "0"))
    if delay:
        time.sleep(delay)
    if params["loss"] == os.environ.get("TOY_SWEEP_FAIL_LOSS"):
        raise RuntimeError(f"loss {params['loss']} diverged")
    key = [params["seed"], params["fold"], zlib.crc32(params["loss"].encode()),
           zlib.crc32(params["distribution"].encode()), round(params["noise_level"] * 1000)]
    rng = np.random.default_rng(key)
    f1 = (BASE[params["loss"]] + SHIFT[params["distribution"]]
          - config.slope * params["noise_level"] + config.jitter * rng.standard_normal())
    return {
        "f1": f1,
        "precision": np.float32(f1 + 0.01),  # a NumPy scalar: the runner converts it
        "events": int(rng.integers(10, 20)),
        "pid": os.getpid(),
    }


TOY = SweepExperiment(
    name="toy",
    summary="a toy sweep with seeded scores (tests only)",
    config_type=ToyConfig,
    run_one=toy_run_one,
    axes={
        "loss": ("ce", "sll", "softloc"),
        "noise_level": (0.0, 0.5, 1.0),
        "distribution": ("normal", "uniform"),
        "seed": (0, 1, 2),
        "fold": (0, 1),
    },
    quick_axes={
        "loss": ("ce", "softloc"),
        "noise_level": (0.0, 1.0),
        "distribution": ("normal",),
        "seed": (0, 1),
        "fold": (0,),
    },
    quick_config=ToyConfig(jitter=0.01),
    score="f1",
    score_label="F1",
)

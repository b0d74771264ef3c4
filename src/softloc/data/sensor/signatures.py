"""The generative model's vocabulary: the latent factors of a respiration cycle (:data:`FACTORS`),
the cycle types (:data:`CYCLE_KINDS`, :data:`DISTRACTOR_KINDS`) and the signatures each type adds
to the factors (the puff's, the gestures around it, the distractors')."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FACTORS = (
    "inhalation_depth",
    "inhalation_duration",
    "exhalation_duration",
    "breath_hold",
    "speech",
    "hand_at_mouth",
    "wrist_roll",
    "gesture_motion",
    "activity",
)
"""Latent physiological factors of a respiration cycle (see the package docstring)."""

DISTRACTOR_KINDS = ("eat", "drink", "talk", "deep_breath")
"""Cycle types that share part of the puff signature, in the order of ``distractor_mix``."""

CYCLE_KINDS = ("normal", "puff") + DISTRACTOR_KINDS
"""Names of the codes in :attr:`SensorSession.kinds`: ``CYCLE_KINDS[code]``."""

_CHEST = (0, 1, 2, 3, 4)
_WRIST = (5, 6, 7)
_ACTIVITY = 8
_NUM_FACTORS = len(FACTORS)


def _factors(**values: float) -> np.ndarray:
    vector = np.zeros(_NUM_FACTORS)
    for name, value in values.items():
        vector[FACTORS.index(name)] = value
    return vector


_PUFF = _factors(inhalation_depth=2.0, inhalation_duration=1.5, exhalation_duration=1.0,
                 breath_hold=1.5, speech=-0.5, hand_at_mouth=2.0, wrist_roll=1.0,
                 gesture_motion=-0.5)
_RAISE = _factors(hand_at_mouth=0.8, wrist_roll=0.3, gesture_motion=1.5)
_LOWER = _factors(exhalation_duration=0.3, hand_at_mouth=0.5, wrist_roll=0.3, gesture_motion=1.5)


@dataclass(frozen=True)
class _Distractor:
    shared: tuple[str, ...]  # factors copied from the puff signature, times the similarity
    own: np.ndarray  # the distractor's own deviations
    gesture: bool  # hand raised before and lowered after, like a puff
    cycles: float  # mean cycles per bout
    gap: float  # mean steps between cycles of a bout (1 = consecutive)

    def signature(self, similarity: float) -> np.ndarray:
        mask = np.zeros(_NUM_FACTORS)
        mask[[FACTORS.index(name) for name in self.shared]] = 1.0
        return similarity * mask * _PUFF + self.own


_DISTRACTORS = {
    "eat": _Distractor(("hand_at_mouth", "breath_hold"),
                       _factors(inhalation_depth=-0.5, wrist_roll=-1.0, gesture_motion=0.5),
                       gesture=True, cycles=8.0, gap=5.0),
    "drink": _Distractor(("hand_at_mouth", "wrist_roll", "breath_hold"),
                         _factors(inhalation_depth=-0.5, exhalation_duration=-0.3),
                         gesture=True, cycles=3.0, gap=8.0),
    "talk": _Distractor(("inhalation_depth", "exhalation_duration"),
                        _factors(inhalation_duration=-1.0, breath_hold=-0.5, speech=2.0),
                        gesture=False, cycles=6.0, gap=1.0),
    "deep_breath": _Distractor(("inhalation_depth", "inhalation_duration", "exhalation_duration"),
                               _factors(speech=-0.3), gesture=False, cycles=1.0, gap=1.0),
}

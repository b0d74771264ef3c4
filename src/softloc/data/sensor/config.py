"""The generator's options (:class:`SensorConfig`), validated."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..._checks import check_int, check_real
from .signatures import DISTRACTOR_KINDS


@dataclass(frozen=True)
class SensorConfig:
    """Options of :func:`generate_sensor_dataset`; the defaults and their reasons are in the
    package docstring (:mod:`softloc.data.sensor`, "Why the defaults").

    Attributes
    ----------
    num_subjects:
        Subjects (people), each with their own signal statistics. Default 6 (puffMarker's users).
    sessions_per_subject:
        Recordings per subject. Default 5.
    num_features:
        Features per step. Default 37 (puffMarker's).
    session_length:
        ``(low, high)``: a session's target length in steps is uniform on ``[low, high]``; it is
        longer only when its smoking episodes need more (``10`` normal cycles are kept before the
        first and after the last puff). Default ``(300, 700)``.
    episodes_per_session:
        Mean smoking episodes (cigarettes) per session, ``1 + Poisson(mean - 1)``, so at least
        one. Default 1.5.
    puffs_per_episode:
        Mean puffs per episode, ``1 + Poisson(mean - 1)``. Default 10.
    inter_puff_gap:
        Mean steps from one puff to the next within an episode. Default 6.
    min_inter_puff_gap:
        Smallest such gap in steps; the gap is ``min + NegativeBinomial`` (shape 4, right-skewed)
        with the mean above, capped at ``min_episode_gap - 1``. Default 2.
    episode_gap:
        Mean steps from the last puff of an episode to the first of the next,
        ``min_episode_gap + Exponential``. Default 150.
    min_episode_gap:
        Smallest gap between episodes in steps. Default 60.
    puff_strength:
        Multiplier of the puff signature (1: the table of the package docstring). Default 1.
    puff_variability:
        Standard deviation of the log of a puff's (or distractor's) amplitude. Default 0.3.
    evidence_before, evidence_after:
        Shares of a puff's own signature that lie in the previous / next cycle instead of the
        puff's cycle (which keeps ``1 - before - after``). Defaults 0 and 0.1.
    context_before, context_after:
        Amplitude of the hand-raising / hand-lowering gesture in the previous / next cycle.
        Defaults 0.5 and 0.5.
    distractor_rate:
        Expected distractor cycles per step before overlaps (distractor cycles that fall on a
        puff or on another distractor are dropped, a few percent of them). Default 0.08.
    distractor_similarity:
        In ``[0, 1]``: the share of the puff's values that a distractor's shared factors take.
        Default 0.8.
    distractor_mix:
        Non-negative weights of :data:`DISTRACTOR_KINDS` (eat, drink, talk, deep_breath): their
        shares of distractor cycles. Default ``(0.3, 0.2, 0.4, 0.1)``.
    subject_variation:
        Strength ``v >= 0`` of the differences between subjects (0: all subjects draw from one
        distribution). Default 0.5.
    feature_noise:
        Standard deviation of each feature's independent noise relative to a unit factor
        loading. Default 0.6.
    background_correlation:
        AR(1) coefficient in ``[0, 1)`` of the resting factors from cycle to cycle. Default 0.5.
    artifact_rate:
        Probability in ``[0, 1]`` that a cycle carries a motion artifact. Default 0.01.

    Examples
    --------
    >>> config = SensorConfig(evidence_after=0.5)
    >>> config.evidence_after, SensorConfig(**config.to_dict()) == config
    (0.5, True)
    """

    num_subjects: int = 6
    sessions_per_subject: int = 5
    num_features: int = 37
    session_length: tuple[int, int] = (300, 700)
    episodes_per_session: float = 1.5
    puffs_per_episode: float = 10.0
    inter_puff_gap: float = 6.0
    min_inter_puff_gap: int = 2
    episode_gap: float = 150.0
    min_episode_gap: int = 60
    puff_strength: float = 1.0
    puff_variability: float = 0.3
    evidence_before: float = 0.0
    evidence_after: float = 0.1
    context_before: float = 0.5
    context_after: float = 0.5
    distractor_rate: float = 0.08
    distractor_similarity: float = 0.8
    distractor_mix: tuple[float, float, float, float] = (0.3, 0.2, 0.4, 0.1)
    subject_variation: float = 0.5
    feature_noise: float = 0.6
    background_correlation: float = 0.5
    artifact_rate: float = 0.01

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("num_subjects", "sessions_per_subject", "num_features",
                     "min_inter_puff_gap"):
            set_(self, name, check_int(getattr(self, name), name, minimum=1))
        set_(self, "min_episode_gap", check_int(self.min_episode_gap, "min_episode_gap",
                                                 minimum=self.min_inter_puff_gap + 1))
        length = self.session_length
        if not isinstance(length, (tuple, list)) or len(length) != 2:
            raise TypeError(f"session_length must be a (low, high) pair of ints, got {length!r}")
        low = check_int(length[0], "session_length[0]", minimum=1)
        high = check_int(length[1], "session_length[1]", minimum=low)
        set_(self, "session_length", (low, high))
        for name in ("episodes_per_session", "puffs_per_episode"):
            set_(self, name, check_real(getattr(self, name), name, minimum=1.0))
        set_(self, "inter_puff_gap", check_real(self.inter_puff_gap, "inter_puff_gap",
                                                  minimum=self.min_inter_puff_gap))
        if self.inter_puff_gap >= self.min_episode_gap - 1 and self.inter_puff_gap > \
                self.min_inter_puff_gap:
            raise ValueError(
                f"inter_puff_gap must be < min_episode_gap - 1 = {self.min_episode_gap - 1} "
                f"(within-episode gaps are capped there), got {self.inter_puff_gap}"
            )
        set_(self, "episode_gap", check_real(self.episode_gap, "episode_gap",
                                               minimum=self.min_episode_gap))
        for name in ("puff_strength", "puff_variability", "context_before", "context_after",
                     "subject_variation", "feature_noise"):
            set_(self, name, check_real(getattr(self, name), name, minimum=0.0))
        for name in ("evidence_before", "evidence_after", "distractor_rate",
                     "distractor_similarity", "artifact_rate"):
            set_(self, name, check_real(getattr(self, name), name, minimum=0.0, maximum=1.0))
        if self.evidence_before + self.evidence_after > 1.0 + 1e-12:
            raise ValueError(
                "evidence_before + evidence_after must be <= 1 (shares of the puff signature), "
                f"got {self.evidence_before} + {self.evidence_after}"
            )
        set_(self, "background_correlation",
             check_real(self.background_correlation, "background_correlation", minimum=0.0,
                          maximum=1.0, high_open=True))
        mix = self.distractor_mix
        if not isinstance(mix, (tuple, list)) or len(mix) != len(DISTRACTOR_KINDS):
            raise TypeError(
                f"distractor_mix must be {len(DISTRACTOR_KINDS)} weights for {DISTRACTOR_KINDS}, "
                f"got {mix!r}"
            )
        mix = tuple(check_real(w, f"distractor_mix[{i}]", minimum=0.0) for i, w in enumerate(mix))
        if self.distractor_rate > 0 and sum(mix) <= 0:
            raise ValueError("distractor_mix must have a positive weight when distractor_rate > 0")
        set_(self, "distractor_mix", mix)

    def to_dict(self) -> dict:
        """All options; tuples become lists (JSON). ``SensorConfig(**d)`` rebuilds it."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

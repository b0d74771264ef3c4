"""Golf-swing videos: procedurally rendered swings with exact event frames (paper section 6.1).

GolfDB (1400 annotated swing clips, 160x160) cannot be had offline. This package renders stand-ins
whose 8 events come from the geometry of the swing instead of from annotators:

* **Swing model** (:class:`SwingParams`, :func:`swing_angles`, :func:`swing_pose`): a golfer of
  torso, legs, head, lead arm, trail arm, club shaft, club head and a ball. The lead arm turns
  by ``theta`` in the swing plane (inclined by ``plane_angle`` to the ground, through the target
  line) about a fixed shoulder pivot; the club turns by ``theta + phi`` (``phi``: wrist hinge).
  ``theta = 0`` points straight down the plane, so with ``phi = 0`` the club head rests on the
  ball. Timing (seconds): still at address for ``pre_address``; backswing of ``backswing`` with
  a cosine ease (slow start, slow arrival); pause of ``pause`` at the top; downswing of
  ``downswing``, accelerating (``theta_top (1 - u^2)``) to impact; follow-through
  decelerating (``-theta_finish (1 - (1 - v)^2)``) with a duration that keeps the angular
  speed continuous at impact; still at the finish for ``hold``. The hinge grows linearly with
  ``theta`` in the backswing, releases late (``(theta / theta_top)^2``) in the downswing and
  re-hinges the other way in the follow-through; it is 0 exactly at impact.
* **Events** (:func:`event_times`, :func:`event_frames`): address = start of motion; toe-up =
  shaft parallel to the ground in the backswing (``theta + phi = 90 deg``); mid-backswing = lead
  arm parallel (``theta = 90 deg``); top = maximum of ``theta`` (middle of the pause);
  mid-downswing = lead arm parallel on the way down; impact = club head at the ball (``theta =
  0``; the head's lowest point, at the ball's x); mid-follow-through = shaft parallel after impact
  (``theta + phi = -90 deg``); finish = end of motion. Frame ``k`` shows time ``k / fps``. A
  crossing event is put on whichever of the two frames around the crossing time has the geometry
  nearer the definition (the angle nearer 90 deg, the head nearer the ball); this is the
  nearest frame in time unless the speed changes within one frame interval. Top is the frame
  of largest sampled ``theta`` (nearest to the middle of the pause on a tie); address and finish
  are the nearest frames to the start and end of motion. Parameters whose events would not be
  strictly increasing at the clip's frame rate are redrawn by :func:`sample_swing_params`.
* **Views**: face-on (image x = the target line) or down-the-line (image x = the depth axis,
  mixed with a little of the target line, ``view_skew``, so the swing arc is an ellipse).
  Both keep the vertical axis, so "parallel to the ground" is the same in 3-D and on screen.
* **Frame rates**: normal speed (``GolfConfig.normal_fps``, 30) or slow motion (uniform in
  ``GolfConfig.slow_motion_fps``); slow motion gives more frames per swing and, through GolfDB's
  tolerance ``max(round((impact - address) / 30), 1)``, a larger PCE tolerance.
* **Renderer** (:func:`render_clip`): numpy only. Limbs are anti-aliased thick segments from
  distance fields, alpha-composited over a background with sky/wall and grass colours, soft
  clutter blobs and a low-frequency texture; per-clip colours of shirt, trousers, skin and club;
  a linear lighting gradient; motion blur (mean of ``motion_blur_subframes`` renders over the
  exposure); per-frame gain flicker and Gaussian sensor noise; uint8 output.
* **Data set** (:func:`generate_golf_dataset`): clips rendered once into
  ``<cache_dir>/golf-<hash>/clip_NNNNN.npz`` plus ``manifest.json`` (configuration, seed and the
  sha256 of every clip), written atomically after every clip, so an interrupted generation
  resumes where it stopped and a second call only loads (checking every sha256, raising
  :class:`~softloc.data.music.CacheIntegrityError` naming the file on a mismatch). Each clip has
  its own random stream (``SeedSequence(seed).spawn``), so a resumed set equals a fresh one.
  Clips are split into ``num_folds`` folds (4, as GolfDB) by clip.

GolfDB on disk
--------------
:func:`load_golfdb` reads the real GolfDB layout (McNally et al. 2019; reference-spec section
3.1) when a user has it, into the same :class:`GolfDataset` / :class:`GolfClip` objects:

* **Annotations** (:func:`read_golfdb_annotations`, one :class:`GolfDBAnnotation` per clip):
  GolfDB's ``golfDB.mat`` (a 1 x N struct array ``golfDB``, read with ``scipy.io.loadmat``),
  the ``golfDB.pkl`` its ``generate_splits.py`` writes (a pickled pandas DataFrame; needs pandas,
  and unpickling runs code: load only files you trust), or a CSV with the same columns
  (:func:`write_golfdb_csv` converts, so pandas is needed once at most). Columns: ``id``,
  ``youtube_id``, ``player``, ``sex``, ``club``, ``view`` (``face-on``, ``down-the-line``,
  ``other``), ``slow`` (0/1), ``events`` (10 frame numbers of the original YouTube video: the
  clip's first frame, the 8 events, the clip's last frame), ``bbox`` (4 numbers: x, y, width,
  height as fractions of the video's size) and ``split`` (1-4). In a CSV, ``events`` and
  ``bbox`` are numbers separated by spaces or commas (brackets allowed).
* **Clips**: ``videos_160/{id}.mp4``, 160 x 160, holding the original frames ``events[0]`` to
  ``events[9]``, so a clip's event frames are ``events[1:9] - events[0]``
  (:attr:`GolfDBAnnotation.clip_events`). Reading mp4 needs ``opencv-python`` (or
  ``opencv-python-headless``) or ``imageio`` with an mp4 plugin (``imageio[pyav]`` or
  ``imageio-ffmpeg``). Without either, a folder ``videos_160/{id}/`` of PNG or JPEG frames
  (numbered in name order, e.g. extracted with ``ffmpeg -i 0.mp4 0/%05d.png``) is read with
  Pillow (or imageio). :func:`read_video_frames` reads one file or folder.
* Frames are ``uint8`` RGB ``(T, H, W, 3)``, optionally resized (``image_size``, bilinear with
  anti-aliasing); ``GolfClip.fps`` is the video's frame rate (``fps`` for frame folders, default
  30; GolfDB marks slow-motion clips by ``slow``, their true swing-time rate is unknown);
  ``GolfClip.view`` is GolfDB's with ``-`` as ``_`` (``face_on``, ``down_the_line``, ``other``);
  fold ``k`` holds the clips of ``split == k + 1``, as GolfDB's ``val_split_{k+1}``.
  1400 clips at 160 x 160 take about 20 GB as ``uint8``: load a subset (``ids``, ``splits``),
  resize, or read clip by clip with :func:`load_golfdb_clip`.

Modules
-------
* :mod:`~softloc.data.golf.swing` -- the swing model and its events (:class:`SwingParams`,
  :func:`swing_angles`, :func:`swing_pose`, :func:`event_times`, :func:`event_frames`,
  :func:`pce_tolerance`, :data:`GOLF_EVENTS`, :data:`GOLF_VIEWS`).
* :mod:`~softloc.data.golf.config` -- the rendered data set's options (:class:`GolfConfig`) and
  :func:`sample_swing_params`.
* :mod:`~softloc.data.golf.clip` -- one clip (:class:`GolfClip`).
* :mod:`~softloc.data.golf.render` -- the renderer (:func:`render_clip`).
* :mod:`~softloc.data.golf.dataset` -- :class:`GolfDataset` and the cached
  :func:`generate_golf_dataset`.
* :mod:`~softloc.data.golf.video` -- video input (:func:`read_video_frames`,
  :func:`resize_frames`).
* :mod:`~softloc.data.golf.golfdb` -- GolfDB on disk (:class:`GolfDBAnnotation`,
  :func:`read_golfdb_annotations`, :func:`write_golfdb_csv`, :func:`load_golfdb_clip`,
  :func:`load_golfdb`, :data:`GOLFDB_COLUMNS`).
"""

from .clip import GolfClip
from .config import GolfConfig, sample_swing_params
from .dataset import GolfDataset, generate_golf_dataset
from .golfdb import (
    GOLFDB_COLUMNS,
    GolfDBAnnotation,
    load_golfdb,
    load_golfdb_clip,
    read_golfdb_annotations,
    write_golfdb_csv,
)
from .render import _project, render_clip
from .swing import (
    GOLF_EVENTS,
    GOLF_VIEWS,
    SwingParams,
    event_frames,
    event_times,
    pce_tolerance,
    swing_angles,
    swing_pose,
)
from .video import read_video_frames, resize_frames

__all__ = [
    "GOLF_EVENTS",
    "GOLF_VIEWS",
    "GOLFDB_COLUMNS",
    "GolfClip",
    "GolfConfig",
    "GolfDBAnnotation",
    "GolfDataset",
    "SwingParams",
    "event_frames",
    "event_times",
    "generate_golf_dataset",
    "load_golfdb",
    "load_golfdb_clip",
    "pce_tolerance",
    "read_golfdb_annotations",
    "read_video_frames",
    "resize_frames",
    "render_clip",
    "sample_swing_params",
    "swing_angles",
    "swing_pose",
    "write_golfdb_csv",
]

"""A data set of clips and folds (:class:`GolfDataset`) and the generation of a rendered one
(:func:`generate_golf_dataset`) with its checksummed, resumable cache."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..._io import write_atomic, write_text_atomic
from ..music import CacheIntegrityError
from .clip import GolfClip
from .config import GolfConfig, _uniform, sample_swing_params
from .render import render_clip
from .swing import SwingParams

_CACHE_VERSION = 1


@dataclass(frozen=True)
class GolfDataset:
    """Clips (rendered, or GolfDB's) and their folds.

    Attributes
    ----------
    clips:
        The :class:`GolfClip` objects, clip ``i`` first.
    folds:
        ``num_folds`` int64 arrays of clip indices (disjoint, covering all clips); for GolfDB,
        4 folds by ``split`` (a fold may be empty when a subset was loaded).
    config:
        The :class:`GolfConfig` of a rendered set; ``None`` for GolfDB.
    seed:
        The generation seed of a rendered set; ``None`` for GolfDB.

    Examples
    --------
    :func:`generate_golf_dataset` and :func:`load_golfdb` return one:

    >>> from softloc.data.golf import GolfConfig, generate_golf_dataset
    >>> config = GolfConfig(num_clips=4, num_folds=2, image_size=(32, 32),
    ...                     motion_blur_subframes=1)
    >>> dataset = generate_golf_dataset(config, seed=0)
    >>> len(dataset.clips), [fold.tolist() for fold in dataset.folds], dataset.seed
    (4, [[0, 2], [1, 3]], 0)
    >>> train, test = dataset.split(0)  # test: fold 0
    >>> len(train), len(test), test[0] is dataset.clips[0]
    (2, 2, True)
    """

    clips: tuple
    folds: tuple
    config: GolfConfig | None
    seed: int | None

    def split(self, fold: int) -> tuple[list, list]:
        """``(train clips, test clips)``: test = fold ``fold``, train = the other folds."""
        if not 0 <= fold < len(self.folds):
            raise ValueError(f"fold must be in [0, {len(self.folds)}), got {fold!r}")
        test = set(int(i) for i in self.folds[fold])
        return ([c for i, c in enumerate(self.clips) if i not in test],
                [self.clips[i] for i in sorted(test)])


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _clip_bytes(clip: GolfClip) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, frames=clip.frames, events=clip.events,
                        params=np.array(json.dumps(clip.params.to_dict())))
    return buffer.getvalue()


def _load_clip(path: Path) -> GolfClip:
    with np.load(path, allow_pickle=False) as data:
        params = SwingParams(**json.loads(str(data["params"])))
        return GolfClip(frames=data["frames"], events=data["events"].astype(np.int64),
                        fps=float(params.fps), view=params.view, params=params)


def _folds(num_clips: int, num_folds: int, seed: int) -> tuple:
    order = np.random.default_rng(np.random.SeedSequence([seed, 4])).permutation(num_clips)
    return tuple(np.sort(order[f::num_folds]).astype(np.int64) for f in range(num_folds))


def generate_golf_dataset(config: GolfConfig | None = None, seed: int = 0, *,
                          cache_dir: Path | str | None = None) -> GolfDataset:
    """Render ``config.num_clips`` swings (or load them from the cache).

    Parameters
    ----------
    config:
        Options; default :class:`GolfConfig()`.
    seed:
        Seed; clip ``i`` uses the ``i``-th child of ``SeedSequence(seed)`` whatever else is
        cached, so resumed and fresh generations are equal.
    cache_dir:
        Folder of the cache (``golf-<hash>/`` inside it); ``None`` renders in memory only.

    Raises
    ------
    CacheIntegrityError
        A cached clip is missing or its sha256 differs from the manifest's.

    Examples
    --------
    Four small clips, rendered into a cache and then loaded back from it (checked by sha256):

    >>> import os, tempfile
    >>> import numpy as np
    >>> config = GolfConfig(num_clips=4, num_folds=2, image_size=(32, 32),
    ...                     motion_blur_subframes=1)
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     rendered = generate_golf_dataset(config, seed=0, cache_dir=cache)
    ...     loaded = generate_golf_dataset(config, seed=0, cache_dir=cache)
    ...     folder, = os.listdir(cache)
    ...     files = sorted(os.listdir(os.path.join(cache, folder)))
    >>> folder.startswith("golf-"), files[0], files[-1]
    (True, 'clip_00000.npz', 'manifest.json')
    >>> all(np.array_equal(a.frames, b.frames) for a, b in zip(rendered.clips, loaded.clips))
    True
    >>> rendered.clips[0].frames.shape[1:], [len(c.events) for c in loaded.clips]
    ((32, 32, 3), [8, 8, 8, 8])
    """
    config = GolfConfig() if config is None else config
    if not isinstance(config, GolfConfig):
        raise ValueError(f"config must be a GolfConfig, got {type(config).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    seed = int(seed)
    children = np.random.SeedSequence([seed, 1]).spawn(config.num_clips)

    def render(i: int) -> GolfClip:
        rng = np.random.default_rng(children[i])
        params = sample_swing_params(config, rng)
        return render_clip(params, rng, image_size=config.image_size,
                           motion_blur_subframes=config.motion_blur_subframes,
                           noise_std=_uniform(rng, config.noise_std), clutter=config.clutter)

    folds = _folds(config.num_clips, config.num_folds, seed)
    if cache_dir is None:
        clips = tuple(render(i) for i in range(config.num_clips))
        return GolfDataset(clips=clips, folds=folds, config=config, seed=seed)

    key = json.dumps({"config": config.to_dict(), "seed": seed, "version": _CACHE_VERSION},
                     sort_keys=True)
    folder = Path(cache_dir) / f"golf-{_sha256_bytes(key.encode())[:12]}"
    manifest_path = folder / "manifest.json"
    manifest = {"config": config.to_dict(), "seed": seed, "version": _CACHE_VERSION, "clips": {}}
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CacheIntegrityError(f"{manifest_path}: unreadable manifest ({error}); delete "
                                      "the folder to render again") from error
    clips = []
    for i in range(config.num_clips):
        name = f"clip_{i:05d}.npz"
        path = folder / name
        if name in manifest["clips"]:
            if not path.is_file():
                raise CacheIntegrityError(f"{path}: listed in the manifest but missing")
            if _sha256_bytes(path.read_bytes()) != manifest["clips"][name]:
                raise CacheIntegrityError(f"{path}: sha256 differs from the manifest")
            clips.append(_load_clip(path))
            continue
        clip = render(i)
        data = _clip_bytes(clip)
        write_atomic(path, lambda f: f.write(data), binary=True)
        manifest["clips"][name] = _sha256_bytes(data)
        write_text_atomic(manifest_path, json.dumps(manifest, indent=1, sort_keys=True))
        clips.append(_load_clip(path))
    return GolfDataset(clips=tuple(clips), folds=folds, config=config, seed=seed)

"""Video input: the frames of a video file or a folder of PNG / JPEG frames
(:func:`read_video_frames`) and their resizing (:func:`resize_frames`)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

_FRAME_SUFFIXES = (".png", ".jpg", ".jpeg")


def _natural_key(path: Path) -> tuple:
    return tuple(int(part) if part.isdigit() else part
                 for part in re.split(r"(\d+)", path.name.lower()))


def _read_image(path: Path) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    try:
        import imageio.v3 as iio
    except ImportError as error:
        raise ImportError(f"reading the frame {path} needs Pillow (pip install pillow) or "
                          f"imageio (pip install imageio)") from error
    array = np.asarray(iio.imread(path))
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    return array[..., :3]


def _read_folder(folder: Path) -> np.ndarray:
    files = sorted((p for p in folder.iterdir()
                    if p.is_file() and p.suffix.lower() in _FRAME_SUFFIXES), key=_natural_key)
    if not files:
        raise ValueError(f"{folder} holds no frames ({', '.join(_FRAME_SUFFIXES)} files)")
    frames = []
    for file in files:
        image = _read_image(file)
        if frames and image.shape != frames[0].shape:
            raise ValueError(f"{file}: frame of shape {image.shape} differs from the first "
                             f"frame's {frames[0].shape}")
        frames.append(image)
    return np.stack(frames)


def _read_mp4(path: Path) -> tuple[np.ndarray, float | None]:
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        capture = cv2.VideoCapture(str(path))
        try:
            if not capture.isOpened():
                raise ValueError(f"{path}: OpenCV cannot open the video")
            fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            frames = []
            while True:
                ok, image = capture.read()
                if not ok:
                    break
                frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        finally:
            capture.release()
        if not frames:
            raise ValueError(f"{path}: no frames could be decoded")
        return np.stack(frames), (fps if fps > 0 else None)
    try:
        import imageio.v3 as iio
    except ImportError as error:
        raise ImportError(
            f"reading {path} needs OpenCV (pip install opencv-python-headless) or imageio with "
            f"an mp4 plugin (pip install 'imageio[pyav]'); or extract its frames into a folder "
            f"{path.with_suffix('')}/ of PNG or JPEG files") from error
    try:
        frames = [np.asarray(frame)[..., :3] for frame in iio.imiter(path)]
        meta = iio.immeta(path)
    except (ImportError, ValueError, OSError) as error:
        raise ImportError(f"imageio cannot decode {path} ({error}); install an mp4 plugin "
                          f"(pip install 'imageio[pyav]' or imageio-ffmpeg) or OpenCV") from error
    if not frames:
        raise ValueError(f"{path}: no frames could be decoded")
    fps = meta.get("fps") if isinstance(meta, dict) else None
    return np.stack(frames), (float(fps) if fps else None)


def _check_image_size(image_size) -> tuple[int, int] | None:
    if image_size is None:
        return None
    size = tuple(image_size) if np.ndim(image_size) == 1 else ()
    if len(size) != 2 or any(isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer))
                             or s < 1 for s in size):
        raise ValueError(f"image_size must be None or (height, width) ints >= 1, "
                         f"got {image_size!r}")
    return (int(size[0]), int(size[1]))


def resize_frames(frames: np.ndarray, image_size) -> np.ndarray:
    """Frames resized to ``image_size`` = ``(height, width)`` pixels (bilinear, anti-aliased).

    ``frames``: ``(T, H, W, 3)`` uint8 RGB; returned as-is when already that size, else a new
    ``(T, height, width, 3)`` uint8 array (computed 64 frames at a time to bound memory).

    Examples
    --------
    >>> resize_frames(np.zeros((2, 64, 48, 3), dtype=np.uint8), (32, 24)).shape
    (2, 32, 24, 3)
    """
    size = _check_image_size(image_size)
    if size is None:
        raise ValueError("image_size must be (height, width) ints >= 1, got None")
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 \
            or frames.shape[-1] != 3:
        raise ValueError(f"frames must be a (T, H, W, 3) uint8 array, got "
                         f"{getattr(frames, 'shape', type(frames).__name__)} "
                         f"{getattr(frames, 'dtype', '')}")
    if frames.shape[1:3] == size:
        return frames
    import torch

    chunk = 64
    out = np.empty((frames.shape[0], *size, 3), dtype=np.uint8)
    for start in range(0, frames.shape[0], chunk):
        block = torch.from_numpy(np.ascontiguousarray(frames[start:start + chunk]))
        block = block.permute(0, 3, 1, 2).to(torch.float32)
        block = torch.nn.functional.interpolate(block, size=size, mode="bilinear",
                                                antialias=True, align_corners=False)
        out[start:start + chunk] = block.round().clamp(0, 255).to(torch.uint8) \
            .permute(0, 2, 3, 1).numpy()
    return out


def read_video_frames(path: Path | str, *, image_size=None) -> tuple[np.ndarray, float | None]:
    """Frames of a video file (mp4...) or of a folder of PNG / JPEG frames.

    Parameters
    ----------
    path:
        A video file (read with OpenCV, else imageio) or a folder whose ``.png``, ``.jpg`` and
        ``.jpeg`` files are the frames in natural name order (``2.png`` before ``10.png``).
    image_size:
        ``(height, width)`` to resize to (bilinear, anti-aliased), or ``None``.

    Returns
    -------
    frames, fps:
        ``(T, H, W, 3)`` uint8 RGB; the video's frame rate, or ``None`` (folders, or a file
        without one).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ImportError
        A video file with neither OpenCV nor imageio (with an mp4 plugin) installed; the message
        names the packages.

    Examples
    --------
    A folder of PNG frames, read in natural name order (``2.png`` before ``10.png``):

    >>> import os, tempfile
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for k in range(12):
    ...         frame = np.full((20, 30, 3), 20 * k, dtype=np.uint8)
    ...         Image.fromarray(frame).save(os.path.join(folder, f"{k}.png"))
    ...     frames, fps = read_video_frames(folder)
    ...     small, _ = read_video_frames(folder, image_size=(10, 15))
    >>> frames.shape, frames.dtype, fps
    ((12, 20, 30, 3), dtype('uint8'), None)
    >>> frames[:, 0, 0, 0].tolist()[8:], small.shape
    ([160, 180, 200, 220], (12, 10, 15, 3))
    """
    path = Path(path)
    size = _check_image_size(image_size)
    if path.is_dir():
        frames, fps = _read_folder(path), None
    elif path.is_file():
        frames, fps = _read_mp4(path)
    else:
        raise FileNotFoundError(f"video {path} does not exist")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"{path}: expected RGB frames (T, H, W, 3), got shape {frames.shape}")
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    if size is not None:
        frames = resize_frames(frames, size)
    return frames, fps

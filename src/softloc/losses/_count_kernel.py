"""Build, cache and call the compiled counting-loss kernel (``_count_kernel.c``).

The C source is compiled with the system C compiler at first use and cached under
``$SOFTLOC_CACHE_DIR`` (default ``$XDG_CACHE_HOME/softloc`` or ``~/.cache/softloc``), keyed by
the source, the flags, the compiler and the processor, and written atomically so that concurrent
first uses are safe. When no compiler works, or ``SOFTLOC_DISABLE_KERNEL=1`` is set,
:func:`load` returns ``None`` and the losses use their pure-PyTorch path.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["load", "count_nll", "cache_dir"]

_SOURCE = Path(__file__).with_name("_count_kernel.c")
# -ffast-math is used at compile time only: linking a shared object with it would pull in code
# that flushes denormals for the whole process. The kernel flushes them itself, and restores.
_FLAG_SETS = (
    ["-O3", "-march=native", "-ffast-math", "-fopenmp"],
    ["-O3", "-ffast-math", "-fopenmp"],
    ["-O3", "-ffast-math"],
)
# Status codes of the kernel and the error each one becomes.
_ERRORS = {
    1: (ValueError, "input must hold finite logits; found NaN or inf in row {row}"),
    2: (ValueError, "target must hold whole event counts >= 0; found a negative, non-integer or "
                    "non-finite value in row {row}"),
    3: (ValueError, "target holds more events than valid steps in row {row}; such a count "
                    "cannot happen"),
    4: (MemoryError, "out of memory in the counting kernel (row {row})"),
    5: (RuntimeError, "the count probability underflowed in row {row}"),
}

_lock = threading.Lock()
_loaded: ctypes.CDLL | None = None
_tried = False


def cache_dir() -> Path:
    """Folder that holds compiled kernels."""
    root = os.environ.get("SOFTLOC_CACHE_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "softloc"


def _cpu_signature() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))][:2]
        return "".join(lines)
    except OSError:
        return platform.processor()


def _compiler() -> str | None:
    name = os.environ.get("CC", "cc")
    return shutil.which(name)


def _build(compiler: str, flags: list[str]) -> Path | None:
    source = _SOURCE.read_bytes()
    version = subprocess.run(
        [compiler, "--version"], capture_output=True, text=True, check=False
    ).stdout
    key = hashlib.sha256(
        b"\0".join(
            [source, " ".join(flags).encode(), version.encode(), _cpu_signature().encode(),
             platform.machine().encode()]
        )
    ).hexdigest()[:20]
    target = cache_dir() / f"count_kernel_{key}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        obj = Path(tmp) / "kernel.o"
        lib = Path(tmp) / "kernel.so"
        compile_cmd = [compiler, "-std=c99", "-fPIC", *flags, "-c", str(_SOURCE), "-o", str(obj)]
        link_flags = ["-fopenmp"] if "-fopenmp" in flags else []
        link_cmd = [compiler, "-shared", str(obj), "-o", str(lib), *link_flags, "-lm"]
        for cmd in (compile_cmd, link_cmd):
            if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
                return None
        os.replace(lib, target)  # atomic: a concurrent build of the same key is harmless
    return target


def load() -> ctypes.CDLL | None:
    """The compiled kernel, built on first call; ``None`` when it cannot be built or loaded."""
    global _loaded, _tried
    if os.environ.get("SOFTLOC_DISABLE_KERNEL", "") not in ("", "0"):
        return None
    with _lock:
        if _tried:
            return _loaded
        _tried = True
        compiler = _compiler()
        if compiler is None:
            return None
        for flags in _FLAG_SETS:
            try:
                path = _build(compiler, flags)
                if path is None:
                    continue
                lib = ctypes.CDLL(str(path))
            except OSError:
                continue
            fn = lib.softloc_count_nll
            fn.restype = ctypes.c_int
            fn.argtypes = [
                ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int64,
                ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                ctypes.POINTER(ctypes.c_int64),
            ]
            _loaded = lib
            return _loaded
        return None


def count_nll(
    logits: Tensor, target: Tensor, mask: Tensor | None, classes: int, need_grad: bool
) -> tuple[Tensor, Tensor | None]:
    """Run the kernel on CPU ``logits`` and ``target`` ``(R, T)`` (float32 or float64).

    ``mask`` is ``None`` or a bool ``(R // classes, T)`` tensor shared by the ``classes``
    consecutive rows of a sequence. The kernel validates the values itself (finite logits;
    finite, whole, non-negative targets; counts <= valid steps) and raises ``ValueError``.
    Returns the loss ``(R,)`` in float64 and, if asked, d loss / d logits ``(R, T)``.
    """
    lib = load()
    if lib is None:
        raise RuntimeError("the compiled counting kernel is not available")
    logits = logits.contiguous()
    target = target.to(logits.dtype).contiguous()
    rows, length = logits.shape
    if mask is not None:
        mask = mask.to(torch.bool).contiguous()  # one byte per step, 0 or 1
    loss = torch.empty(rows, dtype=torch.float64)
    grad = torch.empty_like(logits) if need_grad else None
    error_row = ctypes.c_int64(-1)
    status = lib.softloc_count_nll(
        logits.data_ptr(),
        target.data_ptr(),
        int(logits.dtype == torch.float64),
        mask.data_ptr() if mask is not None else None,
        rows,
        length,
        classes,
        loss.data_ptr(),
        grad.data_ptr() if grad is not None else None,
        torch.get_num_threads(),
        ctypes.byref(error_row),
    )
    if status != 0:
        kind, message = _ERRORS.get(status, (RuntimeError, f"counting kernel status {status}"))
        row = error_row.value
        raise kind(message.format(row=f"{row} (sequence {row // classes}, class {row % classes})"))
    return loss, grad

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
_ERRORS = {
    1: "a count is larger than the number of valid steps",
    2: "out of memory",
    3: "the count probability underflowed",
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
            for name in ("softloc_count_nll_f32", "softloc_count_nll_f64"):
                fn = getattr(lib, name)
                fn.restype = ctypes.c_int
                fn.argtypes = [
                    ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                    ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
                ]
            _loaded = lib
            return _loaded
        return None


def count_nll(
    logits: Tensor, mask: Tensor | None, counts: Tensor, classes: int, need_grad: bool
) -> tuple[Tensor, Tensor | None]:
    """Run the kernel on CPU ``logits`` ``(R, T)`` (float32 or float64).

    ``mask`` is ``None`` or a bool ``(R // classes, T)`` tensor shared by the ``classes``
    consecutive rows of a sequence; ``counts`` holds one whole count per row.
    Returns the loss ``(R,)`` in float64 and, if asked, d loss / d logits ``(R, T)``.
    """
    lib = load()
    if lib is None:
        raise RuntimeError("the compiled counting kernel is not available")
    logits = logits.contiguous()
    rows, length = logits.shape
    fn = lib.softloc_count_nll_f32 if logits.dtype == torch.float32 else lib.softloc_count_nll_f64
    counts = counts.to(torch.int64).contiguous()
    mask_u8 = mask.to(torch.uint8).contiguous() if mask is not None else None
    loss = torch.empty(rows, dtype=torch.float64)
    grad = torch.empty_like(logits) if need_grad else None
    status = fn(
        logits.data_ptr(),
        mask_u8.data_ptr() if mask_u8 is not None else None,
        counts.data_ptr(),
        rows,
        length,
        classes,
        loss.data_ptr(),
        grad.data_ptr() if grad is not None else None,
        torch.get_num_threads(),
    )
    if status != 0:
        raise RuntimeError(f"counting kernel failed: {_ERRORS.get(status, status)}")
    return loss, grad

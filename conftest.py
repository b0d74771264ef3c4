"""Collection settings shared by tests/ and the doctests of src/softloc."""

from __future__ import annotations

import importlib.util

collect_ignore: list[str] = []
if importlib.util.find_spec("triton") is None:
    # It imports triton, an optional dependency (the gpu extra); its tests skip without it.
    collect_ignore.append("src/softloc/losses/_count_triton.py")

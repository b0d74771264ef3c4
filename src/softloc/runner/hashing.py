"""Canonical JSON and hashing: the sorted JSON that identities are taken of, and
:func:`config_hash`, the 12 hex digits naming a configuration."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

import numpy as np

__all__ = ["config_hash"]


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _canonical_json(value: Any) -> str:
    """Sorted-key, whitespace-free JSON: the text the hashes are taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _config_dict(config: Any) -> dict:
    if hasattr(config, "to_dict"):
        data = config.to_dict()
    elif is_dataclass(config) and not isinstance(config, type):
        data = asdict(config)
    elif isinstance(config, Mapping):
        data = dict(config)
    else:
        raise TypeError(
            f"config must be a dataclass, an object with to_dict() or a mapping, "
            f"got {type(config).__name__}"
        )
    if not isinstance(data, dict):
        raise TypeError(f"config.to_dict() must return a dict, got {type(data).__name__}")
    try:
        return json.loads(_canonical_json(data))
    except (TypeError, ValueError) as error:
        raise TypeError(f"config must convert to JSON: {error}") from None


def config_hash(config: Any, version: str = "1") -> str:
    """12 hex digits identifying a configuration (and the experiment ``version``).

    The SHA-256 of the sorted JSON of ``{"config": config.to_dict(), "version": version}``.

    Examples
    --------
    >>> config_hash({"epochs": 3, "lr": 0.1}) == config_hash({"lr": 0.1, "epochs": 3})
    True
    >>> config_hash({"epochs": 3}) == config_hash({"epochs": 4})
    False
    """
    return _sha256(_canonical_json({"config": _config_dict(config), "version": version}))[:12]

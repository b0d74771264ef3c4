"""Checkpoints of a run: written atomically, refused when written for another run.

A :class:`_Checkpoint` saves and restores the model and optimiser states, the RNG states and the
run's progress (:class:`~softloc.training.records._State`); loading checks the format, the loss
spec, the settings, the model's parameter shapes and the step against this run first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .._io import write_atomic
from .loss_spec import LossSpec
from .records import _State
from .settings import _Settings

__all__ = ["CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "softloc.training.checkpoint/1"
"""Format tag written into (and required from) checkpoints."""


def _checked_path(checkpoint_path: str | os.PathLike | None, checkpoint_every: int | None,
                  resume: bool) -> Path | None:
    """The checkpoint file of a run, once the checkpoint options agree with each other and it."""
    path = None if checkpoint_path is None else Path(checkpoint_path)
    if checkpoint_every is not None and path is None:
        raise ValueError("checkpoint_every needs a checkpoint_path")
    if resume and path is None:
        raise ValueError("resume=True needs a checkpoint_path")
    if path is not None and path.exists() and not resume:
        raise FileExistsError(f"checkpoint {str(path)!r} exists; pass resume=True to continue "
                              f"that run, or remove it to start afresh")
    if path is not None and path.exists() and not path.is_file():
        raise ValueError(f"checkpoint_path {str(path)!r} is not a file")
    return path


@dataclass(frozen=True)
class _Checkpoint:
    """The checkpoint file of a run and what goes into it, besides the run's progress."""

    path: Path
    spec: LossSpec
    settings: _Settings
    model: nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device

    def save(self, state: _State) -> None:
        """Write ``state`` with the model, optimiser and RNG states (atomically)."""
        payload = {
            "format": CHECKPOINT_FORMAT,
            "step": state.step,
            "loss_spec": self.spec.to_dict(),
            "settings": self.settings.comparable(),
            "model_signature": _model_signature(self.model),
            "model_state": self.model.state_dict(),
            "optimizer_state": self.optimizer.state_dict(),
            "rng_state": {
                "cpu": torch.get_rng_state(),
                "cuda": (torch.cuda.get_rng_state(self.device) if self.device.type == "cuda"
                         else None),
            },
            "loss_history": state.loss_history,
            "eval_history": state.eval_history,
            "final_evaluation": state.final_evaluation,
            "window": [state.window_loss, state.window_grad_norm, state.window_count],
        }
        write_atomic(self.path, lambda f: torch.save(payload, f), binary=True)

    def load(self) -> _State:
        """Check the file belongs to this run, restore model, optimiser and RNG; its progress."""
        path, spec, settings, steps = self.path, self.spec, self.settings, self.settings.steps
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - reported with the file's name
            raise ValueError(f"checkpoint {str(path)!r} cannot be read: {error}") from error
        if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint {str(path)!r} is not a {CHECKPOINT_FORMAT} file")
        saved_spec = LossSpec.from_dict(payload["loss_spec"])
        if saved_spec != spec:
            raise ValueError(f"checkpoint {str(path)!r} was written for loss spec "
                             f"{saved_spec.to_dict()}, this run uses {spec.to_dict()}")
        if payload["settings"] != settings.comparable():
            raise ValueError(f"checkpoint {str(path)!r} was written with other settings: "
                             + _describe_difference(payload["settings"], settings.comparable()))
        _check_model(payload["model_signature"], self.model, path)
        if payload["step"] > steps:
            raise ValueError(f"checkpoint {str(path)!r} is at step {payload['step']}, beyond "
                             f"steps={steps}")
        self.model.load_state_dict(payload["model_state"])
        self.optimizer.load_state_dict(payload["optimizer_state"])
        torch.set_rng_state(payload["rng_state"]["cpu"])
        if self.device.type == "cuda" and payload["rng_state"]["cuda"] is not None:
            torch.cuda.set_rng_state(payload["rng_state"]["cuda"], self.device)
        window_loss, window_grad_norm, window_count = payload["window"]
        state = _State(step=payload["step"], loss_history=list(payload["loss_history"]),
                       eval_history=list(payload["eval_history"]),
                       window_loss=window_loss, window_grad_norm=window_grad_norm,
                       window_count=window_count)
        # A final evaluation off the eval_every grid belongs to the run's last step only: when
        # the run is extended, an uninterrupted longer run would not have it.
        if payload["final_evaluation"] is not None and payload["step"] == steps:
            state.final_evaluation = payload["final_evaluation"]
        return state


def _model_signature(model: nn.Module) -> list[tuple[str, tuple[int, ...], str]]:
    return [(name, tuple(value.shape), str(value.dtype))
            for name, value in model.state_dict().items()]


def _describe_difference(saved: dict, current: dict) -> str:
    parts = []
    for key in sorted(set(saved) | set(current)):
        if saved.get(key, "<absent>") != current.get(key, "<absent>"):
            parts.append(f"{key} is {saved.get(key, '<absent>')!r} in the checkpoint and "
                         f"{current.get(key, '<absent>')!r} in this run")
    return "; ".join(parts)


def _check_model(saved: list, model: nn.Module, path: Path) -> None:
    saved_map = {name: (tuple(shape), dtype) for name, shape, dtype in saved}
    current_map = {name: (shape, dtype) for name, shape, dtype in _model_signature(model)}
    problems = []
    for name in saved_map.keys() - current_map.keys():
        problems.append(f"{name!r} is in the checkpoint but not in the model")
    for name in current_map.keys() - saved_map.keys():
        problems.append(f"{name!r} is in the model but not in the checkpoint")
    for name in saved_map.keys() & current_map.keys():
        if saved_map[name] != current_map[name]:
            (s_shape, s_dtype), (c_shape, c_dtype) = saved_map[name], current_map[name]
            problems.append(f"{name!r} has shape {s_shape} ({s_dtype}) in the checkpoint and "
                            f"{c_shape} ({c_dtype}) in the model")
    if problems:
        raise ValueError(f"checkpoint {str(path)!r} does not match this model: "
                         + "; ".join(sorted(problems)[:5]))

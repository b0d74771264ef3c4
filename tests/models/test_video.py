"""The per-frame convolutional + recurrent golf detector."""

from __future__ import annotations

import json
import math

import pytest
import torch

from softloc.losses import no_event_bias
from softloc.models import FrameRecurrentDetector

SMALL = {"channels": (4, 8), "hidden": 6}


def _frames(n: int = 2, t: int = 12, size: int = 16, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, t, 3, size, size), dtype=torch.uint8, generator=generator)


def test_shapes_layers_and_sizes():
    torch.manual_seed(0)
    model = FrameRecurrentDetector(8, **SMALL).eval()
    assert model(_frames()).shape == (2, 8, 12)
    assert model.min_size == 8 and not model.lstm.bidirectional
    assert model.lstm.hidden_size == 6 and model.output.in_features == 6
    assert model(_frames(1, 3, size=8)).shape == (1, 8, 3)  # the smallest frame
    assert model(_frames(1, 5, size=24)[..., :20]).shape == (1, 8, 5)  # not square
    both = FrameRecurrentDetector(9, **SMALL, bidirectional=True)
    assert both.output.in_features == 12 and both(_frames()).shape == (2, 9, 12)
    default = FrameRecurrentDetector()
    assert default.channels == (16, 32, 64) and default.hidden == 64
    assert default(_frames(1, 2, size=64)).shape == (1, 8, 2)


def test_uint8_is_scaled_like_floats_in_unit_range():
    torch.manual_seed(1)
    model = FrameRecurrentDetector(3, **SMALL).eval()
    frames = _frames()
    assert torch.allclose(model(frames), model(frames.float() / 255.0), atol=1e-6)
    assert torch.allclose(model(frames), model(frames.double() / 255.0), atol=1e-6)


@pytest.mark.parametrize("t", [0, 4, 10])
def test_unidirectional_is_causal(t):
    torch.manual_seed(2)
    model = FrameRecurrentDetector(4, **SMALL).eval()
    x = _frames(t=12)
    y = x.clone()
    y[:, t + 1:] = _frames(t=12, seed=9)[:, t + 1:]
    a, b = model(x), model(y)
    assert torch.equal(a[..., :t + 1], b[..., :t + 1])
    assert not torch.allclose(a[..., t + 1:], b[..., t + 1:])


def test_bidirectional_sees_the_future():
    torch.manual_seed(3)
    model = FrameRecurrentDetector(4, **SMALL, bidirectional=True).eval()
    x = _frames(t=12)
    y = x.clone()
    y[:, 8:] = _frames(t=12, seed=5)[:, 8:]
    a, b = model(x), model(y)
    assert not torch.allclose(a[..., :8], b[..., :8])


def test_gradients_reach_every_parameter():
    torch.manual_seed(4)
    model = FrameRecurrentDetector(5, **SMALL, bidirectional=True)
    model(_frames()).square().mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all() and parameter.grad.abs().sum() > 0, name


def test_output_bias_prior():
    model = FrameRecurrentDetector(8, **SMALL, bias_steps=64, no_event_probability=0.5)
    expected = no_event_bias(64, 0.5)
    assert torch.allclose(model.output.bias, torch.full((8,), expected))
    assert (1.0 - 1.0 / (1.0 + math.exp(-expected))) ** 64 == pytest.approx(0.5)
    default = FrameRecurrentDetector(9, **SMALL)  # softmax head: PyTorch's initialisation
    assert default.output.bias.abs().max() < 1.0



@pytest.mark.parametrize("kwargs", [{}, {"bidirectional": True},
                                    {"bias_steps": 16, "no_event_probability": 0.3}])
def test_config_rebuilds_the_model(kwargs):
    torch.manual_seed(5)
    model = FrameRecurrentDetector(9, **SMALL, **kwargs).eval()
    config = model.config()
    assert json.loads(json.dumps(config)) == config
    torch.manual_seed(5)
    again = FrameRecurrentDetector(**config).eval()
    assert again.config() == config
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
                                                 again.state_dict().values()))
    other = FrameRecurrentDetector(**config).eval()
    other.load_state_dict(model.state_dict())
    assert torch.equal(other(_frames()), model(_frames()))

@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [({"num_classes": 0}, ValueError, "num_classes"),
     ({"num_classes": 2.0}, TypeError, "num_classes"),
     ({"channels": ()}, TypeError, "channels"),
     ({"channels": (4, 0)}, ValueError, r"channels\[1\]"),
     ({"hidden": 0}, ValueError, "hidden"),
     ({"bidirectional": 1}, TypeError, "bidirectional"),
     ({"bias_steps": 0}, ValueError, "bias_steps"),
     ({"bias_steps": 10, "no_event_probability": 1.0}, ValueError, "no_event_probability")],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        FrameRecurrentDetector(**kwargs)


def test_bad_inputs():
    model = FrameRecurrentDetector(2, **SMALL)
    with pytest.raises(ValueError, match=r"\(N, T, 3, H, W\)"):
        model(torch.zeros(2, 3, 16, 16))
    with pytest.raises(ValueError, match=r"\(N, T, 3, H, W\)"):
        model(torch.zeros(1, 2, 16, 16, 3))  # channels last
    with pytest.raises(ValueError, match="at least 8 x 8"):
        model(torch.zeros(1, 2, 3, 4, 16))
    with pytest.raises(TypeError, match="uint8 or floating point"):
        model(torch.zeros(1, 2, 3, 16, 16, dtype=torch.int64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[0.0]])

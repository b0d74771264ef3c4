"""The causal recurrent detector of the puff experiment."""

from __future__ import annotations

import math

import pytest
import torch

from softloc.losses import no_event_bias
from softloc.models import CausalRecurrentDetector


def test_shapes_and_layers():
    torch.manual_seed(0)
    model = CausalRecurrentDetector(37)
    assert model(torch.randn(3, 50, 37)).shape == (3, 1, 50)
    assert model.dense.out_features == 14 and model.lstm.hidden_size == 14
    assert not model.lstm.bidirectional and model.dropout.p == 0.5
    multi = CausalRecurrentDetector(5, hidden=8, num_classes=3, dropout=0.0)
    assert multi(torch.randn(2, 7, 5)).shape == (2, 3, 7)


@pytest.mark.parametrize("t", [0, 9, 20, 38])
def test_causal_changing_later_inputs_leaves_earlier_logits(t):
    torch.manual_seed(1)
    model = CausalRecurrentDetector(6, hidden=10, num_classes=2).eval()
    x = torch.randn(4, 40, 6)
    y = x.clone()
    y[:, t + 1:] = torch.randn_like(y[:, t + 1:]) * 5.0
    a, b = model(x), model(y)
    assert torch.equal(a[..., :t + 1], b[..., :t + 1])
    if t + 1 < 40:
        assert not torch.allclose(a[..., t + 1:], b[..., t + 1:])


def test_changing_an_earlier_input_changes_later_logits():
    torch.manual_seed(2)
    model = CausalRecurrentDetector(6).eval()
    x = torch.randn(1, 30, 6)
    y = x.clone()
    y[:, 5] += 3.0
    a, b = model(x), model(y)
    assert torch.equal(a[..., :5], b[..., :5])
    assert not torch.allclose(a[..., 5:], b[..., 5:])


def test_output_bias_prior():
    model = CausalRecurrentDetector(4)
    expected = no_event_bias(50, 0.64)
    assert torch.allclose(model.output.bias, torch.full((1,), expected))
    p0 = 1.0 / (1.0 + math.exp(-expected))
    assert (1.0 - p0) ** 50 == pytest.approx(0.64)
    other = CausalRecurrentDetector(4, bias_steps=100, no_event_probability=0.8)
    assert other.output.bias.item() == pytest.approx(no_event_bias(100, 0.8))


def test_dropout_only_in_training():
    torch.manual_seed(3)
    model = CausalRecurrentDetector(4)
    x = torch.randn(2, 10, 4)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"in_features": 0}, ValueError), ({"in_features": 3, "hidden": 0}, ValueError),
     ({"in_features": 3, "dropout": 1.0}, ValueError), ({"in_features": 2.5}, TypeError)],
)
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        CausalRecurrentDetector(**kwargs)


def test_bad_input_shape():
    model = CausalRecurrentDetector(4)
    with pytest.raises(ValueError, match=r"\(N, T, 4\)"):
        model(torch.zeros(2, 4, 10))

"""Output-bias initialisation: P(no event in T steps) = q."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from softloc.losses import count_log_pmf, init_no_event_bias_, no_event_bias


@pytest.mark.parametrize("steps", [1, 7, 400, 10_000])
@pytest.mark.parametrize("q", [0.05, 0.5, 0.64, 0.8, 0.999])
def test_bias_gives_the_requested_no_event_probability(steps, q):
    bias = no_event_bias(steps, q)
    logits = torch.full((1, steps), bias, dtype=torch.float64)
    p_none = count_log_pmf(logits, max_count=0).exp().item()
    assert p_none == pytest.approx(q, rel=1e-9)


def test_matches_the_authors_constants():
    # reference-spec 2.1: ICML logit(1 - 0.8^(1/T)) = -7.491 and AAAI log(1/0.8^(2/T) - 1) = -6.798
    assert no_event_bias(400, 0.8) == pytest.approx(-7.491, abs=5e-4)
    assert no_event_bias(400, 0.64) == pytest.approx(math.log(1 / 0.8 ** (2 / 400) - 1), rel=1e-12)


def test_init_fills_module_and_tensor_biases():
    head = nn.Conv1d(8, 4, kernel_size=1)
    init_no_event_bias_(head, num_steps=200, no_event_probability=0.5)
    assert torch.allclose(head.bias, torch.full((4,), no_event_bias(200, 0.5)))
    bias = torch.zeros(3, requires_grad=True)
    init_no_event_bias_(bias, num_steps=50)
    assert torch.allclose(bias, torch.full((3,), no_event_bias(50, 0.8)))


@pytest.mark.parametrize("steps,q,error", [(0, 0.8, ValueError), (2.5, 0.8, TypeError),
                                            (10, 0.0, ValueError), (10, 1.0, ValueError),
                                            (10, 1.5, ValueError), (10, "0.8", TypeError)])
def test_bad_arguments(steps, q, error):
    with pytest.raises(error, match="num_steps|no_event_probability"):
        no_event_bias(steps, q)


def test_module_without_bias_is_refused():
    with pytest.raises(TypeError, match="module_or_bias"):
        init_no_event_bias_(nn.Linear(3, 2, bias=False), num_steps=10)

import math

import pytest
import torch

from softloc.losses import no_event_bias
from softloc.models import ConvRecurrentDetector
from softloc.models.conv_recurrent import _FrequencyMaxPool


def small(**changes):
    options = dict(channels=(4, 8), pools=(2, 4), hidden=8)
    options.update(changes)
    return ConvRecurrentDetector(32, 3, **options)


def test_shapes_and_config_round_trip():
    torch.manual_seed(0)
    net = small(fc=5, dropout=0.1)
    assert net(torch.randn(2, 32, 17)).shape == (2, 3, 17)
    clone = ConvRecurrentDetector(**net.config())
    clone.load_state_dict(net.state_dict())
    assert clone.config() == net.config()
    net.eval(), clone.eval()
    x = torch.randn(1, 32, 9)
    torch.testing.assert_close(clone(x), net(x))


def test_frequency_pool_equals_max_pool():
    x = torch.randn(2, 3, 5, 13, dtype=torch.float64, requires_grad=True)
    pool = _FrequencyMaxPool(4)
    torch.testing.assert_close(pool(x), torch.nn.functional.max_pool2d(x, (1, 4)))
    assert torch.autograd.gradcheck(pool, (x,))


def test_unidirectional_output_does_not_see_beyond_its_lookahead():
    torch.manual_seed(1)
    net = small().eval()
    ahead = net.context_frames  # 2 convolutions of 3 frames: 2 frames ahead
    assert ahead == 2
    x = torch.randn(1, 32, 20)
    y = x.clone()
    y[..., 12:] = torch.randn(1, 32, 8)
    out_x, out_y = net(x), net(y)
    torch.testing.assert_close(out_x[..., :12 - ahead], out_y[..., :12 - ahead])
    assert not torch.allclose(out_x[..., 12 - ahead:], out_y[..., 12 - ahead:])
    both = small(bidirectional=True).eval()
    assert both.context_frames == 2 and "receptive_field_ahead=inf" in repr(both)
    assert not torch.allclose(both(x)[..., :5], both(y)[..., :5])


@pytest.mark.parametrize("split", [1, 7, 19])
def test_a_sequence_runs_in_pieces(split):
    """encode() of a piece with context_frames on each side, then decode() carrying the LSTM
    state, gives the outputs of the whole sequence."""
    torch.manual_seed(2)
    net = small().eval()
    x = torch.randn(2, 32, 20, dtype=torch.float64)
    net = net.double()
    c = net.context_frames
    first = net.encode(x[..., :split + c])[:, :split]
    left = max(split - c, 0)
    second = net.encode(x[..., left:])[:, split - left:]
    torch.testing.assert_close(torch.cat([first, second], 1), net.encode(x))
    head, state = net.decode(first)
    tail, _ = net.decode(second, state)
    torch.testing.assert_close(torch.cat([head, tail], 2), net(x))
    with pytest.raises(ValueError, match="bidirectional"):
        small(bidirectional=True).decode(torch.zeros(1, 3, 64), state)


def test_input_normalization_and_output_bias():
    net = small(bias_steps=150, no_event_probability=0.9)
    torch.testing.assert_close(net.output.bias.detach(),
                               torch.full((3,), float(no_event_bias(150, 0.9))))
    net.eval()
    x = torch.randn(1, 32, 6)
    reference = net(x)
    net.set_input_normalization(torch.full((32,), 2.0), torch.full((32,), 3.0))
    torch.testing.assert_close(net(x * 3.0 + 2.0), reference)
    assert "input_mean" in net.state_dict()


def test_gradients_reach_every_parameter():
    net = small(fc=4)
    net(torch.randn(2, 32, 10)).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


@pytest.mark.parametrize("changes, message", [
    ({"pools": (8, 8)}, "leave no band"),
    ({"pools": (2,)}, "one entry per convolution"),
    ({"channels": ()}, "at least one convolution"),
    ({"kernel": (2, 3)}, "two odd sizes"),
    ({"dropout": 1.0}, "dropout"),
    ({"bias_steps": 10, "no_event_probability": None}, "give both"),
    ({"hidden": 0}, "hidden"),
])
def test_bad_options_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        small(**changes)


def test_bad_input_is_refused():
    net = small()
    with pytest.raises(ValueError, match=r"\(N, 32, T\)"):
        net(torch.randn(2, 31, 10))
    with pytest.raises(TypeError, match="torch.Tensor"):
        net([[0.0]])
    with pytest.raises(ValueError, match="std finite and > 0"):
        net.set_input_normalization(torch.zeros(32), torch.zeros(32))

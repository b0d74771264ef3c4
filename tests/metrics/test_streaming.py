"""softloc.metrics.EventFMeasure: equal to corpus_f_measure over all batches, states that sum."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest
import torch

pytest.importorskip("torchmetrics", reason="pip install 'softloc[metrics]'")

from softloc.decode import decode  # noqa: E402
from softloc.events import TimeBase, batch_to_events  # noqa: E402
from softloc.metrics import EventFMeasure, corpus_f_measure  # noqa: E402

BASE = TimeBase(fps=100.0)
OPTIONS = {"threshold": 0.5, "local_maxima": True}


def random_batch(rng: np.random.Generator, n: int, c: int, t: int, *, masked: bool):
    """Labels with sparse events (some frames with 2), probabilities with peaks near them."""
    target = (rng.random((n, c, t)) < 0.04).astype(np.float32)
    target[rng.random((n, c, t)) < 0.005] = 2.0
    probs = rng.random((n, c, t)).astype(np.float32) * 0.6
    hits = np.argwhere(target > 0)
    for i, k, f in hits[rng.random(len(hits)) < 0.7]:
        probs[i, k, np.clip(f + rng.integers(-6, 7), 0, t - 1)] = 0.95
    mask = None
    if masked:
        lengths = rng.integers(t // 2, t + 1, size=n)
        mask = np.arange(t)[None, :] < lengths[:, None]
        target *= mask[:, None, :]
    return (torch.from_numpy(probs), torch.from_numpy(target),
            None if mask is None else torch.from_numpy(mask))


def events_of(batches):
    reference, estimated = [], []
    for probs, target, mask in batches:
        reference += batch_to_events(target, time_base=BASE, mask=mask)
        estimated += decode(probs, "threshold", mask=mask, **OPTIONS).times(BASE)
    return reference, estimated


@pytest.mark.parametrize("decimals", [None, 4])
@pytest.mark.parametrize("masked", [False, True])
def test_equals_corpus_f_measure_of_all_batches(decimals, masked):
    rng = np.random.default_rng(3)
    batches = [random_batch(rng, n, 4, t, masked=masked) for n, t in ((3, 120), (1, 80), (5, 200))]
    expected = corpus_f_measure(*events_of(batches), tolerance=0.05, decimals=decimals)
    for average, want in (("file", expected.file_mean.f1), ("micro", expected.pooled.f1),
                          ("macro", expected.class_macro.f1)):
        metric = EventFMeasure(4, tolerance=0.05, time_base=BASE, decimals=decimals,
                               average=average)
        for batch in batches:
            metric.update(*batch)
        assert float(metric.compute()) == pytest.approx(want, rel=0, abs=1e-12), average
    metric = EventFMeasure(4, tolerance=0.05, time_base=BASE, decimals=decimals, average="none")
    for batch in batches:
        metric.update(*batch)
    np.testing.assert_array_equal(metric.compute().numpy(), [s.f1 for s in expected.per_class])
    np.testing.assert_array_equal(metric.n_matched.numpy(), expected.n_matched.sum(0))
    assert int(metric.n_files) == 9


def test_frames_by_default_and_other_decoders():
    rng = np.random.default_rng(0)
    probs, target, _ = random_batch(rng, 2, 3, 150, masked=False)
    metric = EventFMeasure(3, tolerance=2, average="micro", decoder="nms",
                           decoder_options={"threshold": 0.5, "window": 3})
    metric.update(probs, target)
    frames = TimeBase(fps=1.0)
    expected = corpus_f_measure(batch_to_events(target, time_base=frames),
                                decode(probs, "nms", threshold=0.5, window=3).times(frames),
                                tolerance=2)
    assert float(metric.compute()) == expected.pooled.f1
    assert 0 < expected.pooled.f1 < 1


def test_logits_are_decoded_as_their_sigmoid():
    rng = np.random.default_rng(1)
    probs, target, mask = random_batch(rng, 3, 2, 100, masked=True)
    probs = probs.clamp(1e-4, 1 - 1e-4)
    on_probs = EventFMeasure(2, tolerance=0.03, time_base=BASE)
    on_logits = EventFMeasure(2, tolerance=0.03, time_base=BASE, from_logits=True)
    on_probs.update(probs, target, mask)
    on_logits.update(torch.logit(probs.double()).float(), target, mask)
    assert float(on_logits.compute()) == float(on_probs.compute())


def test_states_are_counts_that_merge_and_reset():
    rng = np.random.default_rng(2)
    first, second = (random_batch(rng, 4, 3, 90, masked=True) for _ in range(2))
    whole = EventFMeasure(3, tolerance=0.05, time_base=BASE)
    whole.update(*first)
    whole.update(*second)
    a, b = (EventFMeasure(3, tolerance=0.05, time_base=BASE) for _ in range(2))
    a.update(*first)
    b.update(*second)
    a.merge_state(b)
    for name in ("n_reference", "n_estimated", "n_matched", "n_files"):
        torch.testing.assert_close(getattr(a, name), getattr(whole, name), rtol=0, atol=0)
    assert float(a.compute()) == pytest.approx(float(whole.compute()), abs=1e-12)
    whole.reset()
    assert int(whole.n_reference.sum()) == 0 and int(whole.n_files) == 0


def test_a_metric_without_updates_is_zero():
    with pytest.warns(UserWarning, match="before"):
        assert float(EventFMeasure(2, tolerance=0.05).compute()) == 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _distributed_worker(rank: int, port: int, batches, queue) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=2)
    try:
        metric = EventFMeasure(3, tolerance=0.05, time_base=BASE, average="micro")
        for batch in batches[rank::2]:
            metric.update(*batch)
        queue.put((rank, float(metric.compute())))
    finally:
        torch.distributed.destroy_process_group()


def test_syncs_across_processes():
    rng = np.random.default_rng(4)
    batches = [random_batch(rng, 2, 3, 100, masked=False) for _ in range(4)]
    expected = corpus_f_measure(*events_of(batches), tolerance=0.05).pooled.f1
    context = torch.multiprocessing.get_context("spawn")
    queue = context.Queue()
    torch.multiprocessing.start_processes(_distributed_worker, args=(_free_port(), batches, queue),
                                          nprocs=2, join=True, start_method="spawn")
    results = dict(queue.get(timeout=30) for _ in range(2))
    assert results[0] == results[1] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    ({"average": "weighted"}, "average must be one of"),
    ({"decoder": "viterbi"}, "decoder must be one of"),
    ({"tolerance": -1.0}, "tolerance"),
    ({"num_classes": 0}, "num_classes"),
])
def test_bad_options_are_refused(kwargs, match):
    options = {"num_classes": 2, "tolerance": 0.05, **kwargs}
    with pytest.raises(ValueError, match=match):
        EventFMeasure(**options)
    with pytest.raises(TypeError, match="time_base"):
        EventFMeasure(2, tolerance=0.05, time_base=100.0)


def test_bad_batches_are_refused():
    metric = EventFMeasure(2, tolerance=0.05)
    good = torch.zeros(2, 2, 10)
    with pytest.raises(ValueError, match=r"preds must have shape \(N, 2, T\)"):
        metric.update(torch.zeros(2, 3, 10), torch.zeros(2, 3, 10))
    with pytest.raises(ValueError, match="same shape"):
        metric.update(good, torch.zeros(2, 2, 11))
    with pytest.raises(TypeError, match="target must be a torch.Tensor"):
        metric.update(good, np.zeros((2, 2, 10)))
    with pytest.raises(ValueError, match="NaN|finite"):
        metric.update(torch.full((2, 2, 10), float("nan")), good)
    with pytest.raises(ValueError, match="labels"):
        metric.update(good, torch.full((2, 2, 10), 0.5))
    with pytest.raises(ValueError, match="at least one sequence"):
        metric.update(torch.zeros(0, 2, 10), torch.zeros(0, 2, 10))

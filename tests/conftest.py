"""Fixtures shared by every test module."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    # Tiny tensors: intra-op threads only add overhead (and stall badly on a loaded machine).
    # Tests of multi-threaded code set the thread count themselves.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

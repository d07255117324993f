"""The backend module: thread control and the one-NumPy-import rule's support code."""

from __future__ import annotations

import pytest

import chainrule as cr


def test_set_num_threads_limits_blas_and_validates():
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
        with pytest.raises(ValueError, match="set_num_threads: expected a positive integer, got 0"):
            cr.set_num_threads(0)
    finally:
        cr.set_num_threads(max(1, before))


def test_train_job_rejects_bad_thread_count():
    from chainrule.train import TrainConfig
    with pytest.raises(ValueError, match="--threads must be a positive integer"):
        TrainConfig(threads=0).checked()

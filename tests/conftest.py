"""Shared test fixtures.

``torch`` is the oracle (PyTorch 2.13.0 CPU, a test-only dependency). Locally a missing torch skips
the oracle tests; under CI (``CI=true``) it fails them, so a broken install can never pass silently.
"""

from __future__ import annotations

import os

import pytest

# Programs that tests/test_distributed.py runs under mpiexec, and the PyTorch programs of the corpus
# that tests/test_corpus.py runs: importing them would run them.
collect_ignore_glob = ["distributed_scripts/*", "corpus/*"]


def load_torch():
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        import torch
        return torch
    return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def torch():
    t = load_torch()
    t.set_num_threads(1)
    return t

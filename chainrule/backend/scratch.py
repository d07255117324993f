"""Reusable work arrays for kernels (im2col matrices, padded inputs …).

Fresh multi-MB arrays cost page faults on every training step; reusing them is much faster. An
array is reused only when its reference count shows that this pool is its sole owner, so reuse can
never alias live data.
"""

from __future__ import annotations

import sys
import threading

import numpy as xp

_pool: dict = {}
_pool_lock = threading.Lock()     # two threads must not both see one array as free


def _refs(arrays) -> int:
    for a in arrays:              # the same pattern as in scratch(): list + loop variable + argument
        return sys.getrefcount(a)


_FREE_REFS = _refs([xp.empty(1)])  # references of an array only the pool holds (measured, not assumed)


def scratch(tag: str, shape: tuple, dtype, fill: float | None = None):
    """A work array of ``shape`` that nothing outside this module can see.

    An array is handed out again only when its reference count shows that the pool is its sole
    owner (no tensor, saved ctx or view holds it), so reuse can never alias live data. A *new*
    array starts filled with ``fill`` (if given); a reused one keeps what its last user left.
    """
    key = (tag, shape, xp.dtype(dtype).str)
    with _pool_lock:
        arrays = _pool.get(key)
        if arrays is None:
            if len(_pool) > 32:       # forget the oldest shapes when a model changes sizes
                _pool.pop(next(iter(_pool)))
            arrays = _pool[key] = []
        for a in arrays:
            if sys.getrefcount(a) == _FREE_REFS:
                return a
        a = xp.empty(shape, dtype) if fill is None else xp.full(shape, fill, dtype)
        if len(arrays) < 4:
            arrays.append(a)
        return a

"""Tensor's operator and math methods, gathered into the mixin ``Tensor`` inherits.

The methods live in files a student can read in one sitting — ``tensor_math_methods``
(arithmetic, comparisons, elementwise math), ``tensor_reduce_methods`` (reductions, products) and
``tensor_shape_methods`` (shape, indexing, in-place) — on top of ``tensor_args`` (PyTorch's
argument conventions and promotion).
"""

from __future__ import annotations

from .tensor_args import as_tensor_like, normalize_dim, normalize_dims, promote, shape_arg, where
from .tensor_math_methods import MathMethods
from .tensor_reduce_methods import ReduceMethods
from .tensor_shape_methods import ShapeMethods

__all__ = ["TensorOps", "as_tensor_like", "normalize_dim", "normalize_dims", "promote", "shape_arg", "where"]


class TensorOps(MathMethods, ReduceMethods, ShapeMethods):
    """Every operator and math method of ``Tensor``."""

    __slots__ = ()

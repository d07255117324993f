"""The Tensor layer: the ``Tensor`` class, split by concern into mixins, and the functions that make and
combine tensors.

- ``core``         the Tensor class itself: data, ``requires_grad``, ``grad``, ``grad_fn``, ``backward``
- ``args``         PyTorch's argument conventions: dims, shapes, indices, scalar and dtype promotion
- ``scalars``      a Python number meeting a tensor as PyTorch reads it (int low bits, float32 overflow)
- ``arithmetic_args`` the operands of clamp and of the integer divisions
- ``arithmetic``   operators, comparisons and elementwise math (a mixin)
- ``reduce``       sums, means, norms, matmul and other reductions (a mixin)
- ``shape``        reshape, view, permute, expand, split … (a mixin)
- ``indexing``     ``t[i]``, ``t[i] = v``, gather, scatter, masked_fill (a mixin)
- ``inplace``      ``add_``, ``mul_``, ``zero_``, ``copy_`` … (a mixin)
- ``math_extra``   erf/erfinv, log10, sinh/cosh, asin/acos/atan, atan2, remainder/fmod, nan_to_num (a mixin)
- ``math_more``    logaddexp, hypot, copysign, xlogy, heaviside, addcmul/addcdiv, logit, nansum, dist (a mixin)
- ``shape_more``   ravel, diag, unfold, tensor_split/hsplit/vsplit/dsplit, select, cummax/cummin, conj … (a mixin)
- ``sorting``      sort, argsort, topk, median, unique, histc/histogram (a mixin)
- ``indexing_extra`` take, index_add(_), index_fill(_) (a mixin)
- ``factory``      ``new_zeros``/``new_ones``/``new_full``/``new_empty``/``new_tensor`` and ``stride()`` (a mixin)
- ``contract``     einsum, tensordot, kron, cdist (composites of the ops), searchsorted, bucketize
- ``format``       printing, as PyTorch prints
- ``creation``     ``tensor``, ``zeros``, ``arange`` … (re-exports ``random``)
- ``random``       ``rand``, ``randn``, ``randint``, ``manual_seed`` … the random-number functions
- ``functions``    the ``chainrule.<op>(t, ...)`` namespace (``cat``, ``stack`` …; re-exports ``functions_methods``)
- ``functions_methods`` the namespace's one-line forms of Tensor methods (``tanh = _method("tanh")`` …)
- ``differentiable`` the namespace backward formulas use under ``create_graph=True``

``chainrule.tensor`` as an attribute is the ``tensor(...)`` creation function, as in PyTorch; this package is
imported by its full path (``from chainrule.tensor import Tensor``).
"""

from .core import Size, Tensor, device

__all__ = ["Size", "Tensor", "device"]

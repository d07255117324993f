"""``chainrule.linalg``: the norms of PyTorch's ``torch.linalg``.

``vector_norm`` is the op ``LinalgVectorNormBackward0`` (p > 0 and inf); ``matrix_norm`` with
'fro' is that vector norm over the two matrix dims and with 1 / inf / -1 / -inf the max/min of
absolute column/row sums, as PyTorch computes them. ``inv``, ``det`` and ``solve`` are ops of
their own (``chainrule/ops/inverse.py``). Norms that need singular values (ord 2, -2, 'nuc') are
not provided: chainrule has no SVD op.

>>> import chainrule as cr
>>> A = cr.tensor([[3.0, -4.0], [0.0, 1.0]])
>>> vector_norm(A), matrix_norm(A, ord=1), norm(A[0])
(tensor(5.0990), tensor(5.), tensor(5.))
"""

from __future__ import annotations

import math

from .backend import xp
from .ops import inverse as LA
from .tensor import Tensor
from .tensor.args import promote

__all__ = ["det", "inv", "matrix_norm", "norm", "solve", "vector_norm"]


def _check_float(x: Tensor, op: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")
    if not x.is_floating_point():
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got {x.dtype}")


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """(Σ|xᵢ|^ord)^(1/ord) over ``dim`` (all elements if None); ord = inf is max |xᵢ|, -inf min |xᵢ|,
    0 the count of non-zeros (no gradient, as in PyTorch).

    >>> import chainrule as cr
    >>> vector_norm(cr.tensor([3.0, -4.0])), vector_norm(cr.tensor([3.0, -4.0]), ord=1)
    (tensor(5.), tensor(7.))
    """
    _check_float(x, "linalg.vector_norm")
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg.vector_norm: argument 'ord' must be a number (inf and -inf included), "
                        f"got {ord!r}")
    return x.norm(p=ord, dim=dim, keepdim=keepdim)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """The matrix norm over the two dims ``dim``: 'fro' (√Σ aᵢⱼ²), 1 / -1 (max / min absolute column
    sum) or inf / -inf (max / min absolute row sum).

    >>> import chainrule as cr
    >>> matrix_norm(cr.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=float("inf"))
    tensor(7.)
    """
    _check_float(A, "linalg.matrix_norm")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    rows, cols = (d % A.ndim for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return A.norm(p=2, dim=(rows, cols), keepdim=keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        summed, kept = (rows, cols) if ord in (1, -1) else (cols, rows)   # column sums for 1, row sums for inf
        if not keepdim and summed < kept:
            kept -= 1                                                      # the summed dim is gone
        sums = A.abs().sum(summed, keepdim=keepdim)
        return sums.amax(kept, keepdim=keepdim) if ord > 0 else sums.amin(kept, keepdim=keepdim)
    raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} needs singular values, and chainrule has no "
                              f"SVD op; supported: 'fro', 1, -1, inf, -inf")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """PyTorch's ``linalg.norm``: a vector norm, or a matrix norm when ``ord`` is given for a 2-D input
    (or ``dim`` names two dims with a matrix ``ord``).

    >>> import chainrule as cr
    >>> norm(cr.tensor([[3.0, 0.0], [0.0, 4.0]]))     # the 2-norm of all elements
    tensor(5.)
    """
    _check_float(A, "linalg.norm")
    two_dims = (dim is None and A.ndim == 2) or (isinstance(dim, (tuple, list)) and len(dim) == 2)
    if ord is not None and two_dims:
        return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if ord is not None and dim is None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.ndim}D.")
    if ord == "fro":
        ord = 2
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def _check_square(A: Tensor, op: str) -> None:
    _check_float(A, op)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")


def inv(A: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch); a singular matrix raises.

    >>> import chainrule as cr
    >>> inv(cr.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    _check_square(A, "linalg.inv")
    with xp.errstate(over="ignore", invalid="ignore"):   # entries beyond float32's range are ±inf, silently
        return LA.Inv.apply(A)


def det(A: Tensor) -> Tensor:
    """The determinant of a square matrix (or of each in a batch).

    >>> import chainrule as cr
    >>> det(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """
    _check_square(A, "linalg.det")
    with xp.errstate(over="ignore", invalid="ignore"):   # a determinant beyond the dtype's range is ±inf
        return LA.Det.apply(A)                            # (or nan), as PyTorch returns it, without a warning


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A·X = B: B is a matrix (or a batch of them), or a vector per matrix of A.

    >>> import chainrule as cr
    >>> solve(cr.tensor([[2.0, 0.0], [1.0, 1.0]]), cr.tensor([4.0, 5.0]))
    tensor([2., 3.])
    """
    _check_square(A, "linalg.solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve: expected B to be a Tensor, got {type(B).__name__}")
    if not left:
        raise NotImplementedError("linalg.solve: left=False (X·A = B) is not supported; solve Aᵀ·Xᵀ = Bᵀ instead")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    rows = B.shape[-1] if vector else (B.shape[-2] if B.ndim >= 2 else None)
    if rows != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: A of shape {tuple(A.shape)} cannot be solved against B of shape "
                           f"{tuple(B.shape)}: B needs {A.shape[-1]} rows")
    if A.dtype != B.dtype:
        A, B = promote(A, B)
    with xp.errstate(over="ignore", invalid="ignore"):   # as inv: an overflow is ±inf, silently
        return LA.Solve.apply(A, B)

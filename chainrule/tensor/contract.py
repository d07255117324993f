"""Products over named axes, built from the differentiable ops (so their gradients come for free):
``einsum``, ``tensordot``, ``kron`` and ``cdist``; plus ``searchsorted``/``bucketize`` (no gradient).

``einsum`` works the way a person does it by hand: take each operand's diagonal where a letter repeats,
sum away letters nobody else needs, then contract operands left to right, each pair as one batched
matrix product (batch letters, kept letters, summed letters), and finally order the output's letters.
"""

from __future__ import annotations

import math
import string

from ..backend import xp
from ..ops.elementwise_extra import OneNodeResult
from .args import _no_grad_result, as_tensor_like, promote
from .core import Tensor

_LETTERS = set(string.ascii_letters)


def _parse(equation: str, operands) -> tuple:
    """Each operand's labels (ellipsis dims become the labels 0, 1, … right-aligned) and the output's."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum(): {len(terms)} operand subscripts in {equation!r} for {len(operands)} operands")
    n_ell = 0
    for term, op in zip(terms, operands):
        if "..." in term:
            n_ell = max(n_ell, op.ndim - (len(term) - 3))
    labels = []
    for k, (term, op) in enumerate(zip(terms, operands)):
        bad = set(term.replace("...", "")) - _LETTERS
        if bad or term.count("...") > 1:
            raise ValueError(f"einsum(): invalid subscript {term!r} for operand {k} (use letters and one '...')")
        head, _, tail = term.partition("...")
        ell = op.ndim - len(head) - len(tail) if "..." in term else 0
        ls = list(head) + list(range(n_ell - ell, n_ell)) + list(tail)
        if len(ls) != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(ls)}) does not match "
                               f"the number of dimensions ({op.ndim}) for operand {k}"
                               + ("" if "..." in term else " and no ellipsis was given"))
        labels.append(ls)
    if arrow:
        head, _, tail = rhs.partition("...")
        bad = set(rhs.replace("...", "")) - _LETTERS
        if bad:
            raise ValueError(f"einsum(): invalid output subscript {rhs!r}")
        out = list(head) + (list(range(n_ell)) if "..." in rhs else []) + list(tail)
    else:
        counts = {}
        for ls in labels:
            for label in ls:
                counts[label] = counts.get(label, 0) + 1
        out = list(range(n_ell)) + sorted(c for c, n in counts.items() if isinstance(c, str) and n == 1)
    return labels, out


def _take_diagonals(t, ls: list):
    while True:
        repeated = [label for label in ls if ls.count(label) > 1]
        if not repeated:
            return t, ls
        i = ls.index(repeated[0])
        j = ls.index(repeated[0], i + 1)
        t = t.diagonal(0, i, j)
        ls = [label for k, label in enumerate(ls) if k not in (i, j)] + [repeated[0]]


def _sum_unneeded(t, ls: list, needed: set):
    drop = [k for k, label in enumerate(ls) if label not in needed]
    if drop:
        t = t.sum(drop)
        ls = [label for label in ls if label in needed]
    return t, ls


def _contract(a, la: list, b, lb: list, keep: set):
    """One pairwise step: a batched matmul over (batch, a-only, summed) × (batch, summed, b-only)."""
    batch = [label for label in la if label in lb and label in keep]
    summed = [label for label in la if label in lb and label not in keep]
    left = [label for label in la if label not in lb]
    right = [label for label in lb if label not in la]
    size = dict(zip(la, a.shape)) | dict(zip(lb, b.shape))
    a = a.permute(*[la.index(label) for label in batch + left + summed])
    b = b.permute(*[lb.index(label) for label in batch + summed + right])
    nb, nl, ns, nr = (math.prod(size[label] for label in part) for part in (batch, left, summed, right))
    out = a.reshape(nb, nl, ns).matmul(b.reshape(nb, ns, nr))
    return out.reshape([size[label] for label in batch + left + right]), batch + left + right


def einsum(equation: str, *operands) -> Tensor:
    """Sum of products over the letters of ``equation`` (``"ij,jk->ik"`` is a matrix product), with
    PyTorch's rules: repeated letters in one operand take a diagonal, ``...`` broadcasts, and without
    ``->`` the output has the letters that appear once, in alphabetical order.

    >>> import chainrule as cr
    >>> cr.einsum("ij,j->i", cr.tensor([[1.0, 2.0], [3.0, 4.0]]), cr.tensor([1.0, 1.0]))
    tensor([3., 7.])
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ts = [as_tensor_like(t, None) for t in operands]
    labels, out = _parse(equation, ts)
    for k, ls in enumerate(labels):
        ts[k], labels[k] = _take_diagonals(ts[k], ls)
    if len(ts) > 1:                       # size-1 dims broadcast against the same letter elsewhere
        size = {}
        for t, ls in zip(ts, labels):
            for label, n in zip(ls, t.shape):
                if size.get(label, 1) not in (1, n) and n != 1:
                    raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes: subscript "
                                       f"{label!r} has size {n} and {size[label]}")
                size[label] = n if size.get(label, 1) == 1 else size[label]
        ts = [t.expand([size[label] for label in ls]) if tuple(t.shape) != tuple(size[label] for label in ls) else t
              for t, ls in zip(ts, labels)]
    result, lr = None, None
    for k, (t, ls) in enumerate(zip(ts, labels)):
        later = set(out).union(*[set(x) for x in labels[k + 1:]])
        t, ls = _sum_unneeded(t, ls, later | (set(lr) if lr is not None else set()))
        if result is None:
            result, lr = t, ls
            continue
        if result.dtype != t.dtype:
            result, t = promote(result, t)
        result, lr = _sum_unneeded(result, lr, later | set(ls))
        result, lr = _contract(result, lr, t, ls, later)
    result, lr = _sum_unneeded(result, lr, set(out))
    missing = [label for label in out if label not in lr]
    if missing:
        raise RuntimeError(f"einsum(): output subscript {missing[0]!r} does not appear in the equation "
                           f"for any input operand")
    order = [lr.index(label) for label in out]
    return result.permute(*order) if order != list(range(len(order))) else result


def tensordot(a, b, dims=2) -> Tensor:
    """Sum of products over ``dims``: the last ``dims`` dims of ``a`` with the first of ``b``, or the
    listed pairs ``([dims of a], [dims of b])``.

    >>> import chainrule as cr
    >>> cr.tensordot(cr.ones(2, 3), cr.ones(3, 4), dims=1).shape
    chainrule.Size([2, 4])
    """
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise RuntimeError(f"tensordot: both dimension lists should have the same length, got {da} and {db}")
    da = [d % a.ndim for d in da]
    db = [d % b.ndim for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has size {a.shape[i]} "
                               f"in dim {i} and second has size {b.shape[j]} in dim {j}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    am = a.permute(*(fa + da)).reshape(math.prod(a.shape[d] for d in fa), k)
    bm = b.permute(*(db + fb)).reshape(k, math.prod(b.shape[d] for d in fb))
    if am.dtype != bm.dtype:
        am, bm = promote(am, bm)
    return am.mm(bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])


def kron(a, b) -> Tensor:
    """The Kronecker product: block (i, j) of the result is ``a[i, j] * b`` (any number of dims).

    >>> import chainrule as cr
    >>> cr.kron(cr.tensor([1, 2]), cr.tensor([1, 10]))
    tensor([ 1, 10,  2, 20])
    """
    a, b = as_tensor_like(a, None), as_tensor_like(b, None)
    n = max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + tuple(a.shape)
    sb = (1,) * (n - b.ndim) + tuple(b.shape)
    wide_a = a.reshape([s for d in sa for s in (d, 1)])       # a_i at even positions
    wide_b = b.reshape([s for d in sb for s in (1, d)])       # b_k at odd positions
    return (wide_a * wide_b).reshape([x * y for x, y in zip(sa, sb)])


def cdist(x1, x2, p: float = 2.0, compute_mode=None) -> Tensor:
    """The p-norm distance between each row of ``x1`` (…, P, M) and each row of ``x2`` (…, R, M): (…, P, R).

    >>> import chainrule as cr
    >>> cr.cdist(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    out = (diff != 0).sum(-1).to(diff.dtype) if p == 0 else diff.norm(p=p, dim=-1)
    # PyTorch's one node saves x1, x2 and the result: changing one in place afterwards makes backward raise
    return OneNodeResult.apply(out, "CdistBackward0", False, None, x1, x2) if out.requires_grad else out


def searchsorted(sorted_sequence, values, *, out_int32=False, right=False, side=None, sorter=None) -> Tensor:
    """Where ``values`` would be inserted into the last dim of ``sorted_sequence`` to keep it sorted
    (the first such place, or the last with ``right=True`` / ``side="right"``).

    >>> import chainrule as cr
    >>> cr.searchsorted(cr.tensor([1, 3, 5, 7]), cr.tensor([3, 6]))
    tensor([1, 3])
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side can only be 'left' or 'right' but got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = getattr(sorted_sequence, "_data", None)
    if seq is None:
        seq = xp.asarray(sorted_sequence)
    vals = values._data if isinstance(values, Tensor) else xp.asarray(values)
    if sorter is not None:
        seq = xp.take_along_axis(seq, getattr(sorter, "_data", sorter), axis=-1)
    how = "right" if right else "left"
    if seq.ndim == 1:
        out = xp.searchsorted(seq, vals, side=how)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(f"searchsorted: boundaries tensor should be 1 dimension or the first N-1 "
                               f"dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
        rows_s = seq.reshape(-1, seq.shape[-1])
        rows_v = vals.reshape(-1, vals.shape[-1])
        out = xp.stack([xp.searchsorted(s, v, side=how) for s, v in zip(rows_s, rows_v)]).reshape(vals.shape)
    return _no_grad_result(xp.asarray(out, xp.int32 if out_int32 else xp.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False) -> Tensor:
    """The bucket of each element of ``input`` for the 1-D ``boundaries`` (``searchsorted(boundaries, input)``).

    >>> import chainrule as cr
    >>> cr.bucketize(cr.tensor([0.5, 3.0]), cr.tensor([1.0, 3.0, 5.0]))
    tensor([0, 1])
    """
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)

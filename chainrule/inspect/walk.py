"""Walking a backward graph without recursion, in a fixed order.

The graph of a tensor is reached through its ``grad_fn`` (or, for a leaf, its ``AccumulateGrad``
sink). Nodes are returned in creation order (``node._seq``), which is data-flow order: an op is
always created after the ops that produced its inputs. So drawings and explanations list the
same graph the same way every time.
"""

from __future__ import annotations

from ..autograd.function import _NOT_TENSOR, AccumulateGrad
from ..tensor import Tensor


def root_node(t, who: str = "inspect"):
    """The node a tensor's gradient enters the graph through."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: expected a Tensor, got {type(t).__name__}")
    if t.grad_fn is not None:
        return t.grad_fn
    if t.requires_grad:
        return t._accumulator()
    raise ValueError(f"{who}: the tensor of shape {tuple(t.shape)} has no graph (requires_grad=False "
                     f"and no grad_fn). Create the inputs with requires_grad=True, and compute outside "
                     f"no_grad(), so that there is a graph to inspect.")


def tensor_edges(node) -> list:
    """``[(k, i, next_node)]`` for the k-th tensor argument of ``node``, at forward position i,
    whose gradient flows to ``next_node`` (None for a tensor input that needs no gradient)."""
    out = []
    k = 0
    for i, nxt in enumerate(node._edges):
        if nxt is _NOT_TENSOR:
            continue
        out.append((k, i, nxt))
        k += 1
    return out


def collect(roots) -> list:
    """Every node reachable from ``roots``, in creation (data-flow) order."""
    seen = set()
    stack = list(roots)
    nodes = []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        for _, _, nxt in tensor_edges(node):
            if nxt is not None and nxt not in seen:
                stack.append(nxt)
    nodes.sort(key=lambda n: n._seq)
    return nodes


def is_leaf_node(node) -> bool:
    return type(node) is AccumulateGrad


def out_shape(node) -> tuple:
    shape = node._out_shape
    if isinstance(shape, list):  # multi-output op: describe its first output
        shape = shape[0]
    return tuple(shape) if shape is not None else ()


def out_dtype_name(node) -> str:
    dtype = node._out_dtype
    if isinstance(dtype, list):
        dtype = dtype[0]
    return "?" if dtype is None else str(dtype)

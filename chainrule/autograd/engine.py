"""The backward engine: an iterative walk of the graph, newest node first.

1. Creation order is a topological order: a node is always created after the nodes that produced
   its inputs, so every node that sends a gradient to a node is newer than it. The engine keeps the
   nodes that have received a gradient and not yet run, and always runs the newest of them; by
   then every route into it has delivered (all its senders were newer and ran first). No
   dependency counts are needed, and the same graph is always walked in the same order (creation
   numbers are unique, so there are no ties).
2. A node's incoming gradient is the sum over the routes that reach it; its backward turns it into
   one gradient per input; the engine sums each down to the input's shape (un-broadcasting, in
   this one place) and passes it on. Leaves accumulate into ``.grad``.

No recursion anywhere, so a 100,000-op chain is fine. Observers (the inspect tools) can watch each
step; the engine itself never formats or prints.
"""

from __future__ import annotations

import heapq
import sys

from ..backend import array_math
from .function import _FREED, _NOT_TENSOR, AccumulateGrad, hooks
from .grad_mode import state

observers: list = []  # objects with node_done(node, grad_output, grad_inputs) / leaf_done(tensor, grad)


def _reachable(roots) -> set:
    """Every node reachable from ``roots``."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        for nxt in stack.pop()._edges:
            if nxt is not None and nxt is not _NOT_TENSOR and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _nodes_leading_to(targets, reachable) -> set:
    """The nodes from which some target is reachable by at least one edge (only these need to run for
    grad(inputs=...)); a target itself runs only if another target lies below it, as in PyTorch (so its
    saved tensors are not freed)."""
    parents = {}
    for node in reachable:
        for nxt in node._edges:
            if nxt is not None and nxt is not _NOT_TENSOR:
                parents.setdefault(nxt, []).append(node)
    needed = set()
    stack = [p for t in targets if t in reachable for p in parents.get(t, ())]
    while stack:
        node = stack.pop()
        if node in needed:
            continue
        needed.add(node)
        stack.extend(parents.get(node, ()))
    return needed


def _owned(array) -> bool:
    """May ``.grad`` take this array without copying? Only if nothing else can see its memory.

    PyTorch steals a gradient when its use_count is 1; this is the same test with CPython's
    reference counts. References to ``array`` here: the engine's local, the caller's, this
    argument and getrefcount's own. A view (e.g. matmul's transposed result) qualifies only if
    its base is held by the view alone and it is writeable (so never a broadcast view).
    """
    if sys.getrefcount(array) > 4 or not array.flags.writeable:
        return False
    base = array.base
    # references to base: the view's link, the local name, getrefcount's argument
    return base is None or (base.base is None and sys.getrefcount(base) <= 3)


def _add_to_buffer(buffers, node, nr, g) -> None:
    """Sum gradient ``g`` into the slot for output ``nr`` of ``node`` (routes add up here)."""
    n = node._num_outputs
    if n == 1:
        old = buffers.get(node)
        buffers[node] = g if old is None else old + g
        return
    slots = buffers.get(node)
    if slots is None:
        slots = buffers[node] = [None] * n
    slots[nr] = g if slots[nr] is None else slots[nr] + g


def run_backward(roots, grads, retain_graph: bool, create_graph: bool, capture=None, accumulate=True):
    """Backpropagate ``grads`` from ``roots`` (a list of (node, output number) and their gradients).

    ``capture`` maps nodes to [(slot, output number)]: the total gradient flowing into those nodes
    is returned in those slots (``autograd.grad``). With ``accumulate`` leaves' ``.grad`` are
    updated (``Tensor.backward``).
    """
    needed = None
    results = None
    if capture is not None:
        needed = _nodes_leading_to(capture, _reachable([node for node, _ in roots]))
        results = [None] * sum(len(v) for v in capture.values())
    buffers = {}            # node -> the sum of the gradients that reached it so far
    for (node, nr), g in zip(roots, grads):
        _add_to_buffer(buffers, node, nr, g)
    # The nodes waiting to run: the newest in ``top``, the others in a heap keyed by -creation number.
    # Taking ``top`` first is exactly the heap's order, and a chain never touches the heap.
    waiting = [(-n._seq, n) for n in buffers]
    heapq.heapify(waiting)
    top = heapq.heappop(waiting)[1] if waiting else None
    push, pop = heapq.heappush, heapq.heappop
    namespace = hooks.tensor_math if create_graph else array_math
    watching = observers[:] if observers else None
    if watching:
        for obs in watching:
            started = getattr(obs, "backward_started", None)
            if started is not None:
                started(roots, grads, retain_graph, create_graph, capture is not None, accumulate)

    prev_mode = state.enabled
    state.enabled = create_graph
    try:
        while top is not None or waiting:
            if top is not None:
                node, top = top, None
            else:
                node = pop(waiting)[1]
            g = buffers.pop(node)
            if node._watched or capture is not None:     # tensor hooks, retain_grad, autograd.grad
                g = _arrived(node, g, create_graph, capture, results)
                if needed is not None and node not in needed:
                    continue
            if type(node) is AccumulateGrad:
                if accumulate:
                    _accumulate(node, g, create_graph, watching)
                continue
            grad_inputs = run_node(node, g, namespace)
            if watching:
                for obs in watching:
                    obs.node_done(node, g, grad_inputs)
            if not retain_graph and node._saved is not None:
                node._saved = _FREED            # release saved arrays; a 2nd backward raises
                node._saved_versions = ()
            g = None
            # Pass each input's gradient along its edge (None where no gradient flows or the input is
            # not a graph tensor); routes into a node add up in its buffer. ``nrs`` is set only on a
            # node with an edge into a multi-output node (a split piece): else every edge is simple.
            edges, nrs = node._edges, node._edge_outputs
            for i, gi in enumerate(grad_inputs):
                if gi is None:
                    continue
                nxt = edges[i]
                old = buffers.get(nxt)
                if nrs is not None and i in nrs:
                    _add_to_buffer(buffers, nxt, nrs[i], gi)
                elif old is not None:
                    buffers[nxt] = old + gi
                else:
                    buffers[nxt] = gi
                gi = None
                if old is not None:
                    continue
                # the first gradient to reach nxt: it joins the waiting nodes
                if top is None:
                    if waiting and -waiting[0][0] > nxt._seq:
                        push(waiting, (-nxt._seq, nxt))
                    else:
                        top = nxt
                elif nxt._seq > top._seq:
                    push(waiting, (-top._seq, top))
                    top = nxt
                else:
                    push(waiting, (-nxt._seq, nxt))
            grad_inputs = None  # let .grad steal fresh arrays (see _owned)
    finally:
        state.enabled = prev_mode
    return results


def _arrived(node, g, create_graph: bool, capture, results):
    """The total gradient has arrived at ``node``: run its tensor hooks, fill a retained ``.grad``
    and the slots ``autograd.grad`` asked for. Returns the gradient the node's backward will see."""
    if node._tensor_hooks:
        g = _run_tensor_hooks(node, g, create_graph)
    if node._retained is not None:
        _retain(node, g, create_graph)
    if capture is not None and node in capture:
        for slot, nr in capture[node]:
            results[slot] = g[nr] if node._num_outputs > 1 else g
    return g


def _retain(node, g, create_graph: bool) -> None:
    """``.grad`` of the outputs that called retain_grad(): the first gradient is copied, later ones
    (another backward, or autograd.grad) add to it, as PyTorch's; an output no gradient reached keeps its own."""
    many = node._num_outputs > 1
    for nr, ref in (node._retained.items() if many else ((0, node._retained),)):
        t = ref()
        gi = g[nr] if many else g
        if t is None or gi is None:
            continue
        if not create_graph:
            gi = hooks.Tensor._make(gi.copy() if t._grad is None else t._grad._data + gi)
        elif t._grad is not None:
            gi = t._grad + gi
        t._grad = gi


def run_node(node, g, namespace=array_math) -> list:
    """Run one node's backward: the gradient of its output(s) in, one gradient per forward argument
    out, each summed down to that input's shape and cast to its dtype (None where none flows).

    The one way a node is run: by the engine, and by ``chainrule.inspect`` to read local derivatives.
    Under ``create_graph`` (``namespace`` is the differentiable one) the result is Tensors."""
    first_order = namespace is array_math
    if first_order and node._raw and node._num_outputs == 1:
        grads = node.backward_array(node, g)    # the common case: raw arrays in and out, no wrapping
        if type(grads) is not tuple:
            grads = (grads,)
    else:
        grads = _call_backward(node, g, namespace)
    edges = node._edges
    nrs = node._edge_outputs      # {argument index: output number}, only for edges into multi-output nodes
    n = len(grads)
    out = []
    for i, nxt in enumerate(edges):             # a backward may leave out trailing Nones or add extra ones
        gi = grads[i] if i < n else None
        if gi is not None:
            if nxt is None or nxt is _NOT_TENSOR:
                gi = None
            else:
                if nrs is None or i not in nrs:
                    shape, dtype = nxt._out_shape, nxt._out_dtype
                else:
                    shape, dtype = nxt._out_shape[nrs[i]], nxt._out_dtype[nrs[i]]
                if shape is not None and gi.shape != shape:
                    gi = namespace.sum_to(gi, shape)    # un-broadcasting, in this one place
                if dtype is not None:
                    if first_order:
                        if gi.dtype is not dtype and gi.dtype != dtype:   # `is` first: the usual case
                            gi = gi.astype(dtype)
                    elif gi._data.dtype != dtype:
                        gi = gi.to(dtype)
        out.append(gi)
    return out


def _call_backward(node, g, namespace):
    """The general case of ``run_node``: several outputs, a user Function (Tensors in and out), or
    ``create_graph`` (the node's formulas run in the differentiable namespace)."""
    T = hooks.Tensor
    first_order = namespace is array_math
    if node._num_outputs > 1:
        g = [x if x is not None else _zeros(node, k, first_order) for k, x in enumerate(g)]
    else:
        g = [g]
    if not node._raw and first_order:
        g = [T._make(x) for x in g]
    if not first_order:
        node.xp = namespace
    try:
        out = (node.backward_array if first_order and node._raw else node.backward)(node, *g)
    finally:
        if not first_order:
            del node.xp
    if type(out) is not tuple:
        out = (out,)
    if not node._raw and first_order:
        out = tuple(o._data if isinstance(o, T) else o for o in out)
    n_edges = len(node._edges)
    if len(out) != n_edges and not (len(out) > n_edges and all(o is None for o in out[n_edges:])):
        raise RuntimeError(f"{node.name()}: backward returned {len(out)} gradients but forward took "
                           f"{n_edges} arguments; return one gradient (or None) per forward argument")
    return out


def _zeros(node, k: int, first_order: bool):
    """PyTorch materialises the gradient of an unused output of a multi-output op as zeros."""
    z = array_math.zeros(node._out_shape[k], node._out_dtype[k])
    return z if first_order else hooks.Tensor._make(z)


def _run_tensor_hooks(node, g, create_graph):
    T = hooks.Tensor
    for hook in node._tensor_hooks:
        gt = g if create_graph else T._make(g)
        new = hook(gt)
        if new is not None:
            g = new if create_graph else new._data
    return g


def _accumulate(node, g, create_graph, watching):
    T = hooks.Tensor
    t = node._var()
    if t is None:
        return
    if watching:
        for obs in watching:
            obs.leaf_done(t, g)
    if create_graph:
        t._grad = g if t._grad is None else t._grad + g
        return
    if isinstance(g, T):
        g = g._data
    old = t._grad
    if old is None:
        t._grad = T._make(g if _owned(g) else g.copy())
    elif old.requires_grad or old._data.shape != g.shape or not old._data.flags.writeable:
        t._grad = T._make(old._data + g)
    else:
        old._data += g
        old._version_box[0] += 1

"""The backward engine: an iterative walk of the graph with a dependency-counting ready queue.

1. Count, for every node reachable from the roots, how many edges point at it.
2. Start from the roots; a node runs once all gradients flowing into it have arrived. Among ready
   nodes the most recently created runs first (ties cannot happen: creation numbers are unique),
   so the same graph is always walked in the same order.
3. A node's incoming gradient is the sum over the routes that reach it; its backward turns it into
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

_NOTHING = object()   # the buffer of a node that every route reached with None (no gradient flows)

observers: list = []  # objects with node_done(node, grad_output, grad_inputs) / leaf_done(tensor, grad)


def _count_dependencies(roots) -> dict:
    """For every node reachable from ``roots``: how many edges point at it (its pending inputs)."""
    deps = {}
    stack = []
    for node in roots:
        if node not in deps:
            deps[node] = 0
            stack.append(node)
    get, push, pop, marker = deps.get, stack.append, stack.pop, _NOT_TENSOR
    while stack:
        for nxt in pop()._edges:
            if nxt is None or nxt is marker:
                continue
            count = get(nxt)
            if count is None:
                deps[nxt] = 1
                push(nxt)
            else:
                deps[nxt] = count + 1
    return deps


def _nodes_leading_to(targets, deps) -> set:
    """The nodes from which some target is reachable (only these need to run for grad(inputs=...))."""
    parents = {}
    for node in deps:
        for nxt in node._edges:
            if nxt is not None and nxt is not _NOT_TENSOR:
                parents.setdefault(nxt, []).append(node)
    needed = set()
    stack = [t for t in targets if t in deps]
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
    deps = _count_dependencies([node for node, _ in roots])
    needed = _nodes_leading_to(capture, deps) if capture is not None else None
    results = [None] * sum(len(v) for v in capture.values()) if capture is not None else None
    buffers = {}
    for (node, nr), g in zip(roots, grads):
        _add_to_buffer(buffers, node, nr, g)
    ready = [(-n._seq, n) for n in buffers if deps[n] == 0]
    heapq.heapify(ready)
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
        while ready:
            node = heapq.heappop(ready)[1]
            g = buffers.pop(node)
            if g is _NOTHING:       # every route into it sent None: pass that on, so no node waits forever
                if type(node) is not AccumulateGrad:
                    _send(node, [None] * len(node._edges), buffers, deps, ready)
                continue
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
            _send(node, grad_inputs, buffers, deps, ready)
            grad_inputs = g = None  # let .grad steal fresh arrays (see _owned)
    finally:
        state.enabled = prev_mode
    return results


def _arrived(node, g, create_graph: bool, capture, results):
    """The total gradient has arrived at ``node``: run its tensor hooks, fill a retained ``.grad``
    and the slots ``autograd.grad`` asked for. Returns the gradient the node's backward will see."""
    if node._tensor_hooks:
        g = _run_tensor_hooks(node, g, create_graph)
    if node._retained is not None:
        t = node._retained()
        if t is not None:
            t._grad = g if create_graph else hooks.Tensor._make(g.copy())
    if capture is not None and node in capture:
        for slot, nr in capture[node]:
            results[slot] = g[nr] if node._num_outputs > 1 else g
    return g


def run_node(node, g, namespace=array_math) -> tuple:
    """Run one node's backward: the gradient of its output(s) in, one gradient per forward argument
    out, each summed down to that input's shape and cast to its dtype (None where none flows).

    The one way a node is run: by the engine, and by ``chainrule.inspect`` to read local derivatives.
    Under ``create_graph`` (``namespace`` is the differentiable one) the result is Tensors."""
    if namespace is array_math and node._raw and node._num_outputs == 1:
        grads = node.backward_array(node, g)    # the common case: raw arrays in and out, no wrapping
        if type(grads) is not tuple:
            grads = (grads,)
    else:
        grads = _call_backward(node, g, namespace)
    first_order = namespace is array_math
    out = []
    n_grads = len(grads)
    for i, nxt in enumerate(node._edges):
        gi = grads[i] if i < n_grads else None
        if gi is None or nxt is None or nxt is _NOT_TENSOR:
            out.append(None)
            continue
        if nxt._num_outputs == 1:
            shape, dtype = nxt._out_shape, nxt._out_dtype
        else:
            nr = node._edge_outputs[i]
            shape, dtype = nxt._out_shape[nr], nxt._out_dtype[nr]
        if shape is not None and gi.shape != shape:
            gi = namespace.sum_to(gi, shape)    # un-broadcasting, in this one place
        if dtype is not None and (gi.dtype if first_order else gi._data.dtype) != dtype:
            gi = gi.astype(dtype) if first_order else gi.to(dtype)
        out.append(gi)
    return out


def _send(node, grad_inputs, buffers, deps, ready) -> None:
    """Pass each input's gradient along its edge; a node whose last pending gradient arrived is ready."""
    nrs = node._edge_outputs
    for i, nxt in enumerate(node._edges):
        if nxt is None or nxt is _NOT_TENSOR:
            continue
        gi = grad_inputs[i]
        if gi is not None:
            if nxt._num_outputs == 1:
                old = buffers.get(nxt)
                buffers[nxt] = gi if old is None else old + gi
            else:
                _add_to_buffer(buffers, nxt, nrs[i], gi)
        left = deps[nxt] - 1
        deps[nxt] = left
        if left == 0:
            if nxt not in buffers:
                buffers[nxt] = _NOTHING
            heapq.heappush(ready, (-nxt._seq, nxt))


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

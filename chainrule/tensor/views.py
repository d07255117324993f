"""In-place ops through a view of a tensor that takes part in the graph (see ``ops.views``).

>>> import chainrule as cr
>>> a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> b = a * 1
>>> b[1:].mul_(10)            # changes b through a view
tensor([20., 30.], grad_fn=<AsStridedBackward0>)
>>> b.grad_fn.name()
'CopySlices'
>>> b.sum().backward()
>>> a.grad
tensor([ 1., 10., 10.])
"""

from __future__ import annotations

import weakref

from ..autograd.grad_mode import state
from ..autograd.stale import Invalid, stale_message
from ..backend import xp
from ..ops import views as V
from . import core

_ref = weakref.ref


def register(base, view) -> None:
    """Remember ``view`` of ``base`` (a tensor with a history) in ``base._views`` (weak references;
    the slot is unset until a first view), so an in-place change of ``base`` can give the view its
    new history (:func:`refresh`). On the path of every view op: kept to a few attribute reads."""
    try:
        refs = base._views
    except AttributeError:
        base._views = [_ref(view)]
        return
    n = len(refs)
    if n >= 16 and not n & (n - 1):          # at 16, 32, 64 … views: drop the dead ones
        refs[:] = [r for r in refs if r() is not None]
    refs.append(_ref(view))


def refresh(base, changed=None) -> None:
    """After a recorded in-place change of ``base``'s memory, every live view of it reads its values
    from the new ``base`` (PyTorch regenerates a view's grad_fn as ``AsStridedBackward0``), and requires
    grad from then on if ``base`` does (a view taken before ``b.sub_(w)`` gave ``b`` a history);
    ``changed`` is the view the change went through, already done."""
    refs = getattr(base, "_views", None)
    if not refs:
        return
    for ref in refs:
        view = ref()
        if view is None or view is changed or view._base is not base:
            continue
        if view._multi_view is not None:          # one node made it and its siblings: no new history
            view.grad_fn = Invalid(stale_message(view))
            view._requires_grad = view._requires_grad or base._requires_grad
            continue
        positions = V.view_positions(base._data, view._data)
        if positions is not None:
            history = V.AsStrided.apply(base, positions, True)
            view.grad_fn, view._output_nr = history.grad_fn, history._output_nr
            view._requires_grad = history._requires_grad     # a view taken before base had a history


def multi_output(base, parts, name: str) -> tuple:
    """The pieces of ``split``/``chunk``/``unbind`` as views of ``base``, marked so that an in-place
    change of one of them (or of a view of one) while the graph is recorded raises, as in PyTorch:
    one node made all the pieces, and it cannot be rebased onto a change of one piece."""
    out = []
    for nr, part in enumerate(parts):
        part._view_of(base)
        part._multi_view = (name, nr, part._version_box[0])     # the version its history belongs to
        out.append(part)
    return tuple(out)


def inplace_through_view(view, compute, op: str, reads_self: bool = False):
    """Apply ``compute`` (an out-of-place op on the view's old values) in place through ``view``,
    recording it on the view's base as ``CopySlices``; returns ``view``. With ``reads_self`` the view
    was also the other operand (``v.mul_(v)``): what the op saved of it is stale after the change."""
    T = core.Tensor
    base = view._base
    multi = view._multi_view
    if multi is not None:
        raise RuntimeError(f"{op}: output {multi[1]} of {multi[0]} is a view and is being modified in place. This "
                           f"view is one of several that {multi[0].lower()} returned, and such views may not be "
                           f"modified in place while the graph is recorded: use the out-of-place form (or clone() "
                           f"the piece first)")
    if base.grad_fn is None and base.requires_grad:
        raise RuntimeError(f"{op}: a view of a leaf Variable that requires grad is being used in an in-place "
                           f"operation. Change the leaf under `with chainrule.no_grad():`, or work on a "
                           f"clone() of it")
    positions = V.view_positions(base._data, view._data)
    if positions is None:
        raise RuntimeError(f"{op}: this view (shape {tuple(view.shape)}) of a tensor of shape {tuple(base.shape)} "
                           f"cannot be changed in place while the graph is recorded; use the out-of-place form "
                           f"or clone() first")
    if xp.unique(positions).size != positions.size:
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor refers "
                           f"to a single memory location (the view of shape {tuple(view.shape)} repeats "
                           f"elements, as expand() does). Please clone() the tensor before performing the "
                           f"operation.")
    old_base = T._make(base._data, base.grad_fn, base._output_nr) if base.grad_fn is not None \
        else T._make(base._data)
    before = view._version_box[0]
    old = V.AsStrided.apply(old_base, positions)
    new = compute(old)
    check_fits(view, new._data, op)
    if reads_self and new.grad_fn is not None:    # PyTorch saved the view itself as the other operand
        box = view._version_box
        new.grad_fn._saved_versions = [(box, before, k) if b is old._version_box else (b, v, k)
                                       for b, v, k in new.grad_fn._saved_versions]
    if new._data.dtype != view._data.dtype and not xp.can_cast(new._data.dtype, view._data.dtype, "same_kind"):
        raise RuntimeError(f"{op}: result type {new.dtype.name} can't be cast to the desired output type "
                           f"{view.dtype.name}")
    if new.dtype != view.dtype:
        new = new.to(view.dtype)
    # a 0-d base has one element: every position is 0 and the whole of it is written (unless the view is empty)
    where = xp.unravel_index(positions, base._data.shape) if base._data.ndim else () if positions.size \
        else (xp.asarray(False),)
    new_base = V.CopySlices.apply(old_base, where, new)
    if view._data.flags.writeable:
        view._data[...] = new._data
    else:     # an expand()ed view (read-only in NumPy) that repeats nothing, or is empty: write through the base
        base._data[...] = new_base._data
    take_history(base, new_base)
    view._version_box[0] += 1
    if new.grad_fn is not None and new.grad_fn._saved_versions:    # what the op saved of its result is the
        box = view._version_box                                     # view after the update (v.sigmoid_())
        new.grad_fn._saved_versions = [(box, box[0], k) if b is new._version_box else (b, v, k)
                                       for b, v, k in new.grad_fn._saved_versions]
    _reread(view, base, positions)
    return view


def take_history(t, new) -> None:
    """``t`` (changed in place) takes ``new``'s history; retain_grad moves with it (see ``unretain``)."""
    retained = unretain(t)
    t.grad_fn, t._output_nr, t._requires_grad = new.grad_fn, new._output_nr, new._requires_grad
    if retained:
        t.retain_grad()


def _reread(view, base, positions) -> None:
    """After ``base`` took a new history: the changed view reads its values from it, and so do its other views."""
    history = V.AsStrided.apply(base, positions, True)
    view.grad_fn, view._output_nr, view._requires_grad = history.grad_fn, history._output_nr, history._requires_grad
    refresh(base, view)

def expanded_positions(t):
    """For a view NumPy made read-only (``expand()``), each element's flat C-order position in its base;
    None for any other tensor."""
    if t._data.flags.writeable or t._base is None:
        return None
    return V.view_positions(t._base._data, t._data)


def repeats(positions) -> bool:
    """Whether two elements of the view share one memory location."""
    return xp.unique(positions).size != positions.size


def write_through_base(view, positions, new, written=True) -> None:
    """Untracked (the caller bumps the version): ``new`` (broadcast to the view's shape) written into the base's memory at the view's
    ``positions``, where ``written`` is True (where two written elements share memory, the last one wins)."""
    written = xp.broadcast_to(written, positions.shape)
    view._base._data.flat[positions[written]] = xp.broadcast_to(new, positions.shape)[written]


def fill_overlapping(view, positions, written, new, op: str):
    """``new`` (an array of the view's shape) written through ``view``, whose elements repeat (``positions``:
    their flat positions in the base), where the boolean array ``written`` is True: fill_, masked_fill_,
    index_fill_, index puts and copy_ of the view into itself, which PyTorch allows there. While the graph
    is recorded it records a CopySlices that raises if a backward pass reaches it, as PyTorch's does."""
    if not (state.enabled and view.requires_grad):
        write_through_base(view, positions, new, written)
        view._version_box[0] += 1
        return view
    T = core.Tensor
    base = view._base
    written = xp.broadcast_to(written, positions.shape)
    flat = base._data.reshape(-1).copy()            # the base after the writes, to read each target's value
    flat[positions[written]] = xp.broadcast_to(new, positions.shape)[written]
    targets = xp.unique(positions[written])
    where = xp.unravel_index(targets, base._data.shape) if base._data.ndim else ()
    new_base = V.OverlapCopySlices.apply(T._make(base._data, base.grad_fn, base._output_nr), where,
                                         T._make(flat[targets]))
    new_base.grad_fn.op, new_base.grad_fn.view_shape = op, tuple(view.shape)
    base._data[...] = new_base._data
    take_history(base, new_base)
    view._version_box[0] += 1
    _reread(view, base, positions)
    return view


def unretain(t) -> bool:
    """Whether ``t`` retains its gradient (``retain_grad()``); if so, its current node stops retaining it. An
    in-place op then retains it on the new node, as PyTorch moves retain_grad: ``.grad`` is the gradient with
    respect to the tensor's value after the change (hooks registered before stay with the old value)."""
    fn = t.grad_fn
    if fn is None or fn._retained is None:
        return False
    if fn._num_outputs > 1:
        ref = fn._retained.get(t._output_nr)
        if ref is None or ref() is not t:
            return False
        del fn._retained[t._output_nr]
    else:
        if fn._retained() is not t:
            return False
        fn._retained = None
    return True


def check_fits(self, new, op: str) -> None:
    """An in-place result must have self's shape: PyTorch does not let another operand broadcast self
    to a larger shape (NumPy's assignment would quietly drop the extra leading dims of size 1)."""
    if new.shape != self._data.shape:
        raise RuntimeError(f"{op}: output with shape {tuple(self.shape)} doesn't match the broadcast shape "
                           f"{tuple(new.shape)} (an in-place op cannot change the tensor's shape)")

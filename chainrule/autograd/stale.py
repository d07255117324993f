"""Pieces of ``split``/``chunk``/``unbind`` that may no longer be used in the graph.

One node made all the pieces; after their base (or a sibling) changed in place it cannot describe
them any more, so PyTorch refuses to record a piece from then on. ``Invalid`` stands in for such a
piece's history, and ``stale_message`` gives PyTorch's words.
"""

from __future__ import annotations


def stale_message(view, name: str | None = None) -> str:
    """PyTorch's words for using a piece of split/chunk/unbind (or a view of one) after its base or a
    sibling changed in place."""
    nr = view._multi_view[1] if view._multi_view is not None else view._output_nr
    if name is None:
        fn = view.grad_fn
        if fn is None or isinstance(fn, Invalid) or fn._num_outputs > 1:
            name = view._multi_view[0]
        else:         # a view of a piece: PyTorch names the view's own op, whose only output it is
            name, nr = fn.name().removesuffix("Backward0"), 0
    return (f"Output {nr} of {name} is a view and its base or another view of its base has been "
            f"modified inplace. This view is the output of a function that returns multiple views. Such "
            f"functions do not allow the output views to be modified inplace. You should replace the inplace "
            f"operation by an out-of-place one.")


class Invalid:
    """The history of a piece of ``split``/``chunk``/``unbind`` whose base changed in place since:
    using the piece in the graph raises, as in PyTorch (which prints it as ``grad_fn=<Invalid>``)."""

    __slots__ = ("_message",)

    def __init__(self, message: str):
        self._message = message

    def name(self) -> str:
        return "Invalid"

    def __getattr__(self, attr):
        raise RuntimeError(self._message)
